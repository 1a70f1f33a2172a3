"""SKU master: ``one_shot`` marks a seasonal / one-shot buy (ordered with the newsvendor quantity); purchase orders
keep the reason given when they are rejected or cancelled (``status_reason``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sku") as batch:
        batch.add_column(sa.Column("one_shot", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("purchase_order") as batch:
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("purchase_order") as batch:
        batch.drop_column("status_reason")
    with op.batch_alter_table("sku") as batch:
        batch.drop_column("one_shot")
