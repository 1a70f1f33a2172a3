"""The policy backtest use case: would the engine's reorder policies have worked on demand they did not see?

For a scope (:class:`services.backtest.scope.BacktestScope`) this loads exactly what a recompute loads
(:func:`services.engine_inputs.load_portfolio_inputs`: the demand matrix on the portfolio's period grid, the SKU
master with the learned lead times, the engine settings a recompute uses), leaves out the SKUs whose history is
shorter than N + ``MIN_FIT_PERIODS`` periods (each with its reason), cuts the others into the recompute's fixed
batches (``RECOMPUTE_BATCH_SIZE`` consecutive SKUs in code order: the engine's cross-series model and bootstrap see
the same batches a recompute of these SKUs would) and calls :func:`core.policy_eval.evaluate_policies` on each --
the engine fitted on all but the last N periods, its policy and the textbook baseline (at each SKU's own target and
swept over the frontier's targets) replayed through the last N. The batches' per-SKU replays are joined and
summarised with :func:`core.backtest.summarise`; the engine's point is read against the joined frontier with
:func:`core.policy_eval.frontier_comparison`. Lead times in the replay are the deterministic means (the engine's
and the textbook's replays see the same arrivals).

Several batches run in a process pool like a recompute (one process per core; one inside a daemon process such as a
Dash background job). The result is returned as a JSON-ready document (:mod:`services.backtest.document`) and stored
(:mod:`services.backtest.store`) so the Risk page and the briefing can show it without replaying again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.backtest import ReplayResult, summarise
from core.policy_eval import PolicyEvaluation, PolicyPoint, evaluate_policies, frontier_comparison
from core.portfolio import EngineSettings
from services.backtest.results import BacktestResult, Replayed
from services.backtest.scope import BacktestError, BacktestScope, scope_codes
from services.engine_inputs import PortfolioInputs, RunContext, load_context, load_portfolio_inputs
from services.errors import UserFacingError
from services.partial_runs import portfolio_context
from services.runs import latest_run
from settings import get_settings

log = logging.getLogger(__name__)

DEFAULT_PERIODS: dict[str, int] = {"weekly": 26, "monthly": 12, "daily": 90}
"""Periods replayed when none are given: half a year of weeks, a year of months, a quarter of days."""
MIN_FIT_PERIODS = 8
"""Periods of history a SKU needs before the replayed ones (the engine's shortest useful fit)."""
GRAIN_UNIT = {"daily": "day", "weekly": "week", "monthly": "month"}

Progress = Callable[[float, str], None]


class BacktestCancelledError(Exception):
    """Raised between batches when ``cancel()`` returns True."""


def default_periods(grain: str | None) -> int:
    """N for a grain when none is given (26 weekly, 12 monthly, 90 daily)."""
    return DEFAULT_PERIODS.get(grain or "weekly", DEFAULT_PERIODS["weekly"])


def unit(grain: str | None, count: float = 2) -> str:
    """``week`` / ``weeks`` (``period`` for an unknown grain)."""
    word = GRAIN_UNIT.get(grain or "", "period")
    return word if abs(count - 1) < 1e-9 else word + "s"


@dataclass(frozen=True)
class BatchJob:
    """One batch's call of :func:`core.policy_eval.evaluate_policies` (picklable: can run in another process)."""

    codes: list[str]
    history: np.ndarray
    period_dates: pd.DatetimeIndex
    grain: str
    sku: pd.DataFrame
    periods: int
    settings: EngineSettings
    keep_paths: bool = False


def _single_thread_worker() -> None:  # spawn worker: one OpenMP / BLAS thread before any native library loads
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["OPENBLAS_NUM_THREADS"] = "1"


def evaluate_batch(job: BatchJob) -> tuple[PolicyEvaluation, float]:
    """Evaluate one batch with one BLAS / OpenMP thread (the parallelism is the process pool, as in a recompute).

    Returns the evaluation and its wall seconds.
    """
    from threadpoolctl import threadpool_limits

    import core.forecast  # noqa: F401  (loads scikit-learn's OpenMP runtime so the limit below reaches it)

    start = time.perf_counter()
    with threadpool_limits(limits=1):
        evaluation = evaluate_policies(
            codes=job.codes,
            history=job.history,
            period_dates=job.period_dates,
            grain=job.grain,
            sku=job.sku,
            periods=job.periods,
            settings=job.settings,
            keep_paths=job.keep_paths,
        )
    return evaluation, time.perf_counter() - start


# --------------------------------------------------------------------------------------------------------------------
# inputs


def _portfolio_grid(*, session: Session, horizon: int, min_receipts: int) -> RunContext | None:
    """The period grid a full recompute would use now: on the latest finished run's grain when its data still ends
    where the demand ends (one aggregate query), else detected from every active SKU's demand (None: no demand)."""
    run = latest_run(session=session)
    if run is not None and run.grain:
        context = portfolio_context(session=session, grain=run.grain, horizon=horizon, min_receipts=min_receipts)
        if context is not None and context.data_as_of == run.data_as_of:
            return context
    context, _ = load_context(connection=session.connection(), sku_ids=None, horizon=horizon, min_receipts=min_receipts)
    return context


def load_inputs(*, session: Session, scope: BacktestScope, settings: EngineSettings) -> PortfolioInputs:
    """The engine inputs of the scope's active SKUs, loaded as a recompute loads them.

    Raises
    ------
    BacktestError
        The scope holds no active SKU, or there is no demand history at all.
    """
    min_receipts = get_settings().receipts_min_for_learned_lead_time
    codes = scope_codes(session=session, scope=scope)
    context = None
    if codes is not None:  # a segment or SKU is replayed on the whole portfolio's grid, as a partial recompute
        context = _portfolio_grid(session=session, horizon=settings.horizon, min_receipts=min_receipts)
    try:
        inputs = load_portfolio_inputs(
            connection=session.connection(),
            horizon=settings.horizon,
            min_receipts=min_receipts,
            sku_codes=codes,
            context=context,
        )
    except BacktestError:
        raise
    except UserFacingError as exc:
        raise BacktestError(str(exc), kind="no_data") from None
    if inputs is None:
        raise BacktestError("there are no active SKUs yet: import the SKU master and demand first", kind="no_data")
    return inputs


def history_lengths(history: np.ndarray) -> np.ndarray:
    """Periods of history per SKU: from its first observed period to the end of the grid (0 without any)."""
    observed = np.isfinite(history)
    t_len = history.shape[1]
    first = np.where(observed.any(axis=1), observed.argmax(axis=1), t_len)
    return t_len - first


def check_periods(periods: Any, *, t_len: int, grain: str) -> int:
    """N as a whole number that leaves ``MIN_FIT_PERIODS`` periods of the grid to fit on.

    Raises
    ------
    BacktestError
        (``periods``) not a whole number >= 1, or longer than the history allows.
    """
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer | float) or int(periods) != periods:
        raise BacktestError(f"periods must be a whole number, got {periods!r}", field="periods")
    n = int(periods)
    if n < 1:
        raise BacktestError(f"periods must be at least 1, got {n}", field="periods")
    longest = t_len - MIN_FIT_PERIODS
    if longest < 1:
        raise BacktestError(
            f"the history has {t_len} {unit(grain, t_len)}: a backtest needs at least {MIN_FIT_PERIODS + 1} "
            f"({MIN_FIT_PERIODS} to fit, 1 to replay)",
            field="periods",
            kind="no_data",
        )
    if n > longest:
        raise BacktestError(
            f"periods {n} is longer than the history allows: it holds {t_len} {unit(grain, t_len)} and the fit needs "
            f"{MIN_FIT_PERIODS} before the replay, so at most {longest}",
            field="periods",
        )
    return n


