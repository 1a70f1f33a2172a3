"""Inventory health status per SKU, vectorised, each with a reason that quotes its numbers.

Statuses and rules (thresholds come from :class:`core.portfolio.EngineSettings`):

- ``stockout_risk``: demand > 0 and either the inventory position (on hand + on order) is at or below the reorder
  point (> 0), or the on-hand cover (days) is shorter than the lead time (days).
  One-shot SKUs (``one_shot``: a seasonal / one-time buy that is not replenished, ordered with the newsvendor
  quantity) have no reorder point to fall below and no replenishment whose lead time the cover must bridge, so
  neither test applies to them. docs/architecture.md (The maths) defines stockout risk as stock that will not last until
  replenishment can arrive; for a buy that is not replenished that horizon is the season (the forecast horizon).
  A one-shot SKU is therefore ``stockout_risk`` when demand > 0 and its position is below
  min(newsvendor quantity, expected season demand mu_h) (> 0): the position is expected to sell out within the
  season (position < mu_h) *and* the newsvendor buy would add stock (position < Q*), so the status never asks for
  an order the policy does not place. A missing newsvendor quantity (no price) leaves mu_h alone. Source of the
  one-shot policy: Silver, Pyke & Thomas (2017) chapter 10 (style goods); Snyder & Shen (2019) section 4.3.
- ``surge``: the mean demand of the last ``recent_periods`` is above the forecast for those periods by at least
  ``surge_z`` standard errors: z = (recent - expected) / (sigma / sqrt(recent_periods)), sigma = max(forecast-error
  sigma, sqrt(expected)) (a Poisson floor so a near-perfect backtest does not make every wiggle a surge).
- ``dead_stock``: stock on hand or on order, and no sale for at least ``dead_after_periods`` periods (items never
  sold included); and every *stopped seller* (:func:`stopped_sellers`), with or without stock, named "phase-out"
  in its reason.
- Stopped sellers (phase-out): a SKU with sales in its history and none for at least
  max(``dead_after_periods``, 3 x its mean interval between sales) periods. Its demand has stopped or shifted to
  a far lower level; a forecast and a safety stock fitted on the history still carry the old level (B-00147 of
  the demo sold 121 a week, then nothing for 21 weeks, and was ordered 5,037 units). The policy becomes a
  phase-out (``order_policy`` "phase_out", applied by ``core.portfolio``): no replenishment order, reorder point,
  safety stock and order-up-to level 0, no newsvendor buy, so no stock is bought on the strength of a level the
  SKU no longer sells at; the stock on hand is dead stock (its value is at risk). It is never ``stockout_risk``:
  a stockout of an item that does not sell costs no margin. Why 3 x the mean interval: an intermittent item's
  gaps scale with its interval, so a fixed 13 periods would phase out spare parts that sell every 8 periods; three
  mean intervals without a sale has probability about e^-3 = 5 % for a Poisson seller at its old rate. The gap must
  also be strong evidence (:func:`silence_p_value` < ``phase_out_alpha``, 0.01): a slow spare part with 2 sales in
  44 months, the second 3 months after the first, has a mean interval of 3 but a 30-month silence after it is not
  unusual for its own rate (p = 0.09). A planner's forecast override with a positive quantity says the SKU will
  sell again and lifts the phase-out.
- ``overstock``: the position covers more than ``overstock_cover_multiple`` x (lead time + review period + safety
  stock cover) periods of forecast demand, or there is stock but no forecast demand. The engine passes the order
  cycle max(R, lot / D) as the review period, so a freshly received economic lot is not called overstock.
  One-shot SKUs are judged against the season instead (:func:`one_shot_season_limit`): ``overstock`` when the
  position (> 0) exceeds what the season can sell, max(Q*, mu_h + m sigma_season), m = ``overstock_cover_multiple``,
  sigma_season = max(sigma sqrt(h), sqrt(mu_h)). Reason: a replenished SKU's surplus is sold by the cycles that
  follow, so its rule tolerates m target covers; a one-shot SKU has only the season (the horizon, h periods) to
  sell in and what is left at its end goes for salvage (the newsvendor's overage), so a multiple of the season's
  demand would call 2.5 seasons of stock "normal". The line is the top of the season's demand range instead: the
  expected demand plus the same multiple m (3) of its standard deviation -- the forecast-error sigma over the
  season, as for the newsvendor quantity, with the Poisson floor of the surge rule -- a position the season sells
  out with a probability of about 0.1% (normal demand), so the units above it are left over almost surely. It is
  never below the newsvendor quantity Q*, so the status never calls the policy's own buy overstock. The engine
  values the units on hand above this line as the excess value (``HealthResult.season_limit``). A one-shot SKU
  whose season demand is unknown (NaN) is not judged overstock.
- ``low_velocity``: recent mean demand below ``low_velocity_ratio`` x the baseline mean (baseline > 0).
- ``normal``: none of the above.

Precedence (first match wins), most urgent and most actionable first:
stockout_risk > surge > dead_stock > overstock > low_velocity > normal (a stopped seller is never stockout_risk).
A surge that already endangers supply shows as stockout_risk; dead stock is the extreme case of overstock, so it
is named as such; overstock (money tied up) outranks a slowdown that has not yet produced excess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln

STATUSES: tuple[str, ...] = ("stockout_risk", "surge", "dead_stock", "overstock", "low_velocity", "normal")
"""All statuses in precedence order."""


@dataclass(frozen=True)
class HealthResult:
    """Per-SKU status, reason and the measures they quote, arrays of shape (n,)."""

    status: np.ndarray
    reason: np.ndarray
    surge_z: np.ndarray
    days_of_cover: np.ndarray
    cover_periods: np.ndarray
    target_cover_periods: np.ndarray
    season_limit: np.ndarray
    """One-shot SKUs: the units the season can sell (:func:`one_shot_season_limit`), the overstock line; NaN for the
    other SKUs and for stopped sellers."""


@dataclass(frozen=True)
class StoppedSellers:
    """Which SKUs stopped selling (:func:`stopped_sellers`) and the numbers their reason quotes, arrays (n,)."""

    stopped: np.ndarray
    """True for a stopped seller (phase-out)."""
    periods_since_last_sale: np.ndarray
    """int64: periods from the last sale to the last reported period (the history length if never sold)."""
    mean_interval: np.ndarray
    """Mean interval between sales in periods, (last sale - first sale) / (sales - 1); NaN with fewer than 2 sales."""
    gap_limit: np.ndarray
    """max(min_gap_periods, interval_multiple x mean_interval): the gap that makes a seller stopped."""
    level_before: np.ndarray
    """Mean demand per period over the ``level_periods`` periods up to and including the last sale (NaN if none)."""
    min_gap_periods: int = 13
    interval_multiple: float = 3.0
    p_value: np.ndarray | None = None
    """:func:`silence_p_value` of the trailing gap (1 if never sold); None: the evidence test was not applied."""
    alpha: float = 1.0
    """A gap is strong evidence of a stop when its p-value is below alpha (1: the gap rule alone)."""


def silence_p_value(*, reported_periods: Any, sale_periods: Any, gap: Any) -> np.ndarray:
    """Probability that a SKU selling at a constant rate shows a trailing silence of ``gap`` periods, arrays.

    p = C(W - g, k) / C(W, k) = prod_{j<k} (W - g - j) / (W - j), with W the periods from the first to the last
    reported one, k the periods with a sale among them and g the periods after the last sale. Under a constant
    occurrence probability (a Bernoulli / Poisson demand-occurrence process, the model of Croston, SBA and TSB),
    given k occurrences in W periods every k-subset of the W periods is equally likely, so p is the exact chance
    that none of the k falls in the last g periods: a conditional (permutation) test that needs no estimate of
    the rate. Source: the conditional uniformity of event times given their count (Cox & Lewis 1966, The
    Statistical Analysis of Series of Events, section 2.3; Ross, Stochastic Processes, theorem 2.3.1). A single
    sale gives p = (W - g) / W: an item sold once, early in a long history, is still phased out. k = 0 gives 1.
    Computed through log-gamma: ln p = lnG(W-g+1) - lnG(W-g-k+1) - lnG(W+1) + lnG(W-k+1).
    """
    w = np.asarray(reported_periods, dtype=float)
    k = np.asarray(sale_periods, dtype=float)
    g = np.asarray(gap, dtype=float)
    ok = (k >= 1) & (w - g >= k)
    ws, ks, gs = np.where(ok, w, 1.0), np.where(ok, k, 0.0), np.where(ok, g, 0.0)
    lp = gammaln(ws - gs + 1) - gammaln(ws - gs - ks + 1) - gammaln(ws + 1) + gammaln(ws - ks + 1)
    return np.where(ok, np.exp(np.minimum(lp, 0.0)), 1.0)


def stopped_sellers(
    *,
    history: Any,
    min_gap_periods: int = 13,
    interval_multiple: float = 3.0,
    level_periods: int = 26,
    overrides: Any = None,
    alpha: float = 1.0,
) -> StoppedSellers:
    """Find the stopped sellers (phase-out candidates, module docstring): sales in the history and none since.

    stopped = sold at least once and periods_since_last_sale >= max(m0, k x mean interval between sales), with
    m0 = ``min_gap_periods``, k = ``interval_multiple`` and mean interval = (last sale - first sale) / (sales - 1)
    (a single sale: no interval, the limit is m0). Periods after a SKU's last reported period (trailing NaN: not
    reported) do not count as periods without a sale; a NaN inside the history is no sale. A row of ``overrides``
    with a positive quantity (a planner's forecast: it will sell again) is never stopped. Source: the rule of
    issue 15 item 5; the gap test is the "no sales for N periods" dead-stock rule of docs/architecture.md (The maths)
    scaled by the Syntetos-Boylan inter-demand interval (ADI) so intermittent items are judged on their own rhythm.
    With ``alpha`` < 1 the gap must also be strong evidence: :func:`silence_p_value` < alpha (issue 24; the
    engine passes ``EngineSettings.phase_out_alpha``).

    Parameters
    ----------
    history
        (n, T) demand per period, oldest first; NaN = not reported.
    min_gap_periods
        m0, >= 1 (13: a quarter of weekly data).
    interval_multiple
        k, > 0.
    level_periods
        Periods (>= 1) up to the last sale whose mean is the level it sold at before it stopped.
    overrides
        Optional (n, h) planner forecast overrides, NaN where none.
    alpha
        In (0, 1]: the p-value below which a gap is strong evidence (1: the gap rule alone).

    Returns
    -------
    StoppedSellers

    Raises
    ------
    ValueError
        ``history`` not 2-d, ``overrides`` with another row count, or a bad threshold (named).
    """
    hist = np.asarray(history, dtype=float)
    if hist.ndim != 2:
        raise ValueError(f"history must be 2-D (n, T), got shape {hist.shape}")
    if int(min_gap_periods) != min_gap_periods or min_gap_periods < 1:
        raise ValueError(f"min_gap_periods must be a positive integer, got {min_gap_periods!r}")
    if not interval_multiple > 0:
        raise ValueError(f"interval_multiple must be > 0, got {interval_multiple!r}")
    if int(level_periods) != level_periods or level_periods < 1:
        raise ValueError(f"level_periods must be a positive integer, got {level_periods!r}")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    n, t = hist.shape
    reported = np.isfinite(hist)
    sold = reported & (hist > 0)
    any_sold = sold.any(axis=1)
    end = np.where(reported.any(axis=1), t - 1 - np.argmax(reported[:, ::-1], axis=1), t - 1)  # last reported
    last = np.where(any_sold, t - 1 - np.argmax(sold[:, ::-1], axis=1), -1)
    first = np.where(any_sold, np.argmax(sold, axis=1), -1)
    count = sold.sum(axis=1)
    since = np.where(any_sold, end - last, t).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = np.where(count >= 2, (last - first) / np.maximum(count - 1, 1), np.nan)
    limit = np.fmax(float(min_gap_periods), interval_multiple * interval)
    begin = np.where(reported.any(axis=1), np.argmax(reported, axis=1), 0)  # first reported
    p_value = silence_p_value(reported_periods=end - begin + 1, sale_periods=count, gap=np.where(any_sold, since, 0))
    stopped = any_sold & (since >= limit) & (p_value < alpha if alpha < 1 else True)
    if overrides is not None:
        ovr = np.asarray(overrides, dtype=float)
        if ovr.ndim != 2 or ovr.shape[0] != n:
            raise ValueError(f"overrides must have {n} rows (n, h), got shape {ovr.shape}")
        stopped &= ~(np.isfinite(ovr) & (ovr > 0)).any(axis=1)
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(np.where(reported, hist, 0.0), axis=1)], axis=1)
    cnt = np.concatenate([np.zeros((n, 1)), np.cumsum(reported, axis=1)], axis=1)
    rows, stop = np.arange(n), np.maximum(last, 0) + 1
    start = np.maximum(stop - int(level_periods), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = (cum[rows, stop] - cum[rows, start]) / (cnt[rows, stop] - cnt[rows, start])
    return StoppedSellers(
        stopped=stopped,
        periods_since_last_sale=since,
        mean_interval=interval,
        gap_limit=limit,
        level_before=np.where(any_sold, level, np.nan),
        min_gap_periods=int(min_gap_periods),
        interval_multiple=float(interval_multiple),
        p_value=p_value,
        alpha=float(alpha),
    )


def stopped_reason(stopped: StoppedSellers, i: int, *, on_hand: float, on_order: float) -> str:
    """The phase-out reason of SKU ``i``: the gap, the rule with its numbers, the old level and what the policy does.

    E.g. "Phase-out: no sale for 21 periods (>= max(13, 3 x 1.0-period mean interval between sales) = 13); it sold
    121/period before; not replenished (no order, no safety stock; a forecast override lifts it); 600 on hand,
    0 on order"."""
    interval = float(stopped.mean_interval[i])
    rule = (
        f"max({stopped.min_gap_periods}, {stopped.interval_multiple:g} x {fmt_num(interval)}-period mean interval "
        f"between sales) = {fmt_num(float(stopped.gap_limit[i]))}"
        if math.isfinite(interval)
        else f"{stopped.min_gap_periods}, a single sale in the history"
    )
    evidence = (
        f", a silence with chance {_fmt_p(float(stopped.p_value[i]))} (< {stopped.alpha:g}) at its own sales rate"
        if stopped.p_value is not None and stopped.alpha < 1
        else ""
    )
    return (
        f"Phase-out: no sale for {int(stopped.periods_since_last_sale[i])} periods (>= {rule}){evidence}; it sold "
        f"{fmt_num(float(stopped.level_before[i]))}/period before; not replenished (no order, no safety stock; a "
        f"forecast override lifts it); {fmt_num(on_hand)} on hand, {fmt_num(on_order)} on order"
    )


def _fmt_p(p: float) -> str:
    """A p-value for a reason: 0.0031, 2e-06, < 1e-12."""
    return "< 1e-12" if p < 1e-12 else (f"{p:.2g}" if p < 1e-3 else f"{p:.4f}".rstrip("0"))


def fmt_num(x: float) -> str:
    """Format a quantity for a reason: 1 decimal, none for whole numbers or above 100 (e.g. 6, 6.5, 1,234)."""
    x = float(x)
    if not math.isfinite(x):
        return "n/a" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if abs(x) >= 100:
        return f"{x:,.0f}"
    text = f"{x:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def _vec(name: str, value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    try:
        return np.broadcast_to(arr, (n,)).astype(float)
    except ValueError:
        raise ValueError(f"{name} must have {n} values, got shape {arr.shape}") from None


def one_shot_season_limit(
    *,
    newsvendor_qty: Any,
    season_demand: Any,
    season_demand_std: Any,
    overstock_cover_multiple: float = 3.0,
) -> np.ndarray:
    """Units a one-shot SKU's season can sell: the overstock line of a one-shot SKU (module docstring).

    limit = max(Q*, mu_h + m max(sigma_h, sqrt(mu_h))), m = ``overstock_cover_multiple``: the expected season demand
    plus m standard deviations of it (a Poisson floor sqrt(mu_h) under the forecast-error std sigma_h), never below
    the newsvendor quantity Q* (a NaN Q* -- no price -- is ignored). NaN where mu_h is unknown. Source: the newsvendor
    overage of Silver, Pyke & Thomas (2017) chapter 10; the Poisson floor as in the surge rule.

    Parameters
    ----------
    newsvendor_qty, season_demand, season_demand_std
        Q*, the expected demand mu_h and its standard deviation sigma_h over the season, units, shape (n,) or scalars.
    overstock_cover_multiple
        m, > 0.

    Returns
    -------
    np.ndarray
        Shape of the broadcast inputs (at least 1-d), units.
    """
    if not overstock_cover_multiple > 0:
        raise ValueError(f"overstock_cover_multiple must be > 0, got {overstock_cover_multiple!r}")
    nv, mu, sd = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(a, dtype=float)) for a in (newsvendor_qty, season_demand, season_demand_std))
    )
    with np.errstate(invalid="ignore"):
        spread = np.maximum(np.nan_to_num(sd, nan=0.0), np.sqrt(np.maximum(mu, 0.0)))
        upper = mu + overstock_cover_multiple * spread
    return np.where(np.isfinite(mu), np.fmax(nv, upper), np.nan)


