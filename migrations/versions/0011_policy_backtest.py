"""Policy backtest results (issue 24): one row per replay of a scope with its JSON document, so the Risk page and
the portfolio briefing read the latest result instead of replaying for seconds.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_backtest",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("triggered_by", sa.String(length=255), nullable=True),
        sa.Column("scope_key", sa.String(length=200), nullable=False),
        sa.Column("periods", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=10), nullable=True),
        sa.Column("data_as_of", sa.Date(), nullable=True),
        sa.Column("sku_count", sa.Integer(), nullable=False),
        sa.Column("excluded_count", sa.Integer(), nullable=False),
        sa.Column("fill_rate", sa.Float(), nullable=True),
        sa.Column("target_service_level", sa.Float(), nullable=True),
        sa.Column("average_inventory_value", sa.Float(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_backtest")),
    )
    with op.batch_alter_table("policy_backtest") as batch:
        batch.create_index("ix_policy_backtest_scope_created", ["scope_key", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policy_backtest") as batch:
        batch.drop_index("ix_policy_backtest_scope_created")
    op.drop_table("policy_backtest")
