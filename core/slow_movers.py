"""Reorder points for slow movers: where lead-time demand is small or lumpy the normal approximation is wrong, and
the reorder point is a quantile of a Poisson, negative binomial or bootstrapped lead-time demand distribution
(:func:`choose_rop_method` picks the method, :func:`reorder_point_auto` applies it). Pure, keyword-only and
vectorised like :mod:`core.policy`, whose safety stock and validation it uses.

Sources: Silver, Pyke & Thomas (2017) ch. 6-7 (slow-moving items, the Poisson and negative binomial lead-time
demand); Axsäter (2015) ch. 5; the bootstrap of lead-time demand from Snyder & Shen (2019) ch. 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from core.policy import ArrayLike, _arr, _nonneg, _prob, _scalarise, reorder_point_periodic

ROP_METHODS: tuple[str, ...] = ("normal", "poisson", "negative_binomial", "bootstrap")
"""Reorder point methods, see :func:`reorder_point_auto`."""


@dataclass(frozen=True)
class ReorderPointResult:
    """Reorder points by method, one entry per item (arrays of shape (n,)).

    Attributes
    ----------
    reorder_point
        Quantile of lead-time demand (protection period ``lead_time``).
    order_up_to
        Same quantile over ``lead_time + review_period`` (the (R, S) level).
    safety_stock
        reorder_point - D L.
    method, reason
        Method used per item (one of :data:`ROP_METHODS`) and why it was chosen (quotes the numbers).
    """

    reorder_point: np.ndarray
    order_up_to: np.ndarray
    safety_stock: np.ndarray
    method: np.ndarray
    reason: np.ndarray


def choose_rop_method(
    *,
    lead_time_demand_mean: ArrayLike,
    lead_time_demand_var: ArrayLike,
    demand_class: ArrayLike,
    nonzero_count: ArrayLike | None = None,
    normal_min_mean: float = 10.0,
    overdispersion_ratio: float = 1.1,
    bootstrap_min_nonzero: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose how to compute the reorder point, per item. First matching rule wins:

    1. mean lead-time demand mu = 0 -> ``poisson`` (mean 0: reorder point 0).
    2. mu >= ``normal_min_mean`` and demand class smooth or erratic -> ``normal`` (the sum of enough periods is
       close to normal).
    3. lumpy class with at least ``bootstrap_min_nonzero`` non-zero periods of history -> ``bootstrap``
       (lumpy sizes are neither Poisson nor normal; resample the history).
    4. variance / mean > ``overdispersion_ratio`` -> ``negative_binomial`` (overdispersed counts).
    5. otherwise -> ``poisson``.

    Returns ``(method, reason)`` string arrays; each reason quotes the numbers that decided.
    Source: Silver, Pyke & Thomas (2017) section 8.2 (slow movers: Poisson / negative binomial below a mean
    lead-time demand of about 10 units); Syntetos & Boylan (2005) classes; bootstrap: Willemain et al. (2004).
    """
    mu = np.atleast_1d(_arr("lead_time_demand_mean", lead_time_demand_mean))
    var = np.atleast_1d(_nonneg("lead_time_demand_var", lead_time_demand_var))
    cls = np.atleast_1d(np.asarray(demand_class, dtype=object))
    mu, var, cls = np.broadcast_arrays(mu, var, cls)
    nz = (
        np.full(mu.shape, np.inf)
        if nonzero_count is None
        else np.broadcast_to(np.atleast_1d(_arr("nonzero_count", nonzero_count)), mu.shape)
    )
    methods = np.empty(mu.shape, dtype=object)
    reasons = np.empty(mu.shape, dtype=object)
    for i in range(mu.size):
        m, v, c, n = float(mu.flat[i]), float(var.flat[i]), str(cls.flat[i]), nz.flat[i]
        vm = v / m if m > 0 else np.nan
        if not m > 0:
            meth, why = "poisson", "Lead-time demand mean is 0: Poisson with mean 0 gives reorder point 0"
        elif m >= normal_min_mean and c in ("smooth", "erratic"):
            meth, why = (
                "normal",
                f"Lead-time demand mean {m:.1f} >= {normal_min_mean:g} and {c} demand: normal approximation",
            )
        elif c == "lumpy" and n >= bootstrap_min_nonzero:
            meth = "bootstrap"
            why = (
                f"Lumpy demand with {int(n)} non-zero periods (>= {bootstrap_min_nonzero}): "
                "bootstrapped lead-time demand"
            )
        else:
            head = (
                f"Lead-time demand mean {m:.1f} < {normal_min_mean:g}"
                if m < normal_min_mean
                else f"{c.capitalize()} demand (lead-time mean {m:.1f})"
            )
            if vm > overdispersion_ratio:
                meth, why = (
                    "negative_binomial",
                    f"{head}; variance/mean {vm:.2f} > {overdispersion_ratio:g}: negative binomial",
                )
            else:
                meth, why = "poisson", f"{head}; variance/mean {vm:.2f} <= {overdispersion_ratio:g}: Poisson"
        methods.flat[i] = meth
        reasons.flat[i] = why
    return methods, reasons