def _stockout_reason(
    below_rop: bool, short_cover: bool, on_hand: float, on_order: float, rop: float, cover_days: float, lead_days: float
) -> str:
    """A stockout reason that names the rule that fired first, then the other measure for context, e.g.
    "Cover shorter than the lead time: 21 days of cover, below the 28-day lead time; on hand 60 + on order 100 is
    above the reorder point 150"."""
    f = fmt_num
    position = f"on hand {f(on_hand)} + on order {f(on_order)}"
    cover = f"{f(cover_days)} days of cover"
    lead = f"the {f(lead_days)}-day lead time"
    if below_rop and short_cover:
        return (
            f"At or below the reorder point and cover shorter than the lead time: {position} is at or below the "
            f"reorder point {f(rop)}; {cover}, below {lead}"
        )
    if below_rop:
        return (
            f"At or below the reorder point: {position} is at or below the reorder point {f(rop)} (lead-time "
            f"demand + safety stock); {cover} still outlast {lead}"
        )
    return f"Cover shorter than the lead time: {cover}, below {lead}; {position} is above the reorder point {f(rop)}"


# --------------------------------------------------------------------------------------------------------------------
# the stages of health_status: check, vectorise, measure, classify, explain


def _check_parameters(
    *,
    season_periods: int | None,
    days_per_period: float,
    surge_z: float,
    low_velocity_ratio: float,
    overstock_cover_multiple: float,
    recent_periods: int,
) -> None:
    """Raise ValueError naming the first scalar parameter of :func:`health_status` out of its range."""
    if season_periods is not None and not season_periods > 0:
        raise ValueError(f"season_periods must be > 0, got {season_periods!r}")
    if not days_per_period > 0:
        raise ValueError(f"days_per_period must be > 0, got {days_per_period!r}")
    for name, val in (
        ("surge_z", surge_z),
        ("low_velocity_ratio", low_velocity_ratio),
        ("overstock_cover_multiple", overstock_cover_multiple),
        ("recent_periods", recent_periods),
    ):
        if not val > 0:
            raise ValueError(f"{name} must be > 0, got {val!r}")


