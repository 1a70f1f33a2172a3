"""The engine's reorder levels: the demand each SKU's stock must cover, and the service each SKU is set to.

Two steps of the policy stage (:func:`core.replenishment.replenishment_policy`):

1. :func:`protection_distributions` -- per SKU the distribution of demand over the lead time L (the reorder point
   protects it) and over L + R (the order-up-to level), by the method :func:`core.slow_movers.choose_rop_method` picks:

   - normal / Poisson / negative binomial: mean D P and variance sigma_P^2 + D^2 sigma_L^2 (P = L or L + R periods,
     sigma_L the lead-time std), sigma_P = sigma_1 sqrt(P) (``protection_sigma="one_step"``, the default). Option
     ``"cumulative"``: sigma_P is the error of the *cumulative* forecast over P periods, sigma_1 g(P), g(P) = c P^a
     fitted (least squares on log-log) to the root mean square of the backtest's cumulative errors over the first
     1..h steps of each origin, divided by sigma_1, pooled over the SKUs of a demand class (errors that persist, a
     wrong level, grow faster than sqrt(P)). Replayed on the four shared sets it did not pay (mean inventory ratio
     at equal fill 0.772 vs 0.767 manufacturer, 0.585 vs 0.607 oil, 0.717 vs 0.710 car parts, 0.853 vs 0.851 M5),
     so it is off by default.
   - level shifts: where the forecast D now is below half the mean backtest prediction m of the same SKU (demand
     fell; a seasonal dip stays above half), sigma_1 is scaled by min(1, 2 D / m)^``level_scaling`` (1/2: the error
     of counts scales with the square root of their level), so that a series that fell from 121 to 0 a week does not
     keep a safety stock sized on the fall.
   - bootstrap (lumpy SKUs with enough history): lead-time demand resampled from the history (Willemain et al.
     2004); where the forecast fell below half the history's mean the samples are scaled by 2 D / mean (the same
     level-shift rule; ``bootstrap_rescale``). Scaling every SKU to its forecast level instead was measured worse
     on the oil set's lumpy parts at high fill rates (1.06x the company's inventory at its fill vs 0.87x).
   - the reorder point's distribution adds the review undershoot U (Silver, Pyke & Thomas 2017 section 7.3.3)
     where ``undershoot`` is on (``periodic_review_rop``, for the classes in ``undershoot_classes``): the mean and
     variance of :func:`undershoot_moments` (the discrete renewal excess of the history's demand per period) for
     normal, Poisson and negative binomial; a drawn undershoot V W (V a size-biased non-zero period demand, W ~
     U(0, 1)) for the bootstrap. Lumpy demand drops the position far below s at the review that triggers an order;
     without U the replayed fill rate at a 95 % target fell to 0.57 (oil), 0.84 (car parts), 0.80 (M5), 0.87
     (manufacturer) instead of 0.68-0.90 with it.

2. :func:`service_levels` -- the probability p each SKU's levels are set at (reorder point = the p-quantile of the
   L distribution, order-up-to = the p-quantile over L + R, at least the reorder point):

   - ``measure="csl"``: p = the SKU's target (cycle service level);
   - ``measure="fill_rate"``: the smallest candidate p whose expected fill rate reaches the target, through the
     loss function (:func:`core.protection.policy_fill_rate`);
   - ``allocate=True`` (with the fill-rate measure): per segment (the SKUs of a category) the demand-weighted mean
     target is met at the least average stock value: every SKU's candidate levels (:data:`CANDIDATE_PROBABILITIES`)
     with their expected fill rate and stock value (:func:`core.protection.policy_average_stock` x unit cost) go to
     :func:`core.allocation.allocate_to_target` (equal marginal fill per unit of money); a SKU never goes below
     its floor (the lowest candidate whose fill rate reaches the floor).

Sources: Silver, Pyke & Thomas (2017) ch. 6-7 (lead-time demand, fill rate, undershoot, exchange curves);
Willemain, Smart & Schwarz (2004); Everett (1963); Syntetos & Boylan (2005) (demand classes for pooling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core import slow_movers
from core.allocation import allocate_to_target
from core.protection import ProtectionDemand, policy_average_stock, policy_fill_rate, protection_demand

CANDIDATE_PROBABILITIES: tuple[float, ...] = (
    0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99,
    0.993, 0.995, 0.997, 0.998, 0.999,
)  # fmt: skip
"""Service probabilities a SKU's levels may be set at (fill-rate targets and allocation)."""

