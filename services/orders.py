"""Purchase orders: recommendations from each recompute, the planner's approve / edit / reject / receive steps,
CSV export for suppliers, and the lead times learned from receipts.

Lifecycle (``purchase_order.status``)::

    recommended --approve--> approved --receive--> received
         |                       \\--cancel--> cancelled
         \\--reject--> rejected

Rules:

- :func:`sync_recommendations` runs inside a recompute's write transaction. It deletes the recommended orders that
  nobody acted on (status ``recommended`` and no quantity edit) of the run's SKUs and of inactive SKUs, and adds one
  ``recommended`` order per SKU whose snapshot ``recommended_qty`` is above 0. The quantity is the snapshot's
  (already rounded to MOQ and order multiple by the engine: reorder point with the EOQ lot, or up to the order-up-to
  level); the order-by date is the start of the run's first forecast period + ``order_by_periods`` periods
  (:func:`order_by_date`, the same date the SKU page shows). SKUs that keep
  an edited recommendation, or got an order approved while the run was computing, get no new one. Approved,
  received, rejected and cancelled orders are never touched.
- Approved orders count as on order in the next recompute (:mod:`services.engine_inputs`).
- Approving sets ``order_date`` (today, UTC) and ``promised_date`` (order date + the SKU master lead time).
- Receiving writes a ``receipt`` row (order date, promised date, received date, quantity), so the lead times are
  learned (:func:`lead_time_stats`, used by the recompute once a SKU has ``receipts_min_for_learned_lead_time``
  receipts). When the SKU's latest stock count is older than the received date, a stock position dated on the
  received date with the quantity added to on hand is written (the count did not include the delivery yet).
- Rejecting or cancelling keeps the planner's reason (optional) on the order (``status_reason``) and in the audit log.
- A one-shot SKU (a seasonal buy: the run stored ``order_policy`` "newsvendor") is ordered with the newsvendor
  quantity; its reason names the "newsvendor one-shot buy" with the critical ratio and the horizon demand
  (:func:`one_shot_reason`).
- Every state change is audit-logged (actions ``order.approve``, ``order.edit``, ``order.reject``, ``order.cancel``,
  ``order.receive``). Invalid requests raise :class:`services.errors.UserFacingError` with the reason.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from core import formats
from core.leadtime import learn_lead_times
from core.portfolio import newsvendor_critical_ratio
from db import bulk
from db.models import (
    PO_STATUSES,
    Forecast,
    PurchaseOrder,
    Receipt,
    RecomputeRun,
    Sku,
    SkuSnapshot,
    StockPosition,
    utcnow,
)
from services import audit, master_data
from services.csv_safety import write_csv
from services.errors import UserFacingError
from services.runs import days_per_period
from services.xlsx_export import workbook_bytes
from settings import get_settings

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


def _view(po: PurchaseOrder) -> OrderView:
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
    return _view(_load(session, order_id))


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


# --------------------------------------------------------------------------------------------------------------------
# recommendations from a run


@dataclass(frozen=True)
class SyncResult:
    run_id: int
    created: int
    replaced: int
    kept_edited: int
    skipped_approved: int


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _q(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 or abs(value - round(value)) < 0.05 else f"{value:,.1f}"


def _q1(value: float | None) -> str:
    """A quantity with one decimal unless whole (the need before rounding up to whole units / packs)."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"


def _packing(row: dict[str, Any], qty: float) -> str:
    moq = _num(row.get("moq")) or 0.0
    mult = _num(row.get("order_multiple")) or 1.0
    packing = []
    if moq > 0:
        packing.append(f"MOQ {_q(moq)}")
    if mult > 1:
        packing.append(f"multiple {_q(mult)}")
    return f"rounded to {' and '.join(packing)} -> {_q(qty)}" if packing else f"-> {_q(qty)}"


