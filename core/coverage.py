"""Coverage of the demand panel: each SKU's last reported period, the portfolio's "data through" period, and the
two-pass batch computation that keeps one SKU's new periods out of every other SKU's numbers.

Rules (issue 15 item 1; docs/engine-contract.md, "Coverage and data through"):

- **Last reported period** of a SKU: the last column of its history holding a number (demand rows, including the
  explicit zeros of a full extract). Periods after it are *not reported* (NaN), never zero sales.
- **Data through**: the latest period that most active SKUs have reported -- the largest column c such that more
  than half of the SKUs with any history have their last reported period at or after c
  (:func:`data_through`). A file for a few SKUs and a new period does not move it; once most SKUs report the period,
  it does.
- **Two passes** (:func:`compute_two_pass`). The cross-sectional steps of a batch -- the fill-rate allocation of each
  category's target across its SKUs (:func:`core.policy_levels.service_levels`, issue 24) and the global
  gradient-boosting forecaster trained across the batch's series (:mod:`core.forecast.ml`) -- couple the SKUs: one
  SKU's new week would change its neighbours' targets and forecasts. Pass 1 computes the whole batch on the panel
  truncated at data through (so every SKU that has not reported past it gets exactly the numbers it would get had
  the few ahead SKUs not reported yet). Pass 2 recomputes only the SKUs *ahead* of data through, each group of SKUs
  with the same last reported period on its own full history, with the category allocation switched off and each
  SKU's levels set at the quantile of protection demand pass 1's allocation chose for it, in the company of up to
  :data:`COMPANIONS_MAX` other SKUs of the batch so the global forecaster learns across as many series as usual (their
  pass 2 results are discarded). The category still meets its
  demand-weighted fill-rate target at the least stock money as of data through (issue 24's decision-quality intent);
  an ahead SKU's own forecast, sigma and safety stock use every period it reported. When every SKU ends at data
  through, pass 1 is the only pass and the result is the single-pass computation.
- **Forecast start**: an ahead SKU's forecast horizon starts after its own last reported period; ``forecast_shift``
  (periods after data through) records it for the stored forecast dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from core.engine_types import LAYER_KEYS

# core.portfolio's BatchInputs, BatchResult and EngineSettings: core.portfolio.compute_batch calls this module, so it
# names them without importing them (no import cycle, docs/architecture.md)
BatchInputs = Any
BatchResult = Any
EngineSettings = Any

COMPANIONS_MAX = 300
"""Pass 2 computes the ahead SKUs together with up to this many other SKUs of the batch (their periods after data
through not reported), whose results are discarded: the global forecaster learns across as many series as in a full
run instead of the few ahead SKUs, at a bounded cost. On the 200-SKU demo with 6 SKUs a week ahead, a model trained
on those 6 alone put their forecasts up to 8 % and a sigma 12 % away from a run where every SKU reported the week;
with the companions they were within 0.4 % (one SKU chose another model)."""
FILL_TARGET_MAX = 0.999999
"""Upper clip of an allocated service quantile used as a SKU's own target in pass 2 (targets lie in (0, 1))."""


def last_reported(*, history: Any) -> np.ndarray:
    """(n,) int: index of each row's last finite value (its last reported period); -1 for a row without any.

    Source: issue 15 item 1 ("each SKU's history ends at its own last reported period").
    """
    hist = np.asarray(history, dtype=float)
    if hist.ndim != 2:
        raise ValueError(f"history must be 2-D (n, T), got shape {hist.shape}")
    n, t = hist.shape
    reported = np.isfinite(hist)
    if t == 0:
        return np.full(n, -1, dtype=np.int64)
    last = t - 1 - np.argmax(reported[:, ::-1], axis=1)
    return np.where(reported.any(axis=1), last, -1).astype(np.int64)


