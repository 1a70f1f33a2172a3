"""Monte Carlo simulation of inventory policies, vectorised over replications.

Two policies: continuous-review (s, Q) -- whenever the inventory position (on hand - backorders + on order) is at or
below s, order the smallest multiple of Q that lifts it above s -- and periodic-review (R, S) -- every R periods
order up to S. Demand per period is normal (truncated at 0) or resampled from given values (history, or forecast
+ bootstrapped errors); lead times are normal (truncated at 0) or resampled from given values, in periods.

Timing inside a period: orders due arrive at the start of the period, demand is served, then the position is
reviewed and orders are placed; an order placed in period t with lead time L arrives at the start of t + L + 1,
so it is exposed to the demand of the L periods in between (the protection period of
:func:`core.policy.reorder_point`; (R, S) is exposed to L + R periods, as in :func:`core.policy.order_up_to_level`).
``steps_per_period`` > 1 splits each period's demand evenly over sub-steps and reviews (s, Q) after each, which
approaches continuous review (the position then undershoots s by at most a sub-step's demand).

Measures per replication (after the warm-up periods): cycle service level = share of replenishment cycles
(intervals between arrivals) without any unmet demand; fill rate = share of demand met from stock; average on
hand and backorders at period ends; periods with unmet demand; number of orders.

Source: Silver, Pyke & Thomas (2017) ch. 6-7; Law, *Simulation Modeling and Analysis* (5th ed.) ch. 9 (warm-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of a simulation; per-replication arrays have shape (n_replications,).

    Attributes
    ----------
    policy
        "sQ" or "RS".
    cycle_service_level, fill_rate, average_on_hand, average_backorders
        Per replication (cycle_service_level NaN for a replication without a completed cycle).
    stockout_periods, orders, cycles
        Counts per replication (ints).
    paths
        Sample paths for charts, each (n_paths, n_periods) at period ends: ``on_hand`` (net inventory, negative =
        backorders), ``inventory_position``, ``demand``, ``ordered``.
    """

    policy: str
    cycle_service_level: np.ndarray
    fill_rate: np.ndarray
    average_on_hand: np.ndarray
    average_backorders: np.ndarray
    stockout_periods: np.ndarray
    orders: np.ndarray
    cycles: np.ndarray
    paths: dict[str, np.ndarray] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Means over replications, with 95 % half-widths for the service measures (``*_ci``)."""

        def mean_ci(x: np.ndarray) -> tuple[float, float]:
            x = x[np.isfinite(x)]
            if x.size == 0:
                return float("nan"), float("nan")
            half = 1.96 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else float("nan")
            return float(x.mean()), float(half)

        csl, csl_ci = mean_ci(self.cycle_service_level)
        fr, fr_ci = mean_ci(self.fill_rate)
        return {
            "cycle_service_level": csl,
            "cycle_service_level_ci": csl_ci,
            "fill_rate": fr,
            "fill_rate_ci": fr_ci,
            "average_on_hand": float(np.mean(self.average_on_hand)),
            "average_backorders": float(np.mean(self.average_backorders)),
            "stockout_periods": float(np.mean(self.stockout_periods)),
            "orders": float(np.mean(self.orders)),
        }


def _check(name: str, value: Any, *, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(x) or x < 0 or (positive and x == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'} and finite, got {value!r}")
    return x


def _samples(name: str, values: Any) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        raise ValueError(f"{name} must contain at least one finite value")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0")
    return arr


@dataclass(frozen=True)
class _Checked:
    """The simulation's inputs after validation (the demand / lead-time parameters unused with samples are 0)."""

    d_samples: np.ndarray | None
    d_mean: float
    d_std: float
    l_samples: np.ndarray | None
    lt: float
    lt_std: float
    lt_max: float
    m: int
    reps: int
    n_per: int
    warmup: int
    n_paths: int


