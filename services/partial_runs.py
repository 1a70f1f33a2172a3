"""Partial runs (docs/architecture.md, "Runs and snapshots"): the run context a partial recompute must share
with the latest finished run (:func:`portfolio_context`), whether it can carry rows forward (``_partial_plan``),
copying the other SKUs' rows from that run (:func:`carry_forward`) and redoing ABC and the KPIs over the whole run
(:func:`finish_partial`). :mod:`services.recompute` calls them inside its write transaction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

import core.forecast  # noqa: F401  (loads scikit-learn's OpenMP runtime so compute_one's thread limit reaches it)
from core import classify, formats
from core.portfolio import (
    EngineSettings,
)
from db import queries_recompute as q
from db.models import Demand, Forecast, RecomputeRun, Sku, SkuSnapshot
from services import runs
from services.engine_inputs import (
    MAX_PERIODS,
    RunContext,
    period_dates,
    period_index,
    through_from_last_periods,
    trailing_marked,
)

_ABC_CHUNK = 900
"""Ids per ``IN (...)`` list when :func:`finish_partial` updates changed ABC classes (under SQLite's old 999-variable
limit)."""


def portfolio_context(*, session: Session, grain: str, horizon: int, min_receipts: int) -> RunContext | None:
    """The period grid a full run would use now (every active SKU's demand), for the ``grain`` of the latest run.

    Same rules as :func:`services.engine_inputs.load_context` (origin = first demand period, at most
    ``MAX_PERIODS``), with one aggregate query instead of loading the demand. None without demand.
    """
    first, last = session.execute(
        select(func.min(Demand.period), func.max(Demand.period))
        .join(Sku, Sku.id == Demand.sku_id)
        .where(Sku.active.is_(True))
    ).one()
    if first is None or grain not in MAX_PERIODS:
        return None
    origin = pd.Timestamp(first)
    end = int(period_index(dates=[pd.Timestamp(last)], grain=grain, origin=origin)[0])
    if end + 1 > MAX_PERIODS[grain]:
        skip = end + 1 - MAX_PERIODS[grain]
        origin = period_dates(origin=origin, grain=grain, start=skip, count=1)[0]
        end -= skip
    rows = session.execute(
        select(Sku.id, func.max(Demand.period))
        .join(Sku, Sku.id == Demand.sku_id)
        .where(Sku.active.is_(True))
        .group_by(Sku.id)
    ).all()
    ends = pd.Series([r[1] for r in rows], index=[int(r[0]) for r in rows], dtype=object)
    through = through_from_last_periods(
        last=ends.to_numpy(),
        grain=grain,
        origin=origin,
        n_periods=end + 1,
        partial=trailing_marked(ends=ends, marks=q.partial_rows(session.connection())),
    )
    return RunContext(
        grain=grain, origin=origin, n_periods=end + 1, horizon=horizon, min_receipts=min_receipts, through=through
    )


def _partial_plan(
    *, session: Session, horizon: int, min_receipts: int
) -> tuple[int | None, RunContext | None, str | None]:
    """(run to carry from, the portfolio's grid, why a full run is needed instead) for a partial run.

    (None, None, None): no finished run yet -- the partial run holds just its SKUs on their own grid.
    """
    previous = session.execute(
        select(RecomputeRun.id, RecomputeRun.grain, RecomputeRun.data_as_of)
        .where(RecomputeRun.status == "finished", RecomputeRun.sku_count > 0)
        .order_by(RecomputeRun.id.desc())
        .limit(1)
    ).one_or_none()
    if previous is None:
        return None, None, None
    run_id, grain, as_of = previous
    context = portfolio_context(session=session, grain=grain or "", horizon=horizon, min_receipts=min_receipts)
    if context is None:
        return None, None, f"run {run_id} has no grain or there is no demand"
    if context.data_as_of != as_of:
        return None, None, f"the demand now ends {context.data_as_of}, run {run_id} was computed to {as_of}"
    last_future = session.scalar(
        select(func.max(Forecast.period)).where(Forecast.run_id == run_id, Forecast.kind == "future")
    )
    if last_future is not None and pd.Timestamp(last_future) != context.future_dates[-1]:
        grid_end = formats.fmt_date(context.period_dates[-1])
        return None, None, f"run {run_id} has another forecast horizon, or the demand grid now ends {grid_end}"
    return int(run_id), context, None


def carry_forward(*, session: Session, run_id: int, from_run: int) -> dict[str, int]:
    """Copy the ``forecast`` and ``sku_snapshot`` rows of run ``from_run`` for the active SKUs that run ``run_id``
    does not have yet into ``run_id`` (two ``INSERT ... SELECT`` statements; no row passes through Python).

    Call it after the recomputed SKUs' rows are written (they are what "does not have yet" excludes), in the run's
    transaction. Returns the rows copied per table.
    """
    snap = SkuSnapshot.__table__
    fc = Forecast.__table__
    new = snap.alias("new_rows")
    active = select(Sku.id).where(Sku.active.is_(True))

    def not_in_new(sku_column: Any) -> Any:
        return ~exists().where(new.c.run_id == run_id, new.c.sku_id == sku_column)

    def copy_rows(table: Any) -> int:
        """INSERT ... SELECT the carried SKUs' rows of ``table`` from ``from_run`` under the new run id."""
        columns = [c.name for c in table.columns if c.name not in ("id", "run_id")]
        rows = select(literal(run_id, type_=table.c.run_id.type), *[table.c[c] for c in columns]).where(
            table.c.run_id == from_run, table.c.sku_id.in_(active), not_in_new(table.c.sku_id)
        )
        return session.execute(insert(table).from_select(["run_id", *columns], rows)).rowcount

    forecasts = copy_rows(fc)
    snapshots = copy_rows(snap)
    return {"sku_snapshot": int(snapshots or 0), "forecast": int(forecasts or 0)}


def finish_partial(
    *,
    session: Session,
    run_id: int,
    computed_ids: np.ndarray,
    computed_kpis: dict[str, Any],
    settings: EngineSettings,
) -> dict[str, Any]:
    """Portfolio-wide steps over a partial run once the other SKUs are carried in: ABC re-ranked over every SKU of
    the run (changed classes updated) and the KPIs recomputed over the whole run, the same as a full run states them
    (:func:`services.runs.segment_kpis`: :func:`core.kpi.portfolio_kpis` with every SKU's expected fill rate
    re-derived from its stored policy). ``computed_kpis`` (the recomputed SKUs' own KPIs) is not needed any more and
    kept for callers. Returns the KPIs.
    """
    rows = session.execute(
        select(SkuSnapshot.sku_id, Sku.unit_cost, SkuSnapshot.annual_demand, SkuSnapshot.abc)
        .join(Sku, Sku.id == SkuSnapshot.sku_id)
        .where(SkuSnapshot.run_id == run_id)
        .order_by(Sku.code)
    ).all()
    frame = pd.DataFrame(rows, columns=["sku_id", "unit_cost", "annual_demand", "abc"])
    frame["annual_demand"] = pd.to_numeric(frame["annual_demand"], errors="coerce").astype(float)
    cost = pd.to_numeric(frame["unit_cost"], errors="coerce").to_numpy(dtype=float)
    annual = frame["annual_demand"].to_numpy(dtype=float)
    abc = classify.abc_classes(value=annual * np.nan_to_num(cost), split=settings.abc_split)
    changed = abc != frame["abc"].to_numpy(dtype=object)
    snap = SkuSnapshot.__table__
    # one UPDATE per new class and chunk of ids, not one per row (psycopg2's executemany is a round trip per row)
    for cls in sorted({str(c) for c in abc[changed]}):
        ids = [int(i) for i in frame["sku_id"].to_numpy()[changed & (abc == cls)]]
        for start in range(0, len(ids), _ABC_CHUNK):
            session.execute(
                update(snap)
                .where(snap.c.run_id == run_id, snap.c.sku_id.in_(ids[start : start + _ABC_CHUNK]))
                .values(abc=cls)
            )
    # the KPIs over the whole run exactly as a full run states them: every SKU's expected fill rate re-derived from
    # its stored policy (services.runs.segment_kpis, which the briefing tests hold equal to the engine's KPIs)
    grain = session.scalar(select(RecomputeRun.grain).where(RecomputeRun.id == run_id))
    kpis = runs.segment_kpis(
        runs.snapshot_frame(session=session, run_id=run_id), days_per_period=runs.days_per_period(grain)
    )
    return q.json_safe(kpis)