@dataclass(frozen=True)
class _Vectors:
    """The per-SKU inputs of :func:`health_status` as float (bool) arrays of one length ``n``."""

    n: int
    oh: np.ndarray
    oo: np.ndarray
    rop: np.ndarray
    ss: np.ndarray
    d: np.ndarray
    exp_recent: np.ndarray
    recent: np.ndarray
    base: np.ndarray
    sig: np.ndarray
    lt: np.ndarray
    since: np.ndarray
    shot: np.ndarray
    nv: np.ndarray
    mu_season: np.ndarray
    quit_: np.ndarray


def _vectors(
    *,
    on_hand: Any,
    on_order: Any,
    reorder_point: Any,
    safety_stock: Any,
    forecast_per_period: Any,
    expected_recent: Any,
    demand_recent: Any,
    demand_baseline: Any,
    sigma: Any,
    lead_time_periods: Any,
    periods_since_last_sale: Any,
    one_shot: Any,
    newsvendor_qty: Any,
    season_demand: Any,
    stopped: StoppedSellers | None,
) -> _Vectors:
    """Broadcast every per-SKU input to the length of ``on_hand``; ValueError naming an input of another length."""
    oh = np.asarray(on_hand, dtype=float).ravel()
    n = oh.size
    per_sku = {
        name: _vec(name, value, n)
        for name, value in (
            ("on_order", on_order),
            ("reorder_point", reorder_point),
            ("safety_stock", safety_stock),
            ("forecast_per_period", forecast_per_period),
            ("expected_recent", expected_recent),
            ("demand_recent", demand_recent),
            ("demand_baseline", demand_baseline),
            ("sigma", sigma),
            ("lead_time_periods", lead_time_periods),
            ("periods_since_last_sale", periods_since_last_sale),
        )
    }
    try:
        shot = np.broadcast_to(np.asarray(one_shot, dtype=bool), (n,))
    except ValueError:
        raise ValueError(f"one_shot must have {n} values, got shape {np.shape(one_shot)}") from None
    nv = _vec("newsvendor_qty", newsvendor_qty, n)
    mu_season = _vec("season_demand", season_demand, n)
    quit_ = np.zeros(n, dtype=bool) if stopped is None else np.asarray(stopped.stopped, dtype=bool)
    if quit_.shape != (n,):
        raise ValueError(f"stopped must describe {n} SKUs, got shape {quit_.shape}")
    return _Vectors(
        n=n,
        oh=oh,
        oo=per_sku["on_order"],
        rop=per_sku["reorder_point"],
        ss=per_sku["safety_stock"],
        d=per_sku["forecast_per_period"],
        exp_recent=per_sku["expected_recent"],
        recent=per_sku["demand_recent"],
        base=per_sku["demand_baseline"],
        sig=per_sku["sigma"],
        lt=per_sku["lead_time_periods"],
        since=per_sku["periods_since_last_sale"],
        shot=shot,
        nv=nv,
        mu_season=mu_season,
        quit_=quit_,
    )


