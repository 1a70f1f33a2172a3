"""First start: migrations, the demo portfolio when the database is empty, and the first admin."""

from __future__ import annotations

from dataclasses import dataclass

from db import migrate
from db.session import MIGRATION_LOCK_KEY, advisory_lock, get_engine, session_scope
from services import audit, demo, overview, users


@dataclass(frozen=True)
class FirstStart:
    seeded: dict[str, int] | None
    admin_email: str | None
    admin_password: str | None  # shown once, never stored in clear


def migrate_db() -> None:
    """Upgrade to head under an advisory lock (several containers running `cli.py migrate` at once)."""
    with advisory_lock(get_engine(), MIGRATION_LOCK_KEY):
        if not migrate.is_at_head(get_engine()):
            migrate.upgrade(get_engine())


def seed_demo(*, skus: int, periods: int, seed: int, replace: bool, only_if_empty: bool) -> dict[str, int] | None:
    """Store the demo portfolio; with ``only_if_empty`` nothing happens when SKUs exist."""
    with session_scope() as session:
        if only_if_empty and not overview.is_empty(session=session):
            return None
        portfolio = demo.generate(skus=skus, periods=periods, seed=seed, multi_location=True)
        counts = demo.store(session=session, portfolio=portfolio, replace=replace)
        audit.record(session=session, action="demo.seed", user_email=None, details=counts)
        return counts


def first_start(*, seed_demo_data: bool = True, admin_email: str = "admin@example.com") -> FirstStart:
    """Prepare a new install: migrate, seed when empty, create an admin with a random password when no user exists."""
    migrate_db()
    seeded = seed_demo(skus=200, periods=156, seed=7, replace=False, only_if_empty=True) if seed_demo_data else None
    with session_scope() as session:
        if users.count_users(session=session) > 0:
            return FirstStart(seeded, None, None)
        password = users.generate_password()
        users.create_user(session=session, email=admin_email, password=password, role="admin", actor="first-start")
    return FirstStart(seeded, admin_email, password)
