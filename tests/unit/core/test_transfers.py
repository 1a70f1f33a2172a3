"""core.transfers: givers above their maximum, receivers at or below their reorder point, quantity bounds, lane
rounding, the cost rule and the order in which receivers are served."""

from __future__ import annotations

import math

import pytest

from core.transfers import Route, Stocking, propose_transfers, round_to_lane, value_of_time


def stocking(sku_id: int, location: str, on_hand: float, **kw: float) -> Stocking:
    values = {
        "on_order": 0.0,
        "reorder_point": 50.0,
        "order_up_to": 120.0,
        "lot": 40.0,
        "forecast_per_day": 3.0,
        "unit_cost": 2.0,
        "unit_price": 4.0,
        "order_cost": 30.0,
        "supplier_lead_time_days": 14.0,
    }
    values.update(kw)
    return Stocking(sku_id=sku_id, location=location, on_hand=on_hand, **values)


LANE = Route(from_location="A", to_location="B", lead_time_days=2.0, cost_per_unit=0.1)


def test_full_gives_to_empty_within_both_bounds() -> None:
    giver, receiver = stocking(1, "A", 800.0), stocking(2, "B", 0.0)
    [p] = propose_transfers(stockings=[giver, receiver], lanes=[LANE])
    assert (p.from_sku_id, p.to_sku_id, p.from_location, p.to_location) == (1, 2, "A", "B")
    assert p.quantity == 120.0  # the receiver's need (order-up-to 120 - position 0); the giver could spare 710
    assert p.numbers["spare"] == 800.0 - (50.0 + 40.0)
    assert p.cost == pytest.approx(12.0)
    assert p.buy_cost == pytest.approx(30.0 + 36.0 * 2.0)  # order cost + min(120, 3/day x 12 days) x margin 2
    assert "B is at 0 units" in p.reason and "can spare 710" in p.reason
    assert "costs 12.00 vs buying: order cost 30.00 + 72.00 of sales the lane protects (12 days" in p.reason


def test_the_giver_keeps_its_reorder_point_plus_lot() -> None:
    giver = stocking(1, "A", 200.0, order_up_to=150.0)  # max(150, 50 + 40) = 150 < 200: a giver sparing 110
    receiver = stocking(2, "B", 0.0, order_up_to=500.0)
    [p] = propose_transfers(stockings=[giver, receiver], lanes=[LANE])
    assert p.quantity == 110.0 and giver.on_hand - p.quantity == giver.reorder_point + giver.lot


def test_rounding_down_to_the_lane_minimum() -> None:
    lane = Route(from_location="A", to_location="B", lead_time_days=2.0, cost_per_unit=0.1, min_qty=48.0)
    [p] = propose_transfers(stockings=[stocking(1, "A", 800.0), stocking(2, "B", 0.0)], lanes=[lane])
    assert p.quantity == 96.0  # 120 rounded down to a multiple of 48
    small = Route(from_location="A", to_location="B", lead_time_days=2.0, cost_per_unit=0.1, min_qty=200.0)
    assert propose_transfers(stockings=[stocking(1, "A", 800.0), stocking(2, "B", 0.0)], lanes=[small]) == []
    assert round_to_lane(quantity=47.9, min_qty=12) == 36 and round_to_lane(quantity=0, min_qty=1) == 0
    with pytest.raises(ValueError, match="min_qty"):
        round_to_lane(quantity=5, min_qty=0.5)


@pytest.mark.parametrize(
    ("giver_on_hand", "receiver_on_hand", "lanes"),
    [
        (800.0, 0.0, []),  # no lane
        (800.0, 0.0, [Route("B", "A", 2.0, 0.1)]),  # a lane the other way only
        (150.0, 0.0, [LANE]),  # the giver is at its maximum max(150, 50 + 40) = 150, not above it
        (800.0, 60.0, [LANE]),  # the receiver is above its reorder point
    ],
)
def test_no_transfer(giver_on_hand: float, receiver_on_hand: float, lanes: list[Route]) -> None:
    giver = stocking(1, "A", giver_on_hand, order_up_to=150.0 if giver_on_hand == 150.0 else 120.0)
    assert propose_transfers(stockings=[giver, stocking(2, "B", receiver_on_hand)], lanes=lanes) == []


def test_none_where_buying_is_cheaper_and_the_value_of_time() -> None:
    dear = Route(from_location="A", to_location="B", lead_time_days=2.0, cost_per_unit=1.0)  # 120 vs 30 + 72
    assert propose_transfers(stockings=[stocking(1, "A", 800.0), stocking(2, "B", 0.0)], lanes=[dear]) == []
    slow = Route(from_location="A", to_location="B", lead_time_days=20.0, cost_per_unit=0.2)  # 24 vs 30 + 0
    receiver = stocking(2, "B", 0.0)
    assert value_of_time(receiver=receiver, lane=slow, quantity=120.0) == 0.0
    [p] = propose_transfers(stockings=[stocking(1, "A", 800.0), receiver], lanes=[slow])
    assert p.buy_cost == 30.0 and "protects" not in p.reason
    costly_order = stocking(2, "B", 0.0, order_cost=0.0, unit_price=2.0)  # no order cost, no margin: buy
    assert propose_transfers(stockings=[stocking(1, "A", 800.0), costly_order], lanes=[slow]) == []


def test_receivers_most_short_first_and_the_spare_is_shared() -> None:
    giver = stocking(1, "A", 300.0, order_up_to=100.0)  # spare 300 - 90 = 210
    near = stocking(2, "B", 40.0, order_up_to=200.0)  # 10 below its reorder point: needs 160
    far = stocking(3, "C", 0.0, order_up_to=200.0)  # 50 below: needs 200, served first
    lanes = [LANE, Route("A", "C", 2.0, 0.1)]
    first, second = propose_transfers(stockings=[giver, near, far], lanes=lanes)
    assert (first.to_location, first.quantity) == ("C", 200.0)
    assert (second.to_location, second.quantity) == ("B", 10.0)
    assert first.quantity + second.quantity == 210.0


def test_the_cheapest_lane_gives_first() -> None:
    a, c = stocking(1, "A", 800.0), stocking(3, "C", 800.0)
    lanes = [LANE, Route("C", "B", 1.0, 0.05)]
    [p] = propose_transfers(stockings=[a, stocking(2, "B", 0.0), c], lanes=lanes)
    assert p.from_location == "C"


def test_bad_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="on_hand of SKU 1"):
        propose_transfers(stockings=[stocking(1, "A", math.nan)], lanes=[])
    with pytest.raises(ValueError, match="appears twice"):
        propose_transfers(stockings=[stocking(1, "A", 1.0), stocking(2, "A", 1.0)], lanes=[])
    with pytest.raises(ValueError, match="negative"):
        propose_transfers(stockings=[], lanes=[Route("A", "B", 1.0, -0.1)])
    with pytest.raises(ValueError, match="min_qty"):
        propose_transfers(stockings=[], lanes=[Route("A", "B", 1.0, 0.1, 0.0)])
