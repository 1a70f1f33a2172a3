"""Multi-location items for the demo portfolio (issue 21), so the Orders page's Transfers tab has proposals on first
start.

Three household / personal-care items stocked at both demo locations, appended after the generated SKUs (the other
SKUs, their demand and stock stay exactly as :func:`services.demo.generate` made them):

- **Dish soap 1 l**: Berlin DC holds 40 weeks of demand, Rotterdam DC half a week -> a transfer Berlin -> Rotterdam.
- **Shampoo 500 ml**: the other way round -> a transfer Rotterdam -> Berlin.
- **Laundry pods XL**: six weeks at each location -> nothing to move (the SKU page still lists the other location).

Two lanes join the locations (2 days, 0.15 / 0.18 a unit, 12 units minimum). Every generated SKU stocks its own
item (``item`` = its code). Deterministic: no random draws.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

LOCATIONS = ("Berlin DC", "Rotterdam DC")
# item: name, category, supplier, unit cost, price, weekly demand and weeks of stock per location (Berlin, Rotterdam)
ITEMS: dict[str, dict[str, Any]] = {
    "DISH-SOAP-1L": {
        "code": "LOC-DISH",
        "name": "Dish soap 1 l",
        "category": "Household",
        "supplier": "CleanHome BV",
        "cost": 1.6,
        "price": 2.9,
        "weekly": (60.0, 45.0),
        "cover_weeks": (40.0, 0.5),
    },
    "SHAMPOO-500ML": {
        "code": "LOC-SHAM",
        "name": "Shampoo 500 ml",
        "category": "Personal care",
        "supplier": "Lumière SAS",
        "cost": 2.4,
        "price": 4.5,
        "weekly": (50.0, 35.0),
        "cover_weeks": (0.5, 40.0),
    },
    "LAUNDRY-PODS-XL": {
        "code": "LOC-PODS",
        "name": "Laundry pods XL",
        "category": "Household",
        "supplier": "CleanHome BV",
        "cost": 4.2,
        "price": 7.5,
        "weekly": (30.0, 30.0),
        "cover_weeks": (6.0, 6.0),
    },
}
SUFFIX = {"Berlin DC": "BER", "Rotterdam DC": "RTM"}
LANES = pd.DataFrame(
    {
        "from_location": ["Berlin DC", "Rotterdam DC"],
        "to_location": ["Rotterdam DC", "Berlin DC"],
        "lead_time_days": [2.0, 2.0],
        "cost_per_unit": [0.15, 0.18],
        "min_qty": [12.0, 12.0],
    }
)


def _series(weekly: float, periods: int, offset: int) -> np.ndarray:
    """A mildly seasonal weekly series with a fixed wiggle (no random draw)."""
    t = np.arange(periods)
    season = 1.0 + 0.12 * np.sin(2 * np.pi * (t + offset) / 52.0)
    wiggle = ((t * 7 + offset) % 5 - 2) * 0.04
    return np.round(weekly * (season + wiggle))


def extend(portfolio: Any, *, end: dt.date | None = None) -> Any:
    """``portfolio`` (services.demo.DemoPortfolio) with ``item`` on every SKU, the multi-location SKUs appended
    (demand and stock too) and ``lanes``; the generated rows are unchanged."""
    skus = portfolio.skus.copy()
    skus["item"] = skus["code"]
    periods = portfolio.periods
    end = end or periods[-1].date()
    as_of = portfolio.stock["as_of"].iloc[0] if len(portfolio.stock) else end + dt.timedelta(days=6)
    new_skus, demand, stock = [], [], []
    row = len(skus)
    for offset, (item, spec) in enumerate(ITEMS.items()):
        for i, location in enumerate(LOCATIONS):
            quantity = _series(spec["weekly"][i], len(periods), offset * 11 + i * 3)
            new_skus.append(
                {
                    "code": f"{spec['code']}-{SUFFIX[location]}",
                    "name": spec["name"],
                    "category": spec["category"],
                    "location": location,
                    "unit_cost": spec["cost"],
                    "unit_price": spec["price"],
                    "salvage_value": round(spec["cost"] * 0.3, 2),
                    "holding_cost_rate": 0.22,
                    "order_cost": 60.0,
                    "lead_time_mean": 21.0,
                    "lead_time_std": 3.0,
                    "moq": 0.0,
                    "order_multiple": 6.0,
                    "service_level_target": 0.95,
                    "supplier": spec["supplier"],
                    "active": True,
                    "one_shot": False,
                    "resource": None,
                    "capacity_per_unit": 1.0,
                    "item": item,
                }
            )
            demand.append(pd.DataFrame({"sku": row, "period": periods.date, "quantity": quantity}))
            on_hand = float(np.floor(quantity[-8:].mean() * spec["cover_weeks"][i]))
            stock.append({"sku": row, "as_of": as_of, "on_hand": on_hand, "on_order": 0.0})
            row += 1
    added = pd.DataFrame(new_skus)[list(skus.columns)]
    portfolio.skus = pd.concat([skus, added], ignore_index=True)
    portfolio.demand = pd.concat([portfolio.demand, *demand], ignore_index=True)
    portfolio.stock = pd.concat([portfolio.stock, pd.DataFrame(stock)], ignore_index=True)
    portfolio.lanes = LANES.copy()
    portfolio.patterns["multi_location"] = np.arange(len(skus), row)
    return portfolio
