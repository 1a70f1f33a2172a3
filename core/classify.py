"""Item classification: demand pattern (Syntetos-Boylan ADI / CV^2), ABC by value, XYZ by forecast-error CV.

All functions are pure and vectorised over items. Sources: Syntetos, Boylan & Croston (2005), "On the
categorization of demand patterns", JORS 56; Silver, Pyke & Thomas (2017) section 2.5 (ABC); Scholz-Reiter et al.
(2012) (XYZ by coefficient of variation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

DEMAND_CLASSES: tuple[str, ...] = ("smooth", "intermittent", "erratic", "lumpy", "no_demand")


@dataclass(frozen=True)
class DemandPattern:
    """Per-item demand pattern, arrays of shape (n,).

    Attributes
    ----------
    adi
        Average demand interval = observed (non-NaN) periods / periods with demand > 0 (NaN without demand).
    cv2
        Squared coefficient of variation (population std / mean)^2 of the non-zero demand sizes
        (0 with a single non-zero period, NaN without demand).
    demand_class
        smooth | intermittent | erratic | lumpy | no_demand.
    nonzero_count
        Periods with demand > 0.
    """

    adi: np.ndarray
    cv2: np.ndarray
    demand_class: np.ndarray
    nonzero_count: np.ndarray


def demand_pattern(*, history: np.ndarray, adi_cutoff: float = 1.32, cv2_cutoff: float = 0.49) -> DemandPattern:
    """Syntetos-Boylan demand classes from a history matrix.

    smooth: ADI < 1.32 and CV^2 < 0.49; intermittent: ADI >= 1.32, CV^2 < 0.49; erratic: ADI < 1.32, CV^2 >= 0.49;
    lumpy: ADI >= 1.32 and CV^2 >= 0.49; no_demand: no period with demand > 0.

    Parameters
    ----------
    history
        (n, T) demand per period, oldest first. NaN = not observed (ignored); negative values count as no demand.
    adi_cutoff, cv2_cutoff
        Class boundaries (Syntetos et al. 2005: 1.32 and 0.49).

    Returns
    -------
    DemandPattern
    """
    h = np.atleast_2d(np.asarray(history, dtype=float))
    if h.ndim != 2:
        raise ValueError(f"history must be 2-D (n, T), got shape {h.shape}")
    if not (adi_cutoff > 0 and cv2_cutoff > 0):
        raise ValueError("adi_cutoff and cv2_cutoff must be > 0")
    observed = ~np.isnan(h)
    pos = np.where(observed, h, 0.0) > 0
    n_obs = observed.sum(axis=1)
    n_pos = pos.sum(axis=1)
    sizes = np.where(pos, h, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sizes.sum(axis=1) / n_pos
        var = (np.where(pos, (h - mean[:, None]) ** 2, 0.0)).sum(axis=1) / n_pos
        adi = np.where(n_pos > 0, n_obs / n_pos, np.nan)
        cv2 = np.where(n_pos > 0, var / (mean * mean), np.nan)
    high_adi = adi >= adi_cutoff
    high_cv = cv2 >= cv2_cutoff
    cls = np.where(
        n_pos == 0,
        "no_demand",
        np.where(high_adi, np.where(high_cv, "lumpy", "intermittent"), np.where(high_cv, "erratic", "smooth")),
    ).astype(object)
    return DemandPattern(adi=adi, cv2=cv2, demand_class=cls, nonzero_count=n_pos)


def abc_classes(*, value: Any, split: tuple[float, float, float] = (0.80, 0.15, 0.05)) -> np.ndarray:
    """ABC classes by share of total value (Pareto).

    Items are ranked by value, descending; an item is A while the cumulative share *before* it is below
    split[0] (so the item that crosses 80 % is still A), B while it is below split[0] + split[1], else C.
    Items with zero, negative or NaN value are always C. Ties are ranked by position (stable).

    Parameters
    ----------
    value
        (n,) value per item, usually annual demand x unit cost.
    split
        Shares of value for A, B, C; positive, summing to 1.

    Returns
    -------
    ndarray of str
        "A", "B" or "C" per item.
    """
    split = tuple(float(s) for s in split)
    if len(split) != 3 or any(not s > 0 for s in split) or abs(sum(split) - 1.0) > 1e-6:
        raise ValueError(f"split must be three positive shares summing to 1, got {split}")
    v = np.asarray(value, dtype=float).ravel()
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    out = np.full(v.shape, "C", dtype=object)
    total = v.sum()
    if total <= 0:
        return out
    order = np.argsort(-v, kind="stable")
    before = (np.cumsum(v[order]) - v[order]) / total
    eps = 1e-9  # cumulative sums of floats: a share that is exactly on a boundary belongs to the next class
    ranked = np.where(before < split[0] - eps, "A", np.where(before < split[0] + split[1] - eps, "B", "C"))
    ranked = np.where(v[order] > 0, ranked, "C")
    out[order] = ranked
    return out


def forecast_error_cv(*, sigma: Any, demand_mean: Any) -> np.ndarray:
    """Coefficient of variation of the forecast error: sigma / mean demand per period (inf where mean is 0)."""
    s = np.asarray(sigma, dtype=float)
    d = np.asarray(demand_mean, dtype=float)
    if np.any(s < 0):
        raise ValueError("sigma must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, s / np.where(d > 0, d, 1.0), np.where(s > 0, np.inf, np.nan))


def xyz_classes(*, cv: Any, limits: tuple[float, float] = (0.5, 1.0)) -> np.ndarray:
    """XYZ classes by forecast-error coefficient of variation: X if cv <= limits[0], Y if <= limits[1], else Z.

    NaN cv (no demand and no error) is Z: nothing is predictable about an item without demand.
    """
    lo, hi = (float(x) for x in limits)
    if not (0 < lo < hi):
        raise ValueError(f"limits must satisfy 0 < x_limit < y_limit, got {limits}")
    c = np.asarray(cv, dtype=float)
    return np.where(c <= lo, "X", np.where(c <= hi, "Y", "Z")).astype(object)
