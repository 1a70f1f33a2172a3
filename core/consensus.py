"""Consensus demand: the layers of the forecast and their forecast value added (issue 19 item 1).

Per SKU and forecast period the demand plan is built in layers, each one applied exactly once on the one before:

1. **statistical**: the engine's forecast mean (:func:`core.forecast.forecast_batch`);
2. **after overrides**: a planner's override replaces it (``overridden = max(override, 0)`` where there is one);
3. **consensus**: the commercial adjustment acts on the overridden value,
   ``consensus = max(overridden x factor + add, 0)`` with ``factor = 1 + change_pct / 100`` and ``add`` the cell's
   share of ``change_units`` (:func:`spread_units`); a cell without an adjustment keeps ``factor = 1, add = 0``.

Forecast value added (Gilliland, *The Business Forecasting Deal*, 2010): on the periods whose actuals have arrived,
each layer is compared with the layer before it -- overrides vs statistical, commercial vs overrides, and the
consensus vs statistical -- by MAE = mean |f - a|, WAPE = sum |f - a| / sum |a| and bias = sum (f - a) / sum |a|;
FVA = error before - error after (positive: the layer improved the forecast). Only the cells the layer changed
count, so a layer is judged on its own touch (:func:`core.accuracy.forecast_value_added`, ``overridden_only``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.accuracy import forecast_value_added

LAYERS: dict[str, tuple[str, str]] = {
    "overrides": ("statistical", "overridden"),
    "commercial": ("overridden", "consensus"),
    "consensus": ("statistical", "consensus"),
}
"""Each layer's (before, after) columns; ``consensus`` is the whole chain against the statistical forecast."""
CHANGED_TOLERANCE = 1e-9
FVA_COLUMNS = [
    "layer",
    "key",
    "periods",
    "actual_sum",
    "mae_before",
    "mae_after",
    "fva_mae",
    "wape_before",
    "wape_after",
    "fva_wape",
    "bias_before",
    "bias_after",
    "improved_share",
]


