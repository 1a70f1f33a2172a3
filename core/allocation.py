"""Service allocation across items: where a segment's inventory money buys the most service.

Each item i can sit at one of m candidate levels j, with service s_ij (its expected fill rate or cycle service
level) and money c_ij (e.g. average stock value). For a price lambda >= 0 of money, every item takes the level that
maximises w_i s_ij - lambda c_ij (w_i: its weight, e.g. demand per period, so that sum_i w_i s_i / sum_i w_i is the
segment's demand-weighted fill rate). This Lagrangian relaxation of "most weighted service for the money" gives
points on the upper (convex) frontier of total money against weighted service (Everett 1963); raising lambda moves
every item down its own curve where service is dearest.

- :func:`allocate_to_target`: the cheapest allocation whose weighted service reaches a target (bisection on
  lambda), with per-item allowed levels (e.g. a planner's floor);
- :func:`efficient_frontier`: the frontier itself, sweeping lambda (the Risk page's "best allocation" curve).

The engine runs the allocation on the panel at the portfolio's "data through" period (the latest one most SKUs
reported): a SKU that reported a newer period keeps the service quantile allocated to it there and sets its own levels
at it on its full history, so a few SKUs' new periods do not move their neighbours' targets (issue 15;
:func:`core.coverage.compute_two_pass`, docs/engine-contract.md "Coverage and data through").

Sources: Everett (1963), "Generalized Lagrange multiplier method for solving problems of optimum allocation of
resources", Operations Research 11(3); Silver, Pyke & Thomas (2017) section 7.2 (exchange curves; equal marginal
service per unit of investment across items).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _matrices(service: Any, money: Any, weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(service, dtype=float)
    c = np.asarray(money, dtype=float)
    w = np.asarray(weight, dtype=float)
    if s.ndim != 2 or s.shape != c.shape:
        raise ValueError(f"service and money must be 2-D arrays of the same shape, got {s.shape} and {c.shape}")
    if w.shape != (s.shape[0],):
        raise ValueError(f"weight must have shape ({s.shape[0]},), got {w.shape}")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weight must be finite and >= 0")
    return s, c, w


def _prepared(s: np.ndarray, c: np.ndarray, w: np.ndarray, allowed: Any) -> tuple[np.ndarray, np.ndarray]:
    """(gain at price 0, money) with disallowed or undefined levels at -inf gain; money nudged by a tiny relative
    amount so that ties go to the cheaper level."""
    ok = np.isfinite(s) & np.isfinite(c)
    if allowed is not None:
        a = np.asarray(allowed, dtype=bool)
        if a.shape != s.shape:
            raise ValueError(f"allowed must have shape {s.shape}, got {a.shape}")
        ok &= a
    money = np.where(ok, c, 0.0)
    scale = float(np.max(np.abs(money))) if money.size else 1.0
    gain0 = np.where(ok, w[:, None] * np.where(ok, s, 0.0) - 1e-12 * money / max(scale, 1e-300), -np.inf)
    return gain0, money


def choose_levels(*, service: Any, money: Any, weight: Any, price: float, allowed: Any = None) -> np.ndarray:
    """(n,) column index maximising w_i s_ij - price c_ij over the allowed columns (NaN service or money: never
    chosen unless nothing else is allowed; ties: the cheaper column)."""
    s, c, w = _matrices(service, money, weight)
    gain0, m = _prepared(s, c, w, allowed)
    return np.argmax(gain0 - price * m, axis=1)


def allocate_to_target(
    *, service: Any, money: Any, weight: Any, target: float, allowed: Any = None, iterations: int = 50
) -> tuple[np.ndarray, float]:
    """The cheapest Lagrangian allocation whose weighted service reaches ``target``.

    Parameters
    ----------
    service, money
        (n, m) service and money of each item at each candidate level.
    weight
        (n,) weights w_i >= 0 of the aggregate service sum w_i s_i / sum w_i.
    target
        Aggregate service to reach.
    allowed
        (n, m) bool: levels an item may take (e.g. service at or above its floor); every row needs one.
    iterations
        Bisection steps on log(lambda).

    Returns
    -------
    (index, price)
        (n,) chosen column per item and the price lambda (0 when even the most service falls short of the target:
        then every item takes its most service; inf when the cheapest allowed levels already reach it).

    Raises
    ------
    ValueError
        Shapes that do not match, negative weights, a row without an allowed level.
    """
    s, c, w = _matrices(service, money, weight)
    if allowed is not None and not np.asarray(allowed, dtype=bool).any(axis=1).all():
        raise ValueError("allowed must allow at least one level per item")
    total = w.sum()
    rows = np.arange(s.shape[0])
    gain0, m = _prepared(s, c, w, allowed)
    ws = w[:, None] * np.nan_to_num(s)

    def pick(price: float) -> np.ndarray:
        return np.argmax(gain0 - price * m, axis=1)

    def achieved(idx: np.ndarray) -> float:
        return float(ws[rows, idx].sum() / total) if total > 0 else 1.0

    cheapest = pick(1e300)
    if total <= 0 or achieved(cheapest) >= target:
        return cheapest, float("inf")
    best = pick(0.0)
    if achieved(best) < target:
        return best, 0.0
    # price scale: weighted service per unit of money over the candidates
    cpos = c[np.isfinite(c) & (c > 0)]
    ref = (total / s.shape[0]) / (float(np.median(cpos)) if cpos.size else 1.0)
    lo, hi = np.log(ref) - 40.0, np.log(ref) + 40.0  # lo: meets the target, hi: does not
    idx_lo = best
    for _ in range(int(iterations)):
        mid = 0.5 * (lo + hi)
        idx = pick(float(np.exp(mid)))
        if achieved(idx) >= target:
            lo, idx_lo = mid, idx
        else:
            hi = mid
    return idx_lo, float(np.exp(lo))


def efficient_frontier(*, service: Any, money: Any, weight: Any, points: int = 60) -> tuple[list[float], list[float]]:
    """Upper frontier of (total money, weighted service) when each item may sit at any of its levels.

    Prices lambda at ``points`` quantiles of the items' marginal service per unit of money between neighbouring
    levels (plus 0 and twice the largest); each gives one allocation (:func:`choose_levels`). Returns
    ``(money, service)`` sorted by money, service made non-decreasing; empty lists without positive weights or
    without a level that buys service. Source: Everett (1963).
    """
    s, c, w = _matrices(service, money, weight)
    total_w = float(w.sum())
    if total_w <= 0:
        return [], []
    ws = s * w[:, None]
    dc = np.diff(c, axis=1)
    ds = np.diff(ws, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = ds[dc > 1e-12] / dc[dc > 1e-12]
    slopes = slopes[np.isfinite(slopes) & (slopes > 0)]
    if slopes.size == 0:
        return [], []
    lambdas = np.unique(np.concatenate([np.quantile(slopes, np.linspace(0, 1, points)), [slopes.max() * 2, 0.0]]))
    rows = np.arange(c.shape[0])
    caps, svcs = [], []
    for lam in lambdas:
        j = np.argmax(ws - lam * c, axis=1)
        caps.append(float(c[rows, j].sum()))
        svcs.append(float(ws[rows, j].sum() / total_w))
    order = np.argsort(caps)
    caps_s, svcs_s = np.asarray(caps)[order], np.asarray(svcs)[order]
    keep = np.concatenate([[True], np.diff(caps_s) > 1e-9])
    return caps_s[keep].tolist(), np.maximum.accumulate(svcs_s[keep]).tolist()


__all__ = ["allocate_to_target", "choose_levels", "efficient_frontier"]
