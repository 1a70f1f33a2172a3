"""Resources and capacities for the demo portfolio, with a pre-season crunch so the Supply page has a story.

- **Bottling line** (Beverages) and **Snack line** (Snacks): production lines sized at 115 % / 120 % of last year's
  mean monthly load, with 15 % overtime; the bottling line stops for maintenance in the 5th month (55 % capacity).
- **GreenLeaf supply** (Garden & seasonal): a tight supplier -- 30 % of last year's mean monthly demand (the SKUs
  hold months of stock) with 8 % overtime -- whose factory closes in February and restarts at 40 % in March, just
  before garden demand peaks in April to June at up to twice the mean. Its SKUs hold most of a year's stock, so a
  chase plan draws that stock down through the closure; a level plan builds ahead in the winter; the optimal plan
  spends least. The bottling line's maintenance month makes a chase plan run overtime.
- Household, personal care and spare parts stay unconstrained (bought in, no capacity file).

One capacity unit = one unit of product (``capacity_per_unit`` 1). Monthly periods from the month of the demo's last
week for 19 months (an 18-month plan and its partial first month). Deterministic: no random draws.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

RESOURCES: dict[str, dict[str, object]] = {
    # name: category, capacity as a share of mean monthly load, overtime share, regular / overtime cost per unit
    "Bottling line": {"category": "Beverages", "share": 1.15, "overtime": 0.15, "costs": (0.05, 0.12)},
    "Snack line": {"category": "Snacks", "share": 1.20, "overtime": 0.15, "costs": (0.06, 0.15)},
    "GreenLeaf supply": {"category": "Garden & seasonal", "share": 0.30, "overtime": 0.08, "costs": (0.50, 1.40)},
}
MONTHS = 19
MAINTENANCE = ("Bottling line", 4, 0.55)  # resource, month offset from the first plan month, capacity share
PRE_SEASON = {2: 0.0, 3: 0.4}  # month -> share: the supplier closes in February and restarts at 40 % in March


def attach(portfolio: Any, *, end: dt.date) -> Any:
    """The demo portfolio (services.demo.DemoPortfolio) with its SKUs' resources and the capacity rows."""
    portfolio.skus = assign(portfolio.skus)
    portfolio.capacities = capacities(portfolio.skus, portfolio.demand, end)
    return portfolio


def assign(skus: pd.DataFrame) -> pd.DataFrame:
    """``skus`` with ``resource`` (None for the unconstrained categories) and ``capacity_per_unit`` (1)."""
    by_category = {str(spec["category"]): name for name, spec in RESOURCES.items()}
    out = skus.copy()
    out["resource"] = [by_category.get(c) for c in out["category"]]
    out["capacity_per_unit"] = 1.0
    return out


def capacities(skus: pd.DataFrame, demand: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """Monthly capacity rows (resource, period, capacity, overtime_capacity, overtime_cost, regular_cost).

    ``demand`` holds the demo's ``sku`` (row in ``skus``), ``period`` and ``quantity``; the load of a calendar month
    of the next year is last year's demand of that month.
    """
    frame = demand.assign(resource=skus["resource"].to_numpy()[demand["sku"].to_numpy()])
    frame = frame[frame["resource"].notna()]
    periods = pd.to_datetime(frame["period"])
    frame = frame[periods > pd.Timestamp(end) - pd.Timedelta(days=364)].assign(
        month=pd.to_datetime(frame["period"]).dt.month
    )
    load = frame.groupby(["resource", "month"])["quantity"].sum()
    first = dt.date(end.year, end.month, 1)
    rows = []
    for name, spec in RESOURCES.items():
        mean = float(load.loc[name].mean()) if name in load.index.get_level_values(0) else 0.0
        if mean <= 0:
            continue
        regular_cost, overtime_cost = spec["costs"]  # type: ignore[misc]
        for k in range(MONTHS):
            day = (pd.Timestamp(first) + pd.DateOffset(months=k)).date()
            share = float(spec["share"])  # type: ignore[arg-type]
            if (name, k) == MAINTENANCE[:2] or (name == MAINTENANCE[0] and k == MAINTENANCE[1] + 12):
                share *= MAINTENANCE[2]
            overtime = round(mean * float(spec["overtime"]))  # type: ignore[arg-type]
            if name == "GreenLeaf supply" and day.month in PRE_SEASON:
                share *= PRE_SEASON[day.month]
                overtime = overtime if PRE_SEASON[day.month] > 0 else 0
            rows.append(
                {
                    "resource": name,
                    "period": day,
                    "capacity": float(round(mean * share)),
                    "overtime_capacity": float(overtime),
                    "overtime_cost": float(overtime_cost),
                    "regular_cost": float(regular_cost),
                }
            )
    return pd.DataFrame(
        rows, columns=["resource", "period", "capacity", "overtime_capacity", "overtime_cost", "regular_cost"]
    )
