"""What the pages show of a backtest: one SKU's replay (SKU page) and the stored result of a scope (Risk page)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import RecomputeRun
from services.backtest.document import sku_paths
from services.backtest.results import BacktestResult
from services.backtest.run import default_periods
from services.backtest.scope import BacktestScope
from services.backtest.store import StoredBacktest, latest_stored


def _float(value: Any) -> float | None:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class ReplayFigures:
    """One policy's replay of one SKU: its levels and what it achieved."""

    reorder_point: float | None
    order_up_to: float | None
    order_quantity: float | None
    fill_rate: float | None
    cycle_service_level: float | None
    stockout_periods: int
    orders: int
    average_inventory_units: float | None
    average_inventory_value: float | None
    paths: dict[str, list[float]]


@dataclass(frozen=True)
class SkuReplay:
    """The SKU page's "Would this policy have worked?": the engine's and the textbook's replay of one SKU."""

    code: str
    grain: str
    periods: int
    fit_periods: int
    dates: list[dt.date]
    target_service_level: float | None
    demand: float
    engine: ReplayFigures
    textbook: ReplayFigures
    seconds: float


def _figures(result: BacktestResult, name: str) -> ReplayFigures:
    point = result.replayed.engine if name == "engine" else result.replayed.baseline
    policy = result.replayed.policies.get(name, {})
    replay = point.replay

    def level(key: str) -> float | None:
        values = policy.get(key)
        return _float(values[0]) if values is not None and len(values) else None

    q = level("order_quantity")
    return ReplayFigures(
        reorder_point=level("reorder_point"),
        order_up_to=level("order_up_to"),
        order_quantity=q if q else None,
        fill_rate=_float(replay.fill_rate[0]),
        cycle_service_level=_float(replay.cycle_service_level[0]),
        stockout_periods=int(replay.stockout_periods[0]),
        orders=int(replay.orders[0]),
        average_inventory_units=_float(replay.average_on_hand_units[0]),
        average_inventory_value=_float(replay.average_on_hand_value[0]),
        paths=sku_paths(replay, 0),
    )


def sku_replay(result: BacktestResult) -> SkuReplay:
    """The one-SKU view of a backtest run with ``keep_paths`` (the SKU page's panel).

    Raises
    ------
    ValueError
        ``result`` is not a one-SKU backtest.
    """
    if len(result.codes) != 1:
        raise ValueError(f"result must hold one SKU, got {len(result.codes)}")
    return SkuReplay(
        code=result.codes[0],
        grain=result.grain,
        periods=result.periods,
        fit_periods=int(result.document.get("fit_periods") or 0),
        dates=[d.date() for d in result.replay_dates],
        target_service_level=_float(result.service_levels[0]),
        demand=float(np.nansum(result.replayed.engine.replay.demand[:1])),
        engine=_figures(result, "engine"),
        textbook=_figures(result, "baseline"),
        seconds=float(result.timings.get("total", 0.0)),
    )


def data_grain(*, session: Session) -> str | None:
    """The grain of the latest finished recompute (None before the first)."""
    return session.scalar(
        select(RecomputeRun.grain).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class StoredView:
    """The Risk page's panel: the scope, its latest stored backtest (or None) and the data it was run on."""

    scope: BacktestScope
    stored: StoredBacktest | None
    grain: str | None
    default_periods: int
    data_as_of: dt.date | None

    @property
    def stale(self) -> bool:
        """The stored result was computed on data that ended earlier than today's latest recompute."""
        return bool(
            self.stored and self.data_as_of and self.stored.data_as_of and self.stored.data_as_of < self.data_as_of
        )


def stored_view(*, session: Session, scope_key: str | None) -> StoredView:
    """The latest stored backtest of a scope key (the Risk page's ``portfolio`` / ``category:X`` / ``abc:A`` /
    ``sku:CODE``), with the latest recompute's grain and data date to say whether it is stale."""
    scope = BacktestScope.parse(scope_key)
    run = session.execute(
        select(RecomputeRun.grain, RecomputeRun.data_as_of)
        .where(RecomputeRun.status == "finished")
        .order_by(RecomputeRun.id.desc())
        .limit(1)
    ).one_or_none()
    grain, as_of = (run.grain, run.data_as_of) if run is not None else (None, None)
    return StoredView(
        scope=scope,
        stored=latest_stored(session=session, scope=scope),
        grain=grain,
        default_periods=default_periods(grain),
        data_as_of=as_of,
    )


def lowest_fill_rows(document: dict[str, Any], limit: int = 5) -> list[dict[str, Any]]:
    """The SKUs with the lowest replayed fill rate (ties: more demand first), at most ``limit``."""
    rows = [r for r in document.get("skus") or [] if r.get("fill_rate") is not None and r["fill_rate"] < 1.0]
    rows.sort(key=lambda r: (r["fill_rate"], -(r.get("demand") or 0.0), r["code"]))
    return rows[:limit]


__all__ = [
    "ReplayFigures",
    "SkuReplay",
    "StoredView",
    "data_grain",
    "lowest_fill_rows",
    "sku_replay",
    "stored_view",
]
