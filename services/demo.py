"""A deterministic, realistic synthetic portfolio for demos and benchmarks.

Weekly demand for ``periods`` weeks ending with the last complete week, several categories and two locations:
trends, yearly seasonality, promotions, intermittent spare-part-like SKUs, a few SKUs surging now and a few dying,
stock positions (some about to stock out, some overstocked), unit costs and prices, lead times with variability,
MOQs, order multiples and past receipts; a handful of seasonal products (pools, snow shovels, fairy lights) are
one-shot buys ordered with the newsvendor quantity; two production lines and a supplier with a pre-season crunch
(services.demo_resources). Everything is vectorised so 10,000 SKUs take seconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db import bulk
from db.models import Demand, Lane, Receipt, Resource, ResourceCapacity, Sku, StockPosition, Transfer, utcnow
from services import demo_locations, demo_resources

CATEGORIES = {
    # name: (share, base level range, seasonality amplitude, unit cost range, suppliers, lead time days range)
    "Beverages": (0.22, (40, 400), 0.25, (0.4, 3.0), ("AquaPure GmbH", "Nordic Drinks AB"), (7, 21)),
    "Snacks": (0.20, (30, 300), 0.10, (0.5, 4.0), ("Crunch & Co", "Baltic Foods"), (7, 28)),
    "Household": (0.16, (10, 120), 0.05, (1.5, 12.0), ("CleanHome BV",), (14, 35)),
    "Personal care": (0.14, (10, 150), 0.05, (1.0, 15.0), ("Lumière SAS", "CleanHome BV"), (14, 42)),
    "Garden & seasonal": (0.10, (5, 120), 0.80, (3.0, 40.0), ("GreenLeaf Ltd",), (28, 70)),
    "Spare parts": (0.18, (0.2, 3), 0.0, (8.0, 400.0), ("Precision Parts Inc", "Kansai Kogyo 関西工業"), (21, 84)),
}
LOCATIONS = ("Berlin DC", "Rotterdam DC")
WORDS = {
    "Beverages": ["Sparkling water", "Cola", "Orange juice", "Iced tea", "Energy drink", "Lemonade", "Cold brew"],
    "Snacks": ["Sea salt crisps", "Pretzels", "Trail mix", "Granola bar", "Dark chocolate", "Rice crackers"],
    "Household": ["Dish soap", "Laundry pods", "Paper towels", "Glass cleaner", "Bin bags", "Sponges"],
    "Personal care": ["Shampoo", "Toothpaste", "Hand cream", "Shower gel", "Deodorant", "Sunscreen"],
    "Garden & seasonal": ["Garden hose", "Plant food", "BBQ charcoal", "Paddling pool", "Snow shovel", "Fairy lights"],
    "Spare parts": ["Bearing", "Drive belt", "Hydraulic seal", "Pump impeller", "Relay", "Filter cartridge"],
}
ONE_SHOT_WORDS = ("Paddling pool", "Snow shovel", "Fairy lights")
"""Seasonal products bought once per season (newsvendor orders, not replenished): the demo flags a handful of them
``one_shot``."""
SIZES = ["250 ml", "500 ml", "1 l", "1.5 l", "6-pack", "Family size", "XL", "Mini", "Type A", "Type B", "Mk II"]


@dataclass
class DemoPortfolio:
    """The generated tables as DataFrames (not yet stored)."""

    skus: pd.DataFrame
    demand: pd.DataFrame  # sku index (row in skus), period, quantity
    stock: pd.DataFrame
    receipts: pd.DataFrame
    periods: pd.DatetimeIndex
    patterns: dict[str, np.ndarray] = field(default_factory=dict)  # pattern name -> sku row indices
    capacities: pd.DataFrame = field(default_factory=pd.DataFrame)  # resource capacities (services.demo_resources)
    lanes: pd.DataFrame = field(default_factory=pd.DataFrame)  # lanes between locations (services.demo_locations)


def last_complete_week(today: dt.date | None = None) -> dt.date:
    """Monday of the last complete week before ``today``."""
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday() + 7)


def _stock_positions(
    *,
    rng: np.random.Generator,
    quantity: np.ndarray,
    lead_time: np.ndarray,
    regular: np.ndarray,
    patterns: dict[str, np.ndarray],
    end: dt.date,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The demo's stock positions (one per SKU, dated the day after the last period ends) and each SKU's recent
    demand rate; adds the ``short`` and ``overstocked`` patterns. Draws from ``rng`` in a fixed order, so the same
    seed gives the same stock."""
    skus, periods = quantity.shape
    rows = np.arange(skus)
    # Stock: cover in weeks of recent demand; some short (below lead time), some far too long.
    # Stock as a planner would hold it: lead-time demand (at the rate ahead, seasonal SKUs included) plus a buffer
    # for the spread of weekly demand, plus part of an order cycle; then a few SKUs short and a few overstocked.
    recent_rate = np.maximum(quantity[:, -8:].mean(axis=1), quantity.mean(axis=1) * 0.2)
    season_ahead = quantity[:, -52:-39].mean(axis=1) if periods >= 52 else recent_rate
    rate = np.maximum(recent_rate, season_ahead)
    weekly_std = quantity[:, -52:].std(axis=1)
    lead_weeks = lead_time / 7.0
    buffer_weeks = 2.5 * weekly_std * np.sqrt(lead_weeks + 1) / np.maximum(rate, 1e-9)
    cover = lead_weeks + 1.0 + buffer_weeks + rng.uniform(0.5, 6.0, skus)
    n_short = max(1, skus // 20)
    short = rng.choice(regular, size=min(n_short, len(regular)), replace=False)
    cover[short] = rng.uniform(0.0, 1.0, len(short))
    over_pool = np.setdiff1d(regular, short)
    over = rng.choice(over_pool, size=min(max(1, skus // 20), len(over_pool)), replace=False)
    cover[over] = rng.uniform(30, 60, len(over))
    patterns["short"] = np.sort(short)
    patterns["overstocked"] = np.sort(over)
    on_hand = np.floor(rate * cover)
    on_hand[short] = np.floor(recent_rate[short] * cover[short])
    on_order = np.where(rng.random(skus) < 0.25, np.ceil(recent_rate * rng.uniform(1, 4, skus)), 0.0)
    on_order[short] = 0.0
    # every other one-shot product has little left from last season, so the demo shows newsvendor buys next to
    # one-shot products whose stock already covers the season (no random draw: the other data stays as it was)
    buy_now = np.setdiff1d(patterns["one_shot"][::2], over)
    on_hand[buy_now] = np.floor(recent_rate[buy_now] * 2.0)
    on_order[buy_now] = 0.0
    stock = pd.DataFrame({"sku": rows, "as_of": end + dt.timedelta(days=6), "on_hand": on_hand, "on_order": on_order})
    return stock, recent_rate


def generate(
    *, skus: int = 200, periods: int = 156, seed: int = 7, end: dt.date | None = None, multi_location: bool = False
) -> DemoPortfolio:
    """Generate the demo portfolio; the same arguments always give the same data. ``multi_location`` appends the
    items stocked at both locations and the lanes between them (services.demo_locations; ``skus`` + 6 SKUs)."""
    if skus < 1:
        raise ValueError("skus must be at least 1")
    if periods < 8:
        raise ValueError("periods must be at least 8")
    rng = np.random.default_rng(seed)
    end = end or last_complete_week()
    dates = pd.date_range(end=pd.Timestamp(end), periods=periods, freq="W-MON")

    names = list(CATEGORIES)
    shares = np.array([CATEGORIES[c][0] for c in names])
    cat_idx = rng.choice(len(names), size=skus, p=shares / shares.sum())
    cat_idx[: min(skus, len(names))] = np.arange(min(skus, len(names)))  # every category present
    category = np.array(names)[cat_idx]
    lo = np.array([CATEGORIES[c][1][0] for c in names])[cat_idx]
    hi = np.array([CATEGORIES[c][1][1] for c in names])[cat_idx]
    level = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    amplitude = np.array([CATEGORIES[c][2] for c in names])[cat_idx] * rng.uniform(0.5, 1.2, skus)
    phase = rng.uniform(0, 2 * np.pi, skus)
    phase[category == "Garden & seasonal"] = rng.uniform(-0.4, 0.4, (category == "Garden & seasonal").sum())
    trend = rng.normal(0.0, 0.0025, skus)

    t = np.arange(periods)
    week_of_year = dates.isocalendar().week.to_numpy().astype(float)
    season = 1 + amplitude[:, None] * np.sin(2 * np.pi * week_of_year[None, :] / 52.18 + phase[:, None])
    growth = np.exp(trend[:, None] * (t[None, :] - periods))
    mean = level[:, None] * np.clip(season, 0.05, None) * growth

    promo = rng.random((skus, periods)) < 0.04
    promo &= (category != "Spare parts")[:, None]
    promo[:, -6:] = False  # the SKUs surging now are the 'surging' pattern below, not a promotion
    mean = mean * np.where(promo, rng.uniform(1.6, 2.6, (skus, periods)), 1.0)

    patterns: dict[str, np.ndarray] = {}
    rows = np.arange(skus)
    spare = rows[category == "Spare parts"]
    patterns["intermittent"] = spare
    regular = rows[category != "Spare parts"]
    n_special = max(1, skus // 35)
    special = rng.permutation(regular)
    patterns["surging"] = np.sort(special[:n_special])
    patterns["dying"] = np.sort(special[n_special : 2 * n_special])
    patterns["dead"] = np.sort(special[2 * n_special : 2 * n_special + max(1, skus // 70)])
    patterns["promoted"] = np.flatnonzero(promo.any(axis=1))
    patterns["seasonal"] = rows[amplitude >= 0.4]

    recent = 4
    mean[patterns["surging"], -recent:] *= rng.uniform(2.8, 4.0, (len(patterns["surging"]), 1))
    mean[patterns["dying"], -12:] *= 0.12
    mean[patterns["dead"], -20:] = 0.0

    # Gamma-Poisson (negative binomial) noise: over-dispersed like real retail demand.
    shape = 6.0
    quantity = rng.poisson(rng.gamma(shape, mean / shape)).astype(float)
    occurrence = rng.random((len(spare), periods)) < rng.uniform(0.08, 0.35, (len(spare), 1))
    sizes = np.ceil(rng.lognormal(np.log(np.maximum(level[spare], 0.5) * 3)[:, None], 0.6, (len(spare), periods)))
    quantity[spare] = np.where(occurrence, sizes, 0.0)

    cost_lo = np.array([CATEGORIES[c][3][0] for c in names])[cat_idx]
    cost_hi = np.array([CATEGORIES[c][3][1] for c in names])[cat_idx]
    unit_cost = np.round(np.exp(rng.uniform(np.log(cost_lo), np.log(cost_hi))), 2)
    unit_price = np.round(unit_cost * rng.uniform(1.3, 2.4, skus), 2)
    salvage = np.round(unit_cost * rng.uniform(0.1, 0.5, skus), 2)
    lt_lo = np.array([CATEGORIES[c][5][0] for c in names])[cat_idx]
    lt_hi = np.array([CATEGORIES[c][5][1] for c in names])[cat_idx]
    lead_time = np.round(rng.uniform(lt_lo, lt_hi) / 7) * 7
    lead_time_std = np.round(lead_time * rng.uniform(0.05, 0.3, skus), 1)
    case = rng.choice([1, 1, 6, 12, 24], size=skus)
    case[category == "Spare parts"] = 1
    moq = np.where(rng.random(skus) < 0.3, case * rng.choice([2, 5, 10], size=skus), 0).astype(float)
    service = rng.choice([0.9, 0.95, 0.95, 0.98], size=skus)
    supplier = np.array([rng.choice(CATEGORIES[c][4]) for c in category])
    location = np.array(LOCATIONS)[rng.integers(0, len(LOCATIONS), skus)]

    word = [WORDS[c][rng.integers(len(WORDS[c]))] for c in category]
    size = np.array(SIZES)[rng.integers(0, len(SIZES), skus)]
    prefix = {c: "".join(w[0] for w in c.replace("&", "").split()).upper()[:3] for c in names}
    code = [f"{prefix[c]}-{i + 1:05d}" for i, c in enumerate(category)]
    name = [f"{w} {s}" for w, s in zip(word, size, strict=True)]
    if skus > len(names):
        name[len(names)] = "Café crème 東京"

    # a handful of seasonal products bought once per season (no random draw: the other data stays as it was)
    seasonal_buy = np.flatnonzero(
        (category == "Garden & seasonal") & np.isin(np.array(word, dtype=object), ONE_SHOT_WORDS)
    )
    one_shot = np.zeros(skus, dtype=bool)
    one_shot[seasonal_buy[: max(3, skus // 40)]] = True
    patterns["one_shot"] = np.flatnonzero(one_shot)

    sku_frame = pd.DataFrame(
        {
            "code": code,
            "name": name,
            "category": category,
            "location": location,
            "unit_cost": unit_cost,
            "unit_price": unit_price,
            "salvage_value": salvage,
            "holding_cost_rate": np.round(rng.uniform(0.18, 0.3, skus), 2),
            "order_cost": np.round(rng.uniform(25, 150, skus), 0),
            "lead_time_mean": lead_time,
            "lead_time_std": lead_time_std,
            "moq": moq,
            "order_multiple": case.astype(float),
            "service_level_target": service,
            "supplier": supplier,
            "active": True,
            "one_shot": one_shot,
        }
    )

    stock, recent_rate = _stock_positions(
        rng=rng, quantity=quantity, lead_time=lead_time, regular=regular, patterns=patterns, end=end
    )

    demand = pd.DataFrame(
        {
            "sku": np.repeat(rows, periods),
            "period": np.tile(dates.date, skus),
            "quantity": quantity.ravel(),
        }
    )
    receipts = _receipts(rng, rows, supplier, lead_time, lead_time_std, recent_rate, end)
    portfolio = demo_resources.attach(DemoPortfolio(sku_frame, demand, stock, receipts, dates, patterns), end=end)
    return demo_locations.extend(portfolio, end=end) if multi_location else portfolio


def _receipts(
    rng: np.random.Generator,
    rows: np.ndarray,
    supplier: np.ndarray,
    lead_time: np.ndarray,
    lead_time_std: np.ndarray,
    rate: np.ndarray,
    end: dt.date,
) -> pd.DataFrame:
    """Past receipts for about a third of the SKUs, with real lead times scattered around the master data."""
    chosen = rows[rng.random(len(rows)) < 0.35]
    per = 8
    sku = np.repeat(chosen, per)
    ordered_days_ago = rng.integers(60, 700, len(sku))
    order_date = pd.to_datetime(end) - pd.to_timedelta(ordered_days_ago, unit="D")
    promised = lead_time[sku]
    actual = np.maximum(1, np.round(promised * rng.uniform(0.95, 1.25, len(sku)) + rng.normal(0, lead_time_std[sku])))
    frame = pd.DataFrame(
        {
            "sku": sku,
            "supplier": supplier[sku],
            "order_date": order_date.date,
            "promised_date": (order_date + pd.to_timedelta(promised, unit="D")).date,
            "received_date": (order_date + pd.to_timedelta(actual, unit="D")).date,
            "quantity": np.ceil(rate[sku] * rng.uniform(2, 6, len(sku))),
        }
    )
    frame = frame[frame["received_date"] <= end]
    return frame.drop_duplicates(subset=["sku", "order_date", "received_date"])


def store(*, session: Session, portfolio: DemoPortfolio, replace: bool = False) -> dict[str, int]:
    """Write the portfolio in the session's transaction (bulk COPY on PostgreSQL); returns row counts."""
    if replace:
        for model in (Transfer, Lane, ResourceCapacity, Resource, Receipt, StockPosition, Demand, Sku):
            session.execute(delete(model))
    connection = session.connection()
    now = utcnow()
    bulk.copy_frame(connection, Sku.__table__, portfolio.skus.assign(created_at=now, updated_at=now))
    session.flush()
    ids = {code: sku_id for code, sku_id in session.execute(select(Sku.code, Sku.id))}
    sku_ids = np.array([ids[c] for c in portfolio.skus["code"]])

    demand = portfolio.demand.assign(sku_id=sku_ids[portfolio.demand["sku"].to_numpy()])[
        ["sku_id", "period", "quantity"]
    ]
    bulk.copy_frame(connection, Demand.__table__, demand)
    stock = portfolio.stock.assign(sku_id=sku_ids[portfolio.stock["sku"].to_numpy()])[
        ["sku_id", "as_of", "on_hand", "on_order"]
    ]
    bulk.copy_frame(connection, StockPosition.__table__, stock)
    receipts = portfolio.receipts.assign(sku_id=sku_ids[portfolio.receipts["sku"].to_numpy()])[
        ["sku_id", "supplier", "order_date", "promised_date", "received_date", "quantity"]
    ]
    bulk.copy_frame(connection, Receipt.__table__, receipts)
    capacity_rows = _store_capacities(session, portfolio.capacities)
    if len(portfolio.lanes):
        session.add_all(Lane(**row) for row in portfolio.lanes.to_dict("records"))
        session.flush()
    return {
        "skus": len(portfolio.skus),
        "demand": len(demand),
        "stock": len(stock),
        "receipts": len(receipts),
        "capacities": capacity_rows,
        **({"lanes": len(portfolio.lanes)} if len(portfolio.lanes) else {}),
    }


def _store_capacities(session: Session, capacities: pd.DataFrame) -> int:
    """The demo's resources (monthly) and their capacity rows."""
    if capacities.empty:
        return 0
    resources = {name: Resource(name=name, grain="monthly") for name in dict.fromkeys(capacities["resource"])}
    session.add_all(resources.values())
    session.flush()
    values = ["period", "capacity", "overtime_capacity", "overtime_cost", "regular_cost"]
    session.add_all(
        ResourceCapacity(resource_id=resources[name].id, **dict(zip(values, row, strict=True)))
        for name, *row in capacities[["resource", *values]].itertuples(index=False)
    )
    session.flush()
    return len(capacities)
