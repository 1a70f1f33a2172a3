"""The supply plan use case: load the inputs, run the chosen strategy, and say what it means.

:func:`make_plan` is what the Supply page, the CLI (``supply-plan``) and the API (``GET /api/v1/supply-plan``) call;
:func:`document` is their common JSON; :func:`capacity_alerts` feeds the Watchtower and the briefing (the chase
plan's capacity shortfalls in the horizon). The maths is in :mod:`core.supply` and :mod:`core.supply_lp`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.formats import fmt_date, fmt_month
from core.supply import SupplyPlan, chase_plan, level_plan
from core.supply_lp import DEFAULT_MAX_VARIABLES, DEFAULT_TIME_LIMIT_S, optimal_plan
from db.models import ResourceCapacity, Sku
from services.csv_safety import safe_frame
from services.supply.inputs import PlanData, PlanRequest, SupplyPlanError, load_plan_data

Progress = Callable[[float, str], None]
UNMET_SHOWN = 500
BACKGROUND_TIME_LIMIT_S = 90.0
"""The LP's time limit where the plan runs as a background job with progress and cancel (page, CLI); a synchronous
API request keeps core.supply_lp's default (25 s)."""
EPS = 1e-6
UNMET_EPS = 1e-3  # units: below this a SKU is not short (solver noise)
ALERT_SHARE = 0.01  # a capacity shortfall under 1 % of capacity + overtime (and under 1 unit) is not mentioned


@dataclass
class PlanResult:
    """A computed plan with its inputs and labels."""

    request: PlanRequest
    data: PlanData
    plan: SupplyPlan
    seconds: float

    @property
    def labels(self) -> list[str]:
        return [period_label(p, self.data.grain) for p in self.data.periods]

    @property
    def message(self) -> str:
        return " ".join(part for part in (self.plan.message, *self.data.notes) if part)


def period_label(day: dt.date, grain: str) -> str:
    """``Mar 2027`` for a monthly period, the start date for a weekly one."""
    return fmt_month(day) if grain == "monthly" else fmt_date(day)


def make_plan(
    *,
    session: Session,
    request: PlanRequest,
    progress: Progress | None = None,
    constrained_only: bool = False,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_variables: int = DEFAULT_MAX_VARIABLES,
) -> PlanResult:
    """Load the inputs and compute ``request.strategy`` (an optimal plan that cannot be solved falls back to chase
    with a message). Raises :class:`services.supply.inputs.SupplyPlanError` when there is nothing to plan."""
    started = time.perf_counter()
    say = progress or (lambda _f, _m: None)
    say(0.05, "loading the snapshot, forecasts, stock, open orders and capacities")
    data = load_plan_data(session=session, request=request, constrained_only=constrained_only)
    problem = data.problem
    say(0.35, f"planning {problem.skus:,} SKUs on {problem.resources:,} resources ({request.strategy})")
    if request.strategy == "level":
        plan = level_plan(problem)
    elif request.strategy == "optimal":
        chase = chase_plan(problem)
        level = level_plan(problem)
        plan = optimal_plan(
            problem,
            time_limit_s=time_limit_s,
            max_variables=max_variables,
            chase=chase,
            level=level,
            progress=lambda fraction, message: say(0.45 + 0.5 * fraction, message),
        )
    else:
        plan = chase_plan(problem)
    say(0.95, "formatting the plan")
    return PlanResult(request=request, data=data, plan=plan, seconds=round(time.perf_counter() - started, 3))


def has_resources(*, session: Session) -> bool:
    """True when any resource capacity is stored."""
    return bool(session.scalar(select(func.count()).select_from(ResourceCapacity)))


# --- what the plan says ----------------------------------------------------------------------------------------------


def _number(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 3)


def resource_rows(result: PlanResult) -> list[dict[str, Any]]:
    """Per resource: its periods with capacity, overtime capacity, required, planned, overtime used, shortfall."""
    p, plan = result.data.problem, result.plan
    out = []
    for k, name in enumerate(result.data.resources):
        periods = [
            {
                "period": day.isoformat(),
                "capacity": _number(p.capacity[k, t]),
                "overtime_capacity": _number(p.overtime_capacity[k, t]),
                "required": _number(plan.load_required[k, t]),
                "planned": _number(plan.load_planned[k, t]),
                "overtime_used": _number(plan.overtime_used[k, t]),
                "shortfall": _number(plan.shortfall[k, t]),
            }
            for t, day in enumerate(result.data.periods)
        ]
        out.append({"resource": name, "periods": periods})
    return out


