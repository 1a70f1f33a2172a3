"""Portfolio recompute: load the inputs, run the engine in fixed batches, store one run atomically.

Pipeline (each step separable so batches can run elsewhere, e.g. on Celery workers):

1. :func:`start_run` records a ``recompute_run`` row with status ``running`` (own short transaction).
2. :func:`services.engine_inputs.load_portfolio_inputs` loads the active SKUs' inputs (rules in that module).
3. :func:`plan_batches` cuts them into batches of ``recompute_batch_size`` consecutive SKUs in code order; a batch's
   result depends only on its own inputs, so the numbers do not depend on how many workers compute them.
   :func:`compute` runs :func:`core.portfolio.compute_batch` on each (in a process pool when there are several
   batches and cores), then :func:`core.portfolio.finalize_portfolio` (ABC and KPIs over the whole portfolio).
4. :func:`store_run` writes one ``sku_snapshot`` row per SKU and the ``forecast`` rows (``future`` over the horizon
   with mean / p10 / p50 / p90, ``backtest`` where the backtest made a prediction) with the bulk path (COPY on
   PostgreSQL), and marks the run ``finished`` -- all in one transaction.
5. :func:`prune_runs` keeps the snapshots and forecasts of the last ``KEEP_RUNS`` finished runs.

**Coverage** (issue 15): each SKU's history ends at its own last reported period (after it: not reported, never
zero); the run's ``data_as_of`` is "data through", the latest period most active SKUs reported
(:class:`services.engine_inputs.RunContext`). A batch whose SKUs reported past it is computed in two passes
(:func:`core.coverage.compute_two_pass`): the cross-sectional steps (category fill-rate allocation, the global
forecaster, ABC) on the panel at data through, the SKUs ahead of it on their own history at the service quantile
allocated to them -- a file for 3 SKUs and a new week leaves every other SKU's numbers unchanged. Each SKU's own last
reported period is stored in ``sku_snapshot.last_reported``; an ahead SKU's forecast rows start after it.

**Partial runs** (``sku_codes``): only those SKUs are computed, but the run stays complete -- every page reads the
latest run. Inside the same transaction (:func:`carry_forward`) the other active SKUs' ``sku_snapshot`` and
``forecast`` rows are copied from the latest finished run with two set-based ``INSERT ... SELECT`` statements, ABC is
re-ranked over the whole run and the KPIs are recomputed over it (:func:`finish_partial`). Recommended purchase orders
are replaced for the recomputed SKUs only (the other SKUs' recommendations, and approved orders, are untouched). The
recomputed SKUs use the whole portfolio's period grid, so their rows line up with the carried ones. When there is no
finished run yet a partial run holds just the given SKUs; when the demand data's grid changed since the latest run
(new periods, another grain or horizon) the carried rows would be stale, so the run covers every active SKU instead.
A SKU whose master row was edited after the run to carry from started (``sku.updated_at``; the Data page's demand
edits touch it too) is not carried: its row was computed from the old master (e.g. the one-shot flag), so the partial
run recomputes it with the requested SKUs (:func:`db.queries_recompute.edited_since_run`).
``recompute_run.timings["scope"]`` records it: ``{"partial": true, "skus": [...every recomputed code],
"sku_count": n, "edited_skus": [...the codes added because they were edited], "edited_count": m, "carried_from": id,
"carried_skus": k}`` (or ``"fallback"`` with the reason a full run was done). See :func:`services.runs.run_scope`
and :func:`services.runs.scope_counts`.

On any error (or a cancel) the run's rows are rolled back, the run row is marked ``failed`` (or ``cancelled``) with
the error text in a separate short transaction, and the previous finished run stays the latest. ``recompute``
commits the session it is given (first the run row, then the results).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

import core.forecast  # noqa: F401  (loads scikit-learn's OpenMP runtime so compute_one's thread limit reaches it)
from core import formats
from core.coverage import last_reported
from core.portfolio import (
    BatchInputs,
    BatchResult,
    EngineSettings,
    PortfolioResult,
    compute_batch,
    finalize_portfolio,
)
from core.progress import batch_share, reporting
from db import queries_recompute as q
from db.models import Forecast, RecomputeRun, Sku, SkuSnapshot, utcnow
from services.consensus_record import future_grid, record_run_layers
from services.engine_inputs import (
    PortfolioInputs,
    RunContext,
    load_portfolio_inputs,
)
from services.errors import UserFacingError
from services.orders import sync_recommendations  # recommendations -> recommended purchase orders (issue 10)
from services.partial_runs import _partial_plan, carry_forward, finish_partial
from services.transfers import propose_after_run
from settings import get_settings

log = logging.getLogger(__name__)

KEEP_RUNS = 10
"""Finished runs whose snapshots and forecasts are kept; older runs are deleted after each finished run."""
STALE_RUNNING = dt.timedelta(hours=1)
"""A run still ``running`` after this long belonged to a process that died; it is marked failed."""
POOL_MIN_SKUS = 1_000
"""Below this many SKUs the batches run in-process: starting worker processes (about 2-4 s each to import the
engine) costs more than it saves."""


STAGES: tuple[str, ...] = ("load", "compute", "finalize", "write", "prune", "total")


Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ComputeJob:
    """What :func:`recompute` hands its compute strategy: the run, its inputs and how to report progress."""

    run_id: int
    inputs: PortfolioInputs
    settings: EngineSettings
    batch_size: int
    workers: int | None = None
    progress: Progress | None = None
    cancel: Callable[[], bool] | None = None
    progress_span: tuple[float, float] = (0.0, 1.0)


class ComputeStrategy(Protocol):
    """How :func:`recompute` computes the batches: :data:`LOCAL` (this process, a process pool when it pays) or
    :class:`services.jobs.WorkerCompute` (the Celery workers). Given as an argument, so this module never imports
    :mod:`services.jobs` (docs/architecture.md, "Who may import whom")."""

    def reap(self, *, session: Session) -> None:
        """Mark ``running`` runs that are dead as failed before a new run starts (may commit)."""

    def __call__(self, job: ComputeJob) -> tuple[PortfolioResult, dict[str, float], int]:
        """The portfolio result, timings and processes used, as :func:`compute` returns them."""


@dataclass(frozen=True)
class LocalCompute:
    """The batches in this process (:func:`compute`); dead runs are only found by age (:data:`STALE_RUNNING`)."""

    def reap(self, *, session: Session) -> None:
        return None

    def __call__(self, job: ComputeJob) -> tuple[PortfolioResult, dict[str, float], int]:
        return compute(
            inputs=job.inputs,
            settings=job.settings,
            batch_size=job.batch_size,
            workers=job.workers,
            progress=job.progress,
            cancel=job.cancel,
            progress_span=job.progress_span,
        )


LOCAL = LocalCompute()


class RecomputeError(UserFacingError):
    """The recompute failed; the run is recorded as failed and the previous results stay current."""

    def __init__(self, message: str, *, run_id: int | None) -> None:
        super().__init__(message)
        self.run_id = run_id


class RecomputeCancelledError(Exception):
    """Raised inside the pipeline when ``cancel()`` returns True."""


@dataclass
class RunSummary:
    """Outcome of one recompute."""

    run_id: int | None
    status: str  # finished | failed | cancelled
    sku_count: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    grain: str | None = None
    data_as_of: dt.date | None = None
    kpis: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    workers: int = 1
    batches: int = 0
    scope: dict[str, Any] | None = None
    """Partial runs: ``{"partial": True, "skus": [...], "sku_count": n, "edited_skus": [...], "edited_count": m,
    "carried_from": run id, "carried_skus": k}``; None: full."""


# --- the steps ----------------------------------------------------------------------------------------------------


def start_run(*, session: Session, triggered_by: str | None, strategy: ComputeStrategy = LOCAL) -> int:
    """Record a new run (status running), marking runs left ``running`` for over ``STALE_RUNNING`` as failed
    (and those the ``strategy`` knows to be dead: runs on the Celery workers, whose deadlines Redis knows).

    Commits the session. Returns the run id.
    """
    try:
        strategy.reap(session=session)
    except Exception:  # the age rule below still applies
        session.rollback()
        log.warning("could not check the running runs against Redis", exc_info=True)
    now = utcnow()
    stale = q.stale_running_runs(session.connection(), started_before=now - STALE_RUNNING)
    if stale:
        session.execute(
            update(RecomputeRun)
            .where(RecomputeRun.id.in_(stale))
            .values(status="failed", finished_at=now, error="interrupted: the process running it stopped")
        )
    run = RecomputeRun(status="running", started_at=now, triggered_by=triggered_by)
    session.add(run)
    session.flush()
    run_id = int(run.id)
    session.commit()
    return run_id


def plan_batches(*, count: int, batch_size: int) -> list[slice]:
    """Fixed batches over ``count`` SKUs in code order: [0, b), [b, 2b), ... (the last may be shorter)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [slice(i, min(i + batch_size, count)) for i in range(0, count, batch_size)]


