"""Index the snapshot by run and value at risk (the watchtower's default order and the risk scatter); drop the
forecast index that the unique (run_id, sku_id, period) constraint already covers (it slowed the bulk write).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_forecast_run_sku", table_name="forecast")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_sku_snapshot_run_var ON sku_snapshot (run_id, value_at_risk DESC NULLS LAST)"
        )
    else:
        op.execute("CREATE INDEX ix_sku_snapshot_run_var ON sku_snapshot (run_id, value_at_risk DESC)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_sku_snapshot_run_var")
    op.create_index("ix_forecast_run_sku", "forecast", ["run_id", "sku_id"])