def poisson_quantile(*, service_level: ArrayLike, mean: ArrayLike) -> np.ndarray | float:
    """Smallest integer r with P(X <= r) >= service_level for X ~ Poisson(mean) (0 for mean 0)."""
    sl = _prob("service_level", service_level)
    mu = _nonneg("mean", mean)
    out = np.where(mu > 0, stats.poisson.ppf(sl, np.where(mu > 0, mu, 1.0)), 0.0)
    return _scalarise(out)


def negative_binomial_quantile(*, service_level: ArrayLike, mean: ArrayLike, var: ArrayLike) -> np.ndarray | float:
    """Smallest integer r with P(X <= r) >= service_level, X negative binomial with the given mean and variance.

    Parameterisation n = mean^2 / (var - mean), p = mean / var; falls back to Poisson where var <= mean.
    """
    sl = _prob("service_level", service_level)
    mu = _nonneg("mean", mean)
    v = _nonneg("var", var)
    sl, mu, v = np.broadcast_arrays(sl, mu, v)
    over = (v > mu) & (mu > 0)
    vv = np.where(over, v, 2.0)
    mm = np.where(over, mu, 1.0)
    nb = stats.nbinom.ppf(sl, mm * mm / (vv - mm), mm / vv)
    out = np.where(over, nb, np.asarray(poisson_quantile(service_level=sl, mean=mu)))
    return _scalarise(out)


def bootstrap_lead_time_demand(
    *,
    history: np.ndarray,
    lead_time: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    rng: np.random.Generator,
    n_samples: int = 500,
) -> np.ndarray:
    """Bootstrapped lead-time demand samples, shape (n, n_samples).

    Each sample sums L' per-period demands drawn with replacement from the item's non-NaN history, where
    L' ~ max(0, Normal(L, sigma_L)) (L' = L when sigma_L = 0) and a fractional last period is weighted by its
    fraction. Source: Willemain, Smart & Schwarz (2004), simplified to iid resampling.
    """
    h = np.atleast_2d(_arr("history", history))
    n = h.shape[0]
    lt = np.broadcast_to(_nonneg("lead_time", lead_time), (n,)).astype(float)
    slt = np.broadcast_to(_nonneg("lead_time_std", lead_time_std), (n,)).astype(float)
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    valid = ~np.isnan(h)
    counts = valid.sum(axis=1)
    # compress the valid values to the left of each row
    order = np.argsort(~valid, axis=1, kind="stable")
    packed = np.take_along_axis(np.where(valid, h, 0.0), order, axis=1)
    lt_draw = np.maximum(lt[:, None] + slt[:, None] * rng.standard_normal((n, n_samples)), 0.0)
    out = np.zeros((n, n_samples))
    if n == 0:
        return out
    n_max = int(np.ceil(lt_draw.max())) if lt_draw.size else 0
    for j in range(n_max):
        w = np.clip(lt_draw - j, 0.0, 1.0)
        idx = np.floor(rng.random((n, n_samples)) * np.maximum(counts, 1)[:, None]).astype(int)
        out += w * np.take_along_axis(packed, idx, axis=1)
    out[counts == 0] = 0.0
    return out


