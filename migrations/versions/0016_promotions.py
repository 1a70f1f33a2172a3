"""Promotions, prices and events as causal data of the forecast (issue 20).

- ``promotion``: per SKU and period (history and plan) the selling price, whether a promotion runs and its label,
  and further named numeric causal columns (``features``, JSON: name -> value).
- ``calendar_event``: holidays and company events per period, optionally for one location ('' = everywhere).
- ``forecast.uplift``: units the planned promotions add to the forecast of that period (NULL: no plan).

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "promotion",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("sku_id", Id, nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("promoted", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion")),
        sa.ForeignKeyConstraint(["sku_id"], ["sku.id"], name=op.f("fk_promotion_sku_id_sku"), ondelete="CASCADE"),
        sa.UniqueConstraint("sku_id", "period", name="uq_promotion_key"),
        sa.CheckConstraint("price IS NULL OR price >= 0", name=op.f("ck_promotion_price_nonneg")),
    )
    op.create_table(
        "calendar_event",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("location", sa.String(100), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_event")),
        sa.UniqueConstraint("period", "name", "location", name="uq_calendar_event_key"),
    )
    with op.batch_alter_table("forecast") as batch:
        batch.add_column(sa.Column("uplift", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forecast") as batch:
        batch.drop_column("uplift")
    op.drop_table("calendar_event")
    op.drop_table("promotion")