def one_shot_reason(row: dict[str, Any], *, unit: str = "period") -> str:
    """Why a one-shot (seasonal) SKU orders ``recommended_qty``: the newsvendor buy, quoting its numbers.

    ``row``: recommended_qty, newsvendor_qty, inventory_position, forecast_per_period, the critical ratio
    (``critical_ratio``; ``ratio_source`` "costs" or "service level") and the horizon in periods
    (``horizon_periods``), the SKU's moq / order_multiple. The engine orders max(newsvendor_qty - position, 0)
    rounded up to the MOQ / multiple (core/portfolio.py).
    """
    qty = _num(row.get("recommended_qty")) or 0.0
    nv = _num(row.get("newsvendor_qty"))
    pos = _num(row.get("inventory_position"))
    ratio = _num(row.get("critical_ratio"))
    horizon = _num(row.get("horizon_periods"))
    demand = _num(row.get("forecast_per_period"))
    total = None if demand is None or horizon is None else demand * horizon
    source = (
        " (service level target: no price or no overage cost)" if row.get("ratio_source") == "service level" else ""
    )
    ratio_text = "n/a" if ratio is None else f"{ratio:.2f}"
    span = f"{_q(horizon)} {unit}s" if horizon is not None else "the horizon"
    need = None if nv is None or pos is None else max(nv - pos, 0.0)
    parts = [
        f"Newsvendor one-shot buy: critical ratio {ratio_text}{source}, horizon demand {_q(total)} over {span}",
        f"newsvendor quantity {_q1(nv)} - position {_q(pos)} = {_q1(need)}",
        _packing(row, qty),
    ]
    return "; ".join(parts) + "."


def recommendation_reason(row: dict[str, Any], *, unit: str = "period") -> str:
    """Why the policy orders ``recommended_qty``, quoting its numbers.

    ``row``: snapshot values (recommended_qty, inventory_position, reorder_point, order_up_to, eoq, safety_stock,
    order_by_periods, rop_method, forecast_per_period, newsvendor_qty) and the SKU's moq / order_multiple. The engine
    orders max(lot, order-up-to - position) rounded up to the MOQ / multiple when the position is at or below the
    reorder point (core/portfolio.py); the larger term names the policy. A one-shot SKU (``row["one_shot"]`` true)
    is a newsvendor buy instead: :func:`one_shot_reason`.
    """
    if row.get("one_shot"):
        return one_shot_reason(row, unit=unit)
    qty = _num(row.get("recommended_qty")) or 0.0
    pos = _num(row.get("inventory_position"))
    rop = _num(row.get("reorder_point"))
    s_level = _num(row.get("order_up_to"))
    eoq = _num(row.get("eoq"))
    gap = None if s_level is None or pos is None else max(s_level - pos, 0.0)
    if gap is not None and (eoq is None or gap >= eoq):
        policy = f"order-up-to: level {_q(s_level)} - position {_q(pos)} = {_q(gap)}"
    elif eoq is not None:
        policy = f"reorder point with EOQ: lot {_q(eoq)} (above the order-up-to gap {_q(gap)})"
    else:
        policy = f"order-up-to gap {_q(gap)}"
    parts = [f"Position {_q(pos)} is at or below the reorder point {_q(rop)}; {policy}", _packing(row, qty)]
    demand = _num(row.get("forecast_per_period"))
    if demand is not None:
        parts.append(f"forecast {_q(demand)} per {unit}")
    return "; ".join(parts) + "."


def order_by_date(
    *,
    data_as_of: dt.date | None,
    order_by_periods: float | None,
    grain: str | None,
    last_reported: dt.date | None = None,
) -> dt.date | None:
    """The date an order must be placed by (the one definition for the Orders page, the SKU page and the API).

    order_by = start of the first forecast period + ``order_by_periods`` periods, where the first forecast period
    starts one period after ``data_as_of`` (the start of the last period with demand data): "now" for a run is the
    first period its data does not cover, which is where the SKU page's projection starts and the engine's
    ``order_by_periods`` counts from (0 = order now, k = the position reaches the reorder point after k periods of
    forecast demand; docs/engine-contract.md). Fractional periods round up; negative ones count as 0. Weekly and
    daily periods are 7 and 1 days, monthly ones calendar months. None when either input is unknown (NaN).
    A SKU that reported past the run's data through (``last_reported`` later than ``data_as_of``) counts from its own
    last period: its forecast starts after it (issue 15, docs/engine-contract.md "Coverage and data through").
    """
    periods = _num(order_by_periods)
    if data_as_of is None or periods is None:
        return None
    if last_reported is not None and last_reported > data_as_of:
        data_as_of = last_reported
    steps = 1 + max(math.ceil(periods - 1e-9), 0)
    if grain == "monthly":
        return (pd.Timestamp(data_as_of) + pd.DateOffset(months=steps)).date()
    days = days_per_period(grain)
    return data_as_of + dt.timedelta(days=round(steps * days))


