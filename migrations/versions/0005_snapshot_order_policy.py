"""SKU snapshot: the order policy the engine used (``order_policy``: reorder_point | newsvendor) and the newsvendor
critical ratio of a one-shot SKU (``critical_ratio``), so pages show what the run computed instead of re-deriving
them from today's SKU master.

Both nullable: rows of runs made before this revision have neither (readers fall back to the SKU master).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sku_snapshot") as batch:
        batch.add_column(sa.Column("order_policy", sa.String(20), nullable=True))
        batch.add_column(sa.Column("critical_ratio", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sku_snapshot") as batch:
        batch.drop_column("critical_ratio")
        batch.drop_column("order_policy")
