"""Multi-location (issue 21): the item a SKU stocks, lanes between locations, and transfer proposals.

- ``sku.item``: the product shared across locations (nullable: NULL reads as the SKU's own code; existing rows are
  filled with their code). Plain ADD COLUMN: rebuilding ``sku`` on SQLite would cascade-delete its demand rows.
- ``lane``: a route between two locations (unique from/to) with its lead time in days, cost per unit and minimum
  quantity (every figure >= 0; ``min_qty`` >= 1).
- ``transfer``: a proposed move of one item from a giving SKU to a receiving SKU (like a purchase order:
  proposed -> approved -> received, or rejected), with its cost, reason and who acted when.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("sku", sa.Column("item", sa.String(64), nullable=True))
    op.execute("UPDATE sku SET item = code")
    op.create_index(op.f("ix_sku_item"), "sku", ["item"])
    op.create_table(
        "lane",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("from_location", sa.String(100), nullable=False),
        sa.Column("to_location", sa.String(100), nullable=False),
        sa.Column("lead_time_days", sa.Float(), nullable=False),
        sa.Column("cost_per_unit", sa.Float(), nullable=False),
        sa.Column("min_qty", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lane")),
        sa.UniqueConstraint("from_location", "to_location", name="uq_lane_route"),
        sa.CheckConstraint("lead_time_days >= 0", name=op.f("ck_lane_lead_time_nonneg")),
        sa.CheckConstraint("cost_per_unit >= 0", name=op.f("ck_lane_cost_nonneg")),
        sa.CheckConstraint("min_qty >= 1", name=op.f("ck_lane_min_qty_pos")),
        sa.CheckConstraint("from_location <> to_location", name=op.f("ck_lane_two_places")),
    )
    op.create_table(
        "transfer",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("run_id", Id, nullable=True),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("from_sku_id", Id, nullable=False),
        sa.Column("to_sku_id", Id, nullable=False),
        sa.Column("from_location", sa.String(100), nullable=False),
        sa.Column("to_location", sa.String(100), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("proposed_qty", sa.Float(), nullable=True),
        sa.Column("cost_per_unit", sa.Float(), nullable=False),
        sa.Column("lead_time_days", sa.Float(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("edit_reason", sa.Text(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.String(255), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("received_by", sa.String(255), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("received_date", sa.Date(), nullable=True),
        sa.Column("received_qty", sa.Float(), nullable=True),
        sa.Column("rejected_by", sa.String(255), nullable=True),
        sa.Column("rejected_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["recompute_run.id"], name=op.f("fk_transfer_run_id_recompute_run"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["from_sku_id"], ["sku.id"], name=op.f("fk_transfer_from_sku_id_sku"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["to_sku_id"], ["sku.id"], name=op.f("fk_transfer_to_sku_id_sku"), ondelete="CASCADE"),
        sa.CheckConstraint("qty >= 0", name=op.f("ck_transfer_qty_nonneg")),
        sa.CheckConstraint(
            "status IN ('proposed','approved','received','rejected')", name=op.f("ck_transfer_status_valid")
        ),
    )
    op.create_index("ix_transfer_status", "transfer", ["status"])
    op.create_index(op.f("ix_transfer_from_sku_id"), "transfer", ["from_sku_id"])
    op.create_index(op.f("ix_transfer_to_sku_id"), "transfer", ["to_sku_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_transfer_to_sku_id"), table_name="transfer")
    op.drop_index(op.f("ix_transfer_from_sku_id"), table_name="transfer")
    op.drop_index("ix_transfer_status", table_name="transfer")
    op.drop_table("transfer")
    op.drop_table("lane")
    op.drop_index(op.f("ix_sku_item"), table_name="sku")
    # ALTER TABLE ... DROP COLUMN on both engines (SQLite >= 3.35): no table rebuild, so no cascade on demand rows
    op.execute("ALTER TABLE sku DROP COLUMN item")