def compute_one(inputs: BatchInputs, settings: EngineSettings) -> BatchResult:
    """Compute one batch (module-level so a worker process can run it).

    BLAS and OpenMP are limited to one thread: the parallelism is the process pool. Measured on the 2-core box under
    load, scikit-learn's OpenMP gradient boosting spent 7x the CPU time spin-waiting with 2 threads (2,000 series:
    44.6 s CPU with 2 threads vs 6.7 s with 1), and a 10-series batch took 110 s instead of 2.5 s."""
    cpu = time.process_time()
    with threadpool_limits(limits=1):
        result = compute_batch(inputs, settings=settings)
    result.timings["cpu"] = time.process_time() - cpu  # CPU seconds of this batch (summed as compute_cpu)
    return result


def _worker_init() -> None:  # spawn worker: one OpenMP/BLAS thread before any native library loads
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["OPENBLAS_NUM_THREADS"] = "1"


def default_workers(n_batches: int, n_skus: int = POOL_MIN_SKUS) -> int:
    """Processes for ``n_batches``: one per core (at most one per batch); 1 for a single batch, fewer than
    ``POOL_MIN_SKUS`` SKUs, or inside a daemon process (which may not start children, e.g. a Dash background job)."""
    if n_batches <= 1 or n_skus < POOL_MIN_SKUS or multiprocessing.current_process().daemon:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, n_batches))


