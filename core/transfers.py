"""Transfer proposals between the locations of one item: move stock before buying it (issue 21).

For one item held at several locations (one SKU per location) and the lanes between locations:

- position p = on_hand + on_order; lot = the SKU's order lot (EOQ rounded, 0 when unknown); policy maximum
  M = max(order_up_to, reorder_point + lot) -- the same line :mod:`core.portfolio` values excess stock against.
- **Givers**: locations whose position is above their policy maximum (p > M) with stock on hand. A giver can spare
  spare = min(on_hand, p - (reorder_point + lot)): it stays at or above its own reorder point + lot.
- **Receivers**: locations with demand (forecast > 0) whose position is at or below their reorder point (p <= ROP).
  A receiver needs need = order_up_to - p (to reach its order-up-to level).
- **Quantity** over a lane from giver g to receiver r: q = min(spare_g, need_r) rounded *down* to a multiple of the
  lane's ``min_qty`` (so it never exceeds either bound); no proposal when q is 0.
- **Cheaper than buying**: the units moved are already paid for (the giver holds them above its maximum), so buying
  instead costs the receiver's fixed order cost K plus the value of time -- the sales the lane protects when it is
  faster than the supplier: min(q, d x max(L_supplier - L_lane, 0)) x max(price - cost, 0), d = forecast per day.
  A transfer is proposed when q x cost_per_unit < K + value of time.
- **Order**: receivers most below their reorder point first (p - ROP ascending); each takes from the cheapest lane
  (cost per unit, then lead time, then the giver with most to spare) and, while it still needs stock, from the next.

Sources: lateral transshipment as a pre-emptive rebalancing step, Snyder & Shen (2019) "Fundamentals of Supply Chain
Theory" section 9 (multi-echelon / lateral transshipments); Silver, Pyke & Thomas (2017) section 14.4
(redistribution of stock between locations before replenishment). The economic comparison (freight vs the order
cost and the time saved) is the issue's rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Stocking:
    """One SKU: the item at one location, with its latest run's policy numbers (units; days for lead times)."""

    sku_id: int
    location: str
    on_hand: float
    on_order: float
    reorder_point: float
    order_up_to: float
    lot: float
    forecast_per_day: float
    unit_cost: float
    unit_price: float
    order_cost: float
    supplier_lead_time_days: float

    @property
    def position(self) -> float:
        return self.on_hand + self.on_order

    @property
    def policy_max(self) -> float:
        return max(self.order_up_to, self.reorder_point + self.lot)


@dataclass(frozen=True)
class Route:
    """A lane: stock moves from ``from_location`` to ``to_location`` in ``lead_time_days`` at ``cost_per_unit``,
    in multiples of ``min_qty``."""

    from_location: str
    to_location: str
    lead_time_days: float
    cost_per_unit: float
    min_qty: float = 1.0


@dataclass(frozen=True)
class Proposal:
    """A proposed transfer and the numbers behind it."""

    from_sku_id: int
    to_sku_id: int
    from_location: str
    to_location: str
    quantity: float
    cost: float
    buy_cost: float
    lead_time_days: float
    cost_per_unit: float
    reason: str
    numbers: dict[str, float] = field(default_factory=dict)


def _units(value: float) -> str:
    """Units for the reason, rounded to whole units."""
    return f"{value:,.0f}" if math.isfinite(value) else "-"


def _money(value: float) -> str:
    """An amount for the reason, with two decimals."""
    return f"{value:,.2f}" if math.isfinite(value) else "-"


def _check(stockings: Sequence[Stocking], lanes: Sequence[Route]) -> None:
    for s in stockings:
        for name in ("on_hand", "on_order", "reorder_point", "order_up_to", "lot", "forecast_per_day", "order_cost"):
            value = getattr(s, name)
            if not math.isfinite(value):
                raise ValueError(f"stockings: {name} of SKU {s.sku_id} must be finite, got {value!r}")
    seen = set()
    for s in stockings:
        if s.location in seen:
            raise ValueError(f"stockings: location {s.location!r} appears twice for one item")
        seen.add(s.location)
    for lane in lanes:
        if lane.cost_per_unit < 0 or lane.lead_time_days < 0:
            raise ValueError(f"lanes: {lane.from_location} -> {lane.to_location} has a negative cost or lead time")
        if not lane.min_qty >= 1:
            raise ValueError(f"lanes: min_qty of {lane.from_location} -> {lane.to_location} must be >= 1")


def round_to_lane(*, quantity: float, min_qty: float) -> float:
    """``quantity`` rounded down to a whole multiple of ``min_qty`` (>= 1): floor(q / m) x m."""
    if min_qty < 1:
        raise ValueError(f"min_qty must be >= 1, got {min_qty!r}")
    if not quantity > 0:
        return 0.0
    return math.floor(quantity / min_qty + 1e-9) * min_qty


