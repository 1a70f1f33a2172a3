"""Runs and snapshots: the one place that reads ``recompute_run`` rows and a run's ``sku_snapshot`` rows.

Every page, API route and PDF reads the *latest finished run* (docs/architecture.md, "Runs and snapshots"): a run is
recorded ``running`` by :func:`services.recompute.start_run`, becomes ``finished`` when its snapshot and forecasts
are stored in one transaction (or ``failed`` / ``cancelled``, and then the previous finished run stays the latest).

- :class:`RunInfo` - a run as a plain value (the one return type of every function here), with its period length.
- :func:`latest_run`, :func:`previous_run`, :func:`run_by_id`, :func:`current_run`, :func:`running_run`,
  :func:`get_run`, :func:`recent_runs` - which run.
- :func:`run_scope`, :func:`scope_counts` - what a partial run covered (``recompute_run.timings["scope"]``).
- :func:`snapshot_frame`, :func:`segment_kpis` - a run's snapshot rows with the SKU master fields, and the KPIs of
  any subset of them by the engine's own definitions.
- :func:`days_per_period`, :func:`known_grain` - days in one period of a grain, the grain itself (weekly when
  unknown).

This module sits at the bottom of :mod:`services`: it imports :mod:`core` and :mod:`db` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core import kpi as core_kpi
from core.calendar import GRAIN_DAYS
from core.portfolio import expected_fill_rates
from db.models import RecomputeRun, Sku, SkuSnapshot

DAYS_PER_YEAR = 365.25
PERIOD_UNITS = {"daily": "day", "weekly": "week", "monthly": "month"}


def days_per_period(grain: str | None) -> float:
    """Days in one period of ``grain`` (``core.calendar.GRAIN_DAYS``; weekly, 7 days, when unknown or None)."""
    return GRAIN_DAYS.get(grain or "weekly", 7.0)


def known_grain(grain: str | None) -> str:
    """``grain`` when it is one of ``core.calendar.GRAIN_DAYS`` (daily, weekly, monthly), else "weekly"."""
    return grain if grain in GRAIN_DAYS else "weekly"


@dataclass(frozen=True)
class RunInfo:
    """A recompute run as a plain value (not an ORM object, so it outlives its session)."""

    id: int
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    grain: str | None
    data_as_of: dt.date | None
    sku_count: int
    triggered_by: str | None
    kpis: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def of(cls, run: RecomputeRun) -> RunInfo:
        return cls(
            id=int(run.id),
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            grain=run.grain,
            data_as_of=run.data_as_of,
            sku_count=int(run.sku_count or 0),
            triggered_by=run.triggered_by,
            kpis=dict(run.kpis or {}),
            timings=dict(run.timings or {}),
            error=run.error,
        )

    @property
    def days_per_period(self) -> float:
        """Days in one period of the run's grain (:func:`days_per_period`)."""
        return days_per_period(self.grain)

    @property
    def periods_per_year(self) -> float:
        """Periods in a year of 365.25 days."""
        return DAYS_PER_YEAR / self.days_per_period

    @property
    def period_unit(self) -> str:
        """ "day", "week" or "month" ("period" for an unknown grain)."""
        return PERIOD_UNITS.get(self.grain or "weekly", "period")


def _info(run: RecomputeRun | None) -> RunInfo | None:
    return RunInfo.of(run) if run is not None else None


def _finished() -> Select[tuple[RecomputeRun]]:
    return select(RecomputeRun).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(1)


def latest_run(*, session: Session) -> RunInfo | None:
    """The newest finished run (what every page shows), or None before the first recompute."""
    return _info(session.scalar(_finished()))


def previous_run(*, session: Session, run_id: int | None = None) -> RunInfo | None:
    """The finished run before ``run_id`` (None: before the latest finished run), for "changed since last run"."""
    if run_id is None:
        latest = session.scalar(
            select(RecomputeRun.id).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(1)
        )
        if latest is None:
            return None
        run_id = int(latest)
    return _info(session.scalar(_finished().where(RecomputeRun.id < int(run_id))))


def run_by_id(*, session: Session, run_id: int | None) -> RunInfo | None:
    """A finished run by id, or the latest when ``run_id`` is None or not a finished run."""
    if run_id is not None:
        run = session.get(RecomputeRun, int(run_id))
        if run is not None and run.status == "finished":
            return RunInfo.of(run)
    return latest_run(session=session)


def get_run(*, session: Session, run_id: int) -> RunInfo | None:
    """Run ``run_id`` of any status, or None."""
    return _info(session.get(RecomputeRun, int(run_id)))


def current_run(*, session: Session) -> RunInfo | None:
    """The newest run if it is still running (for a "recompute in progress" notice), else None."""
    run = session.scalar(select(RecomputeRun).order_by(RecomputeRun.id.desc()).limit(1))
    return _info(run) if run is not None and run.status == "running" else None


def running_run(*, session: Session) -> RunInfo | None:
    """The newest run with status ``running``, if any (a newer failed run does not hide it)."""
    return _info(
        session.scalar(
            select(RecomputeRun).where(RecomputeRun.status == "running").order_by(RecomputeRun.id.desc()).limit(1)
        )
    )


