"""What-if analysis behind the Risk engine (/risk) and Profit optimizer (/profit) pages.

Inputs come from the latest finished recompute (``sku_snapshot``: forecast per period, forecast-error sigma, lead time
in periods, service level, classification, the engine's policy) and the SKU master (costs, prices, MOQ). Every
inventory number is computed by :mod:`core.policy` and :mod:`core.montecarlo`; this module chooses the inputs,
applies the page's controls to them, and sums the results over a segment.

Scopes: one SKU, a category, an ABC class or the whole portfolio. A segment is handled as its SKUs side by side:

- **Segment controls** show an aggregate of the SKUs' own values (the mean for per-unit inputs such as lead time or
  price, the total for quantities such as the forecast-error sigma). A new value scales every SKU's own value by
  new / aggregate (or sets it where the aggregate is 0); an unchanged value leaves every SKU as it is. For a single
  SKU this is simply the SKU's value.
- **Service level** is one target for every SKU of the scope (today's targets are shown beside it).

Also here: the efficient frontier (safety-stock capital against service level, per SKU, per ABC class and for the
scope, with the best allocation of a budget across SKUs), the Monte Carlo check of a SKU's policy, "apply as policy"
(writes the SKU master and audit-logs it) and the Profit optimizer's named scenarios (``scenario`` table).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import allocation, montecarlo, policy
from db.models import Demand, Forecast, Scenario, Sku, SkuSnapshot
from services import audit
from services.errors import UserFacingError
from services.runs import RunInfo, days_per_period, latest_run

DEFAULT_REVIEW_PERIOD = 1
"""Review period R of the engine (core.portfolio.EngineSettings.review_period)."""
DEFAULT_SEASON_PERIODS = 13
"""Selling season of the newsvendor: the engine's forecast horizon (core.portfolio.EngineSettings.horizon)."""
MAX_ORDER_COVER_DAYS = 365.0
"""The engine never orders more than this many days of forecast demand in one lot."""
ABC_CLASSES = ("A", "B", "C")
SCOPE_KINDS = ("sku", "portfolio", "abc", "category")
MEASURES = ("csl", "fill_rate")
POLICIES = ("sQ", "RS")
CSL_GRID = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99)
CSL_GRID += (0.993, 0.995, 0.997, 0.999)
"""Service levels at which the frontier is evaluated."""
MC_SEED = 20_240_601
SCENARIO_NAME_MAX = 120


class WhatIfError(UserFacingError):
    """An input the page cannot use; the message says which and why."""


# --------------------------------------------------------------------------------------------------------------------
# scope


@dataclass(frozen=True)
class Scope:
    """What a page looks at: ``sku`` (value = code), ``category`` (value = name), ``abc`` (A/B/C) or ``portfolio``."""

    kind: str
    value: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCOPE_KINDS:
            raise WhatIfError(f"Unknown scope {self.kind!r}")
        if self.kind != "portfolio" and not (self.value or "").strip():
            raise WhatIfError(f"Choose a {'SKU' if self.kind == 'sku' else self.kind} first")

    @classmethod
    def parse(cls, key: str | None) -> Scope:
        """From the ``kind:value`` text the pages use (``portfolio`` alone; empty means the portfolio)."""
        text = (key or "portfolio").strip()
        kind, _, value = text.partition(":")
        return cls(kind=kind, value=value or None) if kind != "portfolio" else cls(kind="portfolio")

    @property
    def key(self) -> str:
        return "portfolio" if self.kind == "portfolio" else f"{self.kind}:{self.value}"

    @property
    def label(self) -> str:
        if self.kind == "portfolio":
            return "Whole portfolio"
        if self.kind == "abc":
            return f"ABC class {self.value}"
        if self.kind == "category":
            return f"Category {self.value}"
        return f"SKU {self.value}"


@dataclass(frozen=True)
class ScopeOptions:
    categories: list[str]
    abc_classes: list[str]
    sku_count: int


def scope_options(*, session: Session) -> ScopeOptions:
    """Categories and ABC classes of the SKUs in the latest run (for the segment picker)."""
    run = latest_run(session=session)
    if run is None:
        return ScopeOptions(categories=[], abc_classes=[], sku_count=0)
    rows = session.execute(
        select(Sku.category, SkuSnapshot.abc)
        .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
        .where(SkuSnapshot.run_id == run.id)
    ).all()
    return ScopeOptions(
        categories=sorted({c for c, _ in rows if c}),
        abc_classes=[a for a in ABC_CLASSES if any(x == a for _, x in rows)],
        sku_count=len(rows),
    )


@dataclass(frozen=True)
class SkuHit:
    code: str
    name: str
    category: str


def search_skus(*, session: Session, text: str, limit: int = 15) -> list[SkuHit]:
    """SKUs of the latest run whose code or name contains ``text`` (exact code first, then by code)."""
    needle = (text or "").strip().lower()[:100]
    run = latest_run(session=session)
    if not needle or run is None:
        return []
    code_l = func.lower(Sku.code)
    stmt = (
        select(Sku.code, Sku.name, Sku.category)
        .join(SkuSnapshot, (SkuSnapshot.sku_id == Sku.id) & (SkuSnapshot.run_id == run.id))
        .where(code_l.contains(needle, autoescape=True) | func.lower(Sku.name).contains(needle, autoescape=True))
        .order_by((code_l != needle), Sku.code)
        .limit(max(1, min(int(limit), 100)))
    )
    return [SkuHit(code=c, name=n, category=cat) for c, n, cat in session.execute(stmt)]


# --------------------------------------------------------------------------------------------------------------------
# items: the SKUs of a scope with their snapshot and master data

_NUMERIC_SNAPSHOT = (
    "forecast_per_period",
    "sigma",
    "lead_time_periods",
    "lead_time_std_periods",
    "service_level",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "eoq",
    "newsvendor_qty",
    "on_hand",
    "annual_demand",
)
_NUMERIC_MASTER = (
    "unit_cost",
    "unit_price",
    "salvage_value",
    "holding_cost_rate",
    "order_cost",
    "moq",
    "order_multiple",
    "lead_time_mean",
    "lead_time_std",
)


@dataclass(frozen=True)
class Items:
    """The SKUs of a scope, arrays of shape (n,) in code order. Periods are the run's grain."""

    scope: Scope
    run: RunInfo
    sku_ids: np.ndarray
    codes: list[str]
    names: list[str]
    categories: list[str]
    abc: np.ndarray
    demand_class: np.ndarray
    rop_method: np.ndarray
    rop_method_reason: list[str]
    lead_time_source: list[str]
    demand_mean: np.ndarray  # forecast per period
    sigma: np.ndarray  # forecast-error std per period
    lead_time: np.ndarray  # periods
    lead_time_std: np.ndarray  # periods
    service_level: np.ndarray
    safety_stock: np.ndarray  # the engine's (snapshot)
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    eoq: np.ndarray
    newsvendor_qty: np.ndarray
    on_hand: np.ndarray
    unit_cost: np.ndarray
    unit_price: np.ndarray
    salvage_value: np.ndarray
    holding_cost_rate: np.ndarray
    order_cost: np.ndarray
    moq: np.ndarray
    order_multiple: np.ndarray
    master_lead_time_days: np.ndarray
    master_lead_time_std_days: np.ndarray

    @property
    def n(self) -> int:
        return len(self.codes)

    @property
    def annual_demand(self) -> np.ndarray:
        return self.demand_mean * self.run.periods_per_year

    @property
    def weights(self) -> np.ndarray:
        """Annual demand value at cost: the weight of each SKU in a segment's service level (units when no SKU has
        a cost)."""
        value = self.annual_demand * self.unit_cost
        return value if value.sum() > 0 else self.annual_demand

    def lot(self) -> np.ndarray:
        """The engine's order lot: EOQ capped at a year of demand, rounded to MOQ / multiple by total cost."""
        annual = self.annual_demand
        holding = self.unit_cost * self.holding_cost_rate
        q_star = np.asarray(
            policy.eoq(annual_demand=annual, order_cost=self.order_cost, holding_cost=holding), dtype=float
        )
        cap = self.demand_mean * MAX_ORDER_COVER_DAYS / self.run.days_per_period
        lot = np.minimum(np.where(np.isfinite(q_star), q_star, cap), cap)
        return np.asarray(
            policy.round_order_quantity(
                quantity=lot,
                moq=self.moq,
                order_multiple=self.order_multiple,
                annual_demand=annual,
                order_cost=self.order_cost,
                holding_cost=holding,
            ),
            dtype=float,
        )


def _num(values: Sequence[Any], default: float = 0.0) -> np.ndarray:
    out = np.array([default if v is None else float(v) for v in values], dtype=float)
    return np.where(np.isfinite(out), out, default)


