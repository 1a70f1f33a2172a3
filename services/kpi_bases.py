"""What the Watchtower's KPI tiles compare the latest run with: the previous run, last week, or a closed S&OP cycle.

- ``previous``: the finished run before the latest (:func:`services.runs.previous_run`).
- ``week``: the latest finished run that finished at least 7 days before the latest one finished (a week-on-week
  view whatever the recompute cadence).
- ``cycle:<id>``: the run a closed S&OP cycle froze (``sop_cycle.run_id``, :mod:`services.cycles`).

A base that does not exist (no run a week older, a cycle whose run is gone) resolves to None: the tiles then show no
change line rather than a wrong one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.formats import fmt_date
from db.models import RecomputeRun, SopCycle
from services.runs import RunInfo, previous_run

DEFAULT_BASE = "previous"
WEEK_DAYS = 7
CYCLE_PREFIX = "cycle:"
CYCLE_OPTIONS = 12


@dataclass(frozen=True)
class Base:
    """A resolved comparison base: the run compared with and the words after "vs" on the tiles."""

    key: str
    run: RunInfo | None
    caption: str


def week_before(*, session: Session, run: RunInfo, days: int = WEEK_DAYS) -> RunInfo | None:
    """The latest finished run that finished at least ``days`` days before ``run`` finished."""
    if run.finished_at is None:
        return None
    cutoff = run.finished_at - dt.timedelta(days=days)
    row = session.scalar(
        select(RecomputeRun)
        .where(RecomputeRun.status == "finished", RecomputeRun.id < run.id, RecomputeRun.finished_at <= cutoff)
        .order_by(RecomputeRun.finished_at.desc(), RecomputeRun.id.desc())
        .limit(1)
    )
    return RunInfo.of(row) if row is not None else None


def _cycle_run(session: Session, cycle_id: int) -> tuple[RunInfo | None, str]:
    cycle = session.get(SopCycle, cycle_id)
    if cycle is None:
        return None, "the cycle"
    run = session.get(RecomputeRun, cycle.run_id) if cycle.run_id is not None else None
    ok = run is not None and run.status == "finished"
    return (RunInfo.of(run) if ok else None), cycle.name


def resolve(*, session: Session, run: RunInfo, key: str | None) -> Base:
    """The base ``key`` names (``previous`` when empty or unknown)."""
    key = key or DEFAULT_BASE
    if key == "week":
        return Base(key, week_before(session=session, run=run), "last week")
    if key.startswith(CYCLE_PREFIX) and key[len(CYCLE_PREFIX) :].isdigit():
        found, name = _cycle_run(session, int(key[len(CYCLE_PREFIX) :]))
        return Base(key, found, name)
    return Base(DEFAULT_BASE, previous_run(session=session, run_id=run.id), "previous run")


def options(*, session: Session, run: RunInfo) -> list[dict[str, object]]:
    """The bases to choose from (a dropdown's options), each saying which run it is; missing ones disabled."""
    previous = previous_run(session=session, run_id=run.id)
    week = week_before(session=session, run=run)

    def when(r: RunInfo | None) -> str:
        if r is None:
            return "none yet"
        return f"run #{r.id}, {fmt_date(r.finished_at)}" if r.finished_at else f"run #{r.id}"

    out: list[dict[str, object]] = [
        {"label": f"Previous run ({when(previous)})", "value": "previous", "disabled": previous is None},
        {"label": f"Last week ({when(week)})", "value": "week", "disabled": week is None},
    ]
    cycles = session.scalars(select(SopCycle).order_by(SopCycle.closed_at.desc()).limit(CYCLE_OPTIONS))
    for cycle in cycles:
        out.append({"label": f"Cycle {cycle.name} ({fmt_date(cycle.closed_at)})", "value": f"{CYCLE_PREFIX}{cycle.id}"})
    return out
