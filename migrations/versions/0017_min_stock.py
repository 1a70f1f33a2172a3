"""The planner's minimum stock of a SKU (issue 24): ``sku.min_stock``, a floor on the reorder point and the
order-up-to level (core.min_stock); NULL = none.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sku", sa.Column("min_stock", sa.Float(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both engines (SQLite >= 3.35): no table rebuild (as 0013)
    op.execute("ALTER TABLE sku DROP COLUMN min_stock")