def compute(
    *,
    inputs: PortfolioInputs,
    settings: EngineSettings,
    batch_size: int,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    progress_span: tuple[float, float] = (0.0, 1.0),
) -> tuple[PortfolioResult, dict[str, float], int]:
    """Run the engine on ``inputs`` in fixed batches and finalize the portfolio.

    Returns the portfolio result, timings (``compute`` wall time, the engine stages summed over batches, ``finalize``)
    and the number of worker processes used. Results are in code order and identical for any number of workers; in
    one process the engine's stages move ``progress`` inside each batch (:func:`core.progress.batch_share`)."""
    parts = plan_batches(count=len(inputs), batch_size=batch_size)
    n_workers = default_workers(len(parts), len(inputs)) if workers is None else max(1, min(int(workers), len(parts)))
    lo, hi = progress_span
    results: list[BatchResult | None] = [None] * len(parts)
    start = time.perf_counter()

    def report(done: int) -> None:
        if progress is not None:
            skus = sum(p.stop - p.start for p, r in zip(parts, results, strict=True) if r is not None)
            progress(
                lo + (hi - lo) * done / max(len(parts), 1),
                f"forecast and policies: batch {done} of {len(parts)} ({skus:,} of {len(inputs):,} SKUs)",
            )

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise RecomputeCancelledError

    if n_workers <= 1:
        for i, part in enumerate(parts):
            check_cancel()
            with reporting(batch_share(progress, span=(lo, hi), batch=i, parts=parts)):
                results[i] = compute_one(inputs.batch(part), settings)
            report(i + 1)
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server process
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=context, initializer=_worker_init) as pool:
            try:
                futures: list[Future] = [pool.submit(compute_one, inputs.batch(part), settings) for part in parts]
                done = 0
                for i, future in enumerate(futures):  # collect in batch order; report as each completes in turn
                    while True:
                        check_cancel()
                        try:
                            results[i] = future.result(timeout=0.5)
                            break
                        except TimeoutError:
                            continue
                    done += 1
                    report(done)
            except BaseException:  # cancel or error: stop now rather than after the batches in flight
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    timings: dict[str, float] = {"compute": time.perf_counter() - start}
    check_cancel()
    portfolio = finalize_portfolio([r for r in results if r is not None], settings=settings)
    for key, value in portfolio.timings.items():
        timings[key] = float(value)
    timings.pop("total", None)
    if "cpu" in timings:
        timings["compute_cpu"] = timings.pop("cpu")
    return portfolio, timings, n_workers


