"""The unit tier is pure (issue 17 item 5): no database, no demo build. While a test under tests/unit runs,
``sqlalchemy.create_engine`` raises and so does any connection taken from a pool (an engine another tier left
behind); a test that needs a database belongs in tests/integration, where it runs on SQLite and PostgreSQL
(tests/conftest.py's fixtures). ``test_unit_tier_is_pure.py`` checks the guard and the fixtures the tier may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy
import sqlalchemy.engine
from sqlalchemy import event
from sqlalchemy.pool import Pool

import db.session

#: tests/conftest.py's fixtures that open a database or build the demo: not for this tier
DATABASE_FIXTURES = frozenset(
    {"db_url", "sqlite_db", "sqlite_url", "session", "demo_sqlite", "demo_app", "client_as", "data_dir"}
)

REFUSAL = "the unit tier is pure: a test that opens a database belongs in tests/integration (issue 17 item 5)"


class DatabaseInUnitTest(RuntimeError):
    """A unit test tried to open a database."""


_STATE = {"guarded": False}


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise DatabaseInUnitTest(REFUSAL)


@event.listens_for(Pool, "checkout")
def _no_checkout(*_args: object) -> None:
    if _STATE["guarded"]:
        raise DatabaseInUnitTest(REFUSAL)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A unit test that asks for a database fixture fails before any fixture is built, naming the fixture."""
    used = sorted(DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    if used:
        pytest.fail(f"{REFUSAL} (it uses {', '.join(used)})", pytrace=False)


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No engine can be created and no pooled connection taken while a unit test runs."""
    for module in (sqlalchemy, sqlalchemy.engine, db.session):
        monkeypatch.setattr(module, "create_engine", _refuse)
    _STATE["guarded"] = True
    try:
        yield
    finally:
        _STATE["guarded"] = False
