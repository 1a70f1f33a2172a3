"""``run_backtest``: the policy backtest of a scope, from the database to the stored document (method:
:mod:`services.backtest.run`; document: :mod:`services.backtest.document`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
from sqlalchemy.orm import Session

from core.portfolio import EngineSettings
from db.models import utcnow
from services.backtest.document import build_document
from services.backtest.run import (
    MIN_FIT_PERIODS,
    BacktestResult,
    BatchJob,
    Progress,
    check_periods,
    default_periods,
    exclusions,
    history_lengths,
    join_evaluations,
    load_inputs,
    run_batches,
    unit,
)
from services.backtest.scope import BacktestError, BacktestScope, describe
from services.backtest.store import store_document
from services.recompute import default_workers, plan_batches
from settings import get_settings

log = logging.getLogger(__name__)


def _nothing_to_replay(scope: BacktestScope, excluded: list[dict[str, str]], periods: int, grain: str) -> BacktestError:
    if len(excluded) == 1:
        return BacktestError(f"{describe(scope)} cannot be replayed: {excluded[0]['reason']}", kind="no_data")
    need = periods + MIN_FIT_PERIODS
    first = excluded[0]
    return BacktestError(
        f"none of the {len(excluded):,} SKUs in {describe(scope)} has the {need} {unit(grain, need)} of history that "
        f"replaying {periods} needs (e.g. {first['code']}: {first['reason']}); replay fewer periods",
        kind="no_data",
    )


def run_backtest(
    *,
    session: Session,
    scope: BacktestScope | None = None,
    periods: int | None = None,
    settings: EngineSettings | None = None,
    triggered_by: str | None = None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    store: bool = True,
    keep_paths: bool | None = None,
) -> BacktestResult:
    """Replay the engine's policies and the textbook baseline through the last ``periods`` periods of the scope.

    Parameters
    ----------
    session
        Session to read (and store the result) in; committed at the end when ``store``.
    scope
        The SKUs (default: every active SKU).
    periods
        N, periods replayed (default :func:`services.backtest.run.default_periods` of the data's grain).
    settings
        Engine settings (default: the ones a recompute uses, :class:`core.portfolio.EngineSettings`).
    triggered_by
        Who or what asked (e-mail, "cli", "api"), stored with the result.
    progress
        Called with (fraction 0..1, message) after loading and after each batch.
    cancel
        Polled between batches; True raises :class:`services.backtest.run.BacktestCancelledError`.
    workers
        Processes evaluating batches (default: one per core, as a recompute; 1 inside a daemon process).
    batch_size
        SKUs per batch (default: ``RECOMPUTE_BATCH_SIZE``, the recompute's batches).
    store
        Keep the document in ``policy_backtest`` (the Risk page and the briefing read the latest).
    keep_paths
        Keep the per-period replay paths for charts (default: for a one-SKU scope only).

    Returns
    -------
    BacktestResult

    Raises
    ------
    BacktestError
        A bad ``periods``, an empty scope, no demand, or no SKU with enough history (one line each).
    """
    engine_settings = settings or EngineSettings()
    scope = scope or BacktestScope()
    size = int(batch_size or get_settings().recompute_batch_size)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def say(fraction: float, message: str) -> None:
        if progress is not None:
            progress(min(max(float(fraction), 0.0), 1.0), message)

    say(0.0, "loading demand, SKUs and lead times")
    inputs = load_inputs(session=session, scope=scope, settings=engine_settings)
    session.commit()  # end the read transaction: nothing is held open while the engine runs
    timings["load"] = time.perf_counter() - started
    context = inputs.context
    grain = context.grain
    n = check_periods(default_periods(grain) if periods is None else periods, t_len=context.n_periods, grain=grain)
    keep, excluded = exclusions(codes=inputs.codes, lengths=history_lengths(inputs.history), periods=n, grain=grain)
    if not keep.any():
        raise _nothing_to_replay(scope, excluded, n, grain)
    rows = np.flatnonzero(keep)
    codes = [inputs.codes[i] for i in rows]
    history = inputs.history[rows]
    sku = inputs.sku.iloc[rows].reset_index(drop=True)
    say(0.05, f"replaying {len(codes):,} SKUs x {n} {unit(grain, n)} ({len(excluded):,} left out)")

    parts = plan_batches(count=len(codes), batch_size=size)
    paths = scope.is_sku if keep_paths is None else bool(keep_paths)
    jobs = [
        BatchJob(
            codes=codes[part],
            history=history[part],
            period_dates=context.period_dates,
            grain=grain,
            sku=sku.iloc[part].reset_index(drop=True),
            periods=n,
            settings=engine_settings,
            keep_paths=paths,
        )
        for part in parts
    ]
    n_workers = default_workers(len(parts), len(codes)) if workers is None else max(1, min(int(workers), len(parts)))
    try:
        evaluations, batch_timings = run_batches(jobs, workers=n_workers, progress=say, cancel=cancel, span=(0.05, 0.9))
    except ValueError as exc:  # the engine refused the inputs (e.g. master data it cannot use)
        log.warning("backtest of %s: the engine refused the inputs", scope.key, exc_info=True)
        raise BacktestError(f"the engine could not replay {describe(scope)}: {exc}") from None
    timings.update(batch_timings)
    mark = time.perf_counter()
    replayed = join_evaluations(evaluations)
    replay_dates = context.period_dates[-n:]
    created = utcnow()
    timings["join"] = time.perf_counter() - mark
    document = build_document(
        replayed=replayed,
        codes=codes,
        scope=scope,
        grain=grain,
        replay_dates=replay_dates,
        fit_periods=context.n_periods - n,
        excluded=excluded,
        computed_at=created,
        seconds=time.perf_counter() - started,
    )
    result = BacktestResult(
        scope=scope,
        document=document,
        periods=n,
        grain=grain,
        replay_dates=replay_dates,
        codes=codes,
        service_levels=sku["service_level"].to_numpy(dtype=float),
        replayed=replayed,
        excluded=excluded,
        timings=timings,
        created_at=created,
    )
    if store:
        say(0.95, "storing the result")
        mark = time.perf_counter()
        result.stored_id, result.created_at = store_document(
            session=session, scope=scope, document=document, triggered_by=triggered_by
        )
        session.commit()
        timings["store"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    timings["workers"] = float(n_workers)
    timings["batches"] = float(len(parts))
    say(1.0, f"finished: {len(codes):,} SKUs replayed in {timings['total']:.1f} s")
    return result


__all__ = ["run_backtest"]