def _service_rank(result: PlanResult) -> dict[int, tuple[int, int]]:
    """SKU row -> (position in its resource's service order, SKUs on the resource)."""
    ranks: dict[int, tuple[int, int]] = {}
    for _k, rows in result.data.problem.groups():
        for position, row in enumerate(rows):
            ranks[int(row)] = (position + 1, len(rows))
    return ranks


def unmet_reason(result: PlanResult, row: int, t: int, rank: tuple[int, int] | None) -> str:
    """Why SKU ``row`` is short in period ``t`` (quoting the resource's numbers)."""
    d, p, plan = result.data, result.data.problem, result.plan
    label = period_label(d.periods[t], d.grain)
    k = int(p.resource[row])
    if k < 0:
        return f"not enough stock or receipts in {label} (no resource limits this SKU)"
    name = d.resources[k]
    limit = p.capacity[k, t] + p.overtime_capacity[k, t]
    per_capacity = p.shortage_cost[row] / p.capacity_per_unit[row]
    where = (
        f"; {name} serves the highest margin per capacity unit first and this SKU ({per_capacity:,.2f}) comes "
        f"{rank[0]} of {rank[1]}"
        if rank
        else ""
    )
    if plan.load_planned[k, t] >= limit - EPS * max(1.0, limit):
        return (
            f"{name} is at its limit in {label}: {plan.load_planned[k, t]:,.0f} planned of {p.capacity[k, t]:,.0f} "
            f"capacity + {p.overtime_capacity[k, t]:,.0f} overtime, {plan.load_required[k, t]:,.0f} required{where}"
        )
    return (
        f"{name} has capacity left in {label}, but the {plan.strategy} plan does not spend it on this SKU: its lost "
        f"margin ({p.shortage_cost[row]:,.2f} per unit) does not pay for the supply{where}"
    )


def unmet_rows(result: PlanResult, limit: int | None = UNMET_SHOWN) -> list[dict[str, Any]]:
    """SKUs with unmet demand, the largest lost margin first: units, lost margin, first short period, reason."""
    d, p, plan = result.data, result.data.problem, result.plan
    totals = plan.unmet.sum(axis=1)
    rows = np.flatnonzero(totals > UNMET_EPS)
    lost = totals * p.shortage_cost
    rows = rows[np.argsort(-lost[rows], kind="stable")]
    if limit is not None:
        rows = rows[:limit]
    ranks = _service_rank(result)
    out = []
    for row in rows:
        first = int(np.argmax(plan.unmet[row] > UNMET_EPS * 1e-3))
        out.append(
            {
                "sku": d.codes[row],
                "name": d.names[row],
                "resource": d.sku_resource[row],
                "abc": d.abc[row],
                "demand": round(float(p.demand[row].sum()), 3),
                "unmet_demand": round(float(totals[row]), 3),
                "lost_margin": round(float(lost[row]), 2),
                "margin_per_unit": round(float(p.shortage_cost[row]), 2),
                "first_short_period": d.periods[first].isoformat(),
                "reason": unmet_reason(result, int(row), first, ranks.get(int(row))),
            }
        )
    return out


def totals(result: PlanResult) -> dict[str, float]:
    """The plan's totals: regular, overtime, holding and shortage cost, total cost, shortage units, fill rate."""
    return {k: round(float(v), 4 if k == "fill_rate" else 2) for k, v in result.plan.costs.as_dict().items()}


