"""Approved orders for the suppliers: one CSV, a zip with one CSV per supplier, or a workbook with a sheet per
supplier.

Part of :mod:`services.orders`."""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
from sqlalchemy.orm import Session

from core import formats
from services.csv_safety import write_csv
from services.errors import UserFacingError
from services.orders import queries
from services.orders.queries import list_orders
from services.xlsx_export import workbook_bytes

EXPORT_COLUMNS = (
    "supplier",
    "po_number",
    "sku",
    "description",
    "quantity",
    "unit_cost",
    "line_value",
    "order_date",
    "promised_date",
    "approved_by",
)


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return slug[:60] or "supplier"


def approved_frame(*, session: Session) -> pd.DataFrame:
    """Approved (open) orders as export rows (:data:`EXPORT_COLUMNS`), by supplier then SKU."""
    orders = list_orders(session=session, status="approved")
    rows = [
        {
            "supplier": o.supplier,
            "po_number": f"PO-{o.id:06d}",
            "sku": o.sku,
            "description": o.sku_name,
            "quantity": formats.order_quantity(o.qty, o.order_multiple),
            "unit_cost": o.unit_cost,
            "line_value": round(o.value, 2),
            "order_date": o.order_date.isoformat() if o.order_date else "",
            "promised_date": o.promised_date.isoformat() if o.promised_date else "",
            "approved_by": o.approved_by or "",
        }
        for o in sorted(orders, key=lambda o: (o.supplier, o.sku, o.id))
    ]
    frame = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
    # 348, not 348.0: an object column keeps whole quantities int beside pack fractions (12.5)
    frame["quantity"] = pd.Series([r["quantity"] for r in rows], index=frame.index, dtype=object)
    return frame


def export_approved(*, session: Session, per_supplier_zip: bool) -> tuple[str, bytes]:
    """Approved orders as CSV: one file (all suppliers) or a zip with one CSV per supplier.

    Text cells that a spreadsheet would run as a formula are neutralised (:mod:`services.csv_safety`).

    Returns
    -------
    (filename, bytes)

    Raises
    ------
    UserFacingError
        There is no approved order.
    """
    frame = approved_frame(session=session)
    if frame.empty:
        raise UserFacingError("there are no approved orders to export: approve recommended orders first")
    stamp = formats.file_stamp(queries.today())
    if not per_supplier_zip:
        return f"approved-orders-{stamp}.csv", (write_csv(frame) or "").encode("utf-8")
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for supplier, part in frame.groupby("supplier", sort=True):
            base = _slug(str(supplier))
            name, n = base, 2
            while name.lower() in used:
                name, n = f"{base}-{n}", n + 1
            used.add(name.lower())
            archive.writestr(f"{name}.csv", (write_csv(part.reset_index(drop=True)) or "").encode("utf-8"))
    return f"approved-orders-{stamp}.zip", buffer.getvalue()


def export_approved_workbook(*, session: Session) -> tuple[str, bytes]:
    """Approved orders as one Excel workbook with a sheet per supplier (:mod:`services.xlsx_export`: numbers and
    dates as such, frozen header, formula-safe text). Raises :class:`UserFacingError` when there is none."""
    frame = approved_frame(session=session)
    if frame.empty:
        raise UserFacingError("there are no approved orders to export: approve recommended orders first")
    sheets = [(str(supplier), part.reset_index(drop=True)) for supplier, part in frame.groupby("supplier", sort=True)]
    return f"approved-orders-{formats.file_stamp(queries.today())}.xlsx", workbook_bytes(sheets)
