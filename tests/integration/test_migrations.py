"""Alembic: linear chain; upgrade head and downgrade base on both engines."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from db import migrate
from db.models import Base
from db.session import engine_for


def test_revision_chain_is_linear() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads: {heads}"
    for revision in script.walk_revisions():
        parents = revision.down_revision
        assert not isinstance(parents, tuple | list), f"merge revision {revision.revision}"
        assert len(script.get_revision(revision.revision).nextrev) <= 1, f"branch at {revision.revision}"


def test_upgrade_and_downgrade_on_both_engines(db_url: str) -> None:
    engine = engine_for(db_url)
    assert migrate.is_at_head(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    migrate.downgrade(engine, "base")
    remaining = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)


def test_models_match_migrations(db_url: str) -> None:
    """Autogenerate finds nothing to add: the models and the migrated schema agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine_for(db_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    relevant = [d for d in diff if not (isinstance(d, tuple) and d[0] in ("remove_index",))]
    assert relevant == [], relevant