def sku_rows(result: PlanResult) -> list[dict[str, Any]]:
    """Per SKU: its periods with demand, supply, projected inventory, target inventory and unmet demand."""
    d, p, plan = result.data, result.data.problem, result.plan
    reasons = {r["sku"]: r["reason"] for r in unmet_rows(result, limit=None)}
    days = [day.isoformat() for day in d.periods]
    out = []
    for i, code in enumerate(d.codes):
        periods = [
            {
                "period": days[t],
                "demand": round(float(p.demand[i, t]), 3),
                "supply": round(float(plan.supply[i, t]), 3),
                "projected_inventory": round(float(plan.inventory[i, t]), 3),
                "target_inventory": round(float(p.target[i, t]), 3),
                "unmet_demand": round(float(plan.unmet[i, t]), 3),
            }
            for t in range(len(days))
        ]
        out.append(
            {
                "sku": code,
                "name": d.names[i],
                "resource": d.sku_resource[i],
                "unmet_demand": round(float(plan.unmet[i].sum()), 3),
                "reason": reasons.get(code),
                "periods": periods,
            }
        )
    return out


def document(result: PlanResult, *, include_skus: bool = True) -> dict[str, Any]:
    """The plan as JSON (CLI ``--json`` and ``GET /api/v1/supply-plan``): the issue's keys plus the knobs, the run
    and a message (why the optimum fell back to chase, periods without capacity, ...)."""
    return {
        "strategy": result.plan.strategy,
        "requested_strategy": result.request.strategy,
        "grain": result.data.grain,
        "horizon": result.request.horizon,
        "overtime_pct": result.request.overtime_pct,
        "run_id": result.data.run_id,
        "data_as_of": result.data.data_as_of.isoformat() if result.data.data_as_of else None,
        "message": result.message,
        "periods": [day.isoformat() for day in result.data.periods],
        "resources": resource_rows(result),
        "skus": sku_rows(result) if include_skus else [],
        "totals": totals(result),
        "solver": {k: v for k, v in result.plan.solver.items() if k != "level_rates"},
    }


def resource_series(result: PlanResult) -> list[dict[str, Any]]:
    """Per resource the page's series: capacity, overtime, required, planned, shortfall, and the projected inventory
    of its SKUs against their safety stock and target."""
    d, p, plan = result.data, result.data.problem, result.plan
    out = []
    for k, name in enumerate(d.resources):
        rows = p.resource == k
        out.append(
            {
                "resource": name,
                "skus": int(rows.sum()),
                "capacity": [_number(v) for v in p.capacity[k]],
                "overtime_capacity": [_number(v) for v in p.overtime_capacity[k]],
                "required": [_number(v) for v in plan.load_required[k]],
                "planned": [_number(v) for v in plan.load_planned[k]],
                "overtime_used": [_number(v) for v in plan.overtime_used[k]],
                "shortfall": [_number(v) for v in plan.shortfall[k]],
                "inventory": [_number(v) for v in plan.inventory[rows].sum(axis=0)],
                "safety_stock": [_number(d.safety_stock[rows].sum())] * len(d.periods),
                "target": [_number(v) for v in p.target[rows].sum(axis=0)],
                "unmet": [_number(v) for v in plan.unmet[rows].sum(axis=0)],
            }
        )
    return out


def page_view(result: PlanResult) -> dict[str, Any]:
    """What the Supply page keeps in the browser (small: per-resource series, totals, the unmet-demand table)."""
    return {
        "request": {
            "horizon": result.request.horizon,
            "strategy": result.request.strategy,
            "overtime_pct": result.request.overtime_pct,
        },
        "strategy": result.plan.strategy,
        "grain": result.data.grain,
        "labels": result.labels,
        "periods": [day.isoformat() for day in result.data.periods],
        "message": result.plan.message,
        "notes": result.data.notes,
        "totals": totals(result),
        "below_target_units": round(result.plan.costs.below_target_units, 1),
        "resources": resource_series(result),
        "unmet": unmet_rows(result),
        "unmet_count": int((result.plan.unmet.sum(axis=1) > UNMET_EPS).sum()),
        "skus": result.data.problem.skus,
        "unconstrained_skus": int((result.data.problem.resource < 0).sum()),
        "run_id": result.data.run_id,
        "data_as_of": result.data.data_as_of.isoformat() if result.data.data_as_of else None,
        "seconds": result.seconds,
        "solver": {k: v for k, v in result.plan.solver.items() if k != "level_rates"},
    }


