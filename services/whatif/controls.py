"""What-if control values: the aggregate a segment control shows for a scope, and an entered value applied to every
SKU of the scope (scaled by new / aggregate, or set where the aggregate is 0)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.whatif.scope import DEFAULT_REVIEW_PERIOD, DEFAULT_SEASON_PERIODS, Items, WhatIfError

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


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    if w.sum() <= 0:
        return float(np.mean(values)) if values.size else float("nan")
    return float(np.sum(values * w) / w.sum())


def _aggregate(base: np.ndarray, how: str) -> float:
    return float(np.sum(base)) if how == "sum" else float(np.mean(base))


def _shown(value: float, decimals: int) -> float:
    return round(float(value), decimals) if math.isfinite(value) else 0.0


def risk_bases(items: Items) -> dict[str, np.ndarray]:
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
    out["target_pct"] = _shown(100 * weighted_mean(items.service_level, items.weights), 1)
    for name, base in risk_bases(items).items():
        spec = RISK_FIELDS[name]
        out[name] = _shown(_aggregate(base, spec.aggregate), spec.decimals)
    return out


def profit_bases(items: Items) -> dict[str, np.ndarray]:
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
    for name, base in profit_bases(items).items():
        spec = PROFIT_FIELDS[name]
        if spec.aggregate == "sku":
            out[name] = _shown(float(base[0]), spec.decimals) if items.n == 1 else None
        else:
            out[name] = _shown(_aggregate(base, spec.aggregate), spec.decimals)
    return out


def number_text(value: Any) -> Any:
    """A number as typed in a formatted input ("8,696.3", "$223,427", "97.5 %") without its thousands separators,
    currency sign, percent sign and spaces; anything else unchanged."""
    if not isinstance(value, str):
        return value
    return value.replace(",", "").replace("$", "").replace("%", "").replace("\u00a0", "").replace(" ", "").strip()


def parse_number(label: str, value: Any) -> float:
    value = number_text(value)
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
