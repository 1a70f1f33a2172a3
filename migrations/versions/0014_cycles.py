"""E-mailed briefings and S&OP cycles (issue 19).

- ``briefing_schedule``: weekly e-mailed briefings (weekday, hour, minute UTC, scope, recipients) with the state of
  their last slot (sent / failed, the error, when to try a failed slot again).
- ``briefing_send``: every e-mailing of a briefing, sent or failed (schedules and ``python cli.py send-briefing``).
- ``sop_cycle``, ``sop_cycle_sku``, ``sop_cycle_period``: closed S&OP cycles -- consensus demand, supply response,
  projected inventory and the money view, frozen per SKU (totals) and per SKU and period.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money_columns() -> list[sa.Column]:
    names = (
        "unit_cost",
        "unit_price",
        "demand",
        "supply",
        "ending_inventory",
        "revenue",
        "margin",
        "inventory_value",
        "open_orders_value",
        "recommended_orders_value",
    )
    return [sa.Column(name, sa.Float(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "briefing_schedule",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_slot", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.String(20), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_schedule")),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_briefing_schedule_weekday_valid")),
        sa.CheckConstraint("hour >= 0 AND hour <= 23", name=op.f("ck_briefing_schedule_hour_valid")),
        sa.CheckConstraint("minute >= 0 AND minute <= 59", name=op.f("ck_briefing_schedule_minute_valid")),
    )
    op.create_table(
        "briefing_send",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("schedule_id", Id, nullable=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_briefing_send")),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["briefing_schedule.id"],
            name=op.f("fk_briefing_send_schedule_id_briefing_schedule"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("status IN ('sent','failed')", name=op.f("ck_briefing_send_status_valid")),
    )
    op.create_index("ix_briefing_send_created", "briefing_send", ["created_at"])
    op.create_table(
        "sop_cycle",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.String(255), nullable=True),
        sa.Column("run_id", Id, nullable=True),
        sa.Column("data_as_of", sa.Date(), nullable=True),
        sa.Column("grain", sa.String(10), nullable=True),
        sa.Column("supply_source", sa.String(40), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sop_cycle")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["recompute_run.id"], name=op.f("fk_sop_cycle_run_id_recompute_run"), ondelete="SET NULL"
        ),
        sa.UniqueConstraint("name", name="uq_sop_cycle_name"),
    )
    op.create_table(
        "sop_cycle_sku",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("cycle_id", Id, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("category", sa.String(100), nullable=True),
        *_money_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sop_cycle_sku")),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["sop_cycle.id"], name=op.f("fk_sop_cycle_sku_cycle_id_sop_cycle"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("cycle_id", "code", name="uq_sop_cycle_sku_key"),
    )
    op.create_index(op.f("ix_sop_cycle_sku_cycle_id"), "sop_cycle_sku", ["cycle_id"])
    op.create_table(
        "sop_cycle_period",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("cycle_id", Id, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("demand", sa.Float(), nullable=False),
        sa.Column("supply", sa.Float(), nullable=False),
        sa.Column("projected_inventory", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sop_cycle_period")),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["sop_cycle.id"], name=op.f("fk_sop_cycle_period_cycle_id_sop_cycle"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("cycle_id", "code", "period", name="uq_sop_cycle_period_key"),
    )
    op.create_index(op.f("ix_sop_cycle_period_cycle_id"), "sop_cycle_period", ["cycle_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sop_cycle_period_cycle_id"), table_name="sop_cycle_period")
    op.drop_table("sop_cycle_period")
    op.drop_index(op.f("ix_sop_cycle_sku_cycle_id"), table_name="sop_cycle_sku")
    op.drop_table("sop_cycle_sku")
    op.drop_table("sop_cycle")
    op.drop_index("ix_briefing_send_created", table_name="briefing_send")
    op.drop_table("briefing_send")
    op.drop_table("briefing_schedule")