# --- exports -------------------------------------------------------------------------------------------------------


def resources_csv(result: PlanResult) -> str:
    """One row per resource and period (spreadsheet-safe CSV)."""
    frame = pd.DataFrame(
        [
            {"strategy": result.plan.strategy, "resource": r["resource"], **period}
            for r in resource_rows(result)
            for period in r["periods"]
        ],
        columns=[
            "strategy",
            "resource",
            "period",
            "capacity",
            "overtime_capacity",
            "required",
            "planned",
            "overtime_used",
            "shortfall",
        ],
    )
    return _csv(frame)


def skus_csv(result: PlanResult) -> str:
    """One row per SKU and period: demand, supply, projected and target inventory, unmet demand (CSV)."""
    d, p, plan = result.data, result.data.problem, result.plan
    n, periods = p.demand.shape
    frame = pd.DataFrame(
        {
            "strategy": plan.strategy,
            "sku": np.repeat(np.array(d.codes, dtype=object), periods),
            "resource": np.repeat(np.array(d.sku_resource, dtype=object), periods),
            "period": np.tile(np.array([day.isoformat() for day in d.periods], dtype=object), n),
            "demand": p.demand.ravel().round(3),
            "supply": plan.supply.ravel().round(3),
            "projected_inventory": plan.inventory.ravel().round(3),
            "target_inventory": p.target.ravel().round(3),
            "unmet_demand": plan.unmet.ravel().round(3),
        }
    )
    return _csv(frame)


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    safe_frame(frame).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


# --- capacity shortfalls for the Watchtower and the briefing -------------------------------------------------------


@dataclass(frozen=True)
class CapacityAlert:
    """A resource the chase plan cannot supply in some periods of the horizon."""

    resource: str
    periods_short: int
    horizon: int
    first_period: str
    first_shortfall: float  # capacity units beyond capacity + overtime in the first short period
    shortfall: float  # over the horizon, capacity units
    unmet_units: float  # demand of its SKUs left unmet by the chase plan

    def sentence(self, unit: str) -> str:
        consequence = (
            f"{self.unmet_units:,.0f} units of demand go unmet in a chase plan"
            if self.unmet_units >= 0.5
            else "demand is still served, from stock below its target"
        )
        return (
            f"{self.resource} is short of capacity in {self.periods_short} of the next {self.horizon} {unit} "
            f"(first {self.first_period}: {self.first_shortfall:,.0f} capacity units beyond capacity and overtime); "
            f"{consequence}"
        )


def capacity_alerts(*, session: Session, horizon: int = 12) -> tuple[list[CapacityAlert], str]:
    """Resources short of capacity + overtime in the chase plan over ``horizon`` periods, worst first, and the
    period unit ("months" / "weeks"). Empty when no capacity is stored or nothing has been recomputed."""
    if not has_resources(session=session):
        return [], "months"
    if session.scalar(select(func.count()).select_from(Sku).where(Sku.resource.is_not(None))) == 0:
        return [], "months"
    try:
        result = make_plan(
            session=session, request=PlanRequest(horizon=horizon, strategy="chase"), constrained_only=True
        )
    except SupplyPlanError:
        return [], "months"
    unit = "months" if result.data.grain == "monthly" else "weeks"
    plan, p = result.plan, result.data.problem
    limit = p.capacity + p.overtime_capacity
    beyond = np.where(np.isfinite(limit), np.maximum(plan.load_required - limit, 0.0), 0.0)
    alerts = []
    for k, name in enumerate(result.data.resources):
        material = np.maximum(1.0, ALERT_SHARE * np.nan_to_num(limit[k], posinf=0.0))
        short = np.flatnonzero(beyond[k] > material)
        if len(short) == 0:
            continue
        alerts.append(
            CapacityAlert(
                resource=name,
                periods_short=len(short),
                horizon=horizon,
                first_period=result.labels[short[0]],
                first_shortfall=float(beyond[k, short[0]]),
                shortfall=float(beyond[k].sum()),
                unmet_units=float(plan.unmet[p.resource == k].sum()),
            )
        )
    alerts.sort(key=lambda a: -a.shortfall)
    return alerts, unit
