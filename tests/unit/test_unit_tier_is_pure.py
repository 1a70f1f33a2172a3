"""The guard of the unit tier (tests/unit/conftest.py) holds, and holds fast: no engine, no pooled connection,
no database fixture (issue 17 item 5)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy

from db import session as db_session
from tests.unit.conftest import DatabaseInUnitTest


def test_no_engine_and_no_session_in_the_unit_tier() -> None:
    started = time.perf_counter()
    with pytest.raises(DatabaseInUnitTest, match="belongs in tests/integration"):
        sqlalchemy.create_engine("sqlite://")
    with pytest.raises(DatabaseInUnitTest):
        db_session.engine_for("sqlite:///unit-tier-never-built.db")
    with pytest.raises(DatabaseInUnitTest), db_session.session_scope() as session:
        session.execute(sqlalchemy.text("select 1"))
    assert time.perf_counter() - started < 1.0


def test_an_engine_left_by_another_tier_gives_no_connection() -> None:
    """An engine cached by an integration test in the same run cannot hand a unit test a connection."""
    engine = sqlalchemy.engine.create.create_engine("sqlite://")  # the real factory, not the guarded name
    try:
        with pytest.raises(DatabaseInUnitTest):
            engine.connect()
    finally:
        engine.dispose()