def load_items(*, session: Session, scope: Scope) -> Items | None:
    """The scope's SKUs from the latest finished run (None before the first recompute or when nothing matches)."""
    run = latest_run(session=session)
    if run is None:
        return None
    columns = [
        Sku.id,
        Sku.code,
        Sku.name,
        Sku.category,
        SkuSnapshot.abc,
        SkuSnapshot.demand_class,
        SkuSnapshot.rop_method,
        SkuSnapshot.rop_method_reason,
        SkuSnapshot.lead_time_source,
        *[getattr(SkuSnapshot, c) for c in _NUMERIC_SNAPSHOT],
        *[getattr(Sku, c) for c in _NUMERIC_MASTER],
    ]
    stmt = select(*columns).join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id).where(SkuSnapshot.run_id == run.id)
    if scope.kind == "sku":
        stmt = stmt.where(Sku.code == scope.value)
    elif scope.kind == "category":
        stmt = stmt.where(Sku.category == scope.value)
    elif scope.kind == "abc":
        stmt = stmt.where(SkuSnapshot.abc == scope.value)
    rows = session.execute(stmt.order_by(Sku.code)).all()
    if not rows:
        return None
    col = {c.key if hasattr(c, "key") else str(c): [r[i] for r in rows] for i, c in enumerate(columns)}
    snap = {c: _num(col[c], np.nan) for c in _NUMERIC_SNAPSHOT}
    master = {c: _num(col[c]) for c in _NUMERIC_MASTER}
    days = run.days_per_period
    return Items(
        scope=scope,
        run=run,
        sku_ids=np.array(col["id"], dtype=np.int64),
        codes=[str(c) for c in col["code"]],
        names=[str(c or "") for c in col["name"]],
        categories=[str(c or "") for c in col["category"]],
        abc=np.array([a or "C" for a in col["abc"]], dtype=object),
        demand_class=np.array([c or "smooth" for c in col["demand_class"]], dtype=object),
        rop_method=np.array([m or "normal" for m in col["rop_method"]], dtype=object),
        rop_method_reason=[str(r or "") for r in col["rop_method_reason"]],
        lead_time_source=[str(s or "master") for s in col["lead_time_source"]],
        demand_mean=np.maximum(np.nan_to_num(snap["forecast_per_period"]), 0.0),
        sigma=np.maximum(np.nan_to_num(snap["sigma"]), 0.0),
        lead_time=np.where(
            np.isfinite(snap["lead_time_periods"]), snap["lead_time_periods"], master["lead_time_mean"] / days
        ),
        lead_time_std=np.where(
            np.isfinite(snap["lead_time_std_periods"]), snap["lead_time_std_periods"], master["lead_time_std"] / days
        ),
        service_level=np.where(np.isfinite(snap["service_level"]), snap["service_level"], 0.95),
        safety_stock=snap["safety_stock"],
        reorder_point=snap["reorder_point"],
        order_up_to=snap["order_up_to"],
        eoq=snap["eoq"],
        newsvendor_qty=snap["newsvendor_qty"],
        on_hand=np.nan_to_num(snap["on_hand"]),
        unit_cost=master["unit_cost"],
        unit_price=master["unit_price"],
        salvage_value=master["salvage_value"],
        holding_cost_rate=master["holding_cost_rate"],
        order_cost=master["order_cost"],
        moq=master["moq"],
        order_multiple=np.where(master["order_multiple"] > 0, master["order_multiple"], 1.0),
        master_lead_time_days=master["lead_time_mean"],
        master_lead_time_std_days=master["lead_time_std"],
    )


# --------------------------------------------------------------------------------------------------------------------
# control values: aggregates shown for a scope, and applying an entered value to every SKU


@dataclass(frozen=True)
class Field:
    """A numeric control: how it aggregates over a segment and how it is shown."""

    name: str
    label: str
    aggregate: str  # "mean" | "sum" | "target"
    decimals: int


RISK_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("target_pct", "Service level target", "target", 1),
        Field("lead_time_days", "Lead time", "mean", 1),
        Field("lead_time_std_days", "Lead-time spread", "mean", 1),
        Field("sigma", "Demand variability", "sum", 2),
        Field("order_quantity", "Order quantity", "sum", 0),
        Field("review_period", "Review period", "target", 0),
    )
}
PROFIT_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("price", "Price", "mean", 2),
        Field("unit_cost", "Unit cost", "mean", 2),
        Field("salvage_value", "Salvage value", "mean", 2),
        Field("holding_pct", "Holding cost", "mean", 1),
        Field("penalty", "Shortage penalty", "mean", 2),
        Field("season_periods", "Selling season", "target", 0),
        Field("demand_mean", "Demand per period", "sum", 1),
        Field("demand_std", "Demand variability", "sum", 1),
        Field("order_cost", "Order cost", "mean", 2),
        Field("moq", "MOQ", "sku", 0),
        Field("order_multiple", "Order multiple", "sku", 0),
    )
}


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    if w.sum() <= 0:
        return float(np.mean(values)) if values.size else float("nan")
    return float(np.sum(values * w) / w.sum())


def _aggregate(base: np.ndarray, how: str) -> float:
    return float(np.sum(base)) if how == "sum" else float(np.mean(base))


def _shown(value: float, decimals: int) -> float:
    return round(float(value), decimals) if math.isfinite(value) else 0.0


def _risk_bases(items: Items) -> dict[str, np.ndarray]:
    days = items.run.days_per_period
    return {
        "lead_time_days": items.lead_time * days,
        "lead_time_std_days": items.lead_time_std * days,
        "sigma": items.sigma,
        "order_quantity": items.lot(),
    }


def risk_defaults(items: Items) -> dict[str, Any]:
    """Today's control values for a scope (rounded as the page shows them)."""
    out: dict[str, Any] = {"measure": "csl", "policy": "sQ", "review_period": DEFAULT_REVIEW_PERIOD}
    out["target_pct"] = _shown(100 * _weighted_mean(items.service_level, items.weights), 1)
    for name, base in _risk_bases(items).items():
        spec = RISK_FIELDS[name]
        out[name] = _shown(_aggregate(base, spec.aggregate), spec.decimals)
    return out


def _profit_bases(items: Items) -> dict[str, np.ndarray]:
    return {
        "price": items.unit_price,
        "unit_cost": items.unit_cost,
        "salvage_value": items.salvage_value,
        "holding_pct": items.holding_cost_rate * 100,
        "penalty": np.zeros(items.n),
        "demand_mean": items.demand_mean,
        "demand_std": items.sigma,
        "order_cost": items.order_cost,
        "moq": items.moq,
        "order_multiple": items.order_multiple,
    }


def profit_defaults(items: Items) -> dict[str, Any]:
    """Today's Profit optimizer inputs for a scope (MOQ and multiple only for a single SKU)."""
    out: dict[str, Any] = {"season_periods": DEFAULT_SEASON_PERIODS}
    for name, base in _profit_bases(items).items():
        spec = PROFIT_FIELDS[name]
        if spec.aggregate == "sku":
            out[name] = _shown(float(base[0]), spec.decimals) if items.n == 1 else None
        else:
            out[name] = _shown(_aggregate(base, spec.aggregate), spec.decimals)
    return out


