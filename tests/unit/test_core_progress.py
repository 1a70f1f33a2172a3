"""core.progress: the engine's stage steps inside a batch (issue 23: progress bars that move with the work)."""

from __future__ import annotations


def test_core_progress_reports_only_to_a_caller_that_asks() -> None:
    """Issue 23: the engine's stage steps reach a reporting callback, on its batch's share of the bar, never
    backwards; without one they do nothing."""
    from core import progress

    progress.step(0.5, "nothing listens")  # no callback: no effect, no error
    seen: list[tuple[float, str]] = []
    share = progress.batch_share(
        lambda f, m: seen.append((f, m)), span=(0.0, 1.0), batch=1, parts=[slice(0, 10), slice(10, 15)]
    )
    with progress.reporting(share):
        progress.step(0.5, "gradient boosting")
        progress.step(0.2, "second pass")  # a two-pass batch: the bar does not go back
    progress.step(0.9, "outside the block")
    assert seen == [(0.75, "batch 2 of 2 (5 SKUs): gradient boosting"), (0.75, "batch 2 of 2 (5 SKUs): second pass")]
    assert progress.batch_share(None, span=(0, 1), batch=0, parts=[slice(0, 1)]) is None
