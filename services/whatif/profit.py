"""The Profit optimizer: each SKU's economics, newsvendor costs and quantities (:mod:`core.policy`), the expected
profit curves, the profit heatmap, the sensitivity of the optimum to price, cost and demand uncertainty, and the EOQ
view."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from core import policy
from services.whatif.controls import PROFIT_FIELDS, adjust, parse_number, profit_bases, weighted_mean
from services.whatif.scope import DEFAULT_SEASON_PERIODS, Items, WhatIfError

# --------------------------------------------------------------------------------------------------------------------
# profit optimizer


@dataclass(frozen=True)
class ProfitControls:
    price: Any = None
    unit_cost: Any = None
    salvage_value: Any = None
    holding_pct: Any = None
    penalty: Any = 0.0
    season_periods: Any = DEFAULT_SEASON_PERIODS
    demand_mean: Any = None
    demand_std: Any = None
    order_cost: Any = None
    moq: Any = None
    order_multiple: Any = None
    baseline: Mapping[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in PROFIT_FIELDS}


@dataclass(frozen=True)
class Economics:
    """Per-SKU unit economics after the controls are applied (arrays (n,)); money per unit."""

    price: np.ndarray
    unit_cost: np.ndarray
    salvage_value: np.ndarray
    holding_rate: np.ndarray  # per year
    penalty: np.ndarray
    season_periods: int
    season_years: float
    demand_mean: np.ndarray  # per period
    demand_std: np.ndarray
    order_cost: np.ndarray
    moq: np.ndarray
    order_multiple: np.ndarray
    annual_demand: np.ndarray

    @property
    def season_mean(self) -> np.ndarray:
        return self.demand_mean * self.season_periods

    @property
    def season_std(self) -> np.ndarray:
        return self.demand_std * math.sqrt(self.season_periods)

    @property
    def holding(self) -> np.ndarray:
        """Holding cost of a unit left over at the end of the season."""
        return self.unit_cost * self.holding_rate * self.season_years


def economics(items: Items, controls: ProfitControls) -> tuple[Economics, list[str]]:
    """Validate the Profit optimizer's inputs and apply them to the scope's SKUs; returns warnings to show.

    Raises
    ------
    WhatIfError
        Missing or negative inputs, a season that is not a whole number of periods, an order multiple of 0.
    """
    base = controls.baseline or {}
    bases = profit_bases(items)
    values: dict[str, np.ndarray] = {}
    for name in ("price", "unit_cost", "salvage_value", "holding_pct", "penalty", "demand_mean", "demand_std"):
        spec = PROFIT_FIELDS[name]
        entered = parse_number(spec.label, getattr(controls, name))
        values[name] = adjust(
            base=bases[name], entered=entered, shown=base.get(name), how=spec.aggregate, label=spec.label
        )
    spec = PROFIT_FIELDS["order_cost"]
    values["order_cost"] = adjust(
        base=bases["order_cost"],
        entered=parse_number(spec.label, controls.order_cost),
        shown=base.get("order_cost"),
        how="mean",
        label=spec.label,
    )
    if items.n == 1:
        moq = parse_number("MOQ", controls.moq)
        mult = parse_number("Order multiple", controls.order_multiple)
        if moq < 0:
            raise WhatIfError(f"MOQ cannot be negative (got {moq:g})")
        if mult <= 0:
            raise WhatIfError(f"Order multiple must be above 0 (got {mult:g})")
        values["moq"], values["order_multiple"] = np.array([moq]), np.array([mult])
    else:
        values["moq"], values["order_multiple"] = items.moq, items.order_multiple
    season = parse_number("Selling season", controls.season_periods)
    if season < 1 or season != int(season):
        raise WhatIfError(f"Selling season must be a whole number of periods, at least 1 (got {season:g})")
    ppy = items.run.periods_per_year
    notes: list[str] = []
    price, cost = values["price"], values["unit_cost"]
    below = price < cost
    if below.all():
        notes.append(
            "Price is below unit cost: every unit sold loses money, so the optimal order is 0 unless a shortage "
            "penalty makes running out worse."
        )
    elif below.any():
        notes.append(f"{int(below.sum()):,} SKUs sell below unit cost: their optimal order is 0 without a penalty.")
    if np.all(values["demand_mean"] <= 0):
        notes.append("No demand is forecast: the optimal order is 0 and there is no profit to make.")
    econ = Economics(
        price=price,
        unit_cost=cost,
        salvage_value=values["salvage_value"],
        holding_rate=values["holding_pct"] / 100.0,
        penalty=values["penalty"],
        season_periods=int(season),
        season_years=int(season) / ppy,
        demand_mean=values["demand_mean"],
        demand_std=values["demand_std"],
        order_cost=values["order_cost"],
        moq=values["moq"],
        order_multiple=np.where(values["order_multiple"] > 0, values["order_multiple"], 1.0),
        annual_demand=values["demand_mean"] * ppy,
    )
    _, co = newsvendor_costs(econ)
    free = (co <= 0) & (econ.season_mean > 0)
    if free.any():
        notes.append(
            (
                "Salvage value covers the unit cost and holding"
                if items.n == 1
                else f"{int(free.sum()):,} SKUs salvage at or above cost plus holding"
            )
            + ": leftovers cost nothing, so the order is capped at the 99.9% demand quantile."
        )
    return econ, notes


def newsvendor_costs(econ: Economics) -> tuple[np.ndarray, np.ndarray]:
    """Underage Cu = price - cost + penalty and overage Co = cost - salvage + holding, per SKU
    (:func:`core.policy.newsvendor_costs`)."""
    cu, co = policy.newsvendor_costs(
        price=econ.price,
        unit_cost=econ.unit_cost,
        salvage_value=econ.salvage_value,
        holding_cost=econ.holding,
        stockout_cost=econ.penalty,
    )
    return np.asarray(cu, dtype=float), np.asarray(co, dtype=float)


CAP_QUANTILE = 0.999


def optimal_quantities(econ: Economics, *, scale: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """Per-SKU newsvendor optimum (:func:`core.policy.newsvendor_normal`) and its expected profit
    (:func:`core.policy.newsvendor_expected_profit`); ``scale`` multiplies price / unit_cost / demand_std (for the
    sensitivity chart). Q* is 0 where Cu = 0 and capped at the 99.9% quantile where Co = 0."""
    s = dict(scale or {})
    price = econ.price * s.get("price", 1.0)
    cost = econ.unit_cost * s.get("unit_cost", 1.0)
    mu = econ.season_mean
    sd = econ.season_std * s.get("demand_std", 1.0)
    holding = cost * econ.holding_rate * econ.season_years
    cu, co = policy.newsvendor_costs(
        price=price, unit_cost=cost, salvage_value=econ.salvage_value, holding_cost=holding, stockout_cost=econ.penalty
    )
    cu, co = np.asarray(cu, dtype=float), np.asarray(co, dtype=float)
    ok = (cu > 0) & (co > 0) & (mu > 0)
    q = np.zeros(mu.shape)
    ratio = np.where(cu + co > 0, cu / np.where(cu + co > 0, cu + co, 1.0), 0.0)
    if ok.any():
        res = policy.newsvendor_normal(underage_cost=cu[ok], overage_cost=co[ok], demand_mean=mu[ok], demand_std=sd[ok])
        q[ok] = np.maximum(np.asarray(res.quantity, dtype=float), 0.0)
    free = (co <= 0) & (cu > 0) & (mu > 0)
    q[free] = np.maximum(mu[free] + sd[free] * stats.norm.ppf(CAP_QUANTILE), 0.0)
    profit = np.asarray(
        policy.newsvendor_expected_profit(
            quantity=q,
            price=price,
            unit_cost=cost,
            salvage_value=econ.salvage_value,
            demand_mean=mu,
            demand_std=sd,
            holding_cost=holding,
            stockout_cost=econ.penalty,
        ),
        dtype=float,
    )
    lost = np.asarray(policy.expected_shortage(level=q, mean=mu, std=sd), dtype=float)
    left = np.asarray(policy.expected_leftover(level=q, mean=mu, std=sd), dtype=float)
    return {"quantity": q, "profit": profit, "lost": lost, "leftover": left, "cu": cu, "co": co, "ratio": ratio}


@dataclass(frozen=True)
class NewsvendorView:
    n: int
    underage_cost: float  # demand-weighted mean per unit for a segment
    overage_cost: float
    critical_ratio: float
    quantity: float
    expected_profit: float
    expected_leftover: float
    expected_lost_sales: float
    expected_sales: float
    season_demand: float
    fill_rate: float
    order_value: float
    curve_quantity: list[float]
    curve_profit: list[float]
    curve_leftover: list[float]
    curve_lost: list[float]
    engine_quantity: float  # the snapshot's newsvendor quantity (NaN when the engine had none)


Z_GRID = np.linspace(-3.0, 3.0, 61)


def _grid_quantities(econ: Economics, z: np.ndarray) -> np.ndarray:
    return np.maximum(econ.season_mean[:, None] + econ.season_std[:, None] * z[None, :], 0.0)


def grid_profit(econ: Economics, quantities: np.ndarray, demand_mean: np.ndarray, demand_std: np.ndarray) -> np.ndarray:
    col = lambda a: np.asarray(a, dtype=float)[:, None]  # noqa: E731
    return np.asarray(
        policy.newsvendor_expected_profit(
            quantity=quantities,
            price=col(econ.price),
            unit_cost=col(econ.unit_cost),
            salvage_value=col(econ.salvage_value),
            demand_mean=demand_mean,
            demand_std=demand_std,
            holding_cost=col(econ.holding),
            stockout_cost=col(econ.penalty),
        ),
        dtype=float,
    )


def newsvendor_view(items: Items, econ: Economics) -> NewsvendorView:
    """The newsvendor figures for the scope (sums over SKUs) and its expected-profit curve.

    One SKU: :func:`core.policy.newsvendor_profit_curve` from mu - 3 sigma to mu + 3 sigma. A segment: every SKU
    orders mu_i + z sigma_i for a common z (x = the total), each SKU's own optimum marked separately.
    """
    opt = optimal_quantities(econ)
    mu = econ.season_mean
    w = np.where(mu > 0, mu, 0.0)
    if items.n == 1:
        qs = np.asarray(_grid_quantities(econ, Z_GRID)[0])
        qs = np.unique(np.concatenate([qs, opt["quantity"]]))
        curve = policy.newsvendor_profit_curve(
            price=float(econ.price[0]),
            unit_cost=float(econ.unit_cost[0]),
            salvage_value=float(econ.salvage_value[0]),
            demand_mean=float(mu[0]),
            demand_std=float(econ.season_std[0]),
            holding_cost=float(econ.holding[0]),
            stockout_cost=float(econ.penalty[0]),
            quantities=qs,
        )
        cq, cp = curve["quantity"].tolist(), curve["expected_profit"].tolist()
        cl, cs = curve["expected_leftover"].tolist(), curve["expected_lost_sales"].tolist()
    else:
        qs = _grid_quantities(econ, Z_GRID)
        prof = grid_profit(econ, qs, mu[:, None], econ.season_std[:, None])
        lost = np.asarray(policy.expected_shortage(level=qs, mean=mu[:, None], std=econ.season_std[:, None]))
        left = qs - mu[:, None] + lost
        cq, cp = qs.sum(axis=0).tolist(), prof.sum(axis=0).tolist()
        cl, cs = left.sum(axis=0).tolist(), lost.sum(axis=0).tolist()
    total_mu = float(mu.sum())
    sales = float(np.sum(mu - opt["lost"]))
    return NewsvendorView(
        n=items.n,
        underage_cost=weighted_mean(opt["cu"], w),
        overage_cost=weighted_mean(opt["co"], w),
        critical_ratio=weighted_mean(opt["ratio"], w),
        quantity=float(opt["quantity"].sum()),
        expected_profit=float(opt["profit"].sum()),
        expected_leftover=float(opt["leftover"].sum()),
        expected_lost_sales=float(opt["lost"].sum()),
        expected_sales=sales,
        season_demand=total_mu,
        fill_rate=sales / total_mu if total_mu > 0 else float("nan"),
        order_value=float(np.sum(opt["quantity"] * econ.unit_cost)),
        curve_quantity=cq,
        curve_profit=cp,
        curve_leftover=cl,
        curve_lost=cs,
        engine_quantity=float(np.nansum(items.newsvendor_qty))
        if np.isfinite(items.newsvendor_qty).any()
        else float("nan"),
    )


HEAT_Z = np.array([-2.0, -1.5, -1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5])
HEAT_QUANTILES = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])


@dataclass(frozen=True)
class Heatmap:
    quantities: list[float]  # total order quantity per column (ascending)
    demand_levels: list[float]  # quantile of demand per row
    demands: list[float]  # total demand per row
    profit: list[list[float]]  # rows = demand scenario, columns = order quantity
    optimum: float
    optimum_column: int | None  # the column where every SKU orders its own optimum


def profit_heatmap(econ: Economics) -> Heatmap:
    """Realised profit over order quantity x demand scenario: ordering mu + z sigma (every SKU at the same z), plus
    a column with every SKU at its own optimum, when demand turns out at its p-quantile (every SKU at the same
    quantile). Each cell is :func:`core.policy.newsvendor_expected_profit` with a known demand (std 0)."""
    opt = optimal_quantities(econ)["quantity"]
    qs = np.column_stack([_grid_quantities(econ, HEAT_Z), opt])  # (n, cols + 1)
    order = np.argsort(qs.sum(axis=0), kind="stable")
    qs = qs[:, order]
    opt_col = int(np.flatnonzero(order == len(HEAT_Z))[0])
    zq = stats.norm.ppf(HEAT_QUANTILES)
    rows = []
    demands = []
    for z in zq:
        dem = np.maximum(econ.season_mean + econ.season_std * z, 0.0)
        demands.append(float(dem.sum()))
        rows.append(grid_profit(econ, qs, dem[:, None], np.zeros((econ.season_mean.size, 1))).sum(axis=0).tolist())
    return Heatmap(
        quantities=qs.sum(axis=0).tolist(),
        demand_levels=HEAT_QUANTILES.tolist(),
        demands=demands,
        profit=rows,
        optimum=float(opt.sum()),
        optimum_column=opt_col,
    )


SENSITIVITY_STEPS = np.linspace(0.7, 1.3, 13)
SENSITIVITY_PARAMS = {"price": "Price", "unit_cost": "Unit cost", "demand_std": "Demand uncertainty (sigma)"}


@dataclass(frozen=True)
class Sensitivity:
    changes: list[float]  # relative change of the input (-0.3 .. +0.3)
    quantity: dict[str, list[float]]  # parameter -> optimal total quantity
    profit: dict[str, list[float]]  # parameter -> expected profit at that optimum
    base_quantity: float
    base_profit: float


def sensitivity(econ: Economics) -> Sensitivity:
    """How the optimal quantity and its expected profit move when price, unit cost or demand uncertainty change by
    -30% .. +30% (one at a time)."""
    quantity: dict[str, list[float]] = {}
    profit: dict[str, list[float]] = {}
    for name in SENSITIVITY_PARAMS:
        qs, ps = [], []
        for f in SENSITIVITY_STEPS:
            opt = optimal_quantities(econ, scale={name: float(f)})
            qs.append(float(opt["quantity"].sum()))
            ps.append(float(opt["profit"].sum()))
        quantity[name], profit[name] = qs, ps
    base = optimal_quantities(econ)
    return Sensitivity(
        changes=(SENSITIVITY_STEPS - 1).tolist(),
        quantity=quantity,
        profit=profit,
        base_quantity=float(base["quantity"].sum()),
        base_profit=float(base["profit"].sum()),
    )


@dataclass(frozen=True)
class EoqView:
    n: int
    annual_demand: float
    order_cost: float  # mean per order (segment)
    holding_cost: float  # per unit per year (mean for a segment)
    eoq: float  # total of the SKUs' EOQs
    feasible: float  # total of the feasible lots (MOQ / multiple)
    cost_at_eoq: float
    cost_at_feasible: float
    penalty: float  # cost_at_feasible - cost_at_eoq
    moq: float | None  # single SKU only
    order_multiple: float | None
    orders_per_year: float
    moq_bound: int  # SKUs whose MOQ is above their EOQ
    curve_x: list[float]  # lot size (units for a SKU; multiple of EOQ for a segment)
    curve_ordering: list[float]
    curve_holding: list[float]
    curve_total: list[float]
    unbounded: bool


def eoq_view(items: Items, econ: Economics) -> EoqView:
    """EOQ (:func:`core.policy.eoq`), the feasible lot (:func:`core.policy.round_order_quantity`) and the total-cost
    curve (:func:`core.policy.eoq_cost_curve`); for a segment, totals with every SKU's lot at a common multiple of
    its own EOQ."""
    a = econ.annual_demand
    k = econ.order_cost
    h = econ.unit_cost * econ.holding_rate
    unbounded = bool(np.any((h <= 0) & (a * k > 0)))
    q = np.asarray(policy.eoq(annual_demand=a, order_cost=k, holding_cost=h), dtype=float)
    q = np.where(np.isfinite(q), q, 0.0)
    feas = np.asarray(
        policy.round_order_quantity(
            quantity=q, moq=econ.moq, order_multiple=econ.order_multiple, annual_demand=a, order_cost=k, holding_cost=h
        ),
        dtype=float,
    )
    ok = (a > 0) & (h > 0)

    def cost(lot: np.ndarray) -> np.ndarray:
        total = policy.eoq_total_cost(
            order_quantity=np.where(lot > 0, lot, 1.0), annual_demand=a, order_cost=k, holding_cost=h
        )
        return np.where(ok, np.asarray(total, dtype=float), 0.0)

    c_eoq, c_feas = cost(q), cost(feas)
    with np.errstate(divide="ignore", invalid="ignore"):
        orders = float(np.sum(np.where(ok & (feas > 0), a / np.where(feas > 0, feas, 1.0), 0.0)))
    if items.n == 1 and ok[0] and q[0] > 0:
        top = max(3.0 * q[0], 1.3 * feas[0], 1.3 * float(econ.moq[0]))
        xs = np.unique(np.concatenate([np.linspace(top / 30.0, top, 90), q, feas]))
        curve = policy.eoq_cost_curve(
            annual_demand=float(a[0]), order_cost=float(k[0]), holding_cost=float(h[0]), quantities=xs
        )
        cx, co_, ch, ct = (curve[c].tolist() for c in ("quantity", "ordering_cost", "holding_cost", "total_cost"))
    elif items.n > 1 and ok.any():
        mult = np.linspace(0.2, 3.0, 57)
        lots = q[ok][:, None] * mult[None, :]
        ordering = k[ok][:, None] * a[ok][:, None] / lots
        hold = h[ok][:, None] * lots / 2
        cx, co_, ch = mult.tolist(), ordering.sum(axis=0).tolist(), hold.sum(axis=0).tolist()
        ct = (ordering + hold).sum(axis=0).tolist()
    else:
        cx, co_, ch, ct = [], [], [], []
    return EoqView(
        n=items.n,
        annual_demand=float(a.sum()),
        order_cost=float(np.mean(k)),
        holding_cost=float(np.mean(h)),
        eoq=float(q.sum()),
        feasible=float(feas.sum()),
        cost_at_eoq=float(c_eoq.sum()),
        cost_at_feasible=float(c_feas.sum()),
        penalty=float(c_feas.sum() - c_eoq.sum()),
        moq=float(econ.moq[0]) if items.n == 1 else None,
        order_multiple=float(econ.order_multiple[0]) if items.n == 1 else None,
        orders_per_year=orders,
        moq_bound=int(np.sum(ok & (econ.moq > q + 1e-9))),
        curve_x=cx,
        curve_ordering=co_,
        curve_holding=ch,
        curve_total=ct,
        unbounded=unbounded,
    )
