"""Engine and session factory, one per database URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from settings import get_settings


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """A pooled engine for ``url`` (pre-ping on; SQLite gets foreign keys and WAL), one per URL and process."""
    if url not in _ENGINES:
        _ENGINES[url] = _create(url)
    return _ENGINES[url]


def _create(url: str) -> Engine:
    settings = get_settings()
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=1800,
    )


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@lru_cache(maxsize=8)
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


def session_factory() -> sessionmaker[Session]:
    return _factory(get_settings().database_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session in one transaction: commit on success, roll back on any error."""
    session = session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


MIGRATION_LOCK_KEY = 4_711_000
"""pg_advisory_lock key that serialises schema migrations across processes and containers."""


@contextmanager
def advisory_lock(engine: Engine, key: int) -> Iterator[None]:
    """Hold PostgreSQL's session-level advisory lock ``key`` for the block (waits for it); a no-op on SQLite.

    Several gunicorn workers or containers starting at once each find migrations pending: the first holds the lock
    and migrates, the others wait and then see the schema at head.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


def _after_fork_in_child() -> None:
    """A forked child (Dash background jobs, Celery prefork) must not reuse the parent's pooled connections."""
    for engine in _ENGINES.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def reset_engines() -> None:
    """Dispose cached engines and factories (tests switching databases)."""
    for engine in list(_ENGINES.values()):
        engine.dispose()
    _ENGINES.clear()
    _factory.cache_clear()