_SYNC_COLUMNS = (
    "sku_id",
    "recommended_qty",
    "inventory_position",
    "reorder_point",
    "order_up_to",
    "eoq",
    "order_by_periods",
    "forecast_per_period",
    "newsvendor_qty",
    "service_level",
    "order_policy",
    "critical_ratio",
    "last_reported",
)


def _one_shot_terms(session: Session, *, run_id: int, grain: str | None, rows: list[dict[str, Any]]) -> None:
    """Add the newsvendor terms of one-shot rows in place: ``horizon_periods`` (the run's future forecast periods),
    ``critical_ratio`` (the one the run stored; re-derived from the SKU master with
    :func:`core.portfolio.newsvendor_critical_ratio` only for rows written before migration 0005) and
    ``ratio_source`` ("service level" when the SKU has no price or no overage cost and the ratio is its service
    level target -- the engine's fallback -- else "costs")."""
    if not rows:
        return
    horizon = session.scalar(
        select(func.count())
        .select_from(Forecast)
        .where(Forecast.run_id == run_id, Forecast.kind == "future", Forecast.sku_id == rows[0]["sku_id"])
    )
    horizon = int(horizon or 0) or None
    years = (horizon or 0) * days_per_period(grain) / 365.25

    def column(name: str, default: float = np.nan) -> np.ndarray:
        return np.array([default if r.get(name) is None else float(r[name]) for r in rows], dtype=float)

    price, cost = column("unit_price"), column("unit_cost", 0.0)
    salvage, rate = column("salvage_value", 0.0), column("holding_cost_rate", 0.0)
    service = column("service_level")
    derived = newsvendor_critical_ratio(
        unit_price=price,
        unit_cost=cost,
        salvage_value=salvage,
        holding_cost_rate=rate,
        horizon_years=years,
        service_level=service,
    )
    stored = column("critical_ratio")
    ratio = np.where(np.isfinite(stored), stored, derived)
    priced = np.isfinite(price) & (price > 0) & (cost - salvage + cost * rate * years > 0)
    by_service = ~priced & np.isclose(ratio, service, rtol=0.0, atol=1e-9)
    for row, r, fallback in zip(rows, ratio, by_service, strict=True):
        row["horizon_periods"] = horizon
        row["critical_ratio"] = float(r)
        row["ratio_source"] = "service level" if fallback else "costs"


