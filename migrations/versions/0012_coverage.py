"""Coverage of the demand data (issue 15 item 1).

- ``sku_snapshot.last_reported``: the SKU's last reported demand period when the run was computed (NULL: no demand);
  the pages say "last reported <date>" where it is before the run's data through (``recompute_run.data_as_of``).
- ``demand_partial``: demand rows that cover their period only in part (daily rows through Wednesday summed into a
  week, a period not over yet), as the import marked them; the engine does not fit them as a low period.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sku_snapshot") as batch:
        batch.add_column(sa.Column("last_reported", sa.Date(), nullable=True))
    op.create_table(
        "demand_partial",
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("covered_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["sku_id"], ["sku.id"], name=op.f("fk_demand_partial_sku_id_sku"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sku_id", "period", name=op.f("pk_demand_partial")),
    )


def downgrade() -> None:
    op.drop_table("demand_partial")
    with op.batch_alter_table("sku_snapshot") as batch:
        batch.drop_column("last_reported")
