"""Shared fixtures: real databases built by the migrations, on SQLite and (when reachable) PostgreSQL.

PostgreSQL: ``TEST_DATABASE_URL`` (``.ci/run`` creates a throwaway database and sets it). Without it the suite
tries the local server (postgres@127.0.0.1:5432) and creates its own throwaway database; where none is reachable
the PostgreSQL tier is skipped and the run says so.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("APP_ENV", "test")
os.environ.pop("GEMINI_API_KEY", None)
os.environ.pop("REDIS_URL", None)

_PG_STATE: dict[str, object] = {}


def _admin_pg_url() -> str:
    return os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def postgres_url() -> str | None:
    """The PostgreSQL test database URL, creating a throwaway database if needed (None when unreachable)."""
    if "url" in _PG_STATE:
        return _PG_STATE["url"]  # type: ignore[return-value]
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg2://", 1) if url.startswith("postgresql://") else url
        _PG_STATE["url"] = url
        return url
    try:
        admin = sa.create_engine(_admin_pg_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
        name = f"icc_test_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = _admin_pg_url().rsplit("/", 1)[0] + "/" + name
        _PG_STATE["created"] = name
    except Exception as exc:
        _PG_STATE["reason"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        url = None
    _PG_STATE["url"] = url
    return url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    name = _PG_STATE.get("created")
    if name:
        from db.session import reset_engines

        reset_engines()
        try:
            admin = sa.create_engine(_admin_pg_url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        except Exception:
            pass


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if "url" in _PG_STATE and _PG_STATE["url"] is None:
        terminalreporter.write_line(
            f"PostgreSQL tier SKIPPED: no server reachable ({_PG_STATE.get('reason')}). "
            "Set TEST_DATABASE_URL or start PostgreSQL to run it.",
            yellow=True,
            bold=True,
        )
    elif _PG_STATE.get("url"):
        terminalreporter.write_line("PostgreSQL tier ran against a real server.", green=True)


def _point_settings_at(url: str, data_dir: Path) -> None:
    from db.session import reset_engines
    from settings import get_settings

    os.environ["DATABASE_URL"] = url
    os.environ["DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    reset_engines()


_MIGRATED: set[str] = set()


def _migrated(url: str) -> None:
    if url in _MIGRATED:
        return
    from db import migrate
    from db.session import engine_for

    migrate.upgrade(engine_for(url))
    _MIGRATED.add(url)


def wipe(url: str) -> None:
    """Delete every row of every table (schema stays at head)."""
    from db.models import Base
    from db.session import engine_for

    engine = engine_for(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(sa.text(f'DELETE FROM "{table}"'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "test.db"
    return f"sqlite:///{path.as_posix()}"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def _url_for(engine_name: str, sqlite: str) -> str:
    if engine_name == "sqlite":
        return sqlite
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tier skipped: {_PG_STATE.get('reason')}")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str, data_dir: Path) -> Iterator[str]:
    """An empty, migrated database on each engine; settings point at it for the test."""
    url = _url_for(request.param, sqlite_url)
    _point_settings_at(url, data_dir)
    _migrated(url)
    wipe(url)
    yield url


@pytest.fixture
def sqlite_db(sqlite_url: str, data_dir: Path) -> Iterator[str]:
    """An empty migrated SQLite database (for tests that need only one engine)."""
    _point_settings_at(sqlite_url, data_dir)
    _migrated(sqlite_url)
    wipe(sqlite_url)
    yield sqlite_url


@pytest.fixture
def session(db_url: str):
    from db.session import session_factory

    s = session_factory()()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


def make_user(email: str, role: str, password: str = "correct horse battery") -> None:
    from db.session import session_scope
    from services import users

    with session_scope() as s:
        if users.get_by_email(session=s, email=email) is None:
            users.create_user(session=s, email=email, password=password, role=role)


def login(client, email: str, password: str = "correct horse battery"):
    """Log a Flask test client in through the real login form (with its CSRF token)."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"})


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (``/login`` signed out, ``/logout`` signed in)."""
    import re

    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def logout(client):
    """Sign a Flask test client out the way the navbar does: POST /logout with the session's CSRF token."""
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with a small demo portfolio (and a recompute when the engine exists), built once."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path.as_posix()}"
    _point_settings_at(url, tmp_path_factory.mktemp("demo-data"))
    _migrated(url)
    from db.session import session_scope
    from services import demo

    with session_scope() as s:
        demo.store(session=s, portfolio=demo.generate(skus=80, periods=130, seed=11, multi_location=True))
    try:
        from services.recompute import recompute
    except ImportError:
        recompute = None
    if recompute is not None:
        with session_scope() as s:
            recompute(session=s, triggered_by="tests")
    for email, role in (
        ("viewer@example.com", "viewer"),
        ("planner@example.com", "planner"),
        ("admin@example.com", "admin"),
    ):
        make_user(email, role)
    return url


_APP: dict[str, object] = {}


def use_demo_app(demo_sqlite: str, tmp_path_factory: pytest.TempPathFactory):
    """Point settings at the demo database and return the app (built once per run: Dash pages and callbacks
    are process-global)."""
    _point_settings_at(demo_sqlite, tmp_path_factory.getbasetemp() / "demo-data0")
    if "app" not in _APP:
        from app import create_app

        _APP["app"] = create_app()
    return _APP["app"]


@pytest.fixture
def demo_app(demo_sqlite: str, tmp_path_factory: pytest.TempPathFactory):
    """The Dash app on the demo database."""
    return use_demo_app(demo_sqlite, tmp_path_factory)


@pytest.fixture
def client_as(demo_app):
    """``client_as(role)`` -> a Flask test client logged in as that role (or anonymous for None)."""

    def make(role: str | None):
        client = demo_app.server.test_client()
        if role is not None:
            response = login(client, f"{role}@example.com")
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return make