@dataclass(frozen=True)
class _Measures:
    """Position, cover and the surge z-score per SKU (the figures the rules compare)."""

    position: np.ndarray
    has_demand: np.ndarray
    days_cover: np.ndarray
    cover: np.ndarray
    target: np.ndarray
    ref: np.ndarray
    z: np.ndarray
    lt_days: np.ndarray


def _measures(v: _Vectors, *, days_per_period: float, review_period: Any, recent_periods: int) -> _Measures:
    """Position = on hand + on order; days of cover = on hand / daily forecast; cover = position / forecast per
    period; target cover = L + R + SS / D; z = (recent - expected) / (max(sigma, sqrt(expected)) / sqrt(k))
    (module docstring)."""
    position = v.oh + v.oo
    has_demand = v.d > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        daily = v.d / days_per_period
        days_cover = np.where(has_demand, v.oh / np.where(has_demand, daily, 1.0), np.nan)
        cover = np.where(has_demand, position / np.where(has_demand, v.d, 1.0), np.where(position > 0, np.inf, np.nan))
        target = (
            v.lt + review_period + np.where(has_demand, np.maximum(v.ss, 0.0) / np.where(has_demand, v.d, 1.0), 0.0)
        )
        ref = np.where(np.isfinite(v.exp_recent), v.exp_recent, v.base)
        ref = np.where(np.isfinite(ref), np.maximum(ref, 0.0), 0.0)
        s_eff = np.maximum(np.nan_to_num(v.sig, nan=0.0), np.sqrt(ref))
        se = s_eff / np.sqrt(recent_periods)
        z = np.where(se > 0, (v.recent - ref) / np.where(se > 0, se, 1.0), np.where(v.recent > ref, np.inf, 0.0))
    z = np.where(np.isfinite(v.recent), z, np.nan)
    return _Measures(
        position=position,
        has_demand=has_demand,
        days_cover=days_cover,
        cover=cover,
        target=target,
        ref=ref,
        z=z,
        lt_days=v.lt * days_per_period,
    )