SIGMA_MODES: tuple[str, ...] = ("cumulative", "one_step")
MEASURES: tuple[str, ...] = ("fill_rate", "csl")


@dataclass(frozen=True)
class ErrorGrowth:
    """g(P) = scale P^exponent per SKU (arrays (n,)): the cumulative forecast error over P periods in units of
    the one-step sigma."""

    scale: np.ndarray
    exponent: np.ndarray

    def factor(self, periods: np.ndarray) -> np.ndarray:
        """g(P) for (n,) periods P >= 0 (0 at P = 0)."""
        p = np.maximum(np.asarray(periods, dtype=float), 0.0)
        return np.where(p > 0, self.scale * np.power(np.maximum(p, 1e-12), self.exponent), 0.0)


def error_growth(
    *,
    history: np.ndarray,
    backtest: np.ndarray,
    cuts: np.ndarray,
    horizon: int,
    sigma: np.ndarray,
    groups: np.ndarray,
    min_points: int = 30,
) -> ErrorGrowth:
    """Fit g(P) = c P^a per group from the backtest's cumulative errors (see the module docstring).

    For every origin cut c and step count P = 1..h, the cumulative error E = sum_{k < P} (actual - prediction) over
    periods c .. c + P - 1 (only where all P are backtested) is divided by the SKU's sigma_1; the root mean square
    over a group's SKUs and origins gives r(P); c and a come from least squares of log r(P) on log P over the P with
    at least ``min_points`` values. Groups (or a batch) without enough points get c = 1, a = 1/2 (independent
    errors). a is kept in [0.5, 1] and c in [0.5, 2] (between independent and fully persistent errors).
    """
    h_arr = np.asarray(history, dtype=float)
    bt = np.asarray(backtest, dtype=float)
    n, t_len = h_arr.shape
    scale = np.ones(n)
    expo = np.full(n, 0.5)
    if n == 0 or len(cuts) == 0:
        return ErrorGrowth(scale=scale, exponent=expo)
    err = np.maximum(np.nan_to_num(h_arr, nan=np.nan), 0.0) - bt
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_sigma = np.where(sigma > 0, 1.0 / sigma, np.nan)
    steps = np.arange(1, horizon + 1)
    cum = np.full((n, len(cuts), horizon), np.nan)
    for ci, c in enumerate(cuts):
        idx = int(c) + np.arange(horizon)
        inside = idx < t_len
        block = np.full((n, horizon), np.nan)
        block[:, inside] = err[:, idx[inside]]
        csum = np.cumsum(block, axis=1)  # NaN propagates: a gap ends the run
        cum[:, ci, :] = csum * inv_sigma[:, None]
    for g in np.unique(groups):
        m = groups == g
        z = cum[m]
        cnt = np.isfinite(z).sum(axis=(0, 1))
        ok = cnt >= min_points
        if ok.sum() < 2:
            continue
        r = np.sqrt(np.nansum(z * z, axis=(0, 1))[ok] / cnt[ok])
        if np.any(~(r > 0)):
            continue
        a, b = np.polyfit(np.log(steps[ok]), np.log(r), 1)
        scale[m] = float(np.clip(np.exp(b), 0.5, 2.0))
        expo[m] = float(np.clip(a, 0.5, 1.0))
    return ErrorGrowth(scale=scale, exponent=expo)


def level_scaled_sigma(*, sigma: np.ndarray, demand_mean: np.ndarray, backtest: np.ndarray, power: float) -> np.ndarray:
    """sigma_1 x min(1, 2 D / m)^power, m = the SKU's mean backtest prediction: scaled down only where the
    forecast level fell below half of what the backtest windows predicted (a level shift, not a seasonal dip);
    unchanged without a backtest or with power 0. See the module docstring."""
    if power <= 0:
        return sigma
    bt = np.asarray(backtest, dtype=float)
    cnt = np.isfinite(bt).sum(axis=1)
    m = np.where(cnt > 0, np.nansum(np.where(np.isfinite(bt), bt, 0.0), axis=1) / np.maximum(cnt, 1), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isfinite(m) & (m > 0), np.minimum(2.0 * demand_mean / np.where(m > 0, m, 1.0), 1.0), 1.0)
    return sigma * np.power(np.maximum(ratio, 0.0), power)