def _number(label: str, value: Any) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise WhatIfError(f"{label}: enter a number")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise WhatIfError(f"{label}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise WhatIfError(f"{label}: enter a finite number")
    return x


def adjust(
    *, base: np.ndarray, entered: float, shown: float | None, how: str, label: str, minimum: float = 0.0
) -> np.ndarray:
    """Apply an entered control value to every SKU's own value (rules in the module docstring).

    ``shown`` is the value the page showed for the scope; entering it again leaves every SKU unchanged.
    """
    if entered < minimum:
        raise WhatIfError(f"{label} cannot be negative (got {entered:g})")
    if shown is not None and math.isclose(entered, float(shown), rel_tol=1e-9, abs_tol=1e-9):
        return base.astype(float)
    exact = _aggregate(base, how)
    if exact > 0:
        return base * (entered / exact)
    return np.full(base.shape, entered / (base.size if how == "sum" and base.size else 1), dtype=float)


# --------------------------------------------------------------------------------------------------------------------
# risk engine


@dataclass(frozen=True)
class RiskControls:
    """The Risk engine's controls as entered. ``baseline``: the values the page showed for the scope."""

    measure: str = "csl"
    target_pct: Any = None
    lead_time_days: Any = None
    lead_time_std_days: Any = None
    sigma: Any = None
    order_quantity: Any = None
    policy: str = "sQ"
    review_period: Any = DEFAULT_REVIEW_PERIOD
    baseline: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyInputs:
    """Per-SKU inputs after the controls are applied (arrays (n,))."""

    measure: str
    policy: str
    target: float
    review_period: int
    demand_mean: np.ndarray
    sigma: np.ndarray
    lead_time: np.ndarray  # periods
    lead_time_std: np.ndarray
    order_quantity: np.ndarray  # Q (sQ) or demand per review (RS): the quantity one cycle delivers
    changed: dict[str, bool]


def policy_inputs(items: Items, controls: RiskControls) -> PolicyInputs:
    """Validate the controls and apply them to the scope's SKUs.

    Raises
    ------
    WhatIfError
        A control is missing, not a number or out of range (the message names it).
    """
    if controls.measure not in MEASURES:
        raise WhatIfError(f"Service measure must be cycle service level or fill rate, got {controls.measure!r}")
    if controls.policy not in POLICIES:
        raise WhatIfError(f"Review policy must be (s, Q) or (R, S), got {controls.policy!r}")
    measure_label = "Cycle service level" if controls.measure == "csl" else "Fill rate"
    target_pct = _number(measure_label, controls.target_pct)
    if not 0 < target_pct < 100:
        raise WhatIfError(
            f"{measure_label} must be above 0% and below 100% (got {target_pct:g}%): "
            + (
                "100% would need unlimited safety stock."
                if target_pct >= 100
                else "0% or less means planning to run out in every cycle."
            )
        )
    review = _number("Review period", controls.review_period)
    if controls.policy == "RS" and (review < 1 or review != int(review)):
        raise WhatIfError(f"Review period must be a whole number of periods, at least 1 (got {review:g})")
    review_i = max(1, int(review))
    base = controls.baseline or {}
    bases = _risk_bases(items)
    days = items.run.days_per_period
    values: dict[str, np.ndarray] = {}
    changed: dict[str, bool] = {}
    for name in ("lead_time_days", "lead_time_std_days", "sigma", "order_quantity"):
        spec = RISK_FIELDS[name]
        entered = _number(spec.label, getattr(controls, name))
        if name == "order_quantity" and controls.policy == "sQ" and entered <= 0 and np.any(items.demand_mean > 0):
            raise WhatIfError(f"Order quantity must be above 0 (got {entered:g})")
        values[name] = adjust(
            base=bases[name], entered=entered, shown=base.get(name), how=spec.aggregate, label=spec.label
        )
        changed[name] = not np.allclose(values[name], bases[name])
    d = items.demand_mean
    q = values["order_quantity"] if controls.policy == "sQ" else d * review_i
    return PolicyInputs(
        measure=controls.measure,
        policy=controls.policy,
        target=target_pct / 100.0,
        review_period=review_i,
        demand_mean=d,
        sigma=values["sigma"],
        lead_time=values["lead_time_days"] / days,
        lead_time_std=values["lead_time_std_days"] / days,
        order_quantity=q,
        changed=changed,
    )


@dataclass(frozen=True)
class PolicyLevels:
    """Safety stock and its consequences per SKU for given targets (arrays (n,))."""

    safety_stock: np.ndarray
    level: np.ndarray  # reorder point (sQ) or order-up-to level (RS)
    cycle_service_level: np.ndarray  # the CSL the safety stock gives (the target itself for a CSL target)
    fill_rate: np.ndarray  # expected fill rate (NaN without demand)
    sigma_ltd: np.ndarray
    protection: np.ndarray  # periods the safety stock covers: L (sQ) or L + R (RS)


def policy_levels(inputs: PolicyInputs, target: np.ndarray | float | None = None) -> PolicyLevels:
    """Safety stock, reorder point / order-up-to level, cycle service level and fill rate per SKU.

    CSL target: SS = :func:`core.policy.safety_stock` over the protection period (L for (s, Q), L + R for (R, S));
    fill-rate target: SS = k sigma_LTD with k from :func:`core.policy.fill_rate_safety_factor` (Q = the order
    quantity, or the demand of one review period for (R, S)), its CSL = Phi(k). Level = D x protection + SS
    (:func:`core.policy.reorder_point` / :func:`core.policy.order_up_to_level` for a CSL target). Fill rate:
    :func:`core.policy.expected_fill_rate`.
    """
    t = inputs.target if target is None else target
    d = inputs.demand_mean
    protect = inputs.lead_time + (inputs.review_period if inputs.policy == "RS" else 0.0)
    sigma_ltd = np.asarray(
        policy.lead_time_demand_std(
            demand_mean=d, demand_std=inputs.sigma, lead_time=protect, lead_time_std=inputs.lead_time_std
        ),
        dtype=float,
    )
    q = inputs.order_quantity
    has = (d > 0) & (q > 0)
    if inputs.measure == "csl":
        csl = np.broadcast_to(np.asarray(t, dtype=float), d.shape).astype(float)
        if inputs.policy == "sQ":
            level = policy.reorder_point(
                service_level=csl,
                demand_mean=d,
                demand_std=inputs.sigma,
                lead_time=inputs.lead_time,
                lead_time_std=inputs.lead_time_std,
            )
        else:
            level = policy.order_up_to_level(
                service_level=csl,
                demand_mean=d,
                demand_std=inputs.sigma,
                lead_time=inputs.lead_time,
                review_period=inputs.review_period,
                lead_time_std=inputs.lead_time_std,
            )
        level = np.asarray(level, dtype=float)
        ss = level - d * protect
    else:
        beta = np.broadcast_to(np.asarray(t, dtype=float), d.shape)
        k = np.zeros(d.shape)
        if has.any():
            k[has] = policy.fill_rate_safety_factor(
                fill_rate=beta[has], order_quantity=q[has], lead_time_demand_std=sigma_ltd[has]
            )
        ss = k * sigma_ltd
        csl = np.where(sigma_ltd > 0, stats.norm.cdf(k), 1.0)
        level = d * protect + ss
    fill = np.full(d.shape, np.nan)
    if has.any():
        fill[has] = policy.expected_fill_rate(
            order_quantity=q[has],
            reorder_point=level[has],
            lead_time_demand_mean=(d * protect)[has],
            lead_time_demand_std=sigma_ltd[has],
        )
    return PolicyLevels(
        safety_stock=ss,
        level=level,
        cycle_service_level=csl,
        fill_rate=fill,
        sigma_ltd=sigma_ltd,
        protection=protect,
    )


@dataclass(frozen=True)
class QuantileCheck:
    """The reorder-point method the engine would use for a SKU and the level it gives (slow / lumpy movers)."""

    method: str
    reason: str
    level: float
    normal_level: float


@dataclass(frozen=True)
class RiskResult:
    """Risk engine figures for a scope at the page's settings, beside today's."""

    inputs: PolicyInputs
    levels: PolicyLevels
    units: str
    n: int
    safety_stock: float  # total units
    level: float  # total reorder point / order-up-to level (units)
    capital: float  # money tied in safety stock (SS >= 0 at unit cost)
    holding_per_year: float
    stockouts_per_year: float  # expected stockout occasions per year (sum over SKUs)
    cycles_per_year: float
    cycle_service_level: float  # weighted by annual demand value
    fill_rate: float  # weighted by annual demand value expected fill rate
    demand_part: float  # safety stock units due to demand variability (variance share)
    lead_time_part: float  # ... due to lead-time variability
    demand_only: float  # safety stock if the lead time were certain
    lead_time_only: float  # safety stock if demand were certain
    engine_safety_stock: float  # the engine's snapshot (its method, reviewed every period)
    engine_capital: float
    engine_holding_per_year: float
    engine_level: float
    today_target: float  # value-weighted mean of the SKUs' own targets
    quantile: QuantileCheck | None
    slow_movers: int  # SKUs the engine sets with a discrete / bootstrap quantile
    notes: list[str]


def _clip_csl(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.001, 0.999)


def risk_result(
    items: Items, controls: RiskControls, *, history: np.ndarray | None = None, today: bool = False
) -> RiskResult:
    """Safety stock, reorder point / order-up-to level, its capital and holding cost, expected stockouts per year and
    the demand / lead-time split, for a scope at the controls' settings (and the engine snapshot's figures).

    ``today``: every SKU at its own cycle service level target with today's lead times, variability and lot (the
    page's measure is ignored; the review policy is kept). ``history`` (1, T) of a single SKU lets the quantile check
    use the bootstrap for lumpy demand.
    """
    if today:
        inputs = replace(policy_inputs(items, RiskControls(**_today_controls(items, controls))), measure="csl")
        lv = policy_levels(inputs, target=items.service_level)
    else:
        inputs = policy_inputs(items, controls)
        lv = policy_levels(inputs)
    check = None
    if items.n == 1 and inputs.demand_mean[0] > 0 and not today:
        check = quantile_check(items, inputs, lv, history=history)
    return risk_summary(items, inputs, lv, quantile=check)


def risk_summary(items: Items, inputs: PolicyInputs, lv: PolicyLevels, *, quantile: QuantileCheck | None) -> RiskResult:
    """The scope's totals for given per-SKU inputs and levels (capital, holding, stockouts a year, weighted service,
    the demand / lead-time split, the engine snapshot's figures); ``quantile``: a single SKU's quantile check."""
    d = inputs.demand_mean
    w = items.weights
    ss_pos = np.maximum(lv.safety_stock, 0.0)
    capital = float(np.sum(ss_pos * items.unit_cost))
    holding = float(np.sum(ss_pos * items.unit_cost * items.holding_cost_rate))
    ppy = items.run.periods_per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        cycles = np.where(
            (d > 0) & (inputs.order_quantity > 0),
            (items.annual_demand / inputs.order_quantity)
            if inputs.policy == "sQ"
            else np.full(d.shape, ppy / inputs.review_period),
            0.0,
        )
    stockouts = float(np.sum((1.0 - lv.cycle_service_level) * cycles))
    var_d = lv.protection * inputs.sigma**2
    var_l = d**2 * inputs.lead_time_std**2
    total_var = var_d + var_l
    with np.errstate(divide="ignore", invalid="ignore"):
        share_d = np.where(total_var > 0, var_d / total_var, 1.0)
    factor = np.where(lv.sigma_ltd > 0, lv.safety_stock / np.where(lv.sigma_ltd > 0, lv.sigma_ltd, 1.0), 0.0)
    factor = np.maximum(factor, 0.0)
    today_ss = np.nan_to_num(items.safety_stock)
    today_level = np.nan_to_num(items.reorder_point if inputs.policy == "sQ" else items.order_up_to)
    notes: list[str] = []
    slow = int(np.sum(items.rop_method != "normal"))
    zero = int(np.sum(d <= 0))
    if zero == items.n:
        notes.append("No demand is forecast for this scope: no safety stock is needed and nothing is at risk.")
    elif zero:
        notes.append(f"{zero:,} of {items.n:,} SKUs have no forecast demand and need no safety stock.")
    if inputs.measure == "fill_rate" and np.any(lv.safety_stock < 0):
        neg = int(np.sum(lv.safety_stock < 0))
        notes.append(
            f"The order quantity alone meets the fill-rate target for {neg:,} SKU{'s' if neg != 1 else ''}: "
            "the formula gives negative safety stock (shown as 0 in the capital)."
        )
    return RiskResult(
        inputs=inputs,
        levels=lv,
        units=items.run.period_unit,
        n=items.n,
        safety_stock=float(np.sum(lv.safety_stock)),
        level=float(np.sum(lv.level)),
        capital=capital,
        holding_per_year=holding,
        stockouts_per_year=stockouts,
        cycles_per_year=float(np.sum(cycles)),
        cycle_service_level=_weighted_mean(lv.cycle_service_level, w),
        fill_rate=_weighted_mean(np.nan_to_num(lv.fill_rate, nan=1.0), w),
        demand_part=float(np.sum(lv.safety_stock * share_d)),
        lead_time_part=float(np.sum(lv.safety_stock * (1 - share_d))),
        demand_only=float(np.sum(factor * np.sqrt(var_d))),
        lead_time_only=float(np.sum(factor * np.sqrt(var_l))),
        engine_safety_stock=float(np.sum(today_ss)),
        engine_capital=float(np.sum(np.maximum(today_ss, 0.0) * items.unit_cost)),
        engine_holding_per_year=float(np.sum(np.maximum(today_ss, 0.0) * items.unit_cost * items.holding_cost_rate)),
        engine_level=float(np.sum(today_level)),
        today_target=_weighted_mean(items.service_level, items.weights),
        quantile=quantile,
        slow_movers=slow,
        notes=notes,
    )


def quantile_check(
    items: Items, inputs: PolicyInputs, levels: PolicyLevels, *, history: np.ndarray | None = None
) -> QuantileCheck:
    """For one SKU: the reorder-point method :func:`core.policy.reorder_point_auto` picks at the equivalent cycle
    service level (normal, Poisson, negative binomial or bootstrap) and the level it gives."""
    rng = np.random.default_rng(MC_SEED)
    hist = None if history is None or history.size == 0 else np.atleast_2d(history)
    res = policy.reorder_point_auto(
        service_level=_clip_csl(levels.cycle_service_level),
        demand_mean=inputs.demand_mean,
        demand_std=inputs.sigma,
        lead_time=inputs.lead_time,
        lead_time_std=inputs.lead_time_std,
        review_period=inputs.review_period,
        demand_class=items.demand_class,
        history=hist,
        rng=rng if hist is not None else None,
        periodic_review=False,
    )
    level = res.reorder_point if inputs.policy == "sQ" else res.order_up_to
    return QuantileCheck(
        method=str(res.method[0]),
        reason=str(res.reason[0]),
        level=float(level[0]),
        normal_level=float(levels.level[0]),
    )


# --------------------------------------------------------------------------------------------------------------------
# efficient frontier


@dataclass(frozen=True)
class FrontierCurve:
    name: str
    kind: str  # "uniform" (one target for every SKU) | "best" (budget spread where it buys most service)
    capital: list[float]
    service: list[float]
    targets: list[float]  # the uniform target of each point (empty for "best")


@dataclass(frozen=True)
class FrontierPoint:
    name: str
    capital: float
    service: float


@dataclass(frozen=True)
class Frontier:
    """Safety-stock capital against service level (CSL or fill rate, weighted by demand value)."""

    measure: str
    curves: list[FrontierCurve]
    today: list[FrontierPoint]  # every SKU at its own target today
    chosen: FrontierPoint  # the page's setting for the whole scope

    def curve(self, name: str, kind: str = "uniform") -> FrontierCurve | None:
        return next((c for c in self.curves if c.name == name and c.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Frontier:
        return cls(
            measure=str(data["measure"]),
            curves=[FrontierCurve(**c) for c in data["curves"]],
            today=[FrontierPoint(**p) for p in data["today"]],
            chosen=FrontierPoint(**data["chosen"]),
        )


def _service_grid(levels: PolicyLevels, measure: str) -> np.ndarray:
    return levels.cycle_service_level if measure == "csl" else np.nan_to_num(levels.fill_rate, nan=1.0)


def _best_allocation(capital: np.ndarray, service: np.ndarray, weights: np.ndarray) -> tuple[list[float], list[float]]:
    """Upper frontier of (total capital, value-weighted service) when each SKU may sit at any grid level
    (:func:`core.allocation.efficient_frontier`: Lagrangian relaxation swept over the price, Everett 1963)."""
    return allocation.efficient_frontier(service=service, money=capital, weight=weights)


def frontier(items: Items, controls: RiskControls, *, grid: Sequence[float] = CSL_GRID) -> Frontier:
    """The efficient frontier of the scope at the controls' lead times, variability and policy.

    Curves: the scope, each ABC class in it (segments only) -- every SKU at the same target -- and, for a segment,
    the best allocation (each SKU's own level chosen so the budget buys the most value-weighted service).
    Points: today (each SKU at its own target) and the page's setting.
    """
    inputs = policy_inputs(items, controls)
    g = np.asarray(grid, dtype=float)
    n, m = items.n, g.size
    cap = np.zeros((n, m))
    svc = np.zeros((n, m))
    for j, t in enumerate(g):
        lv = policy_levels(inputs, target=t)
        cap[:, j] = np.maximum(lv.safety_stock, 0.0) * items.unit_cost
        svc[:, j] = _service_grid(lv, inputs.measure)
    w = items.weights
    curves: list[FrontierCurve] = []
    groups: list[tuple[str, np.ndarray]] = [(items.scope.label if items.n > 1 else items.codes[0], np.ones(n, bool))]
    if items.n > 1:
        groups += [(f"Class {a}", items.abc == a) for a in ABC_CLASSES if np.any(items.abc == a)]
    for name, mask in groups:
        if len(groups) == 2 and name.startswith("Class"):
            continue  # a single ABC class: same as the scope
        wm = w[mask]
        denom = wm.sum() if wm.sum() > 0 else float(mask.sum())
        ww = wm if wm.sum() > 0 else np.ones(int(mask.sum()))
        curves.append(
            FrontierCurve(
                name=name,
                kind="uniform",
                capital=cap[mask].sum(axis=0).tolist(),
                service=((svc[mask] * ww[:, None]).sum(axis=0) / denom).tolist(),
                targets=g.tolist(),
            )
        )
    if items.n > 1:
        bc, bs = _best_allocation(cap, svc, w)
        if bc:
            curves.append(FrontierCurve(name=groups[0][0], kind="best", capital=bc, service=bs, targets=[]))
    today_inputs = policy_inputs(items, RiskControls(**_today_controls(items, controls)))
    today_lv = policy_levels(replace(today_inputs, measure="csl"), target=items.service_level)
    today_cap = np.maximum(today_lv.safety_stock, 0.0) * items.unit_cost
    today_svc = _service_grid(today_lv, inputs.measure)
    today = []
    for name, mask in groups:
        if len(groups) == 2 and name.startswith("Class"):
            continue
        ww = w[mask] if w[mask].sum() > 0 else np.ones(int(mask.sum()))
        today.append(
            FrontierPoint(name=name, capital=float(today_cap[mask].sum()), service=_weighted_mean(today_svc[mask], ww))
        )
    lv = policy_levels(inputs)
    chosen = FrontierPoint(
        name=groups[0][0],
        capital=float(np.sum(np.maximum(lv.safety_stock, 0.0) * items.unit_cost)),
        service=_weighted_mean(_service_grid(lv, inputs.measure), w if w.sum() > 0 else np.ones(n)),
    )
    return Frontier(measure=inputs.measure, curves=curves, today=today, chosen=chosen)


def _today_controls(items: Items, controls: RiskControls) -> dict[str, Any]:
    """Controls equal to today's inputs (lead times, variability, lot) with the page's measure and policy."""
    defaults = risk_defaults(items)
    return {
        "measure": controls.measure,
        "policy": controls.policy,
        "review_period": controls.review_period if controls.policy == "RS" else DEFAULT_REVIEW_PERIOD,
        "target_pct": defaults["target_pct"] if 0 < defaults["target_pct"] < 100 else 95.0,
        **{k: defaults[k] for k in ("lead_time_days", "lead_time_std_days", "sigma", "order_quantity")},
        "baseline": defaults,
    }


def read_frontier(curve: FrontierCurve, *, capital: float | None = None, service: float | None = None) -> float | None:
    """Read a curve: the service level a budget buys (``capital``) or the budget a service level needs (``service``).

    Linear interpolation between the curve's points; None outside the curve's range.
    """
    caps = np.asarray(curve.capital, dtype=float)
    svcs = np.asarray(curve.service, dtype=float)
    if caps.size < 2:
        return None
    if capital is not None:
        order = np.argsort(caps)
        caps, svcs = caps[order], svcs[order]
        if capital < caps[0] - 1e-9:
            return None
        return float(np.interp(capital, caps, svcs))
    if service is not None:
        order = np.argsort(svcs)
        caps, svcs = caps[order], svcs[order]
        if service < svcs[0] - 1e-12 or service > svcs[-1] + 1e-12:
            return None
        return float(np.interp(service, svcs, caps))
    raise WhatIfError("Enter a budget or a service level to read the frontier")


# --------------------------------------------------------------------------------------------------------------------
# demand history and Monte Carlo


def _period_index(dates: Sequence[dt.date], origin: dt.date, grain: str) -> np.ndarray:
    if grain == "monthly":
        return np.array([(d.year - origin.year) * 12 + (d.month - origin.month) for d in dates], dtype=np.int64)
    step = days_per_period(grain)
    return np.array([int(math.floor((d - origin).days / step + 1e-9)) for d in dates], dtype=np.int64)


def demand_history(*, session: Session, items: Items, sku_index: int = 0) -> np.ndarray:
    """One SKU's demand per period on the engine's grid (zeros where a period has no row), oldest first."""
    origin, last = session.execute(select(func.min(Demand.period), func.max(Demand.period))).one()
    if origin is None:
        return np.zeros(0)
    rows = session.execute(
        select(Demand.period, Demand.quantity).where(Demand.sku_id == int(items.sku_ids[sku_index]))
    ).all()
    if not rows:
        return np.zeros(0)
    idx = _period_index([r[0] for r in rows], origin, items.run.grain)
    end = int(_period_index([last], origin, items.run.grain)[0])
    start = int(idx.min())
    out = np.zeros(end - start + 1)
    np.add.at(out, idx - start, np.array([float(r[1]) for r in rows]))
    return out


def forecast_errors(*, session: Session, items: Items, sku_index: int = 0) -> np.ndarray:
    """Actual minus backtest forecast per period over the backtest windows of the latest run (the errors sigma is
    the spread of)."""
    origin = session.scalar(select(func.min(Demand.period)))
    if origin is None:
        return np.zeros(0)
    sku_id = int(items.sku_ids[sku_index])
    back = session.execute(
        select(Forecast.period, Forecast.mean).where(
            Forecast.run_id == items.run.id, Forecast.sku_id == sku_id, Forecast.kind == "backtest"
        )
    ).all()
    if not back:
        return np.zeros(0)
    rows = session.execute(select(Demand.period, Demand.quantity).where(Demand.sku_id == sku_id)).all()
    actual: dict[int, float] = {}
    for i, q in zip(_period_index([r[0] for r in rows], origin, items.run.grain), (r[1] for r in rows), strict=True):
        actual[int(i)] = actual.get(int(i), 0.0) + float(q)
    idx = _period_index([b[0] for b in back], origin, items.run.grain)
    return np.array([actual.get(int(i), 0.0) - float(b[1]) for i, b in zip(idx, back, strict=True)])


@dataclass(frozen=True)
class DemandModel:
    """How the simulation draws demand per period."""

    kind: str  # "normal" | "errors" | "history"
    label: str
    samples: np.ndarray | None  # per-period demands to resample (None: normal)
    bias: float = float("nan")  # mean past forecast error / forecast (not simulated)


MIN_SAMPLES = 8


def normal_demand(*, demand_mean: float, sigma: float) -> DemandModel:
    """Normal(D, sigma) per period, truncated at 0: the safety-stock formula's assumption."""
    label = f"normal demand (mean {demand_mean:,.1f}, sigma {sigma:,.1f} per period"
    cut_mean = float(policy.expected_shortage(level=0.0, mean=demand_mean, std=sigma))  # E[max(X, 0)]
    if cut_mean > demand_mean * 1.02:
        label += f"; cut at 0, so the mean is {cut_mean:,.1f}"
    return DemandModel("normal", label + ")", None)


def empirical_demand(
    *, demand_mean: float, sigma: float, errors: np.ndarray, history: np.ndarray, demand_class: str = "smooth"
) -> DemandModel:
    """The SKU's own demand pattern with the forecast's mean, so the simulation tests the shape the formula assumes:

    - smooth / erratic demand with at least 8 backtest errors: the forecast plus the past errors centred on 0
      (their bias is reported, not simulated), resampled and clipped at 0;
    - intermittent / lumpy demand, or too few errors: the last two years of history rescaled to the forecast mean
      (zeros stay zeros), resampled;
    - normal as a last resort.

    ``bias`` on the result: mean past error / forecast (NaN when unknown).
    """
    bias = float(np.mean(errors)) / demand_mean if errors.size and demand_mean > 0 else float("nan")
    sporadic = demand_class in ("intermittent", "lumpy", "no_demand")
    if not sporadic and errors.size >= MIN_SAMPLES:
        samples = np.maximum(demand_mean + errors - np.mean(errors), 0.0)
        if np.count_nonzero(samples) >= 2:
            label = f"the forecast plus {errors.size} past forecast errors of this SKU (centred), resampled"
            return DemandModel("errors", label, samples, bias)
    recent = history[-104:]
    if recent.size >= MIN_SAMPLES and np.count_nonzero(recent) >= 2 and recent.mean() > 0:
        label = f"the last {recent.size} periods of this SKU's demand, rescaled to the forecast, resampled"
        return DemandModel("history", label, recent * (demand_mean / recent.mean()), bias)
    model = normal_demand(demand_mean=demand_mean, sigma=sigma)
    return DemandModel("normal", model.label + " (too little history for its own pattern)", None, bias)


@dataclass(frozen=True)
class PolicySimulation:
    """One policy's simulated outcome under one demand model."""

    key: str  # "formula_normal" | "formula" | "quantile"
    label: str
    demand: str
    level: float
    cycle_service_level: float
    cycle_service_level_ci: float
    fill_rate: float
    fill_rate_ci: float
    average_on_hand: float
    stockouts_per_year: list[float]  # per replication: periods with unmet demand per year
    paths: list[list[float]]  # net inventory at period ends (last two years), a few replications

    def achieved(self, measure: str) -> tuple[float, float]:
        if measure == "csl":
            return self.cycle_service_level, self.cycle_service_level_ci
        return self.fill_rate, self.fill_rate_ci


@dataclass(frozen=True)
class SimulationView:
    policy: str
    measure: str
    target: float
    target_csl: float
    periods: int
    years: float
    replications: int
    unit: str
    runs: list[PolicySimulation]
    verdict: str
    overpromises: bool
    forecast_bias: float = float("nan")  # mean past forecast error / forecast

    def run(self, key: str) -> PolicySimulation | None:
        return next((r for r in self.runs if r.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimulationView:
        return cls(**{**data, "runs": [PolicySimulation(**r) for r in data["runs"]]})


def _merge_runs(parts: list[montecarlo.SimulationResult]) -> montecarlo.SimulationResult:
    return montecarlo.SimulationResult(
        policy=parts[0].policy,
        cycle_service_level=np.concatenate([p.cycle_service_level for p in parts]),
        fill_rate=np.concatenate([p.fill_rate for p in parts]),
        average_on_hand=np.concatenate([p.average_on_hand for p in parts]),
        average_backorders=np.concatenate([p.average_backorders for p in parts]),
        stockout_periods=np.concatenate([p.stockout_periods for p in parts]),
        orders=np.concatenate([p.orders for p in parts]),
        cycles=np.concatenate([p.cycles for p in parts]),
        paths=parts[0].paths,
    )


def simulate(
    *,
    items: Items,
    result: RiskResult,
    errors: np.ndarray,
    history: np.ndarray,
    rng: np.random.Generator,
    replications: int = 300,
    years: float = 6.0,
    chunks: int = 3,
    progress: Callable[[float, str], None] | None = None,
    reference: bool = True,
    quantile: bool = True,
) -> SimulationView:
    """Simulate one SKU's policy at the page's settings and compare it with its target.

    Runs :func:`core.montecarlo.simulate_sq` (continuous review, approximated by checks every day of a period, up to
    7 per period) or :func:`core.montecarlo.simulate_rs`:

    1. the formula's level under normal demand (the formula's own assumption: what review timing and lead-time
       rounding cost);
    2. the formula's level under the SKU's own demand pattern (:func:`empirical_demand`);
    3. for a slow or lumpy SKU, the quantile level the engine would use (:func:`quantile_check`), same demand.

    Lead times are drawn Normal(L, sigma_L) truncated at 0. ``reference`` / ``quantile`` False leave out runs 1 / 3
    (run 1 stays when the SKU has too little history for its own pattern).
    """
    if items.n != 1:
        raise WhatIfError("The simulation runs for one SKU: pick a SKU first")
    inputs = result.inputs
    d = float(inputs.demand_mean[0])
    if d <= 0:
        raise WhatIfError("This SKU has no forecast demand: there is nothing to simulate")
    sigma = float(inputs.sigma[0])
    ppy = items.run.periods_per_year
    periods = int(np.clip(round(years * ppy), 104, 2000))
    steps = int(np.clip(round(items.run.days_per_period), 1, 7)) if inputs.policy == "sQ" else 1
    per_chunk = max(1, replications // chunks)
    own = empirical_demand(
        demand_mean=d, sigma=sigma, errors=errors, history=history, demand_class=str(items.demand_class[0])
    )
    normal = normal_demand(demand_mean=d, sigma=sigma)
    formula_level = float(result.levels.level[0])
    plans: list[tuple[str, str, float, DemandModel]] = []
    if reference or own.samples is None:
        plans.append(("formula_normal", "Formula, normal demand", formula_level, normal))
    if own.samples is not None:
        plans.append(("formula", "Formula, this SKU's demand", formula_level, own))
    check = result.quantile
    if quantile and check is not None and check.method != "normal" and abs(check.level - formula_level) >= 0.5:
        label = METHOD_LABELS.get(check.method, check.method).capitalize()
        plans.append(("quantile", f"{label}, this SKU's demand", check.level, own))
    total_jobs = len(plans) * chunks
    done = 0
    runs: list[PolicySimulation] = []
    warm = _warmup(periods, inputs)
    measured_years = max((periods - warm) / ppy, 1e-9)
    keep = min(periods, int(round(2 * ppy)))
    for key, label, level, model in plans:
        parts = []
        for c in range(chunks):
            kwargs: dict[str, Any] = {
                "rng": rng,
                "lead_time": float(inputs.lead_time[0]),
                "lead_time_std": float(inputs.lead_time_std[0]),
                "n_periods": periods,
                "n_replications": per_chunk,
                "warmup": warm,
                "n_paths": 4 if c == 0 else 0,
            }
            if model.samples is None:
                kwargs.update(demand_mean=d, demand_std=sigma)
            else:
                kwargs.update(demand_samples=model.samples)
            if inputs.policy == "sQ":
                part = montecarlo.simulate_sq(
                    reorder_point=level,
                    order_quantity=float(inputs.order_quantity[0]),
                    steps_per_period=steps,
                    **kwargs,
                )
            else:
                part = montecarlo.simulate_rs(order_up_to=level, review_period=inputs.review_period, **kwargs)
            parts.append(part)
            done += 1
            if progress is not None:
                progress(done / total_jobs, f"{label}: {done}/{total_jobs}")
        res = _merge_runs(parts)
        summary = res.summary()
        runs.append(
            PolicySimulation(
                key=key,
                label=label,
                demand=model.label,
                level=level,
                cycle_service_level=summary["cycle_service_level"],
                cycle_service_level_ci=summary["cycle_service_level_ci"],
                fill_rate=summary["fill_rate"],
                fill_rate_ci=summary["fill_rate_ci"],
                average_on_hand=summary["average_on_hand"],
                stockouts_per_year=(res.stockout_periods / measured_years).astype(float).tolist(),
                paths=[[float(x) for x in row[-keep:]] for row in res.paths["on_hand"]],
            )
        )
    view = SimulationView(
        policy=inputs.policy,
        measure=inputs.measure,
        target=inputs.target,
        target_csl=float(result.levels.cycle_service_level[0]),
        periods=periods,
        years=round(measured_years, 1),
        replications=per_chunk * chunks,
        unit=items.run.period_unit,
        runs=runs,
        verdict="",
        overpromises=False,
        forecast_bias=own.bias,
    )
    verdict, over = verdict_text(view, check)
    return replace(view, verdict=verdict, overpromises=over)


def _warmup(periods: int, inputs: PolicyInputs) -> int:
    lt_max = float(inputs.lead_time[0] + 6 * inputs.lead_time_std[0])
    r = inputs.review_period if inputs.policy == "RS" else 1
    return min(int(np.ceil(lt_max)) + 2 * r + 5, periods // 2)


BIAS_NOTE = 0.1
"""Mention the forecast's past bias in the verdict from this share of the forecast."""

METHOD_LABELS = {
    "normal": "normal formula",
    "poisson": "Poisson quantile",
    "negative_binomial": "negative-binomial quantile",
    "bootstrap": "bootstrapped quantile",
}


def verdict_text(view: SimulationView, check: QuantileCheck | None) -> tuple[str, bool]:
    """Plain-language reading of a simulation; True when the formula overpromises for this SKU's demand."""
    what = "cycle service" if view.measure == "csl" else "fill rate"
    target = view.target
    ref = view.run("formula_normal")
    own = view.run("formula")
    quant = view.run("quantile")
    main = own or ref
    assert main is not None
    got, ci = main.achieved(view.measure)
    ci = ci if math.isfinite(ci) else 0.0
    margin = max(0.01, 2 * ci)
    parts: list[str] = []
    over = False
    if not math.isfinite(got):
        parts.append(
            f"No replenishment cycle finished in {view.years:g} simulated years: demand is too rare to measure a "
            "service level."
        )
        return " ".join(parts), False
    ref_got = ref.achieved(view.measure)[0] if ref is not None else float("nan")
    if got < target - margin:
        over = True
        slow = check is not None and check.method != "normal"
        if slow or (own is not None and math.isfinite(ref_got) and ref_got >= got + margin):
            kind = "slow or lumpy SKU" if slow else "SKU's demand pattern"
            parts.append(
                f"The normal formula overpromises for this {kind}: it targets {target:.1%} {what} but the "
                f"simulation achieves {got:.1%} (±{ci:.1%})."
            )
        else:
            over = False
            parts.append(
                f"The policy falls short of its target: {got:.1%} {what} against {target:.1%} (±{ci:.1%}), even "
                "though demand behaves as the formula assumes. Orders are triggered at the first check below the "
                "reorder point (the position undershoots it) and lead times vary; a higher target or a shorter, "
                "steadier lead time closes the gap."
            )
    elif got > target + margin:
        parts.append(
            f"The policy over-delivers: {got:.1%} {what} against a {target:.1%} target, so it holds more stock "
            "than the target needs."
        )
    else:
        parts.append(f"The policy meets its target: {got:.1%} {what} against {target:.1%} (±{ci:.1%}).")
    if check is not None and check.method != "normal":
        reason = check.reason.rstrip(".")
        label = METHOD_LABELS.get(check.method, check.method)
        if quant is not None:
            q_got = quant.achieved(view.measure)[0]
            parts.append(
                f"{reason}. The {label} sets the level at {check.level:,.0f} instead of {check.normal_level:,.0f} "
                f"and achieves {q_got:.1%} {what} in the same simulation."
            )
        else:
            parts.append(f"{reason}. The {label} gives the same level ({check.level:,.0f}).")
    bias = view.forecast_bias
    if math.isfinite(bias) and abs(bias) >= BIAS_NOTE:
        direction = "below" if bias > 0 else "above"
        size = f"{abs(bias):.0%}" if abs(bias) <= 1 else "far"
        parts.append(
            f"Past forecasts ran {size} {direction} actual demand; the simulation leaves that bias out, "
            + ("so real service would be lower still." if bias > 0 else "so real service would be higher.")
        )
    return " ".join(parts), over


def top_skus(items: Items, count: int) -> list[int]:
    """Indices of the ``count`` SKUs with the largest annual demand value (demand > 0), largest first."""
    order = np.argsort(-items.weights, kind="stable")
    return [int(i) for i in order if items.demand_mean[i] > 0][: max(0, int(count))]


def sku_slice(items: Items, index: int) -> Items:
    """One SKU of a scope as a scope of its own."""
    changes: dict[str, Any] = {"scope": Scope("sku", items.codes[index])}
    for f in items.__dataclass_fields__:
        value = getattr(items, f)
        if isinstance(value, np.ndarray):
            changes[f] = value[index : index + 1]
        elif isinstance(value, list):
            changes[f] = [value[index]]
    return replace(items, **changes)


def _slice_arrays(obj: Any, index: int) -> Any:
    return replace(
        obj,
        **{
            f: getattr(obj, f)[index : index + 1]
            for f in obj.__dataclass_fields__
            if isinstance(getattr(obj, f), np.ndarray)
        },
    )


@dataclass(frozen=True)
class SegmentSimulationRow:
    code: str
    name: str
    abc: str
    demand_class: str
    level: float
    target: float  # the page's target (CSL or fill rate)
    achieved: float
    ci: float
    fill_rate: float
    cycle_service_level: float
    demand: str

    @property
    def gap(self) -> float:
        return self.achieved - self.target if math.isfinite(self.achieved) else float("nan")


@dataclass(frozen=True)
class SegmentSimulation:
    measure: str
    target: float
    policy: str
    rows: list[SegmentSimulationRow]
    skus_in_scope: int
    weighted_achieved: float  # weighted by annual demand value over the simulated SKUs
    years: float
    replications: int
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def simulate_segment(
    *,
    items: Items,
    result: RiskResult,
    demand_data: Mapping[int, tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    replications: int = 120,
    years: float = 4.0,
    progress: Callable[[float, str], None] | None = None,
) -> SegmentSimulation:
    """Simulate the page's policy for the segment's largest SKUs (``demand_data``: index -> (errors, history)),
    each under its own demand pattern (:func:`simulate`, formula level only), and summarise achieved vs target."""
    indices = list(demand_data)
    if not indices:
        raise WhatIfError("No SKU in this scope has forecast demand: there is nothing to simulate")
    rows: list[SegmentSimulationRow] = []
    weights: list[float] = []
    view: SimulationView | None = None
    for k, i in enumerate(indices):
        one = sku_slice(items, i)
        sub = replace(
            result, inputs=_slice_arrays(result.inputs, i), levels=_slice_arrays(result.levels, i), quantile=None, n=1
        )
        errors, history = demand_data[i]

        def step(fraction: float, _message: str, k: int = k, code: str = one.codes[0]) -> None:
            if progress is not None:
                progress((k + fraction) / len(indices), f"{code}: {k + 1} of {len(indices)} SKUs")

        view = simulate(
            items=one,
            result=sub,
            errors=errors,
            history=history,
            rng=rng,
            replications=replications,
            years=years,
            chunks=1,
            progress=step,
            reference=False,
            quantile=False,
        )
        run = view.runs[-1]
        achieved, ci = run.achieved(result.inputs.measure)
        rows.append(
            SegmentSimulationRow(
                code=one.codes[0],
                name=one.names[0],
                abc=str(one.abc[0]),
                demand_class=str(one.demand_class[0]),
                level=run.level,
                target=result.inputs.target,
                achieved=achieved,
                ci=ci,
                fill_rate=run.fill_rate,
                cycle_service_level=run.cycle_service_level,
                demand=run.demand,
            )
        )
        weights.append(float(items.weights[i]))
    ok = [r for r in rows if math.isfinite(r.achieved)]
    w = np.array([wt for r, wt in zip(rows, weights, strict=True) if math.isfinite(r.achieved)])
    weighted = _weighted_mean(np.array([r.achieved for r in ok]), w) if ok else float("nan")
    what = "cycle service" if result.inputs.measure == "csl" else "fill rate"
    short = [r for r in ok if r.gap < -max(0.01, 2 * (r.ci if math.isfinite(r.ci) else 0.0))]
    target = result.inputs.target
    parts = [
        f"The {len(rows)} largest SKUs achieve {weighted:.1%} {what} together (weighted by demand value) against "
        f"{target:.1%}."
    ]
    if short:
        worst = min(short, key=lambda r: r.gap)
        parts.append(
            f"{len(short)} of them fall short by more than the simulation's margin; the worst is {worst.code} "
            f"({worst.demand_class.replace('_', ' ')}, class {worst.abc}) at {worst.achieved:.1%}."
        )
        sporadic = [r for r in short if r.demand_class in ("intermittent", "lumpy")]
        if sporadic:
            parts.append(
                f"{len(sporadic)} of those have intermittent or lumpy demand, where the normal formula overpromises; "
                "open one of them to see what the quantile method gives."
            )
    else:
        parts.append("None falls short by more than the simulation's margin.")
    assert view is not None
    return SegmentSimulation(
        measure=result.inputs.measure,
        target=target,
        policy=result.inputs.policy,
        rows=rows,
        skus_in_scope=items.n,
        weighted_achieved=weighted,
        years=view.years,
        replications=view.replications,
        verdict=" ".join(parts),
    )


# --------------------------------------------------------------------------------------------------------------------
# apply as policy


@dataclass(frozen=True)
class ApplyResult:
    codes: list[str]
    service_levels: list[float]
    lead_times_changed: bool
    learned_lead_times: int  # SKUs whose lead time the engine learns from receipts (the master value is not used)
    message: str


def apply_policy(*, session: Session, items: Items, controls: RiskControls, user: str | None) -> ApplyResult:
    """Write the page's service level (as each SKU's cycle service level; a fill-rate target is stored as the CSL
    that gives the same safety stock; a cycle service level left at the value shown keeps every SKU's own target)
    and, where changed, lead time mean / spread to the SKU master of every SKU in the scope; audit-logged. The
    caller commits and then recomputes.

    Demand variability, order quantity and review policy are what-if inputs only: the recompute re-estimates
    variability, derives the lot from the EOQ and reviews every period.
    """
    inputs = policy_inputs(items, controls)
    shown = (controls.baseline or {}).get("target_pct")  # the target left as shown: every SKU keeps its own
    own = inputs.measure == "csl" and shown is not None and math.isclose(inputs.target * 100, float(shown))
    lv = policy_levels(inputs, target=items.service_level if own else None)
    csl = np.where(
        inputs.demand_mean > 0, _clip_csl(lv.cycle_service_level), items.service_level if own else inputs.target
    )
    csl = np.clip(csl, 0.001, 0.999)
    days = items.run.days_per_period
    change_lt = inputs.changed.get("lead_time_days", False)
    change_sd = inputs.changed.get("lead_time_std_days", False)
    skus = {s.id: s for s in session.scalars(select(Sku).where(Sku.id.in_([int(i) for i in items.sku_ids])))}
    for i, sku_id in enumerate(items.sku_ids):
        sku = skus.get(int(sku_id))
        if sku is None:
            continue
        sku.service_level_target = float(round(csl[i], 6))
        if change_lt:
            sku.lead_time_mean = float(round(inputs.lead_time[i] * days, 4))
        if change_sd:
            sku.lead_time_std = float(round(inputs.lead_time_std[i] * days, 4))
    learned = sum(1 for s in items.lead_time_source if s == "receipts") if (change_lt or change_sd) else 0
    measure = "cycle service level" if inputs.measure == "csl" else "fill rate"
    details = {
        "scope": items.scope.key,
        "skus": items.n,
        "measure": inputs.measure,
        "target": inputs.target,
        "policy": inputs.policy,
        "lead_time_changed": change_lt,
        "lead_time_std_changed": change_sd,
        "codes": items.codes[:50],
    }
    if items.n == 1:
        details.update(
            service_level_target=float(csl[0]),
            lead_time_days=float(inputs.lead_time[0] * days),
            lead_time_std_days=float(inputs.lead_time_std[0] * days),
        )
    audit.record(session=session, action="policy.apply", user_email=user, target=items.scope.key[:255], details=details)
    parts = [f"{inputs.target:.1%} {measure} written to {items.n:,} SKU{'s' if items.n != 1 else ''}"]
    if change_lt or change_sd:
        parts.append("with the new lead times")
    msg = " ".join(parts) + "."
    if learned:
        msg += (
            f" {learned:,} of them use lead times learned from receipts; the engine keeps those, "
            "the master value applies when receipts are too few."
        )
    return ApplyResult(
        codes=list(items.codes),
        service_levels=[float(x) for x in csl],
        lead_times_changed=change_lt or change_sd,
        learned_lead_times=learned,
        message=msg,
    )


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
    bases = _profit_bases(items)
    values: dict[str, np.ndarray] = {}
    for name in ("price", "unit_cost", "salvage_value", "holding_pct", "penalty", "demand_mean", "demand_std"):
        spec = PROFIT_FIELDS[name]
        entered = _number(spec.label, getattr(controls, name))
        values[name] = adjust(
            base=bases[name], entered=entered, shown=base.get(name), how=spec.aggregate, label=spec.label
        )
    spec = PROFIT_FIELDS["order_cost"]
    values["order_cost"] = adjust(
        base=bases["order_cost"],
        entered=_number(spec.label, controls.order_cost),
        shown=base.get("order_cost"),
        how="mean",
        label=spec.label,
    )
    if items.n == 1:
        moq = _number("MOQ", controls.moq)
        mult = _number("Order multiple", controls.order_multiple)
        if moq < 0:
            raise WhatIfError(f"MOQ cannot be negative (got {moq:g})")
        if mult <= 0:
            raise WhatIfError(f"Order multiple must be above 0 (got {mult:g})")
        values["moq"], values["order_multiple"] = np.array([moq]), np.array([mult])
    else:
        values["moq"], values["order_multiple"] = items.moq, items.order_multiple
    season = _number("Selling season", controls.season_periods)
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


def _grid_profit(
    econ: Economics, quantities: np.ndarray, demand_mean: np.ndarray, demand_std: np.ndarray
) -> np.ndarray:
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
        prof = _grid_profit(econ, qs, mu[:, None], econ.season_std[:, None])
        lost = np.asarray(policy.expected_shortage(level=qs, mean=mu[:, None], std=econ.season_std[:, None]))
        left = qs - mu[:, None] + lost
        cq, cp = qs.sum(axis=0).tolist(), prof.sum(axis=0).tolist()
        cl, cs = left.sum(axis=0).tolist(), lost.sum(axis=0).tolist()
    total_mu = float(mu.sum())
    sales = float(np.sum(mu - opt["lost"]))
    return NewsvendorView(
        n=items.n,
        underage_cost=_weighted_mean(opt["cu"], w),
        overage_cost=_weighted_mean(opt["co"], w),
        critical_ratio=_weighted_mean(opt["ratio"], w),
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
        rows.append(_grid_profit(econ, qs, dem[:, None], np.zeros((econ.season_mean.size, 1))).sum(axis=0).tolist())
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


# --------------------------------------------------------------------------------------------------------------------
# scenarios

SCENARIO_RESULT_FIELDS: dict[str, str] = {
    "underage_cost": "Underage cost Cu",
    "overage_cost": "Overage cost Co",
    "critical_ratio": "Critical ratio",
    "quantity": "Optimal order quantity",
    "expected_profit": "Expected profit",
    "expected_leftover": "Expected leftover",
    "expected_lost_sales": "Expected lost sales",
    "fill_rate": "Expected fill rate",
    "order_value": "Order value at cost",
    "eoq": "EOQ",
    "feasible_lot": "Feasible lot (MOQ / multiple)",
    "eoq_cost": "Ordering + holding cost at EOQ / year",
    "feasible_cost": "Ordering + holding cost at feasible lot / year",
}


def scenario_results(nv: NewsvendorView, eq: EoqView) -> dict[str, float]:
    """The figures a scenario stores (JSON-safe floats)."""
    out = {
        "underage_cost": nv.underage_cost,
        "overage_cost": nv.overage_cost,
        "critical_ratio": nv.critical_ratio,
        "quantity": nv.quantity,
        "expected_profit": nv.expected_profit,
        "expected_leftover": nv.expected_leftover,
        "expected_lost_sales": nv.expected_lost_sales,
        "fill_rate": nv.fill_rate,
        "order_value": nv.order_value,
        "eoq": eq.eoq,
        "feasible_lot": eq.feasible,
        "eoq_cost": eq.cost_at_eoq,
        "feasible_cost": eq.cost_at_feasible,
    }
    return {k: (float(v) if v is not None and math.isfinite(float(v)) else None) for k, v in out.items()}


@dataclass(frozen=True)
class ScenarioRow:
    id: int
    name: str
    scope: str
    user_email: str | None
    created_at: dt.datetime
    inputs: dict[str, Any]
    results: dict[str, Any]


def _row(s: Scenario) -> ScenarioRow:
    return ScenarioRow(
        id=s.id,
        name=s.name,
        scope=s.sku_code or "portfolio",
        user_email=s.user_email,
        created_at=s.created_at,
        inputs=dict(s.inputs or {}),
        results=dict(s.results or {}),
    )


def save_scenario(
    *,
    session: Session,
    name: str,
    scope: Scope,
    inputs: Mapping[str, Any],
    results: Mapping[str, Any],
    user: str | None,
) -> ScenarioRow:
    """Store a named scenario (inputs and results); names are unique. Audit-logged; the caller commits."""
    clean = " ".join((name or "").split())
    if not clean:
        raise WhatIfError("Give the scenario a name")
    if len(clean) > SCENARIO_NAME_MAX:
        raise WhatIfError(f"Scenario names are at most {SCENARIO_NAME_MAX} characters")
    if session.scalar(select(Scenario.id).where(func.lower(Scenario.name) == clean.lower())) is not None:
        raise WhatIfError(f"A scenario named \u201c{clean}\u201d exists already: choose another name")
    row = Scenario(
        name=clean,
        sku_code=scope.key[:64],
        inputs={k: v for k, v in inputs.items()},
        results={k: v for k, v in results.items()},
        user_email=user,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session, action="scenario.save", user_email=user, target=clean[:255], details={"scope": scope.key}
    )
    return _row(row)


def list_scenarios(*, session: Session, limit: int = 200) -> list[ScenarioRow]:
    """Saved scenarios, newest first."""
    return [_row(s) for s in session.scalars(select(Scenario).order_by(Scenario.id.desc()).limit(limit))]


def get_scenario(*, session: Session, scenario_id: int) -> ScenarioRow | None:
    s = session.get(Scenario, int(scenario_id))
    return _row(s) if s else None


def delete_scenario(*, session: Session, scenario_id: int, user: str | None) -> bool:
    """Delete a scenario (audit-logged; the caller commits). False when it did not exist."""
    s = session.get(Scenario, int(scenario_id))
    if s is None:
        return False
    audit.record(session=session, action="scenario.delete", user_email=user, target=s.name[:255])
    session.delete(s)
    return True


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    kind: str  # "input" | "result"
    key: str
    a: Any
    b: Any
    difference: float | None


INPUT_LABELS = {f.name: f.label for f in PROFIT_FIELDS.values()}


def compare_scenarios(a: ScenarioRow, b: ScenarioRow) -> list[ComparisonRow]:
    """Inputs and results of two scenarios side by side, with B - A where both are numbers."""
    rows: list[ComparisonRow] = []
    keys_in = [k for k in PROFIT_FIELDS if k in a.inputs or k in b.inputs]
    for kind, keys, labels, src_a, src_b in (
        ("input", keys_in, INPUT_LABELS, a.inputs, b.inputs),
        ("result", list(SCENARIO_RESULT_FIELDS), SCENARIO_RESULT_FIELDS, a.results, b.results),
    ):
        for key in keys:
            va, vb = src_a.get(key), src_b.get(key)
            diff = None
            if isinstance(va, int | float) and isinstance(vb, int | float):
                diff = float(vb) - float(va)
            rows.append(ComparisonRow(label=labels.get(key, key), kind=kind, key=key, a=va, b=vb, difference=diff))
    return rows
