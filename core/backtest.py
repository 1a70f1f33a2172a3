"""Policy replay: run reorder policies through a real demand matrix, vectorised over SKUs (a trace-driven simulation).

Public API (stable; the backtest use case, CLI and pages build on it):

- :func:`replay_policy` ``(*, demand, reorder_point, order_up_to=None, order_quantity=None, lead_time,
  lead_time_std=0.0, unit_cost=None, review_period=1, moq=0.0, order_multiple=1.0, backorders=True, rng=None,
  initial_on_hand=None, keep_paths=False) -> ReplayResult``: per-SKU results (arrays (n,)) and, with ``keep_paths``,
  the per-period paths (n, N) for a chart.
- :func:`summarise` ``(result, *, mask=None) -> ReplaySummary``: portfolio figures (demand-weighted fill rate, ...).
- :func:`top_level` ``(*, reorder_point, order_up_to, order_quantity) -> ndarray``: the default start.
- :class:`ReplayResult`, :class:`ReplaySummary`, :data:`PATH_NAMES`.

The policy (one per SKU, arrays (n,)): reorder point s, order-up-to level S (NaN = none) and order quantity Q
(0 = none). At every review (the end of periods R, 2R, ... of the replay) the inventory position
p = net inventory (on hand - backorders) + on order is compared with s; when p <= s an order of

- q = max(Q, S - p)                                   where S is given (the engine's rule: (s, S) with Q = 0,
  the engine's lot-or-up-to order with both, (R, S) with s = S);
- q = n Q, n = floor((s - p) / Q) + 1                 where S is NaN: the (s, nQ) policy, the smallest multiple of
  Q that lifts the position above s;

is rounded up to the pack (at least the MOQ, a multiple of the order multiple; :func:`core.policy.round_up_to_pack`)
and placed; q = 0 places nothing. A NaN reorder point means the policy never orders (e.g. the engine's policy of a
SKU without forecast demand).

Timing inside period t (the convention of :mod:`core.montecarlo`): orders due arrive at the start of the period,
then the period's demand is served from stock, then (at a review) the position is checked and an order placed. An
order placed in period t with lead time L arrives at the start of period t + L + 1, so it is exposed to the L
periods of demand in between (the protection period of :func:`core.policy.reorder_point`). Lead times are in
periods and rounded to whole periods (``np.rint``); with ``lead_time_std`` > 0 every order draws its own lead time
from Normal(L, sigma_L) truncated at 0 (orders may cross), with the generator passed in. Unmet demand is
backordered (``backorders=True``: served first from later arrivals, never counted as served from stock) or lost.

Start: net inventory = the policy's top level (max(S, s + Q) over the parts that are given, at least 0) or
``initial_on_hand``; nothing on order. The replay covers exactly the periods of ``demand``: no warm-up, so a short
replay carries the start (the same start for every policy compared).

Demand: NaN counts as 0 (no demand recorded) and negative values (returns) as 0.

Measures per SKU over the N replayed periods:

- fill rate (the P2 / beta measure) = units served from stock on the period they were demanded / units demanded
  (NaN for a SKU without demand);
- cycle service level here = share of periods without a stockout (a period in which some demand was not served
  from stock); stockout_periods = their count;
- average on hand = mean over periods of max(net inventory at the period end, 0), in units and x unit cost;
- orders placed (count) and units ordered; average backorders; units lost (lost sales) or still backordered at the end.

Sources: Silver, Pyke & Thomas, *Inventory and Production Management in Supply Chains* (4th ed., 2017), ch. 6-7
(P1 / P2 service measures, (s, Q), (s, S), (R, S) policies, undershoot); Law, *Simulation Modeling and Analysis*
(5th ed., 2015), section 4.7 (trace-driven simulation: driving a model with the historical input sequence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.policy import round_up_to_pack

PATH_NAMES: tuple[str, ...] = ("demand", "served", "arrived", "ordered", "on_hand", "position")
"""Per-period paths of :class:`ReplayResult` (each (n, N)): demand, units served from stock, units arriving at the
period start, units ordered at the period end, net inventory at the period end (negative = backorders) and the
inventory position after ordering."""


@dataclass(frozen=True)
class ReplayResult:
    """Outcome of :func:`replay_policy`; per-SKU arrays of shape (n,).

    Attributes
    ----------
    periods
        N, periods replayed.
    demand, served
        Units demanded and units served from stock on the period they were demanded.
    fill_rate
        served / demand (NaN where demand = 0).
    cycle_service_level
        Share of the N periods without a stockout (1 for a SKU that never ran short).
    stockout_periods, orders
        Periods with unmet demand; orders placed (ints).
    units_ordered
        Units ordered (arrived or still in the pipeline at the end).
    average_on_hand_units, average_on_hand_value
        Mean of the period-end on hand max(net, 0), in units and x unit cost (NaN value without a cost).
    average_backorders
        Mean of the period-end backorders max(-net, 0) (0 under lost sales).
    units_short_end
        Backordered units still open at the end (backorders) or units lost over the replay (lost sales).
    ending_net, ending_on_order
        Net inventory and units on order after the last period.
    paths
        Name -> (n, N) array for each of :data:`PATH_NAMES` (empty without ``keep_paths``).
    """

    periods: int
    demand: np.ndarray
    served: np.ndarray
    fill_rate: np.ndarray
    cycle_service_level: np.ndarray
    stockout_periods: np.ndarray
    orders: np.ndarray
    units_ordered: np.ndarray
    average_on_hand_units: np.ndarray
    average_on_hand_value: np.ndarray
    average_backorders: np.ndarray
    units_short_end: np.ndarray
    ending_net: np.ndarray
    ending_on_order: np.ndarray
    paths: dict[str, np.ndarray]


@dataclass(frozen=True)
class ReplaySummary:
    """Portfolio figures of a replay (SKUs selected by a mask).

    fill_rate is demand-weighted (sum served / sum demand, NaN without demand); cycle_service_level is the mean of
    the SKUs' shares of periods without a stockout over the SKUs with demand; average_inventory_value and
    average_inventory_units are sums over SKUs of the average on hand (NaN costs count as 0 in the value).
    """

    skus: int
    demand: float
    served: float
    fill_rate: float
    cycle_service_level: float
    average_inventory_value: float
    average_inventory_units: float
    stockout_periods: int
    orders: int

    def as_dict(self) -> dict[str, float]:
        """The figures as a plain dict (JSON-ready floats and ints)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _vector(name: str, value: Any, n: int, *, default: float | None = None, nonneg: bool = True) -> np.ndarray:
    if value is None:
        if default is None:
            raise ValueError(f"{name} is required")
        value = default
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {value!r}") from None
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, n)):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {arr.shape}")
    arr = np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (n,)).astype(float)
    if np.isinf(arr).any():
        raise ValueError(f"{name} must be finite (NaN where allowed)")
    if nonneg and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got min {np.nanmin(arr):g}")
    return arr