def sync_recommendations(*, session: Session, run_id: int) -> SyncResult:
    """Turn run ``run_id``'s recommendations into ``recommended`` orders (rules in the module docstring).

    Works in the session's open transaction (the recompute calls it before committing the run); does not commit.

    Raises
    ------
    UserFacingError
        No run with that id.
    """
    run = session.execute(  # columns, not the ORM object: an object cached in the session may be stale
        select(RecomputeRun.started_at, RecomputeRun.grain, RecomputeRun.data_as_of).where(RecomputeRun.id == run_id)
    ).one_or_none()
    if run is None:
        raise UserFacingError(f"no recompute run {run_id}")
    run_skus = select(SkuSnapshot.sku_id).where(SkuSnapshot.run_id == run_id)
    inactive = select(Sku.id).where(Sku.active.is_(False))
    untouched = and_(
        PurchaseOrder.status == "recommended",
        PurchaseOrder.edit_reason.is_(None),
        or_(PurchaseOrder.sku_id.in_(run_skus), PurchaseOrder.sku_id.in_(inactive)),
    )
    replaced = session.execute(delete(PurchaseOrder).where(untouched).execution_options(synchronize_session=False))
    edited = set(
        session.scalars(
            select(PurchaseOrder.sku_id).where(
                PurchaseOrder.status == "recommended", PurchaseOrder.edit_reason.is_not(None)
            )
        )
    )
    approved_since = set(
        session.scalars(
            select(PurchaseOrder.sku_id).where(
                PurchaseOrder.status.in_(("approved", "received")), PurchaseOrder.approved_at >= run.started_at
            )
        )
    )
    cols = [getattr(SkuSnapshot, c) for c in _SYNC_COLUMNS]
    sku_cols = (Sku.supplier, Sku.unit_cost, Sku.moq, Sku.order_multiple, Sku.one_shot, Sku.unit_price)
    rows = [
        dict(r)
        for r in session.execute(
            select(*cols, *sku_cols, Sku.salvage_value, Sku.holding_cost_rate)
            .join(Sku, Sku.id == SkuSnapshot.sku_id)
            .where(SkuSnapshot.run_id == run_id, SkuSnapshot.recommended_qty > 0)
            .order_by(Sku.supplier, Sku.code)
        ).mappings()
    ]
    for row in rows:  # the policy the run used (stored since migration 0005), not the master's flag of today
        policy = row.pop("order_policy", None)
        row["one_shot"] = policy == "newsvendor" if policy else bool(row["one_shot"])
    _one_shot_terms(session, run_id=run_id, grain=run.grain, rows=[r for r in rows if r["one_shot"]])
    unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(run.grain or "", "period")
    now = utcnow()
    new: list[dict[str, Any]] = []
    kept = skipped = 0
    for row in rows:
        sku_id = int(row["sku_id"])
        if sku_id in edited:
            kept += 1
            continue
        if sku_id in approved_since:
            skipped += 1
            continue
        qty = float(row["recommended_qty"])
        new.append(
            {
                "sku_id": sku_id,
                "run_id": run_id,
                "supplier": row["supplier"],
                "qty": qty,
                "recommended_qty": qty,
                "unit_cost": float(row["unit_cost"] or 0.0),
                "status": "recommended",
                "reason": recommendation_reason(row, unit=unit),
                "order_by": order_by_date(
                    data_as_of=run.data_as_of,
                    order_by_periods=row["order_by_periods"],
                    grain=run.grain,
                    last_reported=row["last_reported"],
                ),
                "created_at": now,
            }
        )
    if new:  # COPY on PostgreSQL (6,000 orders: ~5x faster than an executemany insert), executemany on SQLite
        columns = list(new[0])
        bulk.copy_rows(session.connection(), PurchaseOrder.__table__, columns, ([r[c] for c in columns] for r in new))
    return SyncResult(
        run_id=run_id,
        created=len(new),
        replaced=int(replaced.rowcount or 0),
        kept_edited=kept,
        skipped_approved=skipped,
    )


# --------------------------------------------------------------------------------------------------------------------
# planner actions


def _load(session: Session, order_id: Any, *, lock: bool = False) -> PurchaseOrder:
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


def _who(user: str | None) -> str:
    who = (user or "").strip()
    if not who:
        raise UserFacingError("who is acting must be known (user is empty)")
    return who[:255]


def _label(po: PurchaseOrder) -> str:
    return f"order {po.id} ({po.sku.code}, {_q(po.qty)} units)"


def _expect(po: PurchaseOrder, allowed: Iterable[str], action: str) -> None:
    allowed = tuple(allowed)
    if po.status not in allowed:
        need = " or ".join(allowed)
        raise UserFacingError(f"cannot {action} {_label(po)}: it is {po.status}, only {need} orders can be")


def _quantity(value: Any, name: str) -> float:
    try:
        qty = float(value)
    except (TypeError, ValueError):
        raise UserFacingError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(qty):
        raise UserFacingError(f"{name} must be a finite number, got {value!r}")
    if qty < 0:
        raise UserFacingError(f"{name} cannot be negative (got {_q(qty)})")
    return qty


def _text(value: Any, name: str, *, required: bool) -> str | None:
    text = " ".join(str(value or "").split())
    if not text:
        if required:
            raise UserFacingError(f"a {name} is required")
        return None
    if len(text) > MAX_REASON:
        raise UserFacingError(f"the {name} is too long ({len(text)} characters, at most {MAX_REASON})")
    return text


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise UserFacingError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None


def today() -> dt.date:
    """Today's date (UTC), the order date of approvals."""
    return utcnow().date()


def _approve(session: Session, po: PurchaseOrder, who: str, now: dt.datetime) -> dict[str, Any]:
    _expect(po, ("recommended",), "approve")
    if po.qty <= 0:
        raise UserFacingError(f"cannot approve {_label(po)}: the quantity is 0; edit it or reject the order")
    po.status = "approved"
    po.approved_by = who
    po.approved_at = now
    po.order_date = now.date()
    po.promised_date = now.date() + dt.timedelta(days=round(float(po.sku.lead_time_mean or 0.0)))
    return {"order_id": po.id, "sku": po.sku.code, "qty": po.qty, "supplier": po.supplier}


