"""Demand forecasting: per-series model choice by rolling-origin backtest, vectorised over series.

Public API: ``forecast_batch`` -> ``ForecastResult``; ``GRAIN_DAYS`` and ``default_season_length`` (from
``core.calendar``); ``MODEL_NAMES``; metrics ``mase``, ``wape``, ``rmsse``.
"""

from core.calendar import GRAIN_DAYS, default_season_length
from core.forecast.engine import MODEL_NAMES, ForecastResult, forecast_batch, plan_cuts
from core.forecast.metrics import mase, rmsse, wape

__all__ = [
    "GRAIN_DAYS",
    "MODEL_NAMES",
    "ForecastResult",
    "default_season_length",
    "forecast_batch",
    "mase",
    "plan_cuts",
    "rmsse",
    "wape",
]