def recent_runs(*, session: Session, limit: int = 20) -> list[RunInfo]:
    """The newest runs of any status, newest first."""
    return [RunInfo.of(r) for r in session.scalars(select(RecomputeRun).order_by(RecomputeRun.id.desc()).limit(limit))]


# --- partial runs ---------------------------------------------------------------------------------------------------


def run_scope(run: RunInfo | RecomputeRun | None) -> dict[str, Any] | None:
    """What a run covered: ``{"partial": True, "skus": [...], ...}`` for a partial run, None for a full one
    (``recompute_run.timings["scope"]``, written by :func:`services.recompute.recompute`)."""
    if run is None or not isinstance(run.timings, dict):
        return None
    scope = run.timings.get("scope")
    return scope if isinstance(scope, dict) else None


@dataclass(frozen=True)
class ScopeCounts:
    """How many SKUs a partial run recomputed (``edited`` of them because their master changed since the run it
    carried from) and how many it carried forward unchanged."""

    recomputed: int
    edited: int
    carried: int


def scope_counts(scope: dict[str, Any] | None) -> ScopeCounts | None:
    """The counts of a partial run's scope (:attr:`services.recompute.RunSummary.scope`), None for a full run."""
    if not scope or not scope.get("partial"):
        return None
    return ScopeCounts(
        recomputed=int(scope.get("sku_count") or 0),
        edited=int(scope.get("edited_count") or 0),
        carried=int(scope.get("carried_skus") or 0),
    )


# --- snapshot rows --------------------------------------------------------------------------------------------------

SNAPSHOT_COLUMNS = (
    "status",
    "status_reason",
    "abc",
    "forecast_per_period",
    "sigma",
    "lead_time_periods",
    "lead_time_std_periods",
    "service_level",
    "reorder_point",
    "eoq",
    "on_hand",
    "on_order",
    "recommended_qty",
    "order_by_periods",
    "days_of_cover",
    "annual_demand",
    "inventory_value",
    "value_at_risk",
    "excess_value",
    "demand_recent",
    "demand_baseline",
    "wape",
    "mase",
    "bias",
    "order_policy",  # a phased-out stopped seller promises no fill rate (core.portfolio.expected_fill_rates)
)
"""The ``sku_snapshot`` columns of :func:`snapshot_frame`."""
SKU_COLUMNS = (
    "code",
    "name",
    "category",
    "location",
    "supplier",
    "unit_cost",
    "holding_cost_rate",
    "order_cost",
    "moq",
    "order_multiple",
)
"""The ``sku`` master columns of :func:`snapshot_frame`."""
TEXT_COLUMNS = ("code", "name", "category", "location", "supplier", "status", "status_reason", "abc", "order_policy")


def snapshot_frame(*, session: Session, run_id: int, where: Sequence[ColumnElement[bool]] = ()) -> pd.DataFrame:
    """The run's snapshot rows matching ``where`` (conditions on ``Sku`` / ``SkuSnapshot``; default: all), with
    the SKU master fields.

    One row per SKU (columns :data:`SKU_COLUMNS` then :data:`SNAPSHOT_COLUMNS`), ordered by code; numbers as floats
    (NaN if missing), a missing name replaced by the code.
    """
    stmt = (
        select(*(getattr(Sku, c) for c in SKU_COLUMNS), *(getattr(SkuSnapshot, c) for c in SNAPSHOT_COLUMNS))
        .select_from(SkuSnapshot)
        .join(Sku, Sku.id == SkuSnapshot.sku_id)
        .where(SkuSnapshot.run_id == run_id, *where)
        .order_by(Sku.code)
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=[*SKU_COLUMNS, *SNAPSHOT_COLUMNS])
    for column in frame.columns:
        if column not in TEXT_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["name"] = [name or code for code, name in zip(frame["code"], frame["name"], strict=True)]
    frame["status_reason"] = frame["status_reason"].fillna("")
    return frame


def segment_kpis(frame: pd.DataFrame, *, days_per_period: float) -> dict[str, float]:
    """Portfolio KPIs of the SKUs in ``frame`` (a :func:`snapshot_frame`), by :func:`core.kpi.portfolio_kpis`.

    Same keys as ``recompute_run.kpis`` (fill_rate, inventory_value, value_at_risk, turns, days_of_supply, wape, ...,
    sku_count, count_<status>); the expected fill rate per SKU is not stored, so it is rebuilt from the stored policy
    by :func:`core.portfolio.expected_fill_rates` (on the whole portfolio this gives the engine's KPIs back while the
    SKU master is unchanged).
    """
    if frame.empty:
        return {"sku_count": 0.0, "inventory_value": 0.0, "value_at_risk": 0.0, "excess_value": 0.0}
    return core_kpi.portfolio_kpis(
        snapshot=frame,
        unit_cost=frame["unit_cost"].to_numpy(dtype=float),
        expected_fill_rate=expected_fill_rates(frame, days_per_period=days_per_period),
    )