def approve_order(*, session: Session, order_id: int, user: str) -> OrderView:
    """Approve a recommended order: it becomes on order (order date today, promised date + master lead time).

    Raises
    ------
    UserFacingError
        Unknown order, not ``recommended`` (e.g. already received), or quantity 0.
    """
    who = _who(user)
    po = _load(session, order_id, lock=True)
    details = _approve(session, po, who, utcnow())
    audit.record(session=session, action="order.approve", user_email=who, target=f"order:{po.id}", details=details)
    session.flush()
    return _view(po)


def approve_orders(*, session: Session, order_ids: Sequence[int], user: str) -> list[OrderView]:
    """Approve several recommended orders at once: all or none.

    Raises
    ------
    UserFacingError
        No ids, an unknown id, or an order that cannot be approved (the message names it; nothing is approved).
    """
    who = _who(user)
    keys = list(dict.fromkeys(order_ids or []))
    if not keys:
        raise UserFacingError("select at least one order to approve")
    if len(keys) > MAX_BATCH:
        raise UserFacingError(f"approve at most {MAX_BATCH:,} orders at once (got {len(keys):,})")
    now = utcnow()
    orders = [_load(session, key, lock=True) for key in keys]
    for po in orders:  # check them all first: all or none
        _expect(po, ("recommended",), "approve")
        if po.qty <= 0:
            raise UserFacingError(f"cannot approve {_label(po)}: the quantity is 0; edit it or reject the order")
    for po in orders:
        details = _approve(session, po, who, now)
        audit.record(session=session, action="order.approve", user_email=who, target=f"order:{po.id}", details=details)
    session.flush()
    return [_view(po) for po in orders]


@dataclass(frozen=True)
class EditResult:
    order: OrderView
    previous_qty: float
    warnings: tuple[str, ...]


def pack_warnings(*, qty: float, moq: float, order_multiple: float) -> tuple[str, ...]:
    """Notes when ``qty`` breaks the SKU's MOQ or order multiple (the planner may still choose it)."""
    notes = []
    if qty > 0 and moq > 0 and qty < moq - 1e-9:
        notes.append(f"below the minimum order quantity {_q(moq)}")
    if qty > 0 and order_multiple > 1:
        ratio = qty / order_multiple
        if abs(ratio - round(ratio)) > 1e-6:
            notes.append(f"not a multiple of the order multiple {_q(order_multiple)}")
    return tuple(notes)


def edit_quantity(*, session: Session, order_id: int, qty: float, reason: str, user: str) -> EditResult:
    """Change the quantity of a recommended or approved order, keeping the reason (``edit_reason``; every edit is in
    the audit log with the old and new quantity). An edited recommendation survives the next recompute.

    Raises
    ------
    UserFacingError
        Unknown order, received / rejected / cancelled order, quantity not a number, negative or 0, no reason.
    """
    who = _who(user)
    new_qty = _quantity(qty, "quantity")
    if new_qty == 0:
        raise UserFacingError("the quantity must be above 0 (reject the order instead)")
    text = _text(reason, "reason for the change", required=True)
    po = _load(session, order_id, lock=True)
    _expect(po, OPEN_STATUSES, "edit")
    old = float(po.qty)
    po.qty = new_qty
    po.edit_reason = text
    warnings = pack_warnings(qty=new_qty, moq=float(po.sku.moq), order_multiple=float(po.sku.order_multiple))
    audit.record(
        session=session,
        action="order.edit",
        user_email=who,
        target=f"order:{po.id}",
        details={"sku": po.sku.code, "old_qty": old, "new_qty": new_qty, "reason": text, "warnings": list(warnings)},
    )
    session.flush()
    return EditResult(order=_view(po), previous_qty=old, warnings=warnings)


def _close(session: Session, po: PurchaseOrder, *, status: str, who: str, reason: str | None, action: str) -> None:
    po.status = status
    po.cancelled_by = who
    po.cancelled_at = utcnow()
    po.status_reason = reason
    audit.record(
        session=session,
        action=action,
        user_email=who,
        target=f"order:{po.id}",
        details={"sku": po.sku.code, "qty": po.qty, "reason": reason},
    )


