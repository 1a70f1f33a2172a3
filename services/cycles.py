"""S&OP cycles: freeze the plan of the moment under a name, list the cycles, compare two of them.

Closing a cycle (:func:`close_cycle`) freezes, per SKU and plan period, from the latest finished recompute:

- **consensus demand**: the statistical forecast after planner overrides and commercial adjustments -- the run's
  stored ``future`` forecast rows, which are the consensus (:mod:`services.consensus`) -- bucketed into the
  supply plan's periods (past the forecast's own periods, last season scaled to the forecast's level), exactly the
  demand the supply plan answers (:mod:`services.supply.demand`);
- **supply response**: the chase plan's planned supply against the resource capacities (:mod:`services.supply`;
  SKUs without a resource are planned unconstrained), and its **projected inventory** per period;
- **money view** per SKU: revenue = served demand x unit price and margin = served demand x (unit price - unit cost)
  over the horizon (served = demand - the plan's unmet demand); inventory value now (the snapshot's on hand x unit
  cost) and at the horizon's end (projected inventory x unit cost); the value of open (approved) and recommended
  purchase orders (quantity x the order's unit cost, else the SKU's).

The SKU's code, name, category and prices are copied, so a cycle reads the same after the master data changed.
:func:`compare` puts two cycles side by side: totals, by category, and per SKU sorted by the absolute demand change.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.bulk import copy_rows
from db.models import PurchaseOrder, Sku, SkuSnapshot, SopCycle, SopCyclePeriod, SopCycleSku, utcnow
from services import audit, supply
from services.csv_safety import safe_frame
from services.errors import UserFacingError

NAME_MAX = 120
HORIZON = 12
SUPPLY_SOURCE = "supply plan (chase)"
SKU_FIELDS = (
    "demand",
    "supply",
    "ending_inventory",
    "revenue",
    "margin",
    "inventory_value",
    "open_orders_value",
    "recommended_orders_value",
)
TOTAL_FIELDS = (*SKU_FIELDS, "ending_inventory_value", "unmet")


class CycleError(UserFacingError):
    """A cycle cannot be closed or found as asked (the message says why)."""


@dataclass(frozen=True)
class CycleSummary:
    id: int
    name: str
    closed_at: dt.datetime
    closed_by: str | None
    run_id: int | None
    data_as_of: dt.date | None
    grain: str | None
    supply_source: str
    totals: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "closed_at": self.closed_at.isoformat(timespec="seconds"),
            "closed_by": self.closed_by,
            "run_id": self.run_id,
            "data_as_of": self.data_as_of.isoformat() if self.data_as_of else None,
            "grain": self.grain,
            "supply_source": self.supply_source,
            "totals": self.totals,
        }


def _summary(row: SopCycle) -> CycleSummary:
    return CycleSummary(
        id=int(row.id),
        name=row.name,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        run_id=row.run_id,
        data_as_of=row.data_as_of,
        grain=row.grain,
        supply_source=row.supply_source,
        totals=dict(row.totals or {}),
    )


def clean_name(name: Any) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise CycleError("a cycle needs a name (e.g. 'Dec 2026')")
    if len(text) > NAME_MAX:
        raise CycleError(f"a cycle name is at most {NAME_MAX} characters")
    return text


# --- closing ---------------------------------------------------------------------------------------------------------


def _master(session: Session, run_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(Sku.code, Sku.name, Sku.category, Sku.unit_cost, Sku.unit_price, SkuSnapshot.inventory_value)
        .select_from(Sku)
        .outerjoin(SkuSnapshot, (SkuSnapshot.sku_id == Sku.id) & (SkuSnapshot.run_id == run_id))
    ).all()
    frame = pd.DataFrame(rows, columns=["code", "name", "category", "unit_cost", "unit_price", "inventory_value"])
    for column in ("unit_cost", "unit_price", "inventory_value"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0.0).astype(float)
    return frame.set_index("code")


def _order_values(session: Session) -> pd.DataFrame:
    cost = case((PurchaseOrder.unit_cost > 0, PurchaseOrder.unit_cost), else_=Sku.unit_cost)
    rows = session.execute(
        select(Sku.code, PurchaseOrder.status, func.sum(PurchaseOrder.qty * cost))
        .select_from(PurchaseOrder)
        .join(Sku, Sku.id == PurchaseOrder.sku_id)
        .where(PurchaseOrder.status.in_(("approved", "recommended")))
        .group_by(Sku.code, PurchaseOrder.status)
    ).all()
    frame = pd.DataFrame(rows, columns=["code", "status", "value"])
    if frame.empty:
        return pd.DataFrame(columns=["approved", "recommended"], dtype=float)
    frame["value"] = pd.to_numeric(frame["value"]).astype(float)
    table = frame.pivot_table(index="code", columns="status", values="value", aggfunc="sum", fill_value=0.0)
    return table.reindex(columns=["approved", "recommended"], fill_value=0.0)


def _sku_frame(session: Session, result: supply.PlanResult) -> pd.DataFrame:
    data, plan = result.data, result.plan
    demand = np.asarray(data.problem.demand, dtype=float)
    unmet = np.asarray(plan.unmet, dtype=float)
    master = _master(session, data.run_id).reindex(data.codes)
    orders = _order_values(session).reindex(data.codes).fillna(0.0)
    cost = master["unit_cost"].fillna(0.0).to_numpy()
    price = master["unit_price"].fillna(0.0).to_numpy()
    served = np.maximum(demand.sum(axis=1) - unmet.sum(axis=1), 0.0)
    ending = np.asarray(plan.inventory, dtype=float)[:, -1] if demand.shape[1] else np.zeros(len(data.codes))
    return pd.DataFrame(
        {
            "code": data.codes,
            "name": [n if isinstance(n, str) else None for n in master["name"]],
            "category": [c if isinstance(c, str) else None for c in master["category"]],
            "unit_cost": cost,
            "unit_price": price,
            "demand": demand.sum(axis=1),
            "supply": np.asarray(plan.supply, dtype=float).sum(axis=1),
            "ending_inventory": ending,
            "unmet": unmet.sum(axis=1),
            "revenue": served * price,
            "margin": served * (price - cost),
            "inventory_value": master["inventory_value"].fillna(0.0).to_numpy(),
            "open_orders_value": orders["approved"].to_numpy(dtype=float),
            "recommended_orders_value": orders["recommended"].to_numpy(dtype=float),
        }
    )


def _totals(frame: pd.DataFrame, result: supply.PlanResult) -> dict[str, Any]:
    totals: dict[str, Any] = {name: round(float(frame[name].sum()), 2) for name in SKU_FIELDS + ("unmet",)}
    totals["ending_inventory_value"] = round(float((frame["ending_inventory"] * frame["unit_cost"]).sum()), 2)
    periods = result.data.periods
    totals.update(
        {
            "sku_count": len(frame),
            "horizon": len(periods),
            "plan_grain": result.data.grain,
            "first_period": periods[0].isoformat() if periods else None,
            "last_period": periods[-1].isoformat() if periods else None,
        }
    )
    return totals


def close_cycle(*, session: Session, name: Any, user: str | None, source: str = "cli") -> CycleSummary:
    """Freeze the consensus demand, supply plan, projected inventory and money view under ``name`` (module
    docstring); audit ``cycle.close``. Raises :class:`CycleError` (no finished run, a name in use, bad name)."""
    label = clean_name(name)
    if session.scalar(select(SopCycle.id).where(SopCycle.name == label)) is not None:
        raise CycleError(f"a cycle named {label!r} exists already; choose another name")
    try:
        result = supply.make_plan(session=session, request=supply.PlanRequest(horizon=HORIZON, strategy="chase"))
    except supply.SupplyPlanError as exc:
        raise CycleError(f"cannot close a cycle: {exc}") from None
    frame = _sku_frame(session, result)
    row = SopCycle(
        name=label,
        closed_at=utcnow(),
        closed_by=user,
        run_id=result.data.run_id,
        data_as_of=result.data.data_as_of,
        grain=result.data.grain,
        supply_source=SUPPLY_SOURCE,
        totals=_totals(frame, result),
    )
    session.add(row)
    session.flush()
    connection = session.connection()
    sku_columns = ["cycle_id", "code", "name", "category", "unit_cost", "unit_price", *SKU_FIELDS]
    copy_rows(
        connection,
        SopCycleSku.__table__,
        sku_columns,
        ([row.id, *values] for values in frame[sku_columns[1:]].itertuples(index=False, name=None)),
    )
    demand, plan = result.data.problem.demand, result.plan
    period_rows = (
        (row.id, code, day, float(demand[i, t]), float(plan.supply[i, t]), float(plan.inventory[i, t]))
        for i, code in enumerate(result.data.codes)
        for t, day in enumerate(result.data.periods)
    )
    copy_rows(
        connection,
        SopCyclePeriod.__table__,
        ["cycle_id", "code", "period", "demand", "supply", "projected_inventory"],
        period_rows,
    )
    audit.record(
        session=session,
        action="cycle.close",
        user_email=user,
        target=label[:255],
        details={"cycle_id": row.id, "run_id": row.run_id, "skus": len(frame), "source": source},
    )
    return _summary(row)


# --- reading ----------------------------------------------------------------------------------------------------------


def list_cycles(*, session: Session, limit: int = 500) -> list[CycleSummary]:
    """The closed cycles, newest first."""
    rows = session.scalars(select(SopCycle).order_by(SopCycle.closed_at.desc(), SopCycle.id.desc()).limit(limit))
    return [_summary(r) for r in rows]


def get_cycle(*, session: Session, ref: Any) -> CycleSummary:
    """A cycle by name, else by id. Raises :class:`CycleError` when there is none."""
    text = " ".join(str(ref or "").split())
    row = session.scalar(select(SopCycle).where(SopCycle.name == text)) if text else None
    if row is None and text.isdigit():
        row = session.get(SopCycle, int(text))
    if row is None:
        raise CycleError(f"no cycle named {text[:120]!r}")
    return _summary(row)


def _sku_rows(session: Session, cycle_id: int) -> pd.DataFrame:
    columns = ["code", "name", "category", "unit_cost", *SKU_FIELDS]
    rows = session.execute(
        select(*(getattr(SopCycleSku, c) for c in columns)).where(SopCycleSku.cycle_id == cycle_id)
    ).all()
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("unit_cost", *SKU_FIELDS):
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame.set_index("code")


def _number(value: float) -> float | None:
    return round(float(value), 2) if value is not None and math.isfinite(value) else None


def _pct(a: float, b: float) -> float | None:
    return round((b - a) / a * 100.0, 2) if a and math.isfinite(a) and math.isfinite(b) else None


def _pair(a: float, b: float) -> dict[str, float | None]:
    return {"a": _number(a), "b": _number(b), "change": _number(b - a), "change_pct": _pct(a, b)}


def _period_rows(session: Session, a: int, b: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            SopCyclePeriod.cycle_id,
            SopCyclePeriod.period,
            func.sum(SopCyclePeriod.demand),
            func.sum(SopCyclePeriod.supply),
            func.sum(SopCyclePeriod.projected_inventory),
        )
        .where(SopCyclePeriod.cycle_id.in_((a, b)))
        .group_by(SopCyclePeriod.cycle_id, SopCyclePeriod.period)
    ).all()
    out: dict[dt.date, dict[str, Any]] = {}
    for cycle_id, period, demand, supply_qty, inventory in rows:
        side = "a" if cycle_id == a else "b"
        entry = out.setdefault(period, {"period": period.isoformat()})
        entry.update({f"demand_{side}": _number(demand), f"supply_{side}": _number(supply_qty)})
        entry[f"projected_inventory_{side}"] = _number(inventory)
    return [out[p] for p in sorted(out)]


def compare(*, session: Session, a: Any, b: Any, limit: int | None = None) -> dict[str, Any]:
    """Cycles ``a`` and ``b`` side by side (names or ids): totals, by category, per SKU sorted by the absolute
    demand change (largest first; ``limit`` keeps the first N), and per period. ``change`` = b - a;
    ``change_pct`` = (b - a) / a x 100 (null where a is 0)."""
    first, second = get_cycle(session=session, ref=a), get_cycle(session=session, ref=b)
    left, right = _sku_rows(session, first.id), _sku_rows(session, second.id)
    codes = left.index.union(right.index)
    la, rb = left.reindex(codes), right.reindex(codes)
    merged = pd.DataFrame(index=codes)
    merged["name"] = rb["name"].combine_first(la["name"])
    merged["category"] = rb["category"].combine_first(la["category"]).fillna("(none)")
    for field in SKU_FIELDS:
        merged[f"{field}_a"] = la[field].fillna(0.0)
        merged[f"{field}_b"] = rb[field].fillna(0.0)
    merged["change"] = merged["demand_b"] - merged["demand_a"]
    merged["_abs"] = merged["change"].abs()
    merged = merged.reset_index(names="code").sort_values(["_abs", "code"], ascending=[False, True])
    skus = [
        _sku_entry(r, left_has=r["code"] in left.index, right_has=r["code"] in right.index)
        for _, r in merged.iterrows()
    ]
    categories = []
    for category, group in merged.groupby("category", sort=False):
        entry = {"category": category, **_flat("demand", group["demand_a"].sum(), group["demand_b"].sum())}
        for field in ("revenue", "margin", "ending_inventory", "inventory_value"):
            entry.update(_flat(field, group[f"{field}_a"].sum(), group[f"{field}_b"].sum()))
        categories.append(entry)
    categories.sort(key=lambda e: (-abs(e["change"] or 0.0), e["category"]))
    totals = {
        field: _pair(float(first.totals.get(field, 0.0) or 0.0), float(second.totals.get(field, 0.0) or 0.0))
        for field in TOTAL_FIELDS
    }
    return {
        "a": first.as_dict(),
        "b": second.as_dict(),
        "totals": totals,
        "by_category": categories,
        "skus": skus[:limit] if limit else skus,
        "sku_count": len(skus),
        "periods": _period_rows(session, first.id, second.id),
    }


def _flat(field: str, a: float, b: float) -> dict[str, float | None]:
    prefix = "" if field == "demand" else f"{field}_"
    out = {f"{field}_a": _number(a), f"{field}_b": _number(b), f"{prefix}change": _number(b - a)}
    out[f"{prefix}change_pct"] = _pct(a, b)
    return out


def _sku_entry(r: dict[str, Any], *, left_has: bool, right_has: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": r["code"],
        "name": r["name"] if isinstance(r["name"], str) else None,
        "category": r["category"],
        **_flat("demand", r["demand_a"], r["demand_b"]),
    }
    for field in ("supply", "ending_inventory", "revenue", "margin", "inventory_value"):
        entry.update(_flat(field, r[f"{field}_a"], r[f"{field}_b"]))
    entry["in_a"], entry["in_b"] = left_has, right_has
    return entry


def compare_csv(document: dict[str, Any]) -> str:
    """The per-SKU rows of a comparison as spreadsheet-safe CSV (``_a`` columns: cycle A, ``_b``: cycle B)."""
    frame = pd.DataFrame(document["skus"])
    if frame.empty:
        frame = pd.DataFrame(columns=["code", "name", "category", "demand_a", "demand_b", "change", "change_pct"])
    buffer = io.StringIO()
    safe_frame(frame).to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()