def _snapshot_rows(*, run_id: int, inputs: PortfolioInputs, portfolio: PortfolioResult) -> pd.DataFrame:
    snap = portfolio.snapshot
    table_columns = {c.name for c in SkuSnapshot.__table__.columns} - {"id", "run_id", "sku_id", "lead_time_source"}
    columns = [c for c in snap.columns if c in table_columns]
    frame = snap[columns].reset_index(drop=True).copy()
    codes = [str(c) for c in snap.index]
    if codes != inputs.codes:
        raise ValueError("the engine returned the SKUs in a different order than they were given")
    frame.insert(0, "run_id", run_id)
    frame.insert(1, "sku_id", inputs.sku_ids)
    frame["lead_time_source"] = inputs.lead_time_source
    frame["status_reason"] = frame["status_reason"].fillna("").astype(str)
    last = last_reported(history=inputs.history)  # the SKU's own last reported period (issue 15)
    dates = inputs.context.period_dates
    frame["last_reported"] = [dates[i].date() if i >= 0 else None for i in last]
    if "periods_since_last_sale" in frame:
        frame["periods_since_last_sale"] = pd.array(
            np.round(frame["periods_since_last_sale"].to_numpy(dtype=float)), dtype="Int64"
        )
    for column in frame.columns:
        if frame[column].dtype == object and column != "model_scores":
            frame[column] = frame[column].where(frame[column].notna(), None)
    return frame


def _forecast_rows(*, run_id: int, inputs: PortfolioInputs, portfolio: PortfolioResult) -> pd.DataFrame:
    mean = np.asarray(portfolio.mean, dtype=float)
    ok = np.isfinite(mean)
    sku_f, period_f = future_grid(inputs=inputs, portfolio=portfolio)
    future = pd.DataFrame(
        {
            "run_id": run_id,
            "sku_id": sku_f[ok],
            "period": period_f[ok],
            "kind": "future",
            "mean": mean[ok],
            "p10": np.asarray(portfolio.p10, dtype=float)[ok],
            "p50": np.asarray(portfolio.p50, dtype=float)[ok],
            "p90": np.asarray(portfolio.p90, dtype=float)[ok],
        }
    )
    if getattr(portfolio, "uplift", None) is not None:  # issue 20: units planned promotions add (NULL: no plan)
        future["uplift"] = np.asarray(portfolio.uplift, dtype=float)[ok]
    backtest = np.asarray(portfolio.backtest, dtype=float)
    rows, cols = np.nonzero(np.isfinite(backtest))
    past_dates = np.array([d.strftime(formats.DATE_FORMAT) for d in inputs.context.period_dates], dtype=object)
    past = pd.DataFrame(
        {
            "run_id": run_id,
            "sku_id": inputs.sku_ids[rows],
            "period": past_dates[cols] if len(cols) else np.empty(0, dtype=object),
            "kind": "backtest",
            "mean": backtest[rows, cols],
            "p10": np.nan,
            "p50": np.nan,
            "p90": np.nan,
        }
    )
    return pd.concat([future, past], ignore_index=True)