def reorder_point_auto(
    *,
    service_level: ArrayLike,
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    review_period: ArrayLike = 1.0,
    demand_class: ArrayLike = "smooth",
    history: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    normal_min_mean: float = 10.0,
    overdispersion_ratio: float = 1.1,
    bootstrap_min_nonzero: int = 8,
    n_samples: int = 500,
    periodic_review: bool = True,
) -> ReorderPointResult:
    """Reorder point and order-up-to level with the method chosen per item by :func:`choose_rop_method`.

    normal: ROP = D L + z sqrt(L sigma_D^2 + D^2 sigma_L^2); poisson / negative_binomial: service-level quantile of
    a distribution with mean D L and variance L sigma_D^2 + D^2 sigma_L^2; bootstrap: empirical quantile of
    :func:`bootstrap_lead_time_demand` (needs ``history`` (n, T) and ``rng``; without them bootstrap is never chosen).
    With ``periodic_review`` (the position is checked every ``review_period`` periods) the normal reorder point is
    :func:`reorder_point_periodic` (undershoot allowance); otherwise the continuous-review :func:`reorder_point`.
    The discrete and bootstrap methods ignore the undershoot. The order-up-to level uses the same method over L + R
    (an order-up-to policy has no undershoot).

    Returns
    -------
    ReorderPointResult
        Arrays of shape (n,).
    """
    sl = np.atleast_1d(_prob("service_level", service_level))
    d = np.atleast_1d(_nonneg("demand_mean", demand_mean))
    sd = np.atleast_1d(_nonneg("demand_std", demand_std))
    lt = np.atleast_1d(_nonneg("lead_time", lead_time))
    slt = np.atleast_1d(_nonneg("lead_time_std", lead_time_std))
    r = np.atleast_1d(_nonneg("review_period", review_period))
    cls = np.atleast_1d(np.asarray(demand_class, dtype=object))
    sl, d, sd, lt, slt, r, cls = np.broadcast_arrays(sl, d, sd, lt, slt, r, cls)
    n = d.size
    mu_l = d * lt
    var_l = lt * sd * sd + d * d * slt * slt
    nonzero = None
    if history is not None and rng is not None:
        hist = np.atleast_2d(_arr("history", history))
        if hist.shape[0] != n:
            raise ValueError(f"history must have {n} rows, got {hist.shape[0]}")
        nonzero = np.nansum(hist > 0, axis=1)
    else:
        nonzero = np.zeros(n)
    method, reason = choose_rop_method(
        lead_time_demand_mean=mu_l,
        lead_time_demand_var=var_l,
        demand_class=cls,
        nonzero_count=nonzero,
        normal_min_mean=normal_min_mean,
        overdispersion_ratio=overdispersion_ratio,
        bootstrap_min_nonzero=bootstrap_min_nonzero,
    )
    rop = np.zeros(n)
    s_level = np.zeros(n)
    for protect, target in ((lt, rop), (lt + r, s_level)):
        mu_p = d * protect
        var_p = protect * sd * sd + d * d * slt * slt
        m = method == "normal"
        if m.any():
            target[m] = mu_p[m] + stats.norm.ppf(sl[m]) * np.sqrt(var_p[m])
            if periodic_review and target is rop:
                target[m] = reorder_point_periodic(
                    service_level=sl[m],
                    demand_mean=d[m],
                    demand_std=sd[m],
                    lead_time=lt[m],
                    review_period=r[m],
                    lead_time_std=slt[m],
                )
        m = method == "poisson"
        if m.any():
            target[m] = poisson_quantile(service_level=sl[m], mean=mu_p[m])
        m = method == "negative_binomial"
        if m.any():
            target[m] = negative_binomial_quantile(service_level=sl[m], mean=mu_p[m], var=var_p[m])
    m = method == "bootstrap"
    if m.any():
        assert history is not None and rng is not None
        hist = np.atleast_2d(np.asarray(history, dtype=float))[m]
        idx = np.flatnonzero(m)
        for lo in range(0, idx.size, 256):  # bounded memory
            sel = idx[lo : lo + 256]
            hsel = hist[lo : lo + 256]
            for protect, target in ((lt, rop), (lt + r, s_level)):
                samples = np.sort(
                    bootstrap_lead_time_demand(
                        history=hsel, lead_time=protect[sel], lead_time_std=slt[sel], rng=rng, n_samples=n_samples
                    ),
                    axis=1,
                )
                k = np.clip(np.ceil(sl[sel] * n_samples).astype(int) - 1, 0, n_samples - 1)
                target[sel] = samples[np.arange(sel.size), k]
    return ReorderPointResult(
        reorder_point=rop,
        order_up_to=np.maximum(s_level, rop),
        safety_stock=rop - mu_l,
        method=method,
        reason=reason,
    )
