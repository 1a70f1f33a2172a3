"""Purchase orders as the pages, the API and the CLI read them: :class:`OrderView`, the lists, the per-supplier
summary and the headline totals; :func:`today` (UTC), the one clock of the package (tests pin it here).

Part of :mod:`services.orders` (the lifecycle and rules are in its docstring)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import formats
from db.models import (
    PO_STATUSES,
    PurchaseOrder,
    RecomputeRun,
    Sku,
    utcnow,
)
from services import master_data
from services.errors import UserFacingError

OPEN_STATUSES = ("recommended", "approved")
CLOSED_STATUSES = ("received", "cancelled", "rejected")
MAX_REASON = 500
MAX_BATCH = 5000


# --------------------------------------------------------------------------------------------------------------------
# views


@dataclass(frozen=True)
class OrderView:
    """One purchase order as the pages, the API and the CLI show it (plain values)."""

    id: int
    sku: str
    sku_name: str
    category: str
    supplier: str
    status: str
    qty: float
    recommended_qty: float | None
    unit_cost: float
    value: float
    reason: str
    edit_reason: str | None
    order_by: dt.date | None
    created_at: dt.datetime
    run_id: int | None
    approved_by: str | None
    approved_at: dt.datetime | None
    order_date: dt.date | None
    promised_date: dt.date | None
    received_by: str | None
    received_at: dt.datetime | None
    received_date: dt.date | None
    received_qty: float | None
    closed_by: str | None
    closed_at: dt.datetime | None
    moq: float
    order_multiple: float
    status_reason: str | None = None  # the planner's reason for rejecting / cancelling
    # days a recommended order's order-by date is past today (UTC), None when it is not (issue 15 item 7)
    overdue_days: int | None = None
    # the SKU has no unit cost (0 or still at its default, services.master_data): ``value`` is not a real value
    unit_cost_missing: bool = False

    @property
    def edited(self) -> bool:
        return self.edit_reason is not None

    def as_dict(self) -> dict[str, Any]:
        """Every field, dates as ``datetime.date`` / ``datetime`` (JSON: see ``api.serialize.plain``); quantities
        whole numbers where the order multiple is whole (:func:`core.formats.order_quantity`)."""
        out = asdict(self)
        for key in ("qty", "recommended_qty", "received_qty"):
            out[key] = formats.order_quantity(out[key], self.order_multiple)
        return out


def order_view(po: PurchaseOrder) -> OrderView:
    sku = po.sku
    return OrderView(
        id=int(po.id),
        sku=sku.code,
        sku_name=sku.name,
        category=sku.category,
        supplier=po.supplier,
        status=po.status,
        qty=float(po.qty),
        recommended_qty=None if po.recommended_qty is None else float(po.recommended_qty),
        unit_cost=float(po.unit_cost),
        value=float(po.qty) * float(po.unit_cost),
        reason=po.reason,
        edit_reason=po.edit_reason,
        order_by=po.order_by,
        created_at=po.created_at,
        run_id=po.run_id,
        approved_by=po.approved_by,
        approved_at=po.approved_at,
        order_date=po.order_date,
        promised_date=po.promised_date,
        received_by=po.received_by,
        received_at=po.received_at,
        received_date=po.received_date,
        received_qty=None if po.received_qty is None else float(po.received_qty),
        closed_by=po.cancelled_by,
        closed_at=po.cancelled_at,
        moq=float(sku.moq),
        order_multiple=float(sku.order_multiple),
        status_reason=po.status_reason,
        overdue_days=_overdue(po.status, po.order_by),
        unit_cost_missing=_cost_missing(po.unit_cost, sku.defaulted_fields),
    )


def _overdue(status: str, order_by: dt.date | None) -> int | None:
    """Days a recommended order's order-by date is past today (None otherwise: approved orders are placed)."""
    return formats.overdue_days(order_by, today()) if status == "recommended" and order_by else None


def _cost_missing(unit_cost: Any, defaulted_fields: str | None) -> bool:
    """Whether an order's unit cost is unknown: 0, or the SKU's unit cost is still at its default."""
    return not float(unit_cost or 0.0) > 0 or "unit_cost" in master_data.parse(defaulted_fields)


def _statuses(status: str | Sequence[str] | None) -> list[str] | None:
    if status is None:
        return None
    wanted = [status] if isinstance(status, str) else list(status)
    unknown = [s for s in wanted if s not in PO_STATUSES]
    if unknown:
        raise UserFacingError(f"unknown order status {unknown[0]!r}: use one of {', '.join(PO_STATUSES)}")
    return wanted


def list_orders(
    *,
    session: Session,
    status: str | Sequence[str] | None = None,
    supplier: str | None = None,
    sku: str | None = None,
    limit: int | None = None,
) -> list[OrderView]:
    """Orders, optionally only those with ``status`` (one or several), of ``supplier`` or of SKU code ``sku``.

    Ordered by supplier, then order-by date (earliest first), then SKU code; closed orders newest first.

    Raises
    ------
    UserFacingError
        An unknown status.
    """
    wanted = _statuses(status)
    po_columns = [c for c in PurchaseOrder.__table__.columns]
    sku_columns = [Sku.code, Sku.name, Sku.category, Sku.moq, Sku.order_multiple, Sku.defaulted_fields]
    query = select(*po_columns, *[c.label(f"sku_{c.key}") for c in sku_columns]).join(
        Sku, Sku.id == PurchaseOrder.sku_id
    )  # plain columns, not ORM objects: several times faster for thousands of orders
    if wanted is not None:
        query = query.where(PurchaseOrder.status.in_(wanted))
    if supplier:
        query = query.where(PurchaseOrder.supplier == supplier)
    if sku:
        query = query.where(Sku.code == sku)
    if wanted is not None and set(wanted) <= set(CLOSED_STATUSES):
        query = query.order_by(func.coalesce(PurchaseOrder.received_at, PurchaseOrder.cancelled_at).desc())
        query = query.order_by(PurchaseOrder.id.desc())
    else:
        query = query.order_by(
            PurchaseOrder.supplier, PurchaseOrder.order_by.is_(None), PurchaseOrder.order_by, Sku.code, PurchaseOrder.id
        )
    if limit is not None:
        query = query.limit(int(limit))
    return [_row_view(row) for row in session.execute(query).mappings()]


