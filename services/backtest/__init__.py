"""Policy backtest (issue 24): would the engine's reorder policies have worked on real demand they did not see, and
how do they compare with the textbook frontier? The use case, its document, words and stored results."""

from services.backtest.document import (
    build_document,
    comparison_sentences,
    excluded_sentence,
    headline,
    sku_paths,
    summary_line,
    verdict,
)
from services.backtest.line import briefing_line
from services.backtest.results import BacktestResult, Replayed
from services.backtest.run import (
    DEFAULT_PERIODS,
    MIN_FIT_PERIODS,
    BacktestCancelledError,
    default_periods,
    unit,
)
from services.backtest.scope import BacktestError, BacktestScope, describe
from services.backtest.service import run_backtest
from services.backtest.store import StoredBacktest, latest_stored
from services.backtest.views import (
    ReplayFigures,
    SkuReplay,
    StoredView,
    data_grain,
    lowest_fill_rows,
    sku_replay,
    stored_view,
)

__all__ = [
    "DEFAULT_PERIODS",
    "MIN_FIT_PERIODS",
    "BacktestCancelledError",
    "BacktestError",
    "BacktestResult",
    "BacktestScope",
    "ReplayFigures",
    "Replayed",
    "SkuReplay",
    "StoredBacktest",
    "StoredView",
    "briefing_line",
    "build_document",
    "comparison_sentences",
    "data_grain",
    "default_periods",
    "describe",
    "excluded_sentence",
    "headline",
    "latest_stored",
    "lowest_fill_rows",
    "run_backtest",
    "sku_paths",
    "sku_replay",
    "stored_view",
    "summary_line",
    "unit",
    "verdict",
]
