"""Supply side (issue 18): resources and their capacity per period, the SKU's resource and capacity per unit, and
named supply-plan scenarios.

- ``resource``: a production line or a supplier's capacity (unique name; the grain of its periods).
- ``resource_capacity``: capacity, overtime capacity, overtime and regular cost per unit of capacity, per resource and
  period (unique resource + period; every figure >= 0).
- ``sku.resource`` (nullable: unconstrained) and ``sku.capacity_per_unit`` (default 1; the importer and the Data
  page require > 0: a CHECK constraint would need a rebuild of ``sku`` on SQLite, which cascades to its demand rows).
- ``supply_scenario``: a saved plan (knobs, totals, per-resource rows, unmet-demand rows).

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "resource",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("grain", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource")),
        sa.UniqueConstraint("name", name=op.f("uq_resource_name")),
        sa.CheckConstraint("grain IN ('weekly','monthly')", name=op.f("ck_resource_grain_valid")),
    )
    op.create_table(
        "resource_capacity",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("resource_id", Id, nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("overtime_capacity", sa.Float(), nullable=False),
        sa.Column("overtime_cost", sa.Float(), nullable=False),
        sa.Column("regular_cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_capacity")),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_resource_capacity_resource_id_resource"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("resource_id", "period", name="uq_resource_capacity_key"),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_resource_capacity_capacity_nonneg")),
        sa.CheckConstraint("overtime_capacity >= 0", name=op.f("ck_resource_capacity_overtime_capacity_nonneg")),
        sa.CheckConstraint("overtime_cost >= 0", name=op.f("ck_resource_capacity_overtime_cost_nonneg")),
        sa.CheckConstraint("regular_cost >= 0", name=op.f("ck_resource_capacity_regular_cost_nonneg")),
    )
    op.create_index(op.f("ix_resource_capacity_resource_id"), "resource_capacity", ["resource_id"])
    op.create_table(
        "supply_scenario",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("strategy", sa.String(20), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("overtime_pct", sa.Float(), nullable=True),
        sa.Column("grain", sa.String(10), nullable=False),
        sa.Column("run_id", Id, nullable=True),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("user_email", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_scenario")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["recompute_run.id"], name=op.f("fk_supply_scenario_run_id_recompute_run"), ondelete="SET NULL"
        ),
        sa.UniqueConstraint("name", name="uq_supply_scenario_name"),
    )
    # plain ADD COLUMN (no table rebuild): rebuilding ``sku`` on SQLite would cascade-delete its demand rows
    op.add_column("sku", sa.Column("resource", sa.String(100), nullable=True))
    op.add_column("sku", sa.Column("capacity_per_unit", sa.Float(), nullable=False, server_default="1"))
    op.create_index(op.f("ix_sku_resource"), "sku", ["resource"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sku_resource"), table_name="sku")
    # ALTER TABLE ... DROP COLUMN on both engines (SQLite >= 3.35): no table rebuild, so no cascade on demand rows
    op.execute("ALTER TABLE sku DROP COLUMN capacity_per_unit")
    op.execute("ALTER TABLE sku DROP COLUMN resource")
    op.drop_table("supply_scenario")
    op.drop_index(op.f("ix_resource_capacity_resource_id"), table_name="resource_capacity")
    op.drop_table("resource_capacity")
    op.drop_table("resource")
