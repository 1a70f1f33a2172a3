"""Consensus demand (issue 19 item 1): commercial adjustments and the forecast layers of record.

- ``demand_adjustment``: a commercial adjustment of the forecast -- a percentage or units -- for one SKU or one
  category and one month, with who and why. Rows are never overwritten: a new adjustment for the same scope and month
  supersedes the active one and a deletion marks it (``deleted_at`` / ``deleted_by``), so the trail stays.
- ``consensus_layer``: per SKU and forecast period touched by an override or an adjustment, the last forecast of
  record: statistical, after the planner overrides, and after the commercial adjustments (the consensus the engine
  planned with), written by every recompute for the SKUs it computed.

Revision ID: 0015
Revises: 0017
Create Date: 2026-12-06 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "demand_adjustment",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("scope_kind", sa.String(10), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("change_pct", sa.Float(), nullable=True),
        sa.Column("change_units", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_email", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_adjustment")),
        sa.CheckConstraint("scope_kind IN ('sku','category')", name=op.f("ck_demand_adjustment_scope_kind_valid")),
        sa.CheckConstraint(
            "(change_pct IS NULL) <> (change_units IS NULL)", name=op.f("ck_demand_adjustment_one_change")
        ),
    )
    op.create_index("ix_demand_adjustment_scope", "demand_adjustment", ["scope_kind", "scope", "period"])
    op.create_table(
        "consensus_layer",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("sku_id", Id, nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("run_id", Id, nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("statistical", sa.Float(), nullable=False),
        sa.Column("overridden", sa.Float(), nullable=False),
        sa.Column("consensus", sa.Float(), nullable=False),
        sa.Column("adjustment_id", Id, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consensus_layer")),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_consensus_layer_sku_id_sku"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["demand_adjustment.id"],
            name=op.f("fk_consensus_layer_adjustment_id_demand_adjustment"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("sku_id", "period", name="uq_consensus_layer_key"),
    )


def downgrade() -> None:
    op.drop_table("consensus_layer")
    op.drop_index("ix_demand_adjustment_scope", table_name="demand_adjustment")
    op.drop_table("demand_adjustment")