def consensus_layers(
    *, statistical: Any, overrides: Any = None, commercial: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """The forecast after the overrides and after the commercial adjustments (module docstring).

    Parameters
    ----------
    statistical
        (n, H) statistical forecast mean.
    overrides
        (n, H) override quantity, NaN where none; None: no override.
    commercial
        (n, H, 2) ``[..., 0]`` the factor (1 + change_pct / 100), ``[..., 1]`` the units added; NaN where none
        (factor 1, add 0); None: no adjustment.

    Returns
    -------
    (overridden, consensus), both (n, H). A NaN statistical value stays NaN in both (no forecast, nothing to
    adjust).

    Raises
    ------
    ValueError
        ``overrides`` or ``commercial`` of another shape than ``statistical``.
    """
    stat = np.asarray(statistical, dtype=float)
    overridden = stat.copy()
    if overrides is not None:
        ovr = np.asarray(overrides, dtype=float)
        if ovr.shape != stat.shape:
            raise ValueError(f"overrides must have shape {stat.shape}, got {ovr.shape}")
        overridden = np.where(np.isfinite(ovr) & np.isfinite(stat), np.maximum(ovr, 0.0), stat)
    if commercial is None:
        return overridden, overridden.copy()
    com = np.asarray(commercial, dtype=float)
    if com.shape != (*stat.shape, 2):
        raise ValueError(f"commercial must have shape {(*stat.shape, 2)}, got {com.shape}")
    factor = np.where(np.isfinite(com[..., 0]), com[..., 0], 1.0)
    add = np.where(np.isfinite(com[..., 1]), com[..., 1], 0.0)
    consensus = np.where(np.isfinite(overridden), np.maximum(overridden * factor + add, 0.0), overridden)
    return overridden, consensus


def spread_units(*, weights: Any, total: float) -> np.ndarray:
    """Share ``total`` units among cells in proportion to ``weights`` (a forecast, >= 0); evenly when the weights
    sum to zero (or none is finite). The shares sum to ``total``.

    Raises
    ------
    ValueError
        No cell, or ``total`` not finite.
    """
    w = np.asarray(weights, dtype=float).ravel()
    if w.size == 0:
        raise ValueError("weights must have at least one cell")
    if not np.isfinite(total):
        raise ValueError(f"total must be finite, got {total!r}")
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    s = w.sum()
    if s <= 0:
        return np.full(w.size, float(total) / w.size)
    return float(total) * w / s


def layer_fva(*, frame: pd.DataFrame, by: dict[str, str] | None = None) -> pd.DataFrame:
    """Forecast value added of each layer, in total or per group.

    Parameters
    ----------
    frame
        One row per SKU and period with an actual: ``actual``, ``statistical``, ``overridden``, ``consensus`` and the
        grouping columns.
    by
        Layer -> the column to group it by (e.g. ``{"overrides": "override_by", "commercial": "adjusted_by"}`` for
        "by who"); a layer not named is not reported; None: every layer in total (key ``"all"``).

    Returns
    -------
    DataFrame with :data:`FVA_COLUMNS`, one row per layer and key with at least one changed period; ``fva_mae`` /
    ``fva_wape`` = before - after (positive: the layer helped); NaN WAPE / bias when the actuals sum to zero.

    Raises
    ------
    ValueError
        A missing column or an unknown layer.
    """
    wanted = dict.fromkeys(LAYERS) if by is None else dict(by)
    unknown = [layer for layer in wanted if layer not in LAYERS]
    if unknown:
        raise ValueError(f"by names unknown layers {unknown}; layers are {list(LAYERS)}")
    needed = ["actual", "statistical", "overridden", "consensus", *[c for c in wanted.values() if c]]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing columns {missing}")
    parts = []
    for layer, column in wanted.items():
        before, after = LAYERS[layer]
        b = frame[before].to_numpy(dtype=float)
        a = frame[after].to_numpy(dtype=float)
        changed = np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) > CHANGED_TOLERANCE)
        if not changed.any():
            continue
        sub = pd.DataFrame(
            {
                "key": frame[column].astype(str).to_numpy() if column else "all",
                "actual": frame["actual"].to_numpy(dtype=float),
                "before": b,
                "after": np.where(changed, a, np.nan),
            }
        )[changed]
        table = forecast_value_added(frame=sub, by="key", statistical="before", override="after", overridden_only=True)
        sub = sub[np.isfinite(sub["actual"].to_numpy(dtype=float))]
        err = sub.assign(eb=(sub["before"] - sub["actual"]).abs(), ea=(sub["after"] - sub["actual"]).abs())
        mae = err.groupby("key")[["eb", "ea"]].mean()
        out = pd.DataFrame(
            {
                "layer": layer,
                "key": table.index.astype(str),
                "periods": table["overridden_rows"].to_numpy(dtype=int),
                "actual_sum": table["actual_sum"].to_numpy(dtype=float),
                "mae_before": mae["eb"].reindex(table.index).to_numpy(dtype=float),
                "mae_after": mae["ea"].reindex(table.index).to_numpy(dtype=float),
                "wape_before": table["statistical_wape"].to_numpy(dtype=float),
                "wape_after": table["final_wape"].to_numpy(dtype=float),
                "fva_wape": table["fva_wape"].to_numpy(dtype=float),
                "bias_before": table["statistical_bias"].to_numpy(dtype=float),
                "bias_after": table["final_bias"].to_numpy(dtype=float),
                "improved_share": table["improved_share"].to_numpy(dtype=float),
            }
        )
        out["fva_mae"] = out["mae_before"] - out["mae_after"]
        parts.append(out)
    if not parts:
        return pd.DataFrame(columns=FVA_COLUMNS)
    return pd.concat(parts, ignore_index=True)[FVA_COLUMNS]


def month_start(day: Any) -> pd.Timestamp:
    """The first day of the month of ``day``."""
    stamp = pd.Timestamp(day)
    return pd.Timestamp(year=stamp.year, month=stamp.month, day=1)


def months_of(dates: Sequence[Any]) -> np.ndarray:
    """(len(dates),) the month (``datetime64[M]``) of each date: a forecast period belongs to the month it starts in."""
    return pd.DatetimeIndex(pd.to_datetime(list(dates))).to_numpy().astype("datetime64[M]")


__all__ = ["FVA_COLUMNS", "LAYERS", "consensus_layers", "layer_fva", "month_start", "months_of", "spread_units"]