@dataclass(frozen=True)
class _Classes:
    """The status per SKU, the stockout tests that fired and the one-shot season figures."""

    status: np.ndarray
    below_rop: np.ndarray
    short_cover: np.ndarray
    limit: np.ndarray
    season_sd: np.ndarray


def _classify(
    v: _Vectors,
    m: _Measures,
    *,
    surge_z: float,
    low_velocity_ratio: float,
    dead_after_periods: int,
    overstock_cover_multiple: float,
    season_periods: int | None,
) -> _Classes:
    """The rules of the module docstring, in their precedence: stockout risk, surge, dead stock, overstock, low
    velocity, normal."""
    shot, quit_, position, has_demand = v.shot, v.quit_, m.position, m.has_demand
    below_rop = ~shot & has_demand & (v.rop > 0) & (position <= v.rop)
    short_cover = ~shot & has_demand & (m.days_cover < m.lt_days)
    season_need = np.fmin(v.nv, v.mu_season)  # NaN only when both are unknown
    short_season = shot & has_demand & (season_need > 0) & (position < season_need)
    c_stockout = (below_rop | short_cover | short_season) & ~quit_
    c_surge = (v.recent > 0) & (m.z >= surge_z)
    c_dead = ((v.since >= dead_after_periods) & (position > 0)) | quit_
    if season_periods is not None:
        h = np.full(v.n, float(season_periods))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(has_demand, v.mu_season / np.where(has_demand, v.d, 1.0), 0.0)
    with np.errstate(invalid="ignore"):
        season_sd = np.nan_to_num(v.sig, nan=0.0) * np.sqrt(h)
    limit = np.where(
        shot & ~quit_,  # a phased-out one-shot SKU sells nothing more this season: no season limit
        one_shot_season_limit(
            newsvendor_qty=v.nv,
            season_demand=v.mu_season,
            season_demand_std=season_sd,
            overstock_cover_multiple=overstock_cover_multiple,
        ),
        np.nan,
    )
    with np.errstate(invalid="ignore"):
        over_season = shot & (position > 0) & np.isfinite(limit) & (position > limit)
    c_over = np.where(shot, over_season, (position > 0) & (m.cover > overstock_cover_multiple * m.target))
    c_low = (v.base > 0) & (v.recent < low_velocity_ratio * v.base)
    conds = [c_stockout, c_surge, c_dead, c_over, c_low]
    status = np.select(conds, list(STATUSES[:-1]), default="normal").astype(object)
    return _Classes(status=status, below_rop=below_rop, short_cover=short_cover, limit=limit, season_sd=season_sd)