def _bootstrap(
    *,
    history: np.ndarray,
    periods: np.ndarray,
    lead_time_std: np.ndarray,
    demand_mean: np.ndarray | None,
    rng: np.random.Generator,
    n_samples: int,
    undershoot: bool,
) -> np.ndarray:
    samples = slow_movers.bootstrap_lead_time_demand(
        history=history, lead_time=periods, lead_time_std=lead_time_std, rng=rng, n_samples=n_samples
    )
    h = np.maximum(np.nan_to_num(history, nan=0.0), 0.0)
    valid = np.isfinite(history)
    cnt = valid.sum(axis=1)
    hist_mean = np.where(cnt > 0, (h * valid).sum(axis=1) / np.maximum(cnt, 1), 0.0)
    if undershoot:
        # renewal excess: a size-biased non-zero period demand times U(0, 1)
        w = np.where(valid, h, 0.0)
        tot = w.sum(axis=1)
        probs = np.where(tot[:, None] > 0, w / np.where(tot > 0, tot, 1.0)[:, None], 0.0)
        cdf = np.cumsum(probs, axis=1)
        u = rng.random((h.shape[0], n_samples))
        idx = np.minimum((u[:, :, None] > cdf[:, None, :]).sum(axis=2), h.shape[1] - 1)
        sizes = np.take_along_axis(h, idx, axis=1)
        samples = samples + sizes * rng.random((h.shape[0], n_samples))
    if demand_mean is None:
        return samples
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 2.0 * demand_mean / np.where(hist_mean > 0, hist_mean, 1.0)
    return samples * np.where(hist_mean > 0, np.minimum(ratio, 1.0), 0.0)[:, None]