def _check_demand(demand: Any) -> np.ndarray:
    try:
        d = np.asarray(demand, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("demand must be a numeric (n, N) array") from None
    if d.ndim != 2:
        raise ValueError(f"demand must be 2-D (n, N), got shape {d.shape}")
    if np.isinf(d).any():
        raise ValueError("demand must not contain infinite values")
    return np.maximum(np.nan_to_num(d, nan=0.0), 0.0)


def top_level(*, reorder_point: Any, order_up_to: Any, order_quantity: Any) -> np.ndarray:
    """The replay's default start: max(S, s + Q) over the parts that are given (S finite; s finite and Q > 0), at
    least 0; 0 where neither is. Arrays (n,)."""
    s = np.atleast_1d(np.asarray(reorder_point, dtype=float))
    big_s = np.atleast_1d(np.asarray(order_up_to, dtype=float))
    q = np.atleast_1d(np.nan_to_num(np.asarray(order_quantity, dtype=float)))
    s, big_s, q = np.broadcast_arrays(s, big_s, q)
    parts = np.column_stack([big_s, np.where(q > 0, s + q, np.nan)])
    given = np.isfinite(parts)
    top = np.where(given, parts, -np.inf).max(axis=1) if parts.size else np.zeros(0)
    return np.where(given.any(axis=1), np.maximum(top, 0.0), 0.0)


def _order_quantity(
    position: np.ndarray, s: np.ndarray, big_s: np.ndarray, q: np.ndarray, moq: np.ndarray, mult: np.ndarray
) -> np.ndarray:
    """Units to order at a review (0 where the position is above s or the policy never orders)."""
    trigger = np.isfinite(s) & (position <= s)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_lots = np.floor((s - position) / np.where(q > 0, q, 1.0)) + 1.0
    raw = np.where(np.isfinite(big_s), np.maximum(q, big_s - position), n_lots * q)
    raw = np.where(trigger, np.maximum(np.nan_to_num(raw), 0.0), 0.0)
    return np.asarray(round_up_to_pack(quantity=raw, moq=moq, order_multiple=mult), dtype=float)


def _policy_inputs(
    *,
    n: int,
    review_period: Any,
    reorder_point: Any,
    order_up_to: Any,
    order_quantity: Any,
    lead_time: Any,
    lead_time_std: Any,
    unit_cost: Any,
    moq: Any,
    order_multiple: Any,
    rng: Any,
    initial_on_hand: Any,
) -> dict[str, Any]:
    """Validate :func:`replay_policy`'s arguments into (n,) arrays (names as in its docstring)."""
    if isinstance(review_period, bool) or int(review_period) != review_period or review_period < 1:
        raise ValueError(f"review_period must be an integer >= 1, got {review_period!r}")
    review = int(review_period)
    s = _vector("reorder_point", reorder_point, n, nonneg=False)
    big_s = _vector("order_up_to", order_up_to, n, default=np.nan, nonneg=False)
    q = _vector("order_quantity", order_quantity, n, default=0.0)
    q = np.nan_to_num(q)
    lt = _vector("lead_time", lead_time, n)
    if np.isnan(lt).any():
        raise ValueError("lead_time must not be NaN")
    lt_sd = np.nan_to_num(_vector("lead_time_std", lead_time_std, n, default=0.0))
    cost = _vector("unit_cost", unit_cost, n, default=np.nan)
    moq_a = np.nan_to_num(_vector("moq", moq, n, default=0.0))
    mult = _vector("order_multiple", order_multiple, n, default=1.0, nonneg=False)
    cannot = np.isfinite(s) & ~np.isfinite(big_s) & ~(q > 0)
    if cannot.any():
        raise ValueError(
            f"order_up_to or order_quantity must be given where reorder_point is; missing for rows "
            f"{np.flatnonzero(cannot)[:5].tolist()}"
        )
    random_lt = bool(np.any(lt_sd > 0))
    if random_lt and not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator when lead_time_std > 0")
    if initial_on_hand is None:
        net = top_level(reorder_point=s, order_up_to=big_s, order_quantity=q)
    else:
        net = _vector("initial_on_hand", initial_on_hand, n, nonneg=False)
        if np.isnan(net).any():
            raise ValueError("initial_on_hand must not be NaN")
    net = net.astype(float).copy()

    return {"review": review, "s": s, "big_s": big_s, "q": q, "lt": lt, "lt_sd": lt_sd, "cost": cost, "moq": moq_a,
            "mult": mult, "random_lt": random_lt, "net": net}  # fmt: skip


def replay_policy(
    *,
    demand: Any,
    reorder_point: Any,
    order_up_to: Any = None,
    order_quantity: Any = None,
    lead_time: Any,
    lead_time_std: Any = 0.0,
    unit_cost: Any = None,
    review_period: int = 1,
    moq: Any = 0.0,
    order_multiple: Any = 1.0,
    backorders: bool = True,
    rng: np.random.Generator | None = None,
    initial_on_hand: Any = None,
    keep_paths: bool = False,
) -> ReplayResult:
    """Replay one reorder policy per SKU through a demand matrix (rules, timing and measures: module docstring).

    Parameters
    ----------
    demand
        (n, N) demand per period, oldest first (NaN and negative values count as 0).
    reorder_point
        (n,) s: order when the position is at or below it at a review; NaN = never order.
    order_up_to
        (n,) S (NaN or None = none: the (s, nQ) rule).
    order_quantity
        (n,) Q >= 0 (None = 0). A SKU with neither S nor Q > 0 that can order is an error.
    lead_time, lead_time_std
        (n,) mean lead time and its standard deviation, in periods (>= 0; rounded to whole periods).
    unit_cost
        (n,) money per unit for the average inventory value (None: NaN values).
    review_period
        R: the position is reviewed at the end of every R-th period (integer >= 1).
    moq, order_multiple
        (n,) minimum order quantity and order multiple (0 / NaN: none; multiple <= 0 or NaN: 1).
    backorders
        True: unmet demand is backordered; False: it is lost.
    rng
        Generator for random lead times; required when any ``lead_time_std`` > 0.
    initial_on_hand
        (n,) starting net inventory (default: the policy's top level, see the module docstring).
    keep_paths
        Return the per-period paths (:data:`PATH_NAMES`).

    Returns
    -------
    ReplayResult

    Raises
    ------
    ValueError
        Naming the bad argument: shapes that do not match, negative lead times or quantities, a review period that
        is not a whole number >= 1, a SKU that can order but has neither S nor Q, a missing generator.
    """
    d = _check_demand(demand)
    n, n_per = d.shape
    v = _policy_inputs(
        n=n, review_period=review_period, reorder_point=reorder_point, order_up_to=order_up_to,
        order_quantity=order_quantity, lead_time=lead_time, lead_time_std=lead_time_std, unit_cost=unit_cost, moq=moq,
        order_multiple=order_multiple, rng=rng, initial_on_hand=initial_on_hand,
    )  # fmt: skip
    review, s, big_s, q, lt, lt_sd = v["review"], v["s"], v["big_s"], v["q"], v["lt"], v["lt_sd"]
    cost, moq_a, mult, random_lt, net = v["cost"], v["moq"], v["mult"], v["random_lt"], v["net"]
    max_lt = int(np.rint(lt.max() + 6.0 * lt_sd.max())) if n else 0
    arrivals = np.zeros((n, n_per + max_lt + 2))
    on_order = np.zeros(n)
    rows = np.arange(n)
    served_sum = np.zeros(n)
    on_hand_sum = np.zeros(n)
    back_sum = np.zeros(n)
    ordered_sum = np.zeros(n)
    stockouts = np.zeros(n, dtype=np.int64)
    orders = np.zeros(n, dtype=np.int64)
    lost = np.zeros(n)
    paths = {k: np.zeros((n, n_per)) for k in PATH_NAMES} if keep_paths else {}
    fixed_due = np.rint(lt).astype(np.int64) + 1

    for t in range(n_per):
        arrived = arrivals[:, t]
        net += arrived
        on_order -= arrived
        dem = d[:, t]
        served = np.minimum(dem, np.maximum(net, 0.0))
        short = dem - served
        net -= dem if backorders else served
        if not backorders:
            lost += short
        served_sum += served
        stockouts += short > 1e-9
        ordered = np.zeros(n)
        if (t + 1) % review == 0:
            ordered = _order_quantity(net + on_order, s, big_s, q, moq_a, mult)
            who = ordered > 0
            if who.any():
                if random_lt:
                    draw = np.maximum(lt[who] + lt_sd[who] * rng.standard_normal(int(who.sum())), 0.0)  # type: ignore[union-attr]
                    due = t + np.rint(draw).astype(np.int64) + 1
                else:
                    due = t + fixed_due[who]
                due = np.minimum(due, arrivals.shape[1] - 1)
                np.add.at(arrivals, (rows[who], due), ordered[who])
                on_order += ordered
                ordered_sum += ordered
                orders += who
        on_hand_sum += np.maximum(net, 0.0)
        back_sum += np.maximum(-net, 0.0)
        if keep_paths:
            for name, value in (
                ("demand", dem),
                ("served", served),
                ("arrived", arrived),
                ("ordered", ordered),
                ("on_hand", net),
                ("position", net + on_order),
            ):
                paths[name][:, t] = value

    total = d.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(total > 0, served_sum / np.where(total > 0, total, 1.0), np.nan)
    periods = max(n_per, 1)
    avg_units = on_hand_sum / periods
    return ReplayResult(
        periods=n_per,
        demand=total,
        served=served_sum,
        fill_rate=fill,
        cycle_service_level=1.0 - stockouts / periods,
        stockout_periods=stockouts,
        orders=orders,
        units_ordered=ordered_sum,
        average_on_hand_units=avg_units,
        average_on_hand_value=avg_units * cost,
        average_backorders=back_sum / periods,
        units_short_end=np.maximum(-net, 0.0) if backorders else lost,
        ending_net=net,
        ending_on_order=on_order,
        paths=paths,
    )


def summarise(result: ReplayResult, *, mask: Any = None) -> ReplaySummary:
    """Portfolio figures of a replay over the SKUs in ``mask`` ((n,) bool; default all): see :class:`ReplaySummary`.

    Raises
    ------
    ValueError
        ``mask`` of the wrong shape.
    """
    n = result.demand.shape[0]
    m = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if m.shape != (n,):
        raise ValueError(f"mask must have shape ({n},), got {m.shape}")
    dem = float(result.demand[m].sum())
    served = float(result.served[m].sum())
    with_demand = m & (result.demand > 0)
    csl = float(result.cycle_service_level[with_demand].mean()) if with_demand.any() else float("nan")
    return ReplaySummary(
        skus=int(m.sum()),
        demand=dem,
        served=served,
        fill_rate=served / dem if dem > 0 else float("nan"),
        cycle_service_level=csl,
        average_inventory_value=float(np.nansum(result.average_on_hand_value[m])),
        average_inventory_units=float(result.average_on_hand_units[m].sum()),
        stockout_periods=int(result.stockout_periods[m].sum()),
        orders=int(result.orders[m].sum()),
    )


__all__ = ["PATH_NAMES", "ReplayResult", "ReplaySummary", "replay_policy", "summarise", "top_level"]