def store_run(
    *,
    session: Session,
    run_id: int,
    inputs: PortfolioInputs | None,
    portfolio: PortfolioResult | None,
    timings: dict[str, float],
    carry_from: int | None = None,
    settings: EngineSettings | None = None,
    scope: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Write the run's snapshot and forecast rows and mark it finished, in the session's open transaction.

    The caller commits (or rolls back). ``inputs`` / ``portfolio`` None: an empty run (no active SKU).
    ``carry_from``: a partial run -- after the recommendations of the computed SKUs are synced, the other active SKUs'
    rows are copied from that run (:func:`carry_forward`) and ABC / KPIs are redone over the whole run
    (:func:`finish_partial`, with ``settings``); ``scope`` is stored in ``timings["scope"]``.
    Returns the rows written per table (``carried_sku_snapshot`` / ``carried_forecast`` for the copies).
    """
    connection = session.connection()
    q.lock_writes(connection)
    counts = {"sku_snapshot": 0, "forecast": 0}
    kpis: dict[str, Any] = {"sku_count": 0}
    context: RunContext | None = None
    if inputs is not None and portfolio is not None:
        context = inputs.context
        mark = time.perf_counter()
        counts["sku_snapshot"] = q.insert_frame(
            connection,
            SkuSnapshot.__table__,
            _snapshot_rows(run_id=run_id, inputs=inputs, portfolio=portfolio),
            json_columns=("model_scores",),
        )
        timings["write_snapshot"] = time.perf_counter() - mark
        mark = time.perf_counter()
        rows = _forecast_rows(run_id=run_id, inputs=inputs, portfolio=portfolio)
        timings["write_forecast_build"] = time.perf_counter() - mark
        mark = time.perf_counter()
        counts["forecast"] = q.insert_frame(connection, Forecast.__table__, rows)
        timings["write_forecast_insert"] = time.perf_counter() - mark
        mark = time.perf_counter()
        counts["consensus_layer"] = record_run_layers(
            connection=connection, run_id=run_id, inputs=inputs, portfolio=portfolio
        )
        timings["write_consensus_layers"] = time.perf_counter() - mark
        kpis = q.json_safe(dict(portfolio.kpis))
    finished = session.execute(
        update(RecomputeRun)
        .where(RecomputeRun.id == run_id, RecomputeRun.status == "running")
        .values(
            status="finished",
            finished_at=utcnow(),
            grain=context.grain if context else None,
            data_as_of=context.data_as_of if context else None,
            sku_count=counts["sku_snapshot"],
            kpis=kpis,
            timings=_timings_json(timings, scope),
            error=None,
        )
    )
    if not finished.rowcount:  # e.g. marked failed by services.jobs.reap_stale_runs after its deadline
        raise RecomputeError(f"run {run_id} is no longer running; its results were discarded", run_id=run_id)
    mark = time.perf_counter()
    counts["purchase_order"] = sync_recommendations(session=session, run_id=run_id).created
    timings["write_orders"] = time.perf_counter() - mark
    if carry_from is not None and inputs is not None and portfolio is not None:
        mark = time.perf_counter()
        carried = carry_forward(session=session, run_id=run_id, from_run=carry_from)
        counts["carried_sku_snapshot"], counts["carried_forecast"] = carried["sku_snapshot"], carried["forecast"]
        timings["write_carry"] = time.perf_counter() - mark
        if scope is not None:
            scope["carried_skus"] = carried["sku_snapshot"]
        if carried["sku_snapshot"]:
            mark = time.perf_counter()
            kpis = finish_partial(
                session=session,
                run_id=run_id,
                computed_ids=inputs.sku_ids,
                computed_kpis=kpis,
                settings=settings or EngineSettings(),
            )
            timings["write_finalize"] = time.perf_counter() - mark
        counts["sku_snapshot"] += carried["sku_snapshot"]
        counts["forecast"] += carried["forecast"]
        session.execute(
            update(RecomputeRun)
            .where(RecomputeRun.id == run_id)
            .values(sku_count=counts["sku_snapshot"], kpis=kpis, timings=_timings_json(timings, scope))
        )
        counts["kpis"] = kpis  # type: ignore[assignment]  # read back by recompute()
    counts["transfer"] = propose_after_run(session=session, run_id=run_id)  # issue 21: move stock before buying
    return counts


def _timings_json(timings: dict[str, float], scope: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = q.json_safe({k: round(float(v), 4) for k, v in timings.items()})
    if scope is not None:
        out["scope"] = q.json_safe(scope)
    return out


def prune_runs(*, session: Session, keep: int = KEEP_RUNS) -> list[int]:
    """Delete runs older than the ``keep`` newest finished ones, with their rows; commits. Returns deleted ids."""
    deleted = q.prune_runs(session.connection(), keep=keep)
    session.commit()
    return deleted


def _mark(
    session: Session,
    run_id: int,
    status: str,
    error: str | None,
    timings: dict[str, float],
    scope: dict[str, Any] | None = None,
) -> None:
    session.execute(
        update(RecomputeRun)
        .where(RecomputeRun.id == run_id)
        .values(
            status=status,
            finished_at=utcnow(),
            error=(error or "")[:4000] or None,
            timings=_timings_json(timings, scope),
        )
    )
    session.commit()


# --- the use case -------------------------------------------------------------------------------------------------


def _partial_scope(
    *, session: Session, sku_codes: list[str], engine_settings: EngineSettings, min_receipts: int
) -> tuple[list[str] | None, dict[str, Any], int | None, RunContext | None]:
    """The SKUs, scope, carry-from run and run context of a partial recompute of ``sku_codes`` (module docstring,
    "Partial runs"): the active ones among them plus those edited since the latest finished run; every SKU (None)
    when the carried rows would be on another grid. Raises :class:`RecomputeError` when none is an active SKU."""
    codes = sorted({str(c).strip() for c in sku_codes if str(c).strip()})
    known = list(session.scalars(select(Sku.code).where(Sku.active.is_(True), Sku.code.in_(codes))))
    session.commit()  # end the read transaction (recompute commits the session it is given anyway)
    if not known:
        shown = ", ".join(codes[:5]) or "none given"
        raise RecomputeError(f"none of the SKU codes is an active SKU ({shown})", run_id=None)
    sku_codes = sorted(known)
    carry_from, context, fallback = _partial_plan(
        session=session,
        horizon=engine_settings.horizon,
        min_receipts=min_receipts,
    )
    edited: list[str] = []
    if carry_from is not None:  # carried rows of SKUs edited since that run would be stale: recompute them too
        edited = q.edited_since_run(session.connection(), run_id=carry_from, exclude=sku_codes)
        sku_codes = sorted({*sku_codes, *edited})
    session.commit()
    scope = {
        "partial": True,
        "skus": sku_codes[:1000],
        "sku_count": len(sku_codes),
        "edited_skus": edited[:1000],
        "edited_count": len(edited),
        "carried_from": carry_from,
        "carried_skus": 0,
    }
    if fallback is not None:  # the carried rows would be on another grid: compute everything
        log.info("partial recompute of %s SKUs runs on every SKU: %s", len(sku_codes), fallback)
        scope = {"partial": False, "requested_skus": sku_codes[:1000], "fallback": fallback}
        sku_codes = None
    return sku_codes, scope, carry_from, context


def _compute_and_store(
    *,
    session: Session,
    run_id: int,
    summary: RunSummary,
    sku_codes: list[str] | None,
    context: RunContext | None,
    carry_from: int | None,
    scope: dict[str, Any] | None,
    engine_settings: EngineSettings,
    min_receipts: int,
    size: int,
    workers: int | None,
    strategy: ComputeStrategy,
    cancel: Callable[[], bool] | None,
    say: Callable[[float, str], None],
    check_cancel: Callable[[], None],
    started: float,
) -> None:
    """The stages of one run: load the inputs, compute them with ``strategy``, store the snapshot (one transaction).
    Fills ``summary`` and its ``timings``; raises :class:`RecomputeCancelledError` when ``cancel`` says so."""
    timings = summary.timings
    say(0.0, "loading demand, SKUs, stock, orders, receipts and overrides")
    mark, cpu = time.perf_counter(), time.process_time()
    inputs = load_portfolio_inputs(
        connection=session.connection(),
        horizon=engine_settings.horizon,
        min_receipts=min_receipts,
        sku_codes=sku_codes,
        context=context,
    )
    session.commit()  # end the read transaction: nothing is held open while the engine runs
    timings["load"] = time.perf_counter() - mark
    timings["load_cpu"] = time.process_time() - cpu
    if inputs is not None:
        summary.grain = inputs.context.grain
        summary.data_as_of = inputs.context.data_as_of
        summary.sku_count = len(inputs)
        say(0.05, f"loaded {len(inputs):,} SKUs x {inputs.context.n_periods} {inputs.context.grain} periods")
    check_cancel()

    portfolio = None
    if inputs is not None:
        job = ComputeJob(
            run_id=run_id,
            inputs=inputs,
            settings=engine_settings,
            batch_size=size,
            workers=workers,
            progress=say,
            cancel=cancel,
            progress_span=(0.05, 0.85),
        )
        portfolio, engine_timings, used = strategy(job)
        timings.update(engine_timings)
        summary.workers = used
        summary.batches = len(plan_batches(count=len(inputs), batch_size=size))
        say(0.88, "portfolio ABC and KPIs done")
    check_cancel()

    say(0.9, "writing the snapshot and forecasts")
    mark, cpu = time.perf_counter(), time.process_time()
    timings["total"] = time.perf_counter() - started
    counts = store_run(
        session=session,
        run_id=run_id,
        inputs=inputs,
        portfolio=portfolio,
        timings=timings,
        carry_from=carry_from,
        settings=engine_settings,
        scope=scope,
    )
    check_cancel()
    session.commit()
    timings["write"] = time.perf_counter() - mark
    timings["write_cpu"] = time.process_time() - cpu
    summary.kpis = q.json_safe(dict(portfolio.kpis)) if portfolio is not None else {"sku_count": 0}
    if "kpis" in counts:
        summary.kpis = dict(counts["kpis"])  # type: ignore[call-overload]
    summary.sku_count = counts["sku_snapshot"]


def _finish_run(
    *, session: Session, run_id: int, summary: RunSummary, keep_runs: int, scope: dict[str, Any] | None, started: float
) -> None:
    """Prune old runs (housekeeping never fails a finished run) and store the run's final timings."""
    timings = summary.timings
    mark = time.perf_counter()
    try:
        prune_runs(session=session, keep=keep_runs)
    except Exception:  # housekeeping must not fail a finished run
        session.rollback()
        log.exception("pruning old runs failed")
    timings["prune"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    session.execute(update(RecomputeRun).where(RecomputeRun.id == run_id).values(timings=_timings_json(timings, scope)))
    session.commit()
    summary.status, summary.seconds = "finished", timings["total"]


def recompute(
    *,
    session: Session,
    triggered_by: str | None = None,
    progress: Progress | None = None,
    sku_codes: list[str] | None = None,
    settings: EngineSettings | None = None,
    cancel: Callable[[], bool] | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    keep_runs: int = KEEP_RUNS,
    strategy: ComputeStrategy = LOCAL,
    run_id: int | None = None,
) -> RunSummary:
    """Recompute the portfolio (or ``sku_codes`` only) and store the results as a new run.

    Parameters
    ----------
    session
        The session to work in; recompute commits it (run row first, results at the end).
    triggered_by
        Who or what started it (e-mail, "cli", "seed-demo"), stored on the run.
    progress
        Called with (fraction 0..1, message) after each stage and batch.
    sku_codes
        Only these active SKUs (None: every active SKU), plus the active SKUs whose master was edited since the
        latest finished run started. The run still holds every active SKU: the others are carried forward from the
        latest finished run (module docstring, "Partial runs"); with no finished run yet it holds just these.
        Raises :class:`RecomputeError` (no run recorded) when none of them is an active SKU.
    settings
        Engine parameters (default :class:`core.portfolio.EngineSettings`).
    cancel
        Polled between batches and before writing; True stops the run (status ``cancelled``, nothing written).
    batch_size
        SKUs per batch (default: settings ``RECOMPUTE_BATCH_SIZE``).
    workers
        Processes computing batches (default: one per core, 1 for a single batch or inside a daemon process).
    keep_runs
        Finished runs whose rows are kept.
    strategy
        How the batches are computed: :data:`LOCAL` (this process) or :class:`services.jobs.WorkerCompute` (the
        Celery workers, :func:`services.jobs.recompute_portfolio`). The snapshot is the same either way.
    run_id
        A run already recorded with :func:`start_run` (status ``running``), e.g. by the API before it queued the
        recompute on a worker; None: record a new one.

    Returns
    -------
    RunSummary
        Status ``finished`` or ``cancelled``.

    Raises
    ------
    RecomputeError
        The run failed (it is recorded as failed; the previous finished run stays the latest).
    """
    app_settings = get_settings()
    engine_settings = settings or EngineSettings()
    size = int(batch_size or app_settings.recompute_batch_size)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def say(fraction: float, message: str) -> None:
        if progress is not None:
            progress(min(max(float(fraction), 0.0), 1.0), message)

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise RecomputeCancelledError

    scope: dict[str, Any] | None = None
    carry_from: int | None = None
    context: RunContext | None = None
    if sku_codes is not None:
        sku_codes, scope, carry_from, context = _partial_scope(
            session=session,
            sku_codes=sku_codes,
            engine_settings=engine_settings,
            min_receipts=app_settings.receipts_min_for_learned_lead_time,
        )
    if run_id is None:
        run_id = start_run(session=session, triggered_by=triggered_by, strategy=strategy)
    else:
        run_id = int(run_id)
        session.commit()
    summary = RunSummary(run_id=run_id, status="running", sku_count=0, seconds=0.0, timings=timings, scope=scope)
    try:
        _compute_and_store(
            session=session,
            run_id=run_id,
            summary=summary,
            sku_codes=sku_codes,
            context=context,
            carry_from=carry_from,
            scope=scope,
            engine_settings=engine_settings,
            min_receipts=app_settings.receipts_min_for_learned_lead_time,
            size=size,
            workers=workers,
            strategy=strategy,
            cancel=cancel,
            say=say,
            check_cancel=check_cancel,
            started=started,
        )
    except RecomputeCancelledError:
        session.rollback()
        timings["total"] = time.perf_counter() - started
        _mark(session, run_id, "cancelled", "cancelled by the user", timings, scope)
        say(1.0, "cancelled")
        summary.status, summary.error, summary.seconds = "cancelled", "cancelled by the user", timings["total"]
        return summary
    except BaseException as exc:
        session.rollback()
        timings["total"] = time.perf_counter() - started
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.exception("recompute run %s failed", run_id)
        try:
            _mark(session, run_id, "failed", error, timings, scope)
        except Exception:  # the database itself may be the problem; the original error matters more
            session.rollback()
            log.exception("could not record run %s as failed", run_id)
        if not isinstance(exc, Exception):
            raise
        message = str(exc) if isinstance(exc, UserFacingError) else error
        raise RecomputeError(f"recompute failed (run {run_id}): {message}", run_id=run_id) from exc

    _finish_run(session=session, run_id=run_id, summary=summary, keep_runs=keep_runs, scope=scope, started=started)
    say(1.0, f"finished: {summary.sku_count:,} SKUs in {summary.seconds:.1f} s")
    return summary


# --- failed runs ----------------------------------------------------------------------------------------------------


def fail_run(*, session: Session, run_id: int, error: str) -> None:
    """Mark a run that never started (e.g. it could not be queued) as failed with ``error``; commits."""
    _mark(session, int(run_id), "failed", error, {})
