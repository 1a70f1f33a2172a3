"""Throwaway databases for the benches: point the settings at a database, create and drop a PostgreSQL database
named ``icc_bench_<random>`` on the local server (``ADMIN_URL``), and the machine's load for the printed figures."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

from db.session import reset_engines
from settings import get_settings

ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def load_text() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``"2.10, 3.05, 4.00"``."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def point_settings_at(url: str, data_dir: Path) -> None:
    """Make ``url`` and ``data_dir`` this process's settings (and drop the pooled engines of the old ones)."""
    os.environ["DATABASE_URL"] = url
    os.environ["DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    reset_engines()


def create_pg_database(admin_url: str = ADMIN_URL) -> tuple[str, str]:
    """A new empty PostgreSQL database: (its URL, its name)."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"icc_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def drop_pg_database(name: str, admin_url: str = ADMIN_URL) -> None:
    """Drop the database ``name`` (its connections closed first)."""
    reset_engines()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