def reject_order(*, session: Session, order_id: int, user: str, reason: str | None = None) -> OrderView:
    """Reject a recommended order (kept as history; the next recompute recommends again if the need remains).

    The planner's ``reason`` (optional, at most :data:`MAX_REASON` characters) is kept on the order
    (``status_reason``) and in the audit log.

    Raises
    ------
    UserFacingError
        Unknown order or not ``recommended``.
    """
    who = _who(user)
    text = _text(reason, "reason", required=False)
    po = _load(session, order_id, lock=True)
    _expect(po, ("recommended",), "reject")
    _close(session, po, status="rejected", who=who, reason=text, action="order.reject")
    session.flush()
    return _view(po)


def reject_orders(
    *, session: Session, order_ids: Sequence[int], user: str, reason: str | None = None
) -> list[OrderView]:
    """Reject several recommended orders: all or none (see :func:`reject_order`)."""
    who = _who(user)
    text = _text(reason, "reason", required=False)
    keys = list(dict.fromkeys(order_ids or []))
    if not keys:
        raise UserFacingError("select at least one order to reject")
    orders = [_load(session, key, lock=True) for key in keys]
    for po in orders:
        _expect(po, ("recommended",), "reject")
    for po in orders:
        _close(session, po, status="rejected", who=who, reason=text, action="order.reject")
    session.flush()
    return [_view(po) for po in orders]


def cancel_order(*, session: Session, order_id: int, user: str, reason: str | None = None) -> OrderView:
    """Cancel an approved order (the supplier will not deliver): it no longer counts as on order.

    The planner's ``reason`` (optional) is kept on the order (``status_reason``) and in the audit log.

    Raises
    ------
    UserFacingError
        Unknown order or not ``approved``.
    """
    who = _who(user)
    text = _text(reason, "reason", required=False)
    po = _load(session, order_id, lock=True)
    _expect(po, ("approved",), "cancel")
    _close(session, po, status="cancelled", who=who, reason=text, action="order.cancel")
    session.flush()
    return _view(po)


def receive_order(
    *, session: Session, order_id: int, received_date: dt.date | str, received_qty: float, user: str
) -> OrderView:
    """Mark an approved order received: writes the receipt (lead-time learning) and, when the latest stock count
    predates the delivery, a stock position with the quantity added to on hand.

    Raises
    ------
    UserFacingError
        Unknown order, not ``approved``, quantity not a number / negative / 0, date before the order date or after
        today.
    """
    who = _who(user)
    qty = _quantity(received_qty, "received quantity")
    if qty == 0:
        raise UserFacingError("the received quantity must be above 0 (cancel the order if nothing arrives)")
    when = _date(received_date, "received date")
    po = _load(session, order_id, lock=True)
    _expect(po, ("approved",), "receive")
    ordered = po.order_date or (po.approved_at.date() if po.approved_at else None)
    if ordered is not None and when < ordered:
        raise UserFacingError(
            f"cannot receive {_label(po)} on {when.isoformat()}: that is before its order date {ordered.isoformat()}"
        )
    if when > today():
        raise UserFacingError(f"the received date {when.isoformat()} is in the future")
    now = utcnow()
    po.status = "received"
    po.received_by = who
    po.received_at = now
    po.received_date = when
    po.received_qty = qty
    order_date = ordered or when
    receipt = session.scalar(
        select(Receipt).where(
            Receipt.sku_id == po.sku_id, Receipt.order_date == order_date, Receipt.received_date == when
        )
    )
    if receipt is None:  # one receipt per (SKU, order date, received date): a second delivery adds to it
        session.add(
            Receipt(
                sku_id=po.sku_id,
                supplier=po.supplier,
                order_date=order_date,
                promised_date=po.promised_date,
                received_date=when,
                quantity=qty,
            )
        )
    else:
        receipt.quantity = float(receipt.quantity) + qty
    stock_added = _add_to_stock(session, po.sku_id, when, qty)
    audit.record(
        session=session,
        action="order.receive",
        user_email=who,
        target=f"order:{po.id}",
        details={
            "sku": po.sku.code,
            "ordered_qty": po.qty,
            "received_qty": qty,
            "order_date": order_date.isoformat(),
            "received_date": when.isoformat(),
            "lead_time_days": (when - order_date).days,
            "stock_position_added": stock_added,
        },
    )
    session.flush()
    return _view(po)


