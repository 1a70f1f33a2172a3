"""Loading a supply plan's inputs: the latest snapshot, demand, stock, open orders and resource capacities.

Rules (the maths itself is in :mod:`core.supply`):

- **SKUs**: those of the latest finished run; a SKU whose ``resource`` names no stored resource is planned
  unconstrained (and the plan says so).
- **Plan grain and periods**: the grain of the resources file (monthly when no capacity is stored); ``horizon``
  periods from the one holding the first forecast day (:func:`core.supply_demand.plan_periods`).
- **Demand**: :func:`services.supply.demand.plan_demand` (the one definition).
- **Target ending inventory**: the run's safety stock + half its lot (the EOQ rounded to MOQ and multiples).
- **Start and receipts**: on hand of the latest stock count; its ``on_order`` arrives one lead time (the SKU
  master's) after the count; approved purchase orders arrive on their promised date (else order date, else today,
  plus the lead time). A receipt due before the plan starts counts in the first period; after the horizon, not.
- **Capacity** per plan period: the capacity rows spread over their days (the first plan period only from its
  first forecast day); a period no row covers has no known limit (planned unconstrained, and said so). Costs per
  capacity unit: the day-weighted mean of the rows. ``overtime_pct`` replaces the file's overtime capacity by that
  percentage of the regular capacity.
- **Costs**: holding h = unit cost x holding rate x period length / 365.25 days; lost margin m = price - cost (30 %
  of the cost when no price is known; at least 5 % of the cost, and 0.01); below-target cost per unit and period
  q = m x (1 - service level) -- the expected lost margin of a unit of safety stock missing, the chance it was sized
  to cover -- but at least 2 h, so a plan keeps its target whenever it can, and at most m / 2, so serving demand
  always comes before rebuilding the target.
- **Service order** among SKUs with equal margin per capacity unit: ABC class (A first), then code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.formats import fmt_date, fmt_month
from core.supply import STRATEGIES, PlanProblem
from core.supply_demand import overlap_weights, period_end, plan_bounds
from db.models import (
    Forecast,
    PurchaseOrder,
    Resource,
    ResourceCapacity,
    Sku,
    SkuSnapshot,
    StockPosition,
)
from services.errors import UserFacingError
from services.runs import RunInfo, latest_run
from services.supply.demand import plan_demand

HORIZON_RANGE = (3, 18)
DEFAULT_HORIZON = 12
OVERTIME_PCT_RANGE = (0.0, 200.0)
DEFAULT_MARGIN_RATE = 0.30
MIN_MARGIN_RATE = 0.05
ABC_ORDER = {"A": 0, "B": 1, "C": 2}


class SupplyPlanError(UserFacingError):
    """The plan cannot be made as asked (no finished run, a knob out of range, ...)."""


@dataclass(frozen=True)
class PlanRequest:
    """The knobs of a plan: horizon (3-18 periods), strategy, overtime % of regular capacity (None: the file's)."""

    horizon: int = DEFAULT_HORIZON
    strategy: str = "chase"
    overtime_pct: float | None = None

    @classmethod
    def parse(cls, *, horizon: object = None, strategy: object = None, overtime_pct: object = None) -> PlanRequest:
        """Validate raw knob values (from a page, the CLI or the API); raises :class:`SupplyPlanError`."""
        try:
            months = DEFAULT_HORIZON if horizon in (None, "") else int(float(str(horizon)))
        except ValueError:
            raise SupplyPlanError(f"horizon must be a whole number of periods, got {horizon!r}") from None
        low, high = HORIZON_RANGE
        if not low <= months <= high:
            raise SupplyPlanError(f"horizon must be between {low} and {high} periods, got {months}")
        name = str(strategy or "chase").strip().lower()
        if name not in STRATEGIES:
            raise SupplyPlanError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        pct: float | None = None
        if overtime_pct not in (None, ""):
            try:
                pct = float(str(overtime_pct))
            except ValueError:
                raise SupplyPlanError(f"overtime % must be a number, got {overtime_pct!r}") from None
            if not (np.isfinite(pct) and OVERTIME_PCT_RANGE[0] <= pct <= OVERTIME_PCT_RANGE[1]):
                raise SupplyPlanError(f"overtime % must be between 0 and {OVERTIME_PCT_RANGE[1]:g}, got {pct:g}")
        return cls(horizon=months, strategy=name, overtime_pct=pct)


@dataclass
class PlanData:
    """A plan's problem (core arrays) and the labels that go with its rows and columns."""

    problem: PlanProblem
    run_id: int
    data_as_of: dt.date | None
    grain: str
    periods: list[dt.date]
    codes: list[str]
    names: list[str]
    sku_resource: list[str | None]
    abc: list[str | None]
    safety_stock: np.ndarray
    resources: list[str]
    notes: list[str] = field(default_factory=list)


def _finished_run(session: Session) -> RunInfo:
    run = latest_run(session=session)
    if run is None:
        raise SupplyPlanError("no recompute has finished yet: recompute the portfolio first")
    return run


def _skus(session: Session, run_id: int, constrained_only: bool) -> pd.DataFrame:
    query = (
        select(
            Sku.id,
            Sku.code,
            Sku.name,
            Sku.resource,
            Sku.capacity_per_unit,
            Sku.unit_cost,
            Sku.unit_price,
            Sku.holding_cost_rate,
            Sku.service_level_target,
            Sku.lead_time_mean,
            SkuSnapshot.safety_stock,
            SkuSnapshot.eoq,
            SkuSnapshot.abc,
        )
        .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
        .where(SkuSnapshot.run_id == run_id)
        .order_by(Sku.code)
    )
    if constrained_only:
        query = query.where(Sku.resource.is_not(None))
    columns = ["id", "code", "name", "resource", "cpu", "cost", "price", "rate", "service", "lead", "ss", "eoq", "abc"]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _capacity_rows(session: Session) -> pd.DataFrame:
    query = select(
        Resource.name,
        Resource.grain,
        ResourceCapacity.period,
        ResourceCapacity.capacity,
        ResourceCapacity.overtime_capacity,
        ResourceCapacity.overtime_cost,
        ResourceCapacity.regular_cost,
    ).join(ResourceCapacity, ResourceCapacity.resource_id == Resource.id)
    columns = ["resource", "grain", "period", "capacity", "overtime_capacity", "overtime_cost", "regular_cost"]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _first_forecast_day(session: Session, run: RunInfo) -> dt.date:
    first = session.scalar(
        select(func.min(Forecast.period)).where(Forecast.run_id == run.id, Forecast.kind == "future")
    )
    if first is None:
        raise SupplyPlanError("the latest recompute stored no forecast: recompute the portfolio first")
    return first


def load_plan_data(*, session: Session, request: PlanRequest, constrained_only: bool = False) -> PlanData:
    """Everything a plan needs, from the database (rules in the module docstring)."""
    run = _finished_run(session)
    skus = _skus(session, run.id, constrained_only)
    capacity_rows = _capacity_rows(session)
    resources = sorted(set(capacity_rows["resource"]))
    grain = str(capacity_rows["grain"].iloc[0]) if len(capacity_rows) else "monthly"
    week_start = pd.Timestamp(capacity_rows["period"].min()).weekday() if len(capacity_rows) else 0
    start = _first_forecast_day(session, run)
    periods, plan_start, plan_end = plan_bounds(start=start, grain=grain, count=request.horizon, week_start=week_start)
    notes: list[str] = []
    sku_ids = skus["id"].to_numpy(dtype=np.int64)
    demand, _first = plan_demand(
        session=session,
        run_id=run.id,
        grain=run.grain or "weekly",
        sku_ids=sku_ids,
        plan_start=plan_start,
        plan_end=plan_end,
        constrained_only=constrained_only,
    )
    index = {name: k for k, name in enumerate(resources)}
    resource = np.array([index.get(r, -1) if r else -1 for r in skus["resource"]], dtype=np.int64)
    unknown = sorted({r for r in skus["resource"] if r and r not in index})
    if unknown:
        notes.append(
            f"{len(unknown)} resource name(s) on SKUs have no capacity stored ({', '.join(unknown[:5])}): "
            "those SKUs are planned unconstrained."
        )
    capacity = _capacity(capacity_rows, resources, plan_start, plan_end, request.overtime_pct, notes, periods, grain)
    on_hand, receipts = _stock_and_receipts(session, skus, plan_start, plan_end)
    days = float(np.mean((plan_end - np.asarray(periods, dtype="datetime64[D]")).astype(np.int64)))
    cost = skus["cost"].to_numpy(dtype=float)
    holding = cost * skus["rate"].to_numpy(dtype=float) * days / 365.25
    price = skus["price"].to_numpy(dtype=float)
    margin = np.where(price > 0, price - cost, DEFAULT_MARGIN_RATE * cost)
    margin = np.maximum(margin, np.maximum(MIN_MARGIN_RATE * cost, 0.01))
    service = np.clip(skus["service"].to_numpy(dtype=float), 0.0, 1.0)
    safety = np.nan_to_num(pd.to_numeric(skus["ss"], errors="coerce").to_numpy(dtype=float)).clip(min=0.0)
    lot = np.nan_to_num(pd.to_numeric(skus["eoq"], errors="coerce").to_numpy(dtype=float)).clip(min=0.0)
    abc_rank = np.array([ABC_ORDER.get(a or "", 3) for a in skus["abc"]], dtype=float)
    problem = PlanProblem(
        demand=demand,
        receipts=receipts,
        on_hand=on_hand,
        target=np.repeat((safety + 0.5 * lot)[:, None], request.horizon, axis=1),
        resource=resource,
        capacity_per_unit=skus["cpu"].to_numpy(dtype=float).clip(min=1e-9),
        capacity=capacity["capacity"],
        overtime_capacity=capacity["overtime_capacity"],
        regular_cost=capacity["regular_cost"],
        overtime_cost=capacity["overtime_cost"],
        holding_cost=holding,
        shortage_cost=margin,
        below_target_cost=below_target_cost(margin=margin, holding=holding, service_level=service),
        rank=abc_rank * (len(skus) + 1) + np.arange(len(skus)),
        resource_names=tuple(resources),
    )
    return PlanData(
        problem=problem,
        run_id=run.id,
        data_as_of=run.data_as_of,
        grain=grain,
        periods=periods,
        codes=list(skus["code"]),
        names=list(skus["name"]),
        sku_resource=[resources[k] if k >= 0 else None for k in resource],
        abc=[a if isinstance(a, str) else None for a in skus["abc"]],
        safety_stock=safety,
        resources=resources,
        notes=notes,
    )


def below_target_cost(*, margin: np.ndarray, holding: np.ndarray, service_level: np.ndarray) -> np.ndarray:
    """Cost per unit and period below the target inventory (module docstring):
    q = min(max(m (1 - service level), 2 h), m / 2)."""
    return np.minimum(np.maximum(margin * (1.0 - service_level), 2.0 * holding), 0.5 * margin)


def _capacity(
    rows: pd.DataFrame,
    resources: list[str],
    plan_start: np.ndarray,
    plan_end: np.ndarray,
    overtime_pct: float | None,
    notes: list[str],
    periods: list[dt.date],
    grain: str,
) -> dict[str, np.ndarray]:
    """(R, T) capacity, overtime capacity and costs per plan period (module docstring)."""
    shape = (len(resources), len(plan_start))
    out = {name: np.zeros(shape) for name in ("capacity", "overtime_capacity", "regular_cost", "overtime_cost")}
    out["capacity"][:] = np.inf
    for k, name in enumerate(resources):
        mine = rows[rows["resource"] == name]
        starts = pd.to_datetime(mine["period"]).to_numpy().astype("datetime64[D]")
        weights = overlap_weights(
            source_start=starts,
            source_end=period_end(starts, str(mine["grain"].iloc[0])),
            target_start=plan_start,
            target_end=plan_end,
        )
        covered = weights.sum(axis=0) > 0
        for column in ("capacity", "overtime_capacity"):
            values = mine[column].to_numpy(dtype=float) @ weights
            out[column][k] = np.where(covered, values, np.inf if column == "capacity" else 0.0)
        share = np.divide(weights, weights.sum(axis=0), out=np.zeros_like(weights), where=weights.sum(axis=0) > 0)
        for column in ("regular_cost", "overtime_cost"):
            out[column][k] = mine[column].to_numpy(dtype=float) @ share
        if overtime_pct is not None:
            out["overtime_capacity"][k] = np.where(covered, out["capacity"][k] * overtime_pct / 100.0, 0.0)
        if not covered.all():
            missing = [periods[t] for t in np.flatnonzero(~covered)]
            notes.append(
                f"{name} has no capacity for {len(missing)} of the {len(periods)} periods "
                f"({_label(missing[0], grain)}{' ...' if len(missing) > 1 else ''}): planned without a limit there."
            )
    return out


def _label(day: dt.date, grain: str) -> str:
    return fmt_month(day) if grain == "monthly" else fmt_date(day)


def _stock_and_receipts(
    session: Session, skus: pd.DataFrame, plan_start: np.ndarray, plan_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(n,) on hand and (n, T) scheduled receipts (module docstring)."""
    n, periods = len(skus), len(plan_start)
    index = pd.Index(skus["id"].to_numpy(dtype=np.int64))
    lead_days = skus["lead"].to_numpy(dtype=float)
    latest = select(StockPosition.sku_id, StockPosition.as_of, StockPosition.on_hand, StockPosition.on_order).order_by(
        StockPosition.sku_id, StockPosition.as_of.desc()
    )
    stock = pd.DataFrame(session.execute(latest).all(), columns=["sku_id", "as_of", "on_hand", "on_order"])
    stock = stock.drop_duplicates("sku_id")
    stock["row"] = index.get_indexer(stock["sku_id"])
    stock = stock[stock["row"] >= 0]
    on_hand = np.zeros(n)
    on_hand[stock["row"].to_numpy()] = stock["on_hand"].to_numpy(dtype=float).clip(min=0.0)
    stock = stock[stock["on_order"] > 0]
    rows = [stock["row"].to_numpy()]
    dates = [
        pd.to_datetime(stock["as_of"]).to_numpy().astype("datetime64[D]")
        + np.round(lead_days[stock["row"].to_numpy()]).astype("timedelta64[D]")
    ]
    quantities = [stock["on_order"].to_numpy(dtype=float)]
    orders = pd.DataFrame(
        session.execute(
            select(
                PurchaseOrder.sku_id, PurchaseOrder.qty, PurchaseOrder.promised_date, PurchaseOrder.order_date
            ).where(PurchaseOrder.status == "approved", PurchaseOrder.qty > 0)
        ).all(),
        columns=["sku_id", "qty", "promised", "ordered"],
    )
    orders["row"] = index.get_indexer(orders["sku_id"])
    orders = orders[orders["row"] >= 0]
    if len(orders):
        ordered = pd.to_datetime(orders["ordered"].fillna(dt.date.today())).to_numpy().astype("datetime64[D]")
        expected = ordered + np.round(lead_days[orders["row"].to_numpy()]).astype("timedelta64[D]")
        promised = pd.to_datetime(orders["promised"]).to_numpy().astype("datetime64[D]")
        rows.append(orders["row"].to_numpy())
        dates.append(np.where(np.isnat(promised), expected, promised))
        quantities.append(orders["qty"].to_numpy(dtype=float))
    receipts = np.zeros((n, periods))
    row, when, qty = np.concatenate(rows), np.concatenate(dates), np.concatenate(quantities)
    if len(row):
        column = np.clip(np.searchsorted(plan_start, when, side="right") - 1, 0, None)
        keep = when < plan_end[-1]
        np.add.at(receipts, (row[keep], column[keep]), qty[keep])
    return on_hand, receipts