def undershoot_moments(
    *, history: np.ndarray, demand_mean: np.ndarray, review_period: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the review undershoot U per SKU from the history's demand per period.

    With X the demand of one review interval (R periods; raw moments m1, m2, m3 from the observed history: exact
    for R = 1, R-period sums of independent periods otherwise), the discrete renewal excess P(U = u) =
    P(X >= u + 1) / E[X] (demand in whole units; the position is checked against s after each review) gives
    E[U] = (m2 / m1 - 1) / 2 and E[U^2] = (2 m3 - 3 m2 + m1) / (6 m1). U is scaled by min(1, 2 D / history mean)
    so that it follows the forecast level where demand fell below half (never up). 0 without demand; unit demands
    (m2 = m1) give U = 0. Source: Silver, Pyke & Thomas (2017) section 7.3.3; Hadley & Whitin (1963) section 5-5.
    """
    h = np.asarray(history, dtype=float)
    ok = np.isfinite(h)
    x = np.where(ok, np.maximum(h, 0.0), 0.0)
    cnt = np.maximum(ok.sum(axis=1), 1)
    mu = x.sum(axis=1) / cnt
    var = np.maximum((x * x).sum(axis=1) / cnt - mu * mu, 0.0)
    c3 = (x**3).sum(axis=1) / cnt - 3 * mu * (x * x).sum(axis=1) / cnt + 2 * mu**3  # third central moment
    r = float(review_period)
    m1 = r * mu
    m2 = r * var + m1 * m1
    m3 = r * c3 + 3 * m1 * r * var + m1**3
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(m1 > 0, m1, 1.0)
        mean_u = np.where(m1 > 0, np.maximum(m2 / safe - 1.0, 0.0) / 2.0, 0.0)
        ex2 = np.where(m1 > 0, np.maximum(2 * m3 - 3 * m2 + m1, 0.0) / (6 * safe), 0.0)
        var_u = np.maximum(ex2 - mean_u**2, 0.0)
        scale = np.where(mu > 0, np.minimum(2.0 * demand_mean / np.where(mu > 0, mu, 1.0), 1.0), 0.0)
    return mean_u * scale, var_u * scale * scale


def protection_distributions(
    *,
    method: np.ndarray,
    demand_mean: np.ndarray,
    sigma: np.ndarray,
    growth: ErrorGrowth,
    lead_time: np.ndarray,
    lead_time_std: np.ndarray,
    review_period: float,
    history: np.ndarray,
    rng: np.random.Generator,
    n_samples: int,
    undershoot: Any,
    bootstrap_rescale: bool = True,
) -> tuple[ProtectionDemand, ProtectionDemand, np.ndarray]:
    """``(over_lead_time, over_lead_time_plus_review, undershoot_mean)``: demand distributions per SKU (module
    docstring) and the mean undershoot added to the first (0 where none; for the bootstrap its moment estimate).

    ``undershoot`` ((n,) bool, or one bool for all): the first adds the review undershoot
    (:func:`undershoot_moments`) for these SKUs: its mean and variance for normal, Poisson and negative binomial (a
    Poisson whose variance then exceeds its mean becomes a negative binomial), a drawn renewal excess for the
    bootstrap. ``bootstrap_rescale``: bootstrap samples follow the forecast level where it fell below half of the
    history's mean (never up).
    """
    d = demand_mean
    out = []
    boot = method == "bootstrap"
    mu_u, var_u = undershoot_moments(history=history, demand_mean=d, review_period=review_period)
    under = np.broadcast_to(np.asarray(undershoot, dtype=bool), d.shape)
    for protect, with_u in ((lead_time, under), (lead_time + review_period, np.zeros(d.shape, dtype=bool))):
        g = growth.factor(protect)
        var = (sigma * g) ** 2 + d * d * lead_time_std**2
        mean = d * protect
        meth = method
        if with_u.any():
            add = with_u & ~boot
            mean = np.where(add, mean + mu_u, mean)
            var = np.where(add, var + var_u, var)
            meth = np.where((method == "poisson") & (var > mean * 1.0001), "negative_binomial", method).astype(object)
        samples = None
        if boot.any():
            parts = []
            idx = np.flatnonzero(boot)
            for lo in range(0, idx.size, 256):  # bounded memory
                sel = idx[lo : lo + 256]
                parts.append(
                    _bootstrap(
                        history=history[sel],
                        periods=protect[sel],
                        lead_time_std=lead_time_std[sel],
                        demand_mean=d[sel] if bootstrap_rescale else None,
                        rng=rng,
                        n_samples=n_samples,
                        undershoot=bool(with_u[sel].any()),
                    )
                )
            samples = np.concatenate(parts, axis=0)
        out.append(protection_demand(method=meth, mean=mean, var=var, samples=samples))
    return out[0], out[1], np.where(under, mu_u, 0.0)


@dataclass(frozen=True)
class ServiceLevels:
    """Per SKU (n,): the probability its levels are set at, the levels, their expected fill rate and the target
    the SKU was set for (its own, or its segment's demand-weighted target where the allocation ran)."""

    probability: np.ndarray
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    expected_fill_rate: np.ndarray
    segment_target: np.ndarray
    allocated: np.ndarray


def _levels(
    lead: ProtectionDemand,
    cover: ProtectionDemand,
    p: np.ndarray,
    lot: np.ndarray,
    cycle_floor: np.ndarray,
    undershoot_mean: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels at probabilities p and the cycle quantity Qc = max(S - s + E[U], lot, D R): the engine orders
    max(lot, S - position) when the position is at or below s."""
    s = lead.quantile(p)
    big_s = np.maximum(cover.quantile(p), s)
    qc = np.maximum(np.maximum(big_s - s + undershoot_mean[:, None], lot[:, None]), cycle_floor[:, None])
    return s, big_s, np.maximum(qc, 1e-9)


def service_levels(
    *,
    lead: ProtectionDemand,
    cover: ProtectionDemand,
    demand_mean: np.ndarray,
    lot: np.ndarray,
    review_period: float,
    unit_cost: np.ndarray,
    target: np.ndarray,
    floor: np.ndarray,
    segment: np.ndarray,
    measure: str,
    allocate: bool,
    undershoot_mean: np.ndarray | None = None,
) -> ServiceLevels:
    """Choose each SKU's service probability and levels (module docstring, step 2).

    Parameters
    ----------
    lead, cover
        Demand over L (with the undershoot) and over L + R (:func:`protection_distributions`).
    demand_mean, lot
        (n,) D per period and the order lot.
    review_period
        R in periods.
    unit_cost
        (n,) money per unit (NaN / 0: the segment's median positive cost, or 1, for the allocation's weights).
    target, floor
        (n,) the SKU's service target and its floor, in (0, 1).
    segment
        (n,) segment labels (the allocation runs within each).
    measure
        "fill_rate" or "csl".
    allocate
        Allocate the segments' targets (fill-rate measure only).
    undershoot_mean
        (n,) E[U] included in ``lead`` (0 where none): it lengthens the cycle of an (s, S) order.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    n = demand_mean.shape[0]
    cycle_floor = demand_mean * review_period
    u = np.zeros(n) if undershoot_mean is None else np.asarray(undershoot_mean, dtype=float)
    if measure == "csl":
        s, big_s, qc = _levels(lead, cover, target, lot, cycle_floor, u)
        fill = policy_fill_rate(demand=lead, reorder_point=s, cycle_quantity=qc)[:, 0]
        return ServiceLevels(
            target.copy(), s[:, 0], big_s[:, 0], np.where(demand_mean > 0, fill, np.nan), target.copy(),
            np.zeros(n, dtype=bool),
        )  # fmt: skip
    grid = np.asarray(CANDIDATE_PROBABILITIES)
    probs = np.broadcast_to(grid, (n, grid.size))
    s, big_s, qc = _levels(lead, cover, probs, lot, cycle_floor, u)
    fill = np.nan_to_num(policy_fill_rate(demand=lead, reorder_point=s, cycle_quantity=qc), nan=1.0)
    fill = np.maximum.accumulate(fill, axis=1)  # higher levels never serve less
    top = grid.size - 1
    reach = fill >= target[:, None] - 1e-12
    own = np.where(reach.any(axis=1), np.argmax(reach, axis=1), top)
    choice = own
    seg_target = target.copy()
    allocated = np.zeros(n, dtype=bool)
    if allocate:
        stock = policy_average_stock(cover=cover, reorder_point=s, cycle_quantity=qc)
        cost = np.where(np.isfinite(unit_cost) & (unit_cost > 0), unit_cost, np.nan)
        choice = own.copy()
        active = demand_mean > 0
        for seg in np.unique(segment[active]):
            m = active & (segment == seg)
            c = cost[m]
            fallback = float(np.nanmedian(c)) if np.isfinite(c).any() else 1.0
            money = stock[m] * np.where(np.isfinite(c), c, fallback)[:, None]
            w = demand_mean[m]
            aggregate = float(np.sum(w * target[m]) / np.sum(w))
            floor_ok = fill[m] >= floor[m][:, None] - 1e-12
            floor_ok[:, top] = True
            first = np.argmax(floor_ok, axis=1)
            allowed = np.arange(grid.size)[None, :] >= first[:, None]
            idx, _ = allocate_to_target(service=fill[m], money=money, weight=w, target=aggregate, allowed=allowed)
            choice[m] = idx
            seg_target[m] = aggregate
            allocated[m] = True
    rows = np.arange(n)
    return ServiceLevels(
        probability=grid[choice],
        reorder_point=s[rows, choice],
        order_up_to=big_s[rows, choice],
        expected_fill_rate=np.where(demand_mean > 0, fill[rows, choice], np.nan),
        segment_target=seg_target,
        allocated=allocated,
    )


def segment_labels(categories: Any, n: int) -> np.ndarray:
    """(n,) segment label per SKU: its category (missing: one shared segment)."""
    if categories is None:
        return np.zeros(n, dtype=object)
    cat = np.asarray(categories, dtype=object)
    return np.array(["" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c) for c in cat], dtype=object)


__all__ = [
    "CANDIDATE_PROBABILITIES",
    "MEASURES",
    "SIGMA_MODES",
    "ErrorGrowth",
    "ServiceLevels",
    "error_growth",
    "level_scaled_sigma",
    "protection_distributions",
    "segment_labels",
    "service_levels",
]
