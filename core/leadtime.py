"""Lead times learned from purchase receipts, and the choice between learned and master-data lead times.

Lead time of a receipt = received_date - order_date in days; on time = received_date <= promised_date.
Source: Silver, Pyke & Thomas (2017) section 6.10 (estimating lead-time variability from history).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

DATE_COLUMNS: tuple[str, ...] = ("order_date", "promised_date", "received_date")


def learn_lead_times(*, receipts: pd.DataFrame, by: Sequence[str] = ("sku", "supplier")) -> pd.DataFrame:
    """Lead-time statistics per group of receipts.

    Parameters
    ----------
    receipts
        One row per receipt with columns ``order_date``, ``promised_date``, ``received_date`` (dates or strings)
        and the ``by`` columns. Rows without order or received date, or received before ordered, are ignored;
        a missing promised date leaves the row out of the on-time rate only.
    by
        Grouping columns, e.g. ``("sku",)`` or ``("sku", "supplier")``.

    Returns
    -------
    DataFrame
        Indexed by ``by``; columns ``count`` (int), ``lead_time_mean_days``, ``lead_time_std_days`` (sample std,
        NaN for a single receipt), ``on_time_rate`` (NaN without promised dates), ``mean_delay_days``
        (received - promised, mean over rows with a promised date).
    """
    by = list(by)
    if not by:
        raise ValueError("by must name at least one column")
    missing = [c for c in (*DATE_COLUMNS, *by) if c not in receipts.columns]
    if missing:
        raise ValueError(f"receipts is missing columns {missing}")
    cols = ["count", "lead_time_mean_days", "lead_time_std_days", "on_time_rate", "mean_delay_days"]
    df = receipts[[*by, *DATE_COLUMNS]].copy()
    for c in DATE_COLUMNS:
        df[c] = pd.to_datetime(df[c], errors="coerce")
    df["lt"] = (df["received_date"] - df["order_date"]).dt.total_seconds() / 86400.0
    df = df[df["lt"].notna() & (df["lt"] >= 0)]
    if df.empty:
        return pd.DataFrame(
            columns=cols, index=pd.MultiIndex.from_tuples([], names=by) if len(by) > 1 else pd.Index([], name=by[0])
        )
    delay = (df["received_date"] - df["promised_date"]).dt.total_seconds() / 86400.0
    df["delay"] = delay
    df["on_time"] = np.where(delay.notna(), (delay <= 0).astype(float), np.nan)
    g = df.groupby(by, sort=True, dropna=False)
    out = pd.DataFrame(
        {
            "count": g["lt"].size().astype(int),
            "lead_time_mean_days": g["lt"].mean(),
            "lead_time_std_days": g["lt"].std(ddof=1),
            "on_time_rate": g["on_time"].mean(),
            "mean_delay_days": g["delay"].mean(),
        }
    )
    return out[cols]


def choose_lead_time(
    *,
    learned_mean: Any,
    learned_std: Any,
    learned_count: Any,
    master_mean: Any,
    master_std: Any = 0.0,
    min_count: int = 5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Use the learned lead time where there are at least ``min_count`` receipts, else the master data.

    Parameters
    ----------
    learned_mean, learned_std, learned_count
        From :func:`learn_lead_times` (NaN / 0 where an item has no receipts).
    master_mean, master_std
        Lead time from the SKU master data, days.
    min_count
        Receipts needed to trust the learned figures (settings ``receipts_min_for_learned_lead_time``).

    Returns
    -------
    (mean_days, std_days, source)
        Arrays; source is "learned" or "master" per item. A learned std that is NaN falls back to the master std.
    """
    if int(min_count) != min_count or min_count < 1:
        raise ValueError(f"min_count must be a positive integer, got {min_count!r}")
    lm, ls, lc, mm, ms = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (learned_mean, learned_std, learned_count, master_mean, master_std))
    )
    if np.any(mm < 0) or np.any(ms < 0):
        raise ValueError("master_mean and master_std must be >= 0")
    use = (np.nan_to_num(lc) >= min_count) & np.isfinite(lm)
    mean = np.where(use, lm, mm)
    std = np.where(use & np.isfinite(ls), ls, ms)
    source = np.where(use, "learned", "master").astype(object)
    return np.atleast_1d(mean), np.atleast_1d(std), np.atleast_1d(source)
