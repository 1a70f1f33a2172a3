"""Demand over a protection interval as a distribution per item: quantiles, expected shortages, and the fill rate and
average stock of a reorder policy built on it.

One :class:`ProtectionDemand` holds, per item, the distribution of the demand the stock must cover (lead-time demand,
plus the review undershoot where it applies) by one of four methods (:data:`METHODS`):

- ``normal``: Normal(mean, var) -- quantile mean + sd Phi^-1(p); E[(X - s)+] = sd G((s - mean) / sd) (G: the
  standard normal loss function);
- ``poisson``: Poisson(mean); E[(X - s)+] = (mean - s)(1 - F(s)) + mean f(s) for integer s;
- ``negative_binomial``: NB with the given mean and variance (r = mean^2 / (var - mean), p = mean / var; Poisson
  where var <= mean); E[(X - s)+] = mean (1 - F'(s - 1)) - s (1 - F(s)), F' the cdf of NB(r + 1, p) (k f(k; r) =
  mean f(k - 1; r + 1));
- ``bootstrap``: sorted samples (e.g. bootstrapped lead-time demand); quantile = the ceil(p K)-th of K samples,
  E[(X - s)+] = mean of (x_k - s)+.

:func:`policy_fill_rate` and :func:`policy_average_stock` give the expected fill rate and average on-hand stock of
the engine's reorder rule (review every period, order when the position is at or below s; a replenishment cycle
uses Qc units) from the loss function: fill = 1 - (E[(X - s)+] - E[(X - s - Qc)+]) / Qc with X the lead-time demand
plus the review undershoot (Hadley & Whitin's (s, Q) result with backorders; it matches a replay of (s, S) with
Qc = S - s + E[U] and of (s, nQ) with Qc = Q), and the average stock at period ends E[(y - X')+] for positions y
uniform on (s, s + Qc], X' the demand over the lead time plus the review period.

Sources: Silver, Pyke & Thomas (2017) eq. 6.15-6.17 (normal loss, fill rate) and section 8.2 (Poisson and
negative binomial lead-time demand); Hadley & Whitin (1963) ch. 4 ((s, Q) with backorders); Axsaeter (2015)
section 5.3 (discrete loss functions); Willemain, Smart & Schwarz (2004) (bootstrapped lead-time demand).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from core.policy import normal_loss

METHODS: tuple[str, ...] = ("normal", "poisson", "negative_binomial", "bootstrap")
"""Distribution methods (the reorder-point methods of :func:`core.slow_movers.choose_rop_method`)."""


@dataclass(frozen=True)
class ProtectionDemand:
    """Per-item demand over a protection interval (arrays (n,); ``samples`` (n_boot, K) sorted, one row per item
    with method ``bootstrap``, in item order).

    Build with :func:`protection_demand`. ``quantile`` and ``expected_shortage`` take (n,) or (n, m) arguments.
    """

    method: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    samples: np.ndarray

    @property
    def n(self) -> int:
        return int(self.mean.shape[0])

    def quantile(self, probability: Any) -> np.ndarray:
        """Smallest level with P(X <= level) >= p per item (continuous for normal): shape of ``probability``
        broadcast to (n,) or (n, m)."""
        p = _rows(probability, self.n)
        if np.any(~((p > 0) & (p < 1))):
            raise ValueError("probability must be strictly between 0 and 1")
        out = np.zeros(p.shape)
        mu = self.mean[:, None]
        sd = np.sqrt(np.maximum(self.var, 0.0))[:, None]
        m = self.method == "normal"
        if m.any():
            out[m] = (mu + sd * stats.norm.ppf(p))[m]
        m = (self.method == "poisson") | (self.method == "negative_binomial")
        if m.any():
            out[m] = _discrete_quantile(self.method[m], self.mean[m], self.var[m], p[m])
        m = self.method == "bootstrap"
        if m.any():
            k = self.samples.shape[1]
            idx = np.clip(np.ceil(p[m] * k - 1e-9).astype(int) - 1, 0, k - 1)
            out[m] = np.take_along_axis(self.samples, idx, axis=1)
        return out

    def expected_shortage(self, level: Any) -> np.ndarray:
        """E[(X - level)+] per item and level: (n,) or (n, m)."""
        s = _rows(level, self.n)
        out = np.zeros(s.shape)
        mu = np.broadcast_to(self.mean[:, None], s.shape)
        m = self.method == "normal"
        if m.any():
            sd = np.broadcast_to(np.sqrt(np.maximum(self.var, 0.0))[:, None], s.shape)[m]
            with np.errstate(divide="ignore", invalid="ignore"):
                k = np.where(sd > 0, (s[m] - mu[m]) / np.where(sd > 0, sd, 1.0), 0.0)
            out[m] = np.where(sd > 0, sd * np.asarray(normal_loss(k)), np.maximum(mu[m] - s[m], 0.0))
        m = (self.method == "poisson") | (self.method == "negative_binomial")
        if m.any():
            out[m] = _discrete_loss(self.method[m], self.mean[m], self.var[m], s[m])
        m = self.method == "bootstrap"
        if m.any():
            out[m] = _sample_loss(self.samples, s[m])
        return out


def _rows(value: Any, n: int) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        a = np.full((n, 1), float(a))
    elif a.ndim == 1:
        if a.shape[0] != n:
            raise ValueError(f"expected {n} rows, got {a.shape[0]}")
        a = a[:, None]
    elif a.shape[0] != n:
        raise ValueError(f"expected {n} rows, got {a.shape[0]}")
    return a


def _nb_params(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    over = (var > mean) & (mean > 0)
    vv = np.where(over, var, 2.0)
    mm = np.where(over, mean, 1.0)
    return mm * mm / (vv - mm), mm / vv, over


def _poisson_loss(mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """E[(X - s)+], X ~ Poisson(mu), s rounded down to an integer (levels below 0 count as their own value)."""
    si = np.floor(s + 1e-9)
    lam = np.where(mu > 0, mu, 1.0)
    tail = np.where(si >= 0, stats.poisson.sf(si, lam), 1.0)
    pmf = np.where(si >= 0, stats.poisson.pmf(si, lam), 0.0)
    out = (mu - si) * tail + mu * pmf
    out = np.where(si < 0, mu - si, out)  # below 0: every unit of demand and the gap
    return np.where(mu > 0, np.maximum(out, 0.0), np.maximum(-si, 0.0))


def _nb_loss(mu: np.ndarray, r: np.ndarray, q: np.ndarray, s: np.ndarray) -> np.ndarray:
    si = np.floor(s + 1e-9)
    tail = np.where(si >= 0, stats.nbinom.sf(si, r, q), 1.0)
    tail_shift = np.where(si >= 1, stats.nbinom.sf(si - 1, r + 1, q), 1.0)
    out = mu * tail_shift - si * tail
    out = np.where(si < 0, mu - si, out)
    return np.maximum(out, 0.0)


_TABLE_WIDTH = 400  # discrete items whose 0.9999 bound is below this use pmf tables; the rest scipy


def _bounds(mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    return np.ceil(mean + 12.0 * np.sqrt(np.maximum(var, mean)) + 10.0)


def _pmf_table(method: np.ndarray, mean: np.ndarray, var: np.ndarray, width: int) -> np.ndarray:
    """(n, width) pmf of Poisson / negative binomial rows by the recursions p_k = p_{k-1} mu / k (Poisson) and
    p_k = p_{k-1} (1 - q)(k + r - 1) / k (NB), from p_0 = exp(-mu) / q^r; the last column takes the rest of the
    mass."""
    r, q, over = _nb_params(mean, var)
    nb = (method == "negative_binomial") & over
    k = np.arange(1, width, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        step_p = mean[:, None] / k[None, :]
        step_nb = (1.0 - q)[:, None] * (k[None, :] + r[:, None] - 1.0) / k[None, :]
        log_p0 = np.where(nb, r * np.log(q), -mean)
        steps = np.where(nb[:, None], step_nb, step_p)
        logs = np.log(np.maximum(steps, 1e-300))
    cum = np.concatenate([log_p0[:, None], log_p0[:, None] + np.cumsum(logs, axis=1)], axis=1)
    pmf = np.exp(cum)
    pmf[mean <= 0] = 0.0
    pmf[mean <= 0, 0] = 1.0
    pmf[:, -1] = np.maximum(1.0 - pmf[:, :-1].sum(axis=1), 0.0) + pmf[:, -1] * 0.0
    return pmf


def _chunks(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, int]]]:
    """Rows whose tables are small, in chunks of rows with similar bounds, each with its own table width."""
    bound = _bounds(mean, var)
    small = bound < _TABLE_WIDTH
    idx = np.flatnonzero(small)
    idx = idx[np.argsort(bound[idx], kind="stable")]
    chunks = [(sel, int(bound[sel].max()) + 2) for sel in (idx[lo : lo + 512] for lo in range(0, idx.size, 512))]
    return small, chunks


def _discrete_quantile(method: np.ndarray, mean: np.ndarray, var: np.ndarray, p: np.ndarray) -> np.ndarray:
    """p-quantiles of Poisson / negative binomial rows (pmf tables for small means, scipy for the rest)."""
    out = np.zeros(p.shape)
    small, chunks = _chunks(mean, var)
    for sel, width in chunks:
        cdf = np.cumsum(_pmf_table(method[sel], mean[sel], var[sel], width), axis=1)
        cdf[:, -1] = 1.0
        out[sel] = (cdf[:, None, :] < p[sel][:, :, None] - 1e-12).sum(axis=2)
    big = ~small
    if big.any():
        r, q, over = _nb_params(mean[big], var[big])
        nb = (method[big] == "negative_binomial") & over
        lam = np.where(mean[big] > 0, mean[big], 1.0)[:, None]
        out[big] = np.where(
            nb[:, None], stats.nbinom.ppf(p[big], r[:, None], q[:, None]), stats.poisson.ppf(p[big], lam)
        )
    return out


def _discrete_loss(method: np.ndarray, mean: np.ndarray, var: np.ndarray, level: np.ndarray) -> np.ndarray:
    """E[(X - s)+] of Poisson / negative binomial rows at levels s (rounded down to integers): mu - s + s F(s) -
    sum_{k <= s} k p_k from pmf tables (scipy's closed forms for rows with large means)."""
    out = np.zeros(level.shape)
    small, chunks = _chunks(mean, var)
    si = np.floor(level + 1e-9)
    for sel, width in chunks:
        pmf = _pmf_table(method[sel], mean[sel], var[sel], width)
        cdf = np.cumsum(pmf, axis=1)
        kpk = np.cumsum(pmf * np.arange(width)[None, :], axis=1)
        s_sel = si[sel]
        inside = np.clip(s_sel, 0, width - 1).astype(int)
        f = np.take_along_axis(cdf, inside, axis=1)
        b = np.take_along_axis(kpk, inside, axis=1)
        mu = mean[sel][:, None]
        val = mu - s_sel + s_sel * f - b
        val = np.where(s_sel < 0, mu - s_sel, val)
        out[sel] = np.where(s_sel >= width - 1, 0.0, np.maximum(val, 0.0))
    big = ~small
    if big.any():
        r, q, over = _nb_params(mean[big], var[big])
        nb = (method[big] == "negative_binomial") & over
        mu = np.broadcast_to(mean[big][:, None], level[big].shape)
        rr = np.broadcast_to(r[:, None], level[big].shape)
        qq = np.broadcast_to(q[:, None], level[big].shape)
        out[big] = np.where(nb[:, None], _nb_loss(mu, rr, qq, level[big]), _poisson_loss(mu, level[big]))
    return out


def _sample_loss(samples: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Mean of (x - level)+ over each row's sorted samples, for every column of ``level`` (rows match)."""
    k = samples.shape[1]
    suffix = np.concatenate([np.cumsum(samples[:, ::-1], axis=1)[:, ::-1], np.zeros((samples.shape[0], 1))], axis=1)
    out = np.zeros(level.shape)
    for j in range(level.shape[1]):
        lv = level[:, j : j + 1]
        idx = (samples <= lv).sum(axis=1)  # samples above the level start at idx
        above = np.take_along_axis(suffix, idx[:, None], axis=1)[:, 0]
        out[:, j] = (above - lv[:, 0] * (k - idx)) / k
    return np.maximum(out, 0.0)


def protection_demand(
    *,
    method: Any,
    mean: Any,
    var: Any,
    samples: np.ndarray | None = None,
) -> ProtectionDemand:
    """Build a :class:`ProtectionDemand`.

    Parameters
    ----------
    method
        (n,) one of :data:`METHODS` per item.
    mean, var
        (n,) mean and variance of the demand over the interval (>= 0).
    samples
        (n_boot, K) samples for the ``bootstrap`` items, in item order (sorted here); required when any item uses
        ``bootstrap``.

    Raises
    ------
    ValueError
        Unknown method, negative mean or variance, shapes that do not match, missing samples.
    """
    meth = np.atleast_1d(np.asarray(method, dtype=object))
    mu = np.broadcast_to(np.atleast_1d(np.asarray(mean, dtype=float)), meth.shape).astype(float)
    v = np.broadcast_to(np.atleast_1d(np.asarray(var, dtype=float)), meth.shape).astype(float)
    bad = ~np.isin(meth, METHODS)
    if bad.any():
        raise ValueError(f"method must be one of {METHODS}, got {meth[bad][0]!r}")
    if np.any(~(mu >= 0)) or np.any(~(v >= 0)):
        raise ValueError("mean and var must be finite and >= 0")
    n_boot = int(np.sum(meth == "bootstrap"))
    if n_boot:
        if samples is None or np.ndim(samples) != 2 or np.shape(samples)[0] != n_boot:
            raise ValueError(f"samples must have one row per bootstrap item ({n_boot})")
        smp = np.sort(np.asarray(samples, dtype=float), axis=1)
    else:
        smp = np.zeros((0, 1))
    return ProtectionDemand(method=meth, mean=mu, var=v, samples=smp)


def policy_fill_rate(*, demand: ProtectionDemand, reorder_point: Any, cycle_quantity: Any) -> np.ndarray:
    """Expected fill rate of reorder level s with cycle quantity Qc (> 0): 1 - (n(s) - n(s + Qc)) / Qc, clipped to
    [0, 1]; n(x) = E[(X - x)+]. Arguments (n,) or (n, m); NaN where Qc <= 0. Source: Hadley & Whitin (1963);
    Silver, Pyke & Thomas (2017) eq. 6.16 with the exact second term.
    """
    s = _rows(reorder_point, demand.n)
    q = np.broadcast_to(_rows(cycle_quantity, demand.n), s.shape)
    short = demand.expected_shortage(s) - demand.expected_shortage(s + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q > 0, np.clip(1.0 - short / np.where(q > 0, q, 1.0), 0.0, 1.0), np.nan)


def policy_average_stock(
    *, cover: ProtectionDemand, reorder_point: Any, cycle_quantity: Any, points: int = 4
) -> np.ndarray:
    """Average on-hand stock at period ends of reorder level s with cycle quantity Qc: the inventory position just
    after a review is taken as uniform on (s, s + Qc], and a position y leaves E[(y - X)+] = y - E[X] + n(y) on hand
    once the demand X of the lead time plus the review period (``cover``) has passed; averaged over ``points``
    midpoints. Arguments (n,) or (n, m). Source: Hadley & Whitin (1963) ch. 5 (periodic review, uniform position);
    Silver, Pyke & Thomas (2017) eq. 7.x (expected on hand = E[(IP - X_{L+R})+])."""
    s = _rows(reorder_point, cover.n)
    q = np.broadcast_to(_rows(cycle_quantity, cover.n), s.shape)
    total = np.zeros(s.shape)
    for k in range(points):
        y = s + q * (k + 0.5) / points
        total += y - cover.mean[:, None] + cover.expected_shortage(y)
    return np.maximum(total / points, 0.0)


__all__ = [
    "METHODS",
    "ProtectionDemand",
    "policy_average_stock",
    "policy_fill_rate",
    "protection_demand",
]