def _add_to_stock(session: Session, sku_id: int, when: dt.date, qty: float) -> bool:
    latest = session.scalar(
        select(StockPosition).where(StockPosition.sku_id == sku_id).order_by(StockPosition.as_of.desc()).limit(1)
    )
    if latest is not None and latest.as_of >= when:
        return False  # the latest count is from the delivery day or later: it includes the delivery
    session.add(
        StockPosition(
            sku_id=sku_id,
            as_of=when,
            on_hand=(float(latest.on_hand) if latest else 0.0) + qty,
            on_order=float(latest.on_order) if latest else 0.0,
        )
    )
    return True


# --------------------------------------------------------------------------------------------------------------------
# export


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
    stamp = formats.file_stamp(today())
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
    return f"approved-orders-{formats.file_stamp(today())}.xlsx", workbook_bytes(sheets)


# --------------------------------------------------------------------------------------------------------------------
# lead times learned from receipts


@dataclass(frozen=True)
class LeadTimeStat:
    """Real lead times of one SKU from one supplier, from its receipts."""

    supplier: str
    receipts: int
    mean_days: float | None
    std_days: float | None
    on_time_rate: float | None
    mean_delay_days: float | None
    first_received: dt.date | None
    last_received: dt.date | None


@dataclass(frozen=True)
class LeadTimeInfo:
    """What the SKU page shows: per-supplier statistics, the SKU-level figures the recompute uses and the source."""

    sku: str
    by_supplier: list[LeadTimeStat]
    receipts: int
    mean_days: float | None
    std_days: float | None
    on_time_rate: float | None
    min_receipts: int
    master_mean_days: float
    master_std_days: float
    source: str  # "receipts" when the recompute uses the learned figures, else "master"

    @property
    def receipts_needed(self) -> int:
        return max(0, self.min_receipts - self.receipts)


def _clean(value: Any) -> float | None:
    return _num(value)


def lead_time_stats(*, session: Session, code: str, min_receipts: int | None = None) -> LeadTimeInfo | None:
    """Lead times learned from the SKU's receipts, per supplier and overall (:func:`core.leadtime.learn_lead_times`).

    ``source`` is ``"receipts"`` when the SKU has at least ``min_receipts`` usable receipts (default: settings
    ``receipts_min_for_learned_lead_time``) -- the rule the recompute applies -- else ``"master"``.
    None when no SKU has that code.
    """
    if min_receipts is None:
        min_receipts = get_settings().receipts_min_for_learned_lead_time
    sku = session.scalar(select(Sku).where(Sku.code == (code or "").strip()))
    if sku is None:
        return None
    rows = session.execute(
        select(Receipt.supplier, Receipt.order_date, Receipt.promised_date, Receipt.received_date).where(
            Receipt.sku_id == sku.id
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["supplier", "order_date", "promised_date", "received_date"])
    frame["sku"] = sku.code
    per_supplier: list[LeadTimeStat] = []
    total = learn_lead_times(receipts=frame, by=("sku",)) if not frame.empty else pd.DataFrame()
    if not frame.empty:
        stats = learn_lead_times(receipts=frame, by=("supplier",))
        dates = frame.groupby("supplier")["received_date"].agg(["min", "max"])
        for supplier, s in stats.iterrows():
            per_supplier.append(
                LeadTimeStat(
                    supplier=str(supplier),
                    receipts=int(s["count"]),
                    mean_days=_clean(s["lead_time_mean_days"]),
                    std_days=_clean(s["lead_time_std_days"]),
                    on_time_rate=_clean(s["on_time_rate"]),
                    mean_delay_days=_clean(s["mean_delay_days"]),
                    first_received=dates.loc[supplier, "min"],
                    last_received=dates.loc[supplier, "max"],
                )
            )
        per_supplier.sort(key=lambda s: (-s.receipts, s.supplier))
    count = int(total["count"].iloc[0]) if len(total) else 0
    mean = _clean(total["lead_time_mean_days"].iloc[0]) if len(total) else None
    return LeadTimeInfo(
        sku=sku.code,
        by_supplier=per_supplier,
        receipts=count,
        mean_days=mean,
        std_days=_clean(total["lead_time_std_days"].iloc[0]) if len(total) else None,
        on_time_rate=_clean(total["on_time_rate"].iloc[0]) if len(total) else None,
        min_receipts=int(min_receipts),
        master_mean_days=float(sku.lead_time_mean),
        master_std_days=float(sku.lead_time_std),
        source="receipts" if count >= min_receipts and mean is not None else "master",
    )
