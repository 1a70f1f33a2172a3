"""Progress inside a batch of the engine, for a caller that wants it (issue 23: a bar that moves with the work).

``with reporting(callback): compute_batch(...)`` makes the engine's :func:`step` calls -- one per forecast candidate
and per stage after it -- call ``callback(fraction, what)``, ``fraction`` being the share of the batch's work done
(0..1, from the stages' typical share of a batch's compute time, measured with bench/recompute.py: the candidates'
forecasts are most of it, gradient boosting the largest). Without a callback (the default, and in pool workers)
:func:`step` does nothing. No I/O here: the callback is the caller's, held in a context variable so concurrent
batches in other threads do not see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

StepCallback = Callable[[float, str], None]

_HOOK: ContextVar[StepCallback | None] = ContextVar("core_progress_hook", default=None)


@contextmanager
def reporting(callback: StepCallback | None) -> Iterator[None]:
    """Within the block, :func:`step` calls ``callback`` (None: nothing)."""
    token = _HOOK.set(callback)
    try:
        yield
    finally:
        _HOOK.reset(token)


def step(fraction: float, what: str) -> None:
    """Report that ``fraction`` (0..1) of the batch's work is done and ``what`` runs next."""
    hook = _HOOK.get()
    if hook is not None:
        hook(min(max(float(fraction), 0.0), 1.0), what)


def batch_share(
    progress: StepCallback | None, *, span: tuple[float, float], batch: int, parts: Sequence[slice]
) -> StepCallback | None:
    """A :func:`reporting` callback that draws batch ``batch`` (0-based, of the batches ``parts``) on its share of
    ``span`` (``lo + (hi - lo) * (batch + fraction) / len(parts)``) of the caller's ``progress`` bar, saying "batch 2
    of 3 (10 SKUs): <stage>"; never backwards (a batch computed in two passes runs the stages twice). None without
    ``progress``."""
    if progress is None:
        return None
    lo, hi = span
    n, size = max(len(parts), 1), parts[batch].stop - parts[batch].start
    done = [0.0]

    def say(fraction: float, what: str) -> None:
        done[0] = max(done[0], fraction)
        progress(lo + (hi - lo) * (batch + done[0]) / n, f"batch {batch + 1} of {len(parts)} ({size:,} SKUs): {what}")

    return say