def value_of_time(*, receiver: Stocking, lane: Route, quantity: float) -> float:
    """Sales a lane faster than the supplier protects: min(q, d x max(L_supplier - L_lane, 0)) x max(price - cost, 0),
    d = the receiver's forecast per day (module docstring)."""
    saved_days = max(receiver.supplier_lead_time_days - lane.lead_time_days, 0.0)
    margin = max(receiver.unit_price - receiver.unit_cost, 0.0)
    return min(quantity, receiver.forecast_per_day * saved_days) * margin


def propose_transfers(*, stockings: Sequence[Stocking], lanes: Sequence[Route]) -> list[Proposal]:
    """Transfers of one item between its locations (``stockings``, one per location) over ``lanes``.

    Rules and formulas in the module docstring: givers above their policy maximum spare
    min(on_hand, p - (ROP + lot)); receivers at or below their reorder point need order_up_to - p; the quantity is
    the smaller, rounded down to the lane's ``min_qty``; proposed only when q x cost_per_unit is below the
    receiver's order cost plus the value of time (:func:`value_of_time`).

    Raises
    ------
    ValueError
        A non-finite stock or policy number, a location given twice, a lane with a negative cost or lead time or a
        ``min_qty`` below 1.
    """
    _check(stockings, lanes)
    spare = {
        s.sku_id: max(min(s.on_hand, s.position - (s.reorder_point + s.lot)), 0.0)
        for s in stockings
        if s.position > s.policy_max and s.on_hand > 0
    }
    receivers = sorted(
        (s for s in stockings if s.forecast_per_day > 0 and s.position <= s.reorder_point),
        key=lambda s: (s.position - s.reorder_point, s.location),
    )
    by_location = {s.location: s for s in stockings}
    routes = {(lane.from_location, lane.to_location): lane for lane in lanes}
    proposals: list[Proposal] = []
    for receiver in receivers:
        need = max(receiver.order_up_to - receiver.position, 0.0)
        options = [
            (routes[(g.location, receiver.location)], g)
            for g in (by_location[loc] for loc in by_location)
            if g.sku_id in spare and (g.location, receiver.location) in routes
        ]
        options.sort(key=lambda o: (o[0].cost_per_unit, o[0].lead_time_days, -spare[o[1].sku_id], o[1].location))
        for lane, giver in options:
            quantity = round_to_lane(quantity=min(spare[giver.sku_id], need), min_qty=lane.min_qty)
            if quantity <= 0:
                continue
            cost = quantity * lane.cost_per_unit
            time_value = value_of_time(receiver=receiver, lane=lane, quantity=quantity)
            buy_cost = receiver.order_cost + time_value
            if not cost < buy_cost:
                continue
            proposals.append(_proposal(giver, receiver, lane, quantity, cost, time_value, spare[giver.sku_id], need))
            spare[giver.sku_id] -= quantity
            need -= quantity
            if need <= 0:
                break
    return proposals


def _proposal(
    giver: Stocking,
    receiver: Stocking,
    lane: Route,
    quantity: float,
    cost: float,
    time_value: float,
    spare: float,
    need: float,
) -> Proposal:
    faster = receiver.supplier_lead_time_days - lane.lead_time_days
    time_part = (
        f" + {_money(time_value)} of sales the lane protects ({faster:,.0f} days faster than the supplier)"
        if time_value > 0
        else ""
    )
    reason = (
        f"{receiver.location} is at {_units(receiver.position)} units, at or below its reorder point "
        f"{_units(receiver.reorder_point)} (needs {_units(need)} to reach {_units(receiver.order_up_to)}); "
        f"{giver.location} holds {_units(giver.position)}, above its maximum {_units(giver.policy_max)}, and can "
        f"spare {_units(spare)} keeping its reorder point {_units(giver.reorder_point)} + lot {_units(giver.lot)}. "
        f"Moving {_units(quantity)} units ({lane.lead_time_days:g} days, in multiples of {_units(lane.min_qty)}) "
        f"costs {_money(cost)} vs buying: order cost {_money(receiver.order_cost)}{time_part}."
    )
    return Proposal(
        from_sku_id=giver.sku_id,
        to_sku_id=receiver.sku_id,
        from_location=giver.location,
        to_location=receiver.location,
        quantity=quantity,
        cost=cost,
        buy_cost=receiver.order_cost + time_value,
        lead_time_days=lane.lead_time_days,
        cost_per_unit=lane.cost_per_unit,
        reason=reason,
        numbers={"spare": spare, "need": need, "value_of_time": time_value},
    )