def _reasons(
    v: _Vectors,
    m: _Measures,
    c: _Classes,
    *,
    stopped: StoppedSellers | None,
    season_periods: int | None,
    recent_periods: int,
    baseline_periods: int,
    surge_z: float,
    dead_after_periods: int,
    overstock_cover_multiple: float,
    low_velocity_ratio: float,
) -> np.ndarray:
    """One sentence per SKU saying why it has its status, quoting the numbers the rule compared."""
    n, status, quit_ = v.n, c.status, v.quit_
    reasons = np.empty(n, dtype=object)
    f = fmt_num
    with np.errstate(invalid="ignore"):
        quoted_sd = np.maximum(c.season_sd, np.sqrt(np.maximum(v.mu_season, 0.0)))  # the floored std the limit used
    limit_l, season_sd_l = c.limit.tolist(), quoted_sd.tolist()
    oh, oo, rop, d, recent, base, ref, z, position = (
        a.tolist() for a in (v.oh, v.oo, v.rop, v.d, v.recent, v.base, m.ref, m.z, m.position)
    )
    cover, target, days_cover, lt_days, since = (
        a.tolist() for a in (m.cover, m.target, m.days_cover, m.lt_days, v.since)
    )
    flag_rop, flag_cover, flag_demand = c.below_rop.tolist(), c.short_cover.tolist(), m.has_demand.tolist()
    flag_shot, nv, mu_season = v.shot.tolist(), v.nv.tolist(), v.mu_season.tolist()
    season = f"{season_periods}-period season" if season_periods else "season"
    for i in range(n):
        s = status[i]
        if quit_[i] and stopped is not None:
            reasons[i] = stopped_reason(stopped, i, on_hand=oh[i], on_order=oo[i])
        elif s == "stockout_risk" and flag_shot[i]:
            reasons[i] = (
                f"One-shot buy: on hand {f(oh[i])} + on order {f(oo[i])} is below the {season}'s expected demand "
                f"{f(mu_season[i])} and the newsvendor quantity {f(nv[i])}"
            )
        elif s == "stockout_risk":
            reasons[i] = _stockout_reason(flag_rop[i], flag_cover[i], oh[i], oo[i], rop[i], days_cover[i], lt_days[i])
        elif s == "surge":
            reasons[i] = (
                f"Last {recent_periods} periods averaged {f(recent[i])}/period vs forecast {f(ref[i])} "
                f"(z = {z[i]:.1f} >= {surge_z:g})"
            )
        elif s == "dead_stock":
            reasons[i] = (
                f"No sales for {int(since[i])} periods (>= {dead_after_periods}); {f(oh[i])} on hand, "
                f"{f(oo[i])} on order"
            )
        elif s == "overstock" and flag_shot[i]:
            reasons[i] = (
                f"One-shot buy: position {f(position[i])} is above the {f(limit_l[i])} units the {season} can sell: "
                f"max(newsvendor quantity {f(nv[i])}, expected demand {f(mu_season[i])} + "
                f"{overstock_cover_multiple:g} x std {f(season_sd_l[i])})"
            )
        elif s == "overstock":
            if flag_demand[i]:
                reasons[i] = (
                    f"Position {f(position[i])} covers {f(cover[i])} periods of forecast {f(d[i])}/period, more than "
                    f"{overstock_cover_multiple:g} x target {f(target[i])} periods (lead time + review + safety stock)"
                )
            else:
                reasons[i] = f"Position {f(position[i])} with no forecast demand (forecast {f(d[i])}/period)"
        elif s == "low_velocity":
            pct = 100 * recent[i] / base[i]
            reasons[i] = (
                f"Last {recent_periods} periods averaged {f(recent[i])}/period, {pct:.0f}% of the "
                f"{baseline_periods}-period baseline {f(base[i])} (< {100 * low_velocity_ratio:.0f}%)"
            )
        elif not flag_demand[i] and position[i] <= 0:
            reasons[i] = (
                f"No forecast demand ({f(d[i])}/period) and no stock (position {f(position[i])}); "
                f"last sale {int(since[i])} periods ago"
            )
        elif flag_shot[i]:
            reasons[i] = (
                f"One-shot buy: position {f(position[i])} vs the {season}'s expected demand {f(mu_season[i])} and "
                f"newsvendor quantity {f(nv[i])}; recent {f(recent[i])}/period vs forecast {f(ref[i])} (z = {z[i]:.1f})"
            )
        else:
            reasons[i] = (
                f"Position {f(position[i])} vs reorder point {f(rop[i])}; {f(days_cover[i])} days of cover; "
                f"recent {f(recent[i])}/period vs forecast {f(ref[i])} (z = {z[i]:.1f})"
            )
    return reasons


