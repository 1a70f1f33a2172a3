"""Alembic: linear chain; upgrade head and downgrade base on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from db import migrate
from db.models import Base, Sku
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


def test_demand_natural_key_migration_keeps_rows(db_url: str) -> None:
    """0004 swaps demand's surrogate id for the (sku_id, period) key without losing a row, and back again."""
    engine = engine_for(db_url)
    migrate.downgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(sa.insert(Sku.__table__).values(code="M-1", name="M"))
        sku_id = connection.execute(sa.text("SELECT id FROM sku WHERE code = 'M-1'")).scalar_one()
        for day, quantity in (("2024-01-01", 3.0), ("2024-01-08", 0.0), ("2024-01-15", 7.5)):
            connection.execute(
                sa.text("INSERT INTO demand (sku_id, period, quantity) VALUES (:s, :p, :q)"),
                {"s": sku_id, "p": day, "q": quantity},
            )
    migrate.upgrade(engine)
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint("demand")["constrained_columns"] == ["sku_id", "period"]
    assert "id" not in {c["name"] for c in inspector.get_columns("demand")}
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT quantity FROM demand ORDER BY period")).scalars().all()
    assert rows == [3.0, 0.0, 7.5]
    with engine.begin() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(
            sa.text("INSERT INTO demand (sku_id, period, quantity) VALUES (:s, '2024-01-01', 1)"), {"s": sku_id}
        )
    migrate.downgrade(engine, "0003")
    with engine.connect() as connection:
        ids = connection.execute(sa.text("SELECT id FROM demand ORDER BY period")).scalars().all()
    assert len(ids) == 3 and len(set(ids)) == 3 and all(i is not None for i in ids)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM sku WHERE code = 'M-1'"))