def exclusions(*, codes: list[str], lengths: np.ndarray, periods: int, grain: str) -> tuple[np.ndarray, list[dict]]:
    """Which SKUs are replayed (bool (n,)) and the others as ``{"code", "reason"}`` (code order)."""
    need = periods + MIN_FIT_PERIODS
    keep = lengths >= need
    out: list[dict[str, str]] = []
    for i in np.flatnonzero(~keep):
        have = int(lengths[i])
        reason = (
            "no demand history"
            if have == 0
            else f"{have} {unit(grain, have)} of history; replaying {periods} needs at least {need} "
            f"({periods} replayed + {MIN_FIT_PERIODS} to fit)"
        )
        out.append({"code": codes[i], "reason": reason})
    return keep, out


# --------------------------------------------------------------------------------------------------------------------
# running the batches


def _concat_replays(parts: list[ReplayResult]) -> ReplayResult:
    """Per-SKU replays of consecutive batches as one (arrays joined in batch order)."""
    if len(parts) == 1:
        return parts[0]
    values: dict[str, Any] = {}
    for f in fields(ReplayResult):
        if f.name == "periods":
            values[f.name] = parts[0].periods
        elif f.name == "paths":
            keys = parts[0].paths.keys()
            values[f.name] = {k: np.concatenate([p.paths[k] for p in parts], axis=0) for k in keys}
        else:
            values[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
    return ReplayResult(**values)


def _joined_point(points: list[PolicyPoint]) -> PolicyPoint:
    replay = _concat_replays([p.replay for p in points])
    return replace(points[0], replay=replay, summary=summarise(replay))


def join_evaluations(evaluations: list[PolicyEvaluation]) -> Replayed:
    """One :class:`Replayed` from the batches' evaluations (a single batch is taken as it is)."""
    first = evaluations[0]
    if len(evaluations) == 1:
        return Replayed(
            periods=first.periods,
            target_service_level=first.target_service_level,
            engine=first.engine,
            baseline=first.baseline,
            frontier=list(first.frontier),
            fill_gap_at_equal_inventory=first.fill_gap_at_equal_inventory,
            inventory_ratio_at_equal_fill=first.inventory_ratio_at_equal_fill,
            policies=first.policies,
        )
    engine = _joined_point([e.engine for e in evaluations])
    baseline = _joined_point([e.baseline for e in evaluations])
    frontier = [_joined_point([e.frontier[k] for e in evaluations]) for k in range(len(first.frontier))]
    gap, ratio = frontier_comparison(
        frontier_inventory=[p.summary.average_inventory_value for p in frontier],
        frontier_fill=[p.summary.fill_rate for p in frontier],
        inventory=engine.summary.average_inventory_value,
        fill=engine.summary.fill_rate,
    )
    # the target is demand-weighted within each batch; weight the batches by their replayed demand
    weights = np.array([e.engine.summary.demand for e in evaluations])
    targets = np.array([e.target_service_level for e in evaluations])
    ok = np.isfinite(targets) & (weights > 0)
    target = float(np.sum(targets[ok] * weights[ok]) / weights[ok].sum()) if ok.any() else float("nan")
    policies = {
        name: {k: np.concatenate([e.policies[name][k] for e in evaluations]) for k in first.policies[name]}
        for name in first.policies
    }
    return Replayed(
        periods=first.periods,
        target_service_level=target,
        engine=engine,
        baseline=baseline,
        frontier=frontier,
        fill_gap_at_equal_inventory=gap,
        inventory_ratio_at_equal_fill=ratio,
        policies=policies,
    )


def run_batches(
    jobs: list[BatchJob],
    *,
    workers: int,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> tuple[list[PolicyEvaluation], dict[str, float]]:
    """Evaluate the batches (in a process pool when ``workers`` > 1), in batch order.

    Returns the evaluations and timings: ``evaluate`` (wall), ``fit`` (the engine fits, summed over batches) and
    ``replay`` (the rest of the batches' time: engine, baseline and frontier replays).
    """
    lo, hi = span
    results: list[PolicyEvaluation | None] = [None] * len(jobs)
    batch_seconds = 0.0
    start = time.perf_counter()
    total_skus = sum(len(j.codes) for j in jobs)

    def done(i: int, count: int) -> None:
        if progress is not None:
            skus = sum(len(j.codes) for j, r in zip(jobs, results, strict=True) if r is not None)
            progress(
                lo + (hi - lo) * count / max(len(jobs), 1),
                f"fit and replay: batch {count} of {len(jobs)} ({skus:,} of {total_skus:,} SKUs)",
            )

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise BacktestCancelledError

    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            check_cancel()
            results[i], seconds = evaluate_batch(job)
            batch_seconds += seconds
            done(i, i + 1)
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server process
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_single_thread_worker) as pool:
            try:
                futures: list[Future] = [pool.submit(evaluate_batch, job) for job in jobs]
                for i, future in enumerate(futures):
                    while True:
                        check_cancel()
                        try:
                            results[i], seconds = future.result(timeout=0.5)
                            break
                        except TimeoutError:
                            continue
                    batch_seconds += seconds
                    done(i, i + 1)
            except BaseException:  # cancel or error: stop the batches in flight now
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    evaluations = [r for r in results if r is not None]
    fit = float(sum(e.engine_batch.timings.get("total", 0.0) for e in evaluations))
    timings = {"evaluate": time.perf_counter() - start, "fit": fit, "replay": max(batch_seconds - fit, 0.0)}
    return evaluations, timings


__all__ = [
    "DEFAULT_PERIODS",
    "MIN_FIT_PERIODS",
    "BacktestCancelledError",
    "BacktestResult",
    "BatchJob",
    "Replayed",
    "check_periods",
    "default_periods",
    "evaluate_batch",
    "exclusions",
    "history_lengths",
    "join_evaluations",
    "load_inputs",
    "run_batches",
    "unit",
]
