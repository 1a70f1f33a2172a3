"""Master data completeness and full-extract imports.

- ``sku.defaulted_fields``: the master-data fields a SKU still has at their defaults because nobody has provided them
  (comma-separated import names out of ``unit_cost``, ``category``, ``lead_time_days``, ``supplier``); NULL when the
  master data is complete. Set where SKUs are created with defaults (imports with ``--create-skus``, M5), cleared
  field by field when the SKU master import, the Data page or the API provides a value.
  Backfill of existing rows, from their values: ``unit_cost`` when it is 0, ``category`` when "Uncategorised",
  ``supplier`` when "Unassigned"; ``lead_time_days`` only when the lead time is the default 14 days and all three
  others are defaulted too (a SKU that looks created entirely from defaults).
- ``import_batch.full_extract``: the file declared itself a full extract (every active SKU absent from it sold nothing
  in the periods it covers).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BACKFILL = """
UPDATE sku SET defaulted_fields = NULLIF(
    CASE WHEN unit_cost = 0 THEN 'unit_cost,' ELSE '' END
    || CASE WHEN category = 'Uncategorised' THEN 'category,' ELSE '' END
    || CASE WHEN lead_time_mean = 14 AND unit_cost = 0 AND category = 'Uncategorised' AND supplier = 'Unassigned'
            THEN 'lead_time_days,' ELSE '' END
    || CASE WHEN supplier = 'Unassigned' THEN 'supplier,' ELSE '' END,
    '')
"""


def upgrade() -> None:
    with op.batch_alter_table("sku") as batch:
        batch.add_column(sa.Column("defaulted_fields", sa.String(200), nullable=True))
    with op.batch_alter_table("import_batch") as batch:
        batch.add_column(sa.Column("full_extract", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(_BACKFILL)
    # drop the trailing comma left by the concatenation above
    op.execute(
        "UPDATE sku SET defaulted_fields = SUBSTR(defaulted_fields, 1, LENGTH(defaulted_fields) - 1) "
        "WHERE defaulted_fields IS NOT NULL"
    )


def downgrade() -> None:
    # a plain ALTER TABLE ... DROP COLUMN on both engines (SQLite >= 3.35): batch mode would re-create ``sku``, and
    # with foreign keys on, dropping the old table deletes every row that references it (demand, stock, ...)
    op.drop_column("import_batch", "full_extract")
    op.drop_column("sku", "defaulted_fields")