def data_through(*, last: Any, n_periods: int) -> int:
    """The number of periods up to and including "data through": 1 + the largest column c such that more than half
    of the SKUs with a history (``last`` >= 0) have ``last`` >= c. ``n_periods`` when no SKU has a history.

    With the SKUs' last reported columns sorted in descending order, c is the element at position floor(k / 2)
    (0-based) of the k SKUs with a history: at least floor(k / 2) + 1 > k / 2 of them reach c, and no later column
    has a majority. Source: issue 15 item 1 ("data through" = the latest period that most active SKUs have reported).

    Raises
    ------
    ValueError
        ``n_periods`` < 1 or a last column >= ``n_periods``.
    """
    if int(n_periods) != n_periods or n_periods < 1:
        raise ValueError(f"n_periods must be a positive integer, got {n_periods!r}")
    ends = np.asarray(last, dtype=np.int64).ravel()
    ends = ends[ends >= 0]
    if ends.size == 0:
        return int(n_periods)
    if ends.max() >= n_periods:
        raise ValueError(f"a last reported column ({int(ends.max())}) lies outside the {n_periods} periods")
    ordered = np.sort(ends)[::-1]
    return int(ordered[ends.size // 2]) + 1


def _window(inputs: BatchInputs, *, rows: np.ndarray | None, end: int, through: int) -> BatchInputs:
    """The batch restricted to ``rows`` (None: all) and to the periods [0, end), with the overrides of the horizon
    that starts after ``end`` (the batch's overrides start after ``through``)."""
    pick = slice(None) if rows is None else np.asarray(rows)
    codes = list(inputs.codes) if rows is None else [inputs.codes[i] for i in np.asarray(rows)]
    overrides = None
    if inputs.overrides is not None:
        ovr = np.asarray(inputs.overrides, dtype=float)[pick]
        horizon = ovr.shape[1] - (np.asarray(inputs.history).shape[1] - through)
        chunk = ovr[:, end - through : end - through + horizon]
        overrides = chunk if np.isfinite(chunk).any() else None
    commercial = None
    if inputs.commercial is not None:  # (n, width, 2): the same columns as the overrides
        com = np.asarray(inputs.commercial, dtype=float)[pick]
        horizon = com.shape[1] - (np.asarray(inputs.history).shape[1] - through)
        part = com[:, end - through : end - through + horizon]
        commercial = part if np.isfinite(part).any() else None
    sku = inputs.sku if rows is None else inputs.sku.iloc[np.asarray(rows)].reset_index(drop=True)
    return replace(
        inputs,
        codes=codes,
        history=np.asarray(inputs.history, dtype=float)[pick][:, :end],
        period_dates=pd.DatetimeIndex(inputs.period_dates)[:end],
        sku=sku,
        overrides=overrides,
        commercial=commercial,
        stockout=None if inputs.stockout is None else np.asarray(inputs.stockout, dtype=bool)[pick][:, :end],
        through=None,
        causal=None if inputs.causal is None else inputs.causal.subset(pick),  # grid columns: the panel cuts them
    )


def _allocated_targets(first: BatchResult, rows: np.ndarray, master: np.ndarray) -> np.ndarray:
    """Pass 2's own targets: the quantile of protection demand pass 1's allocation set the SKU's levels at; the
    master target where pass 1 allocated nothing (no demand, phase-out) and for one-shot SKUs (their target is the
    newsvendor's fallback critical ratio)."""
    n = len(first.snapshot)
    prob = np.asarray(first.extras.get("service_probability", np.full(n, np.nan)), dtype=float)[rows]
    fill = np.asarray(first.extras.get("allocated_fill", np.full(n, np.nan)), dtype=float)[rows]
    replenished = first.snapshot["order_policy"].to_numpy(dtype=object)[rows] == "reorder_point"
    ok = np.isfinite(prob) & (prob > 0) & (prob < 1) & np.isfinite(fill) & replenished
    return np.where(ok, np.minimum(prob, FILL_TARGET_MAX), master)


def companions(*, ends: np.ndarray, through: int, limit: int) -> np.ndarray:
    """Rows that keep an ahead group company in pass 2: up to ``limit`` SKUs with a history that are not ahead of
    data through, evenly spread over the batch (code order, so across categories), ascending."""
    pool = np.flatnonzero((ends >= 0) & (ends < through))
    if len(pool) <= limit:
        return pool
    return pool[np.unique(np.linspace(0, len(pool) - 1, int(limit)).round().astype(np.int64))]


def _head(result: BatchResult, k: int) -> BatchResult:
    """The first ``k`` rows of a batch result (pass 2 drops its companions)."""
    return replace(
        result,
        snapshot=result.snapshot.iloc[:k],
        mean=result.mean[:k],
        p10=result.p10[:k],
        p50=result.p50[:k],
        p90=result.p90[:k],
        backtest=result.backtest[:k],
        extras={key: np.asarray(value)[:k] for key, value in result.extras.items()},
    )


def compute_two_pass(
    inputs: BatchInputs,
    *,
    settings: EngineSettings,
    compute_panel: Callable[[BatchInputs, EngineSettings], BatchResult],
    companions_max: int = COMPANIONS_MAX,
) -> BatchResult:
    """The batch computed in two passes (module docstring): pass 1 on the panel truncated at ``inputs.through``,
    pass 2 for the SKUs ahead of it on their own history at the service quantiles pass 1's allocation chose.

    ``compute_panel`` computes one batch on one panel (:func:`core.portfolio.compute_panel`); pass 2 runs each group
    of ahead SKUs with up to ``companions_max`` other SKUs of the batch (:func:`companions`). The result has the
    batch's full period grid (backtest (n, T), NaN outside each SKU's own periods), the forecast dates after data
    through, and ``extras["forecast_shift"]`` (periods between data through and the SKU's own forecast start) and
    ``extras["abc_value"]`` (pass 1's annual demand value, the cross-sectional ABC input).

    Raises
    ------
    ValueError
        ``inputs.through`` outside [1, T].
    """
    history = np.asarray(inputs.history, dtype=float)
    n, t_len = history.shape
    through = t_len if inputs.through is None else int(inputs.through)
    if not 1 <= through <= t_len:
        raise ValueError(f"through must be in [1, {t_len}], got {inputs.through!r}")
    first = compute_panel(_window(inputs, rows=None, end=through, through=through), settings)
    ends = last_reported(history=history)
    ahead = np.flatnonzero(ends >= through)
    backtest = np.full((n, t_len), np.nan)
    backtest[:, :through] = first.backtest
    shift = np.zeros(n)
    arrays = {name: np.asarray(getattr(first, name), dtype=float).copy() for name in ("mean", "p10", "p50", "p90")}
    extras = {k: np.asarray(v).copy() for k, v in first.extras.items()}
    cost = np.nan_to_num(np.asarray(extras.get("unit_cost", np.zeros(n)), dtype=float))
    extras["abc_value"] = first.snapshot["annual_demand"].to_numpy(dtype=float) * cost
    pieces = [first.snapshot]
    timings = dict(first.timings)
    allocate = settings.allocate_service and settings.service_measure == "fill_rate"
    # pass 2 sets the ahead SKUs' levels at the quantile their category's allocation gave them (a cycle-service
    # target): the levels follow their new forecast and sigma smoothly instead of jumping between candidate levels
    second_settings = replace(settings, allocate_service=False, service_measure="csl") if allocate else settings
    mates = companions(ends=ends, through=through, limit=companions_max)
    for end in np.unique(ends[ahead]):
        rows = ahead[ends[ahead] == end]
        group = np.concatenate([rows, mates])  # the group's rows first: results [: len(rows)] are kept
        part = _window(inputs, rows=group, end=int(end) + 1, through=through)
        master = part.sku["service_level"].to_numpy(dtype=float) if "service_level" in part.sku.columns else None
        if allocate and master is not None:
            part = replace(part, sku=part.sku.assign(service_level=_allocated_targets(first, group, master)))
        res = _head(compute_panel(part, second_settings), len(rows))
        master = None if master is None else master[: len(rows)]
        own = res.snapshot.copy()
        if master is not None:
            own["service_level"] = master  # the SKU's own target, as stored for every SKU
        if allocate:
            kept = "(the quantile its category's fill-rate allocation gave it)"
            own["rop_method_reason"] = (
                own["rop_method_reason"].astype(str).str.replace(r"\(cycle service target [^)]*\)", kept, regex=True)
            )
        pieces.append(own[first.snapshot.columns])
        for name, values in arrays.items():
            values[rows] = np.asarray(getattr(res, name), dtype=float)
        backtest[rows, :] = np.nan
        backtest[rows, : int(end) + 1] = res.backtest
        shift[rows] = int(end) + 1 - through
        for key in LAYER_KEYS:  # forecast layers: a group without them has all layers equal to its mean
            if key in res.extras and key not in extras:
                extras[key] = arrays["mean"].copy()  # rows replaced so far had no layers either
            elif key in extras and key not in res.extras:
                extras[key][rows] = np.asarray(res.mean, dtype=float)
        for key, values in res.extras.items():
            if key in extras:
                extras[key][rows] = np.asarray(values)
        for key, value in res.timings.items():
            timings[key] = timings.get(key, 0.0) + value
    snap = first.snapshot
    if len(pieces) > 1:  # the ahead SKUs' rows replace pass 1's, in the batch's order
        recomputed = pd.concat(pieces[1:])
        snap = pd.concat([first.snapshot.drop(index=recomputed.index), recomputed]).loc[first.snapshot.index]
    extras["forecast_shift"] = shift
    return replace(first, snapshot=snap, backtest=backtest, timings=timings, extras=extras, **arrays)


__all__ = ["COMPANIONS_MAX", "FILL_TARGET_MAX", "companions", "compute_two_pass", "data_through", "last_reported"]
