"""Recommended purchase orders from a recompute run (:func:`sync_recommendations`) and the reason each quotes
(:func:`recommendation_reason`, :func:`one_shot_reason`) and its words for the grid (:func:`reason_summary`);
:func:`order_by_date`, the one definition of the order-by date.

Part of :mod:`services.orders` (the lifecycle and rules are in its docstring)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from core.portfolio import newsvendor_critical_ratio
from db import bulk
from db.models import (
    Forecast,
    PurchaseOrder,
    RecomputeRun,
    Sku,
    SkuSnapshot,
    utcnow,
)
from services import promotions
from services.errors import UserFacingError
from services.runs import days_per_period


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


def qty_text(value: float | None) -> str:
    """A quantity for a reason or message: whole above 100 or when (nearly) whole, else one decimal; "n/a" for None."""
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
        packing.append(f"MOQ {qty_text(moq)}")
    if mult > 1:
        packing.append(f"multiple {qty_text(mult)}")
    return f"rounded to {' and '.join(packing)} -> {qty_text(qty)}" if packing else f"-> {qty_text(qty)}"


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
    span = f"{qty_text(horizon)} {unit}s" if horizon is not None else "the horizon"
    need = None if nv is None or pos is None else max(nv - pos, 0.0)
    parts = [
        f"Newsvendor one-shot buy: critical ratio {ratio_text}{source}, horizon demand {qty_text(total)} over {span}",
        f"newsvendor quantity {_q1(nv)} - position {qty_text(pos)} = {_q1(need)}",
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
        policy = f"order-up-to: level {qty_text(s_level)} - position {qty_text(pos)} = {qty_text(gap)}"
    elif eoq is not None:
        policy = f"reorder point with EOQ: lot {qty_text(eoq)} (above the order-up-to gap {qty_text(gap)})"
    else:
        policy = f"order-up-to gap {qty_text(gap)}"
    parts = [f"Position {qty_text(pos)} is at or below the reorder point {qty_text(rop)}; {policy}", _packing(row, qty)]
    demand = _num(row.get("forecast_per_period"))
    if demand is not None:
        parts.append(f"forecast {qty_text(demand)} per {unit}")
    return "; ".join(parts) + "."


_N = r"(-?[\d,]+(?:\.\d+)?|n/a)"
_ROP = re.compile(r"^Position " + _N + r" is at or below the reorder point " + _N + ";")
_UP_TO = re.compile(r"order-up-to: level " + _N + r" - position " + _N + r" = " + _N)
_LOT = re.compile(r"reorder point with EOQ: lot " + _N)
_GAP = re.compile(r"order-up-to gap " + _N + ";")
_ONE_SHOT = re.compile(r"^Newsvendor one-shot buy: .*horizon demand " + _N + r" over ([^;]+);.* position " + _N)
_FINAL = re.compile(r"-> " + _N + r"[;.]")
_PACKED = re.compile(r"rounded to (MOQ [\d,.]+(?: and multiple [\d,.]+)?|multiple [\d,.]+)")


def reason_summary(reason: str | None) -> str:
    """The reason in a few plain words with its numbers, for the Orders grid's "Why" column (the full text stays in
    the tooltip): "Below the reorder point 198: order the lot of 696". Parses the text :func:`recommendation_reason`
    and :func:`one_shot_reason` write (stored on the order, so older orders read the same); any other text (a
    planner's order, an older wording) comes back as its first clause."""
    text = (reason or "").strip()
    final = _FINAL.search(text)
    qty = final.group(1) if final else None
    packed = _PACKED.search(text)
    pack = f", rounded to {qty} for the {packed.group(1)}" if packed and qty else ""
    shot = _ONE_SHOT.search(text)
    if shot and qty:
        demand, span, pos = shot.groups()
        return f"One-shot season buy: {demand} expected over {span}, {pos} in hand: order {qty}"
    rop = _ROP.search(text)
    if rop:
        head = f"Below the reorder point {rop.group(2)}"
        if up_to := _UP_TO.search(text):
            level, _, gap = up_to.groups()
            return f"{head}: order {gap} to bring stock up to {level}{pack}"
        if lot := _LOT.search(text):
            return f"{head}: order the lot of {lot.group(1)}{pack}"
        if (gap := _GAP.search(text)) and gap.group(1) != "n/a":
            return f"{head}: order {gap.group(1)}{pack}"
        if qty:
            return f"{head}: order {qty}"
    return text.split(";")[0].rstrip(".")


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
    promoted = promotions.uplift_notes(session=session, run_id=run_id)  # issue 20: say when a promotion raised it
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
                "reason": recommendation_reason(row, unit=unit)
                + (f" Includes the plan: {promoted[sku_id]}." if sku_id in promoted else ""),
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
