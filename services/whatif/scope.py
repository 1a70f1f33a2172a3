"""What-if scopes and items: the SKUs of a scope (one SKU, a category, an ABC class or the whole portfolio) with
their snapshot and master data from the latest finished run; the constants and the error of :mod:`services.whatif`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import policy
from db.models import Sku, SkuSnapshot
from services.errors import UserFacingError
from services.runs import RunInfo, latest_run

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
