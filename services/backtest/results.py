"""What a backtest produces: the scope's replays joined over its batches, and the finished result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.policy_eval import PolicyPoint
from services.backtest.scope import BacktestScope


@dataclass
class Replayed:
    """The scope's replays joined over its batches (what :class:`core.policy_eval.PolicyEvaluation` holds per batch)."""

    periods: int
    target_service_level: float
    engine: PolicyPoint
    baseline: PolicyPoint
    frontier: list[PolicyPoint]
    fill_gap_at_equal_inventory: float
    inventory_ratio_at_equal_fill: float
    policies: dict[str, dict[str, np.ndarray]]


@dataclass
class BacktestResult:
    """A finished backtest: the JSON document and what the pages draw."""

    scope: BacktestScope
    document: dict[str, Any]
    periods: int
    grain: str
    replay_dates: pd.DatetimeIndex
    codes: list[str]
    service_levels: np.ndarray
    replayed: Replayed
    excluded: list[dict[str, str]]
    timings: dict[str, float] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    stored_id: int | None = None


__all__ = ["BacktestResult", "Replayed"]