def health_status(
    *,
    on_hand: Any,
    on_order: Any,
    reorder_point: Any,
    safety_stock: Any,
    forecast_per_period: Any,
    expected_recent: Any,
    demand_recent: Any,
    demand_baseline: Any,
    sigma: Any,
    lead_time_periods: Any,
    periods_since_last_sale: Any,
    days_per_period: float,
    review_period: Any = 1.0,
    recent_periods: int = 4,
    baseline_periods: int = 26,
    surge_z: float = 3.0,
    low_velocity_ratio: float = 0.3,
    dead_after_periods: int = 13,
    overstock_cover_multiple: float = 3.0,
    one_shot: Any = False,
    newsvendor_qty: Any = np.nan,
    season_demand: Any = np.nan,
    season_periods: int | None = None,
    stopped: StoppedSellers | None = None,
) -> HealthResult:
    """Classify each SKU's health (see the module docstring for the rules and precedence).

    Parameters
    ----------
    on_hand, on_order, reorder_point, safety_stock
        Units per SKU.
    forecast_per_period
        Mean forecast demand per period over the horizon.
    expected_recent
        Forecast (backtest) mean for the recent periods, the reference for a surge (fallback: the baseline).
    demand_recent, demand_baseline
        Mean demand of the last ``recent_periods`` and of the ``baseline_periods`` before them.
    sigma
        Forecast-error standard deviation per period.
    lead_time_periods
        Mean lead time in periods.
    periods_since_last_sale
        Periods since the last period with demand > 0 (history length if never).
    days_per_period
        Days in one period (7 for weekly data).
    one_shot
        True for one-shot (seasonal, not replenished) SKUs: their stockout test is the season rule of the module
        docstring instead of the reorder point and lead-time cover (default False for every SKU).
    newsvendor_qty, season_demand
        For the one-shot SKUs: the newsvendor quantity Q* and the expected demand over the season (the horizon),
        in units (NaN where unknown).
    season_periods
        Periods in the season h (the forecast horizon), quoted in the one-shot reasons; the season's demand std is
        sigma sqrt(h) (without it h = season_demand / forecast_per_period).
    stopped
        The stopped sellers (:func:`stopped_sellers` of the same rows): ``dead_stock`` with the phase-out reason,
        never ``stockout_risk`` (default: none).

    Returns
    -------
    HealthResult
        ``days_of_cover`` = on hand / daily forecast demand (NaN without demand); ``cover_periods`` = position /
        forecast per period (inf with stock but no demand); ``target_cover_periods`` = L + R + SS / D;
        ``season_limit`` = the one-shot SKUs' overstock line in units (NaN for the others).
    """
    v = _vectors(
        on_hand=on_hand,
        on_order=on_order,
        reorder_point=reorder_point,
        safety_stock=safety_stock,
        forecast_per_period=forecast_per_period,
        expected_recent=expected_recent,
        demand_recent=demand_recent,
        demand_baseline=demand_baseline,
        sigma=sigma,
        lead_time_periods=lead_time_periods,
        periods_since_last_sale=periods_since_last_sale,
        one_shot=one_shot,
        newsvendor_qty=newsvendor_qty,
        season_demand=season_demand,
        stopped=stopped,
    )
    _check_parameters(
        season_periods=season_periods,
        days_per_period=days_per_period,
        surge_z=surge_z,
        low_velocity_ratio=low_velocity_ratio,
        overstock_cover_multiple=overstock_cover_multiple,
        recent_periods=recent_periods,
    )
    m = _measures(v, days_per_period=days_per_period, review_period=review_period, recent_periods=recent_periods)
    c = _classify(
        v,
        m,
        surge_z=surge_z,
        low_velocity_ratio=low_velocity_ratio,
        dead_after_periods=dead_after_periods,
        overstock_cover_multiple=overstock_cover_multiple,
        season_periods=season_periods,
    )
    reasons = _reasons(
        v,
        m,
        c,
        stopped=stopped,
        season_periods=season_periods,
        recent_periods=recent_periods,
        baseline_periods=baseline_periods,
        surge_z=surge_z,
        dead_after_periods=dead_after_periods,
        overstock_cover_multiple=overstock_cover_multiple,
        low_velocity_ratio=low_velocity_ratio,
    )
    return HealthResult(
        status=c.status,
        reason=reasons,
        surge_z=m.z,
        days_of_cover=m.days_cover,
        cover_periods=m.cover,
        target_cover_periods=m.target,
        season_limit=c.limit,
    )