def _checked(
    *,
    demand_mean: float | None,
    demand_std: float | None,
    demand_samples: Any,
    lead_time: float | None,
    lead_time_std: float,
    lead_time_samples: Any,
    n_periods: int,
    n_replications: int,
    warmup: int | None,
    review_period: int,
    steps_per_period: int,
    n_paths: int,
) -> _Checked:
    """Validate :func:`_simulate`'s inputs (ValueError naming the bad one) and derive the warm-up (long enough for
    the longest lead time and two reviews, at most half the run) and the longest lead time ``lt_max``."""
    d_mean = d_std = lt = lt_std = 0.0
    d_samples = _samples("demand_samples", demand_samples)
    if d_samples is None:
        if demand_mean is None or demand_std is None:
            raise ValueError("demand_mean and demand_std are required without demand_samples")
        d_mean = _check("demand_mean", demand_mean)
        d_std = _check("demand_std", demand_std)
    l_samples = _samples("lead_time_samples", lead_time_samples)
    if l_samples is None:
        if lead_time is None:
            raise ValueError("lead_time is required without lead_time_samples")
        lt = _check("lead_time", lead_time)
        lt_std = _check("lead_time_std", lead_time_std)
        lt_max = lt + 6 * lt_std
    else:
        lt_max = float(l_samples.max())
    for name, val in (
        ("n_periods", n_periods),
        ("n_replications", n_replications),
        ("steps_per_period", steps_per_period),
    ):
        if int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")
    m = int(steps_per_period)
    reps = int(n_replications)
    n_per = int(n_periods)
    if warmup is None:
        warmup = min(int(np.ceil(lt_max)) + 2 * review_period + 5, n_per // 2)
    if int(warmup) != warmup or not 0 <= warmup < n_per:
        raise ValueError(f"warmup must be an integer in [0, n_periods), got {warmup!r}")
    n_paths = max(0, min(int(n_paths), reps))
    return _Checked(
        d_samples=d_samples,
        d_mean=d_mean,
        d_std=d_std,
        l_samples=l_samples,
        lt=lt,
        lt_std=lt_std,
        lt_max=lt_max,
        m=m,
        reps=reps,
        n_per=n_per,
        warmup=int(warmup),
        n_paths=n_paths,
    )


def _simulate(
    *,
    policy: str,
    rng: np.random.Generator,
    level: float,
    order_quantity: float,
    review_period: int,
    demand_mean: float | None,
    demand_std: float | None,
    demand_samples: Any,
    lead_time: float | None,
    lead_time_std: float,
    lead_time_samples: Any,
    n_periods: int,
    n_replications: int,
    warmup: int | None,
    backorders: bool,
    steps_per_period: int,
    initial_position: float | None,
    n_paths: int,
) -> SimulationResult:
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    c = _checked(
        demand_mean=demand_mean,
        demand_std=demand_std,
        demand_samples=demand_samples,
        lead_time=lead_time,
        lead_time_std=lead_time_std,
        lead_time_samples=lead_time_samples,
        n_periods=n_periods,
        n_replications=n_replications,
        warmup=warmup,
        review_period=review_period,
        steps_per_period=steps_per_period,
        n_paths=n_paths,
    )
    d_samples, d_mean, d_std, l_samples = c.d_samples, c.d_mean, c.d_std, c.l_samples
    lt, lt_std, lt_max = c.lt, c.lt_std, c.lt_max
    m, reps, n_per, warmup, n_paths = c.m, c.reps, c.n_per, c.warmup, c.n_paths

    n_steps = n_per * m
    horizon = n_steps + int(np.ceil(lt_max * m)) + 2
    arrivals = np.zeros((reps, horizon))
    start = level + (order_quantity if policy == "sQ" else 0.0) if initial_position is None else initial_position
    net = np.full(reps, float(start))
    on_order = np.zeros(reps)
    short_flag = np.zeros(reps, dtype=bool)
    period_short = np.zeros(reps, dtype=bool)
    rows = np.arange(reps)

    cycles = np.zeros(reps, dtype=np.int64)
    bad_cycles = np.zeros(reps, dtype=np.int64)
    orders = np.zeros(reps, dtype=np.int64)
    stockout_periods = np.zeros(reps, dtype=np.int64)
    sum_on_hand = np.zeros(reps)
    sum_back = np.zeros(reps)
    sum_demand = np.zeros(reps)
    sum_short = np.zeros(reps)
    paths = {k: np.zeros((n_paths, n_per)) for k in ("on_hand", "inventory_position", "demand", "ordered")}
    ordered_in_period = np.zeros(reps)
    period_demand = np.zeros(reps)

    for u in range(n_steps):
        t, sub = divmod(u, m)
        measuring = t >= warmup
        # 1. arrivals; an arrival closes a replenishment cycle
        arr = arrivals[:, u]
        got = arr > 0
        if got.any():
            if measuring:
                cycles += got
                bad_cycles += got & short_flag
            short_flag &= ~got
            net += arr
            on_order -= arr
        # 2. demand (drawn per period, spread evenly over the sub-steps)
        if sub == 0:
            if d_samples is None:
                period_demand = np.maximum(d_mean + d_std * rng.standard_normal(reps), 0.0)
            else:
                period_demand = d_samples[rng.integers(0, d_samples.size, reps)]
            period_short[:] = False
            ordered_in_period[:] = 0.0
        d = period_demand / m
        filled = np.minimum(d, np.maximum(net, 0.0))
        short = d - filled
        net = net - d if backorders else net - filled
        is_short = short > 1e-12
        short_flag |= is_short
        period_short |= is_short
        if measuring:
            sum_demand += d
            sum_short += short
        # 3. review and order
        position = net + on_order
        if policy == "sQ":
            qty = np.where(position <= level, (np.floor((level - position) / order_quantity) + 1) * order_quantity, 0.0)
        elif sub == m - 1 and (t + 1) % review_period == 0:
            qty = np.maximum(level - position, 0.0)
        else:
            qty = None
        if qty is not None:
            who = qty > 0
            if who.any():
                k = int(who.sum())
                if l_samples is None:
                    lt_draw = np.maximum(lt + lt_std * rng.standard_normal(k), 0.0) if lt_std > 0 else np.full(k, lt)
                else:
                    lt_draw = l_samples[rng.integers(0, l_samples.size, k)]
                due = u + np.rint(lt_draw * m).astype(np.int64) + 1
                idx = rows[who]
                inside = due < horizon
                arrivals[idx[inside], due[inside]] += qty[who][inside]
                on_order[idx] += qty[who]
                ordered_in_period += qty
                if measuring:
                    orders += who
        # 4. period-end measures
        if sub == m - 1:
            if measuring:
                sum_on_hand += np.maximum(net, 0.0)
                sum_back += np.maximum(-net, 0.0)
                stockout_periods += period_short
            if n_paths:
                paths["on_hand"][:, t] = net[:n_paths]
                paths["inventory_position"][:, t] = (net + on_order)[:n_paths]
                paths["demand"][:, t] = period_demand[:n_paths]
                paths["ordered"][:, t] = ordered_in_period[:n_paths]

    n_measured = n_per - warmup
    with np.errstate(divide="ignore", invalid="ignore"):
        csl = np.where(cycles > 0, 1.0 - bad_cycles / np.maximum(cycles, 1), np.nan)
        fill = np.where(sum_demand > 0, 1.0 - sum_short / np.where(sum_demand > 0, sum_demand, 1.0), 1.0)
    return SimulationResult(
        policy=policy,
        cycle_service_level=csl,
        fill_rate=fill,
        average_on_hand=sum_on_hand / n_measured,
        average_backorders=sum_back / n_measured,
        stockout_periods=stockout_periods,
        orders=orders,
        cycles=cycles,
        paths=paths,
    )


def simulate_sq(
    *,
    rng: np.random.Generator,
    reorder_point: float,
    order_quantity: float,
    lead_time: float | None = None,
    lead_time_std: float = 0.0,
    lead_time_samples: Any = None,
    demand_mean: float | None = None,
    demand_std: float | None = None,
    demand_samples: Any = None,
    n_periods: int = 520,
    n_replications: int = 500,
    warmup: int | None = None,
    backorders: bool = True,
    steps_per_period: int = 1,
    initial_position: float | None = None,
    n_paths: int = 5,
) -> SimulationResult:
    """Simulate a continuous-review (s, Q) policy.

    Parameters
    ----------
    rng
        Random generator (results are reproducible for a seeded generator).
    reorder_point, order_quantity
        s and Q (Q > 0).
    lead_time, lead_time_std
        Mean and standard deviation of the lead time in periods (normal, truncated at 0, rounded to whole
        sub-steps); or ``lead_time_samples``: values to resample (periods).
    demand_mean, demand_std
        Normal demand per period (truncated at 0); or ``demand_samples``: per-period demands to resample (e.g.
        history, or forecast + backtest errors clipped at 0).
    n_periods, n_replications, warmup
        Periods per replication, replications, and initial periods left out of the measures
        (default: max lead time + 2 R + 5, at most half the run).
    backorders
        True: unmet demand is backordered; False: it is lost.
    steps_per_period
        Sub-steps per period (reviews per period); see the module docstring.
    initial_position
        Starting net inventory (default s + Q), nothing on order.
    n_paths
        Replications whose period-end paths are returned.

    Returns
    -------
    SimulationResult
    """
    s = float(reorder_point)
    if not np.isfinite(s):
        raise ValueError(f"reorder_point must be finite, got {reorder_point!r}")
    q = _check("order_quantity", order_quantity, positive=True)
    return _simulate(
        policy="sQ",
        rng=rng,
        level=s,
        order_quantity=q,
        review_period=1,
        demand_mean=demand_mean,
        demand_std=demand_std,
        demand_samples=demand_samples,
        lead_time=lead_time,
        lead_time_std=lead_time_std,
        lead_time_samples=lead_time_samples,
        n_periods=n_periods,
        n_replications=n_replications,
        warmup=warmup,
        backorders=backorders,
        steps_per_period=steps_per_period,
        initial_position=initial_position,
        n_paths=n_paths,
    )


def simulate_rs(
    *,
    rng: np.random.Generator,
    order_up_to: float,
    review_period: int = 1,
    lead_time: float | None = None,
    lead_time_std: float = 0.0,
    lead_time_samples: Any = None,
    demand_mean: float | None = None,
    demand_std: float | None = None,
    demand_samples: Any = None,
    n_periods: int = 520,
    n_replications: int = 500,
    warmup: int | None = None,
    backorders: bool = True,
    initial_position: float | None = None,
    n_paths: int = 5,
) -> SimulationResult:
    """Simulate a periodic-review (R, S) policy: at the end of every R-th period order S - position (if > 0).

    Parameters as in :func:`simulate_sq`; ``order_up_to`` is S, ``review_period`` R (whole periods >= 1),
    ``initial_position`` defaults to S.
    """
    s_level = float(order_up_to)
    if not np.isfinite(s_level):
        raise ValueError(f"order_up_to must be finite, got {order_up_to!r}")
    if int(review_period) != review_period or review_period < 1:
        raise ValueError(f"review_period must be a positive integer, got {review_period!r}")
    return _simulate(
        policy="RS",
        rng=rng,
        level=s_level,
        order_quantity=0.0,
        review_period=int(review_period),
        demand_mean=demand_mean,
        demand_std=demand_std,
        demand_samples=demand_samples,
        lead_time=lead_time,
        lead_time_std=lead_time_std,
        lead_time_samples=lead_time_samples,
        n_periods=n_periods,
        n_replications=n_replications,
        warmup=warmup,
        backorders=backorders,
        steps_per_period=1,
        initial_position=initial_position,
        n_paths=n_paths,
    )
