"""Portfolio KPIs from per-SKU figures. Pure functions over numpy arrays / a snapshot DataFrame.

Definitions (value = money at unit cost; "active" = forecast demand > 0):

- fill_rate: expected share of demand met from stock under the current policy, per SKU
  beta = 1 - n(s) / Q with n(s) = sigma_LTD G((s - mu_LTD) / sigma_LTD) (:func:`core.policy.expected_fill_rate`),
  averaged over active SKUs weighted by annual demand value.
- stockout_rate: share of active SKUs with nothing on hand (on_hand <= 0).
- inventory_value: sum of on_hand x unit_cost.
- turns: annual cost of goods (sum annual_demand x unit_cost) / inventory value.
- days_of_supply: inventory value / daily cost of goods (365 / turns).
- excess_value: sum of excess value (stock above the policy's maximum, at cost).
- value_at_risk: sum of per-SKU value at risk (see :func:`value_at_risk`).
- wape, bias: demand-value-weighted means of the per-SKU backtest WAPE and bias (a value-weighted WAPE);
  mase: value-weighted mean of per-SKU MASE (scale-free, so a plain weighted mean). NaNs are left out.

Sources: Silver, Pyke & Thomas (2017) ch. 2 and 6; Hyndman & Koehler (2006) for MASE.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.health import STATUSES
from core.policy import expected_shortage

DAYS_PER_YEAR = 365.25


def _a(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def weighted_mean(*, values: Any, weights: Any) -> float:
    """Weighted mean ignoring NaN values and non-positive weights (NaN if nothing is left)."""
    v, w = np.broadcast_arrays(_a(values), _a(weights))
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
    if not ok.any():
        return float("nan")
    return float(np.sum(v[ok] * w[ok]) / np.sum(w[ok]))


def excess_units(*, on_hand: Any, on_order: Any, max_stock: Any) -> np.ndarray:
    """Units on hand above the policy's maximum position: min(on_hand, max(on_hand + on_order - max_stock, 0))."""
    oh = np.maximum(_a(on_hand), 0.0)
    pos = oh + np.maximum(_a(on_order), 0.0)
    return np.minimum(oh, np.maximum(pos - np.maximum(_a(max_stock), 0.0), 0.0))


def value_at_risk(
    *,
    status: Any,
    inventory_position: Any,
    lead_time_demand_mean: Any,
    lead_time_demand_std: Any,
    unit_price: Any,
    unit_cost: Any,
    excess_value: Any,
    on_hand_value: Any,
) -> np.ndarray:
    """Money at risk per SKU.

    stockout_risk: expected lost margin over the lead time, E[(LTD - position)+] x max(price - cost, 0)
    (normal lead-time demand; price missing -> 0); overstock: excess value at cost; dead_stock: the whole on-hand
    value at cost; other statuses: 0.
    """
    st = np.asarray(status, dtype=object)
    short = _a(
        expected_shortage(level=inventory_position, mean=lead_time_demand_mean, std=np.nan_to_num(lead_time_demand_std))
    )
    margin = np.nan_to_num(np.maximum(_a(unit_price) - _a(unit_cost), 0.0), nan=0.0)
    out = np.where(st == "stockout_risk", short * margin, 0.0)
    out = np.where(st == "overstock", _a(excess_value), out)
    out = np.where(st == "dead_stock", _a(on_hand_value), out)
    return np.nan_to_num(out, nan=0.0)


def portfolio_kpis(
    *,
    snapshot: pd.DataFrame,
    unit_cost: Any,
    expected_fill_rate: Any,
) -> dict[str, float]:
    """Portfolio KPIs from a snapshot (columns per docs/engine-contract.md) and per-row unit cost / fill rate.

    Returns the keys fill_rate, stockout_rate, inventory_value, turns, days_of_supply, excess_value,
    value_at_risk, wape, mase, bias, sku_count and count_<status> for every status (definitions: module docstring).
    """
    n = len(snapshot)
    cost = np.broadcast_to(_a(unit_cost), (n,))
    fr = np.broadcast_to(_a(expected_fill_rate), (n,))
    demand = snapshot["forecast_per_period"].to_numpy(dtype=float)
    annual = snapshot["annual_demand"].to_numpy(dtype=float)
    on_hand = snapshot["on_hand"].to_numpy(dtype=float)
    active = np.nan_to_num(demand) > 0
    annual_value = np.nan_to_num(annual * cost)
    weights = np.where(np.nansum(annual_value) > 0, annual_value, np.nan_to_num(annual))
    inv_value = float(np.nansum(snapshot["inventory_value"].to_numpy(dtype=float)))
    cogs = float(np.nansum(annual_value))
    out: dict[str, float] = {
        "fill_rate": weighted_mean(values=np.where(active, fr, np.nan), weights=weights),
        "stockout_rate": float(np.mean(on_hand[active] <= 0)) if active.any() else float("nan"),
        "inventory_value": inv_value,
        "turns": cogs / inv_value if inv_value > 0 else float("nan"),
        "days_of_supply": inv_value / (cogs / DAYS_PER_YEAR) if cogs > 0 else float("nan"),
        "excess_value": float(np.nansum(snapshot["excess_value"].to_numpy(dtype=float))),
        "value_at_risk": float(np.nansum(snapshot["value_at_risk"].to_numpy(dtype=float))),
        "wape": weighted_mean(values=snapshot["wape"].to_numpy(dtype=float), weights=weights),
        "mase": weighted_mean(values=snapshot["mase"].to_numpy(dtype=float), weights=weights),
        "bias": weighted_mean(values=snapshot["bias"].to_numpy(dtype=float), weights=weights),
        "sku_count": float(n),
    }
    counts = snapshot["status"].value_counts()
    for s in STATUSES:
        out[f"count_{s}"] = float(counts.get(s, 0))
    return out


def inventory_turns(*, annual_demand: Any, unit_cost: Any, inventory_value: Any) -> np.ndarray | float:
    """Inventory turns = annual cost of goods (annual_demand x unit_cost) / inventory value (NaN if no stock)."""
    cogs = _a(annual_demand) * _a(unit_cost)
    inv = _a(inventory_value)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(inv > 0, cogs / np.where(inv > 0, inv, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def days_of_supply(*, on_hand: Any, demand_per_period: Any, days_per_period: float) -> np.ndarray | float:
    """Days of supply = on_hand / (demand per period / days per period) (NaN without demand)."""
    d = _a(demand_per_period) / float(days_per_period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(d > 0, _a(on_hand) / np.where(d > 0, d, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def stockout_rate(*, on_hand: Any, demand_per_period: Any) -> float:
    """Share of active SKUs (demand > 0) with nothing on hand (NaN if no SKU is active)."""
    d = np.nan_to_num(_a(demand_per_period)) > 0
    oh = np.broadcast_to(_a(on_hand), d.shape)
    return float(np.mean(oh[d] <= 0)) if d.any() else float("nan")