def _row_view(row: Any) -> OrderView:
    qty, cost = float(row["qty"]), float(row["unit_cost"])
    return OrderView(
        id=int(row["id"]),
        sku=row["sku_code"],
        sku_name=row["sku_name"],
        category=row["sku_category"],
        supplier=row["supplier"],
        status=row["status"],
        qty=qty,
        recommended_qty=None if row["recommended_qty"] is None else float(row["recommended_qty"]),
        unit_cost=cost,
        value=qty * cost,
        reason=row["reason"],
        edit_reason=row["edit_reason"],
        order_by=row["order_by"],
        created_at=row["created_at"],
        run_id=row["run_id"],
        approved_by=row["approved_by"],
        approved_at=row["approved_at"],
        order_date=row["order_date"],
        promised_date=row["promised_date"],
        received_by=row["received_by"],
        received_at=row["received_at"],
        received_date=row["received_date"],
        received_qty=None if row["received_qty"] is None else float(row["received_qty"]),
        closed_by=row["cancelled_by"],
        closed_at=row["cancelled_at"],
        moq=float(row["sku_moq"]),
        order_multiple=float(row["sku_order_multiple"]),
        status_reason=row["status_reason"],
        overdue_days=_overdue(row["status"], row["order_by"]),
        unit_cost_missing=_cost_missing(cost, row["sku_defaulted_fields"]),
    )


def get_order(*, session: Session, order_id: int) -> OrderView:
    """One order. Raises UserFacingError when there is none with that id."""
    return order_view(load_order(session, order_id))


@dataclass(frozen=True)
class SupplierGroup:
    """Open orders of one supplier with one status."""

    supplier: str
    status: str
    orders: int
    units: float
    value: float
    earliest_order_by: dt.date | None


def supplier_summary(*, session: Session, status: str = "recommended") -> list[SupplierGroup]:
    """Orders with ``status`` per supplier: count, units, value (qty x unit cost), earliest order-by date;
    largest value first."""
    _statuses(status)
    value = func.sum(PurchaseOrder.qty * PurchaseOrder.unit_cost)
    rows = session.execute(
        select(
            PurchaseOrder.supplier,
            func.count(PurchaseOrder.id),
            func.sum(PurchaseOrder.qty),
            value,
            func.min(PurchaseOrder.order_by),
        )
        .where(PurchaseOrder.status == status)
        .group_by(PurchaseOrder.supplier)
        .order_by(value.desc(), PurchaseOrder.supplier)
    ).all()
    return [
        SupplierGroup(
            supplier=s, status=status, orders=int(n), units=float(u or 0), value=float(v or 0), earliest_order_by=d
        )
        for s, n, u, v, d in rows
    ]


@dataclass(frozen=True)
class OrderTotals:
    """Counts and values per status (the Orders page's headline figures)."""

    counts: dict[str, int]
    values: dict[str, float]
    overdue: int  # recommended orders whose order-by date is before today (UTC): "overdue by N days"
    suppliers: int  # suppliers with recommended orders
    run_id: int | None
    data_as_of: dt.date | None


def order_totals(*, session: Session) -> OrderTotals:
    """Counts and values (qty x unit cost) per status, the overdue recommendations and the latest run."""
    rows = session.execute(
        select(
            PurchaseOrder.status, func.count(PurchaseOrder.id), func.sum(PurchaseOrder.qty * PurchaseOrder.unit_cost)
        ).group_by(PurchaseOrder.status)
    ).all()
    counts = dict.fromkeys(PO_STATUSES, 0)
    values = dict.fromkeys(PO_STATUSES, 0.0)
    for status, n, v in rows:
        counts[status] = int(n)
        values[status] = float(v or 0.0)
    run = session.scalar(
        select(RecomputeRun).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(1)
    )
    overdue = int(
        session.scalar(
            select(func.count(PurchaseOrder.id)).where(
                PurchaseOrder.status == "recommended", PurchaseOrder.order_by < today()
            )
        )
        or 0
    )
    suppliers = int(
        session.scalar(
            select(func.count(func.distinct(PurchaseOrder.supplier))).where(PurchaseOrder.status == "recommended")
        )
        or 0
    )
    return OrderTotals(
        counts=counts,
        values=values,
        overdue=overdue,
        suppliers=suppliers,
        run_id=run.id if run else None,
        data_as_of=run.data_as_of if run else None,
    )


def load_order(session: Session, order_id: Any, *, lock: bool = False) -> PurchaseOrder:
    try:
        key = int(order_id)
    except (TypeError, ValueError):
        raise UserFacingError(f"order id must be a whole number, got {order_id!r}") from None
    query = select(PurchaseOrder).where(PurchaseOrder.id == key)
    if lock:
        query = query.with_for_update(of=PurchaseOrder)
    po = session.scalars(query).unique().one_or_none()
    if po is None:
        raise UserFacingError(f"there is no purchase order {key}")
    return po


def today() -> dt.date:
    """Today's date (UTC), the order date of approvals."""
    return utcnow().date()
