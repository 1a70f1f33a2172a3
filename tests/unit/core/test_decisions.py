"""Outcome rules of the decision log (core/decisions.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from core import decisions as rules

D = dt.date


def test_override_pending_until_every_period_has_its_actual() -> None:
    out = rules.override_outcome(actuals=[10.0, None], statistical=[8.0, 8.0], override=[10.0, 10.0])
    assert out.state == rules.PENDING
    assert "1 of 2" in out.summary


def test_override_fva_is_statistical_minus_override_wape() -> None:
    # actual 10 + 10; statistical 5 + 5 -> WAPE 0.5; override 9 + 11 -> WAPE 0.1; FVA +0.4
    out = rules.override_outcome(actuals=[10.0, 10.0], statistical=[5.0, 5.0], override=[9.0, 11.0])
    assert out.state == rules.KNOWN
    assert out.values["fva"] == pytest.approx(0.4)
    assert "helped" in out.summary and "+40.0" in out.summary


def test_override_that_hurt_and_one_with_no_demand() -> None:
    hurt = rules.override_outcome(actuals=[10.0], statistical=[10.0], override=[30.0])
    assert hurt.values["fva"] == pytest.approx(-2.0) and "hurt" in hurt.summary
    empty = rules.override_outcome(actuals=[0.0], statistical=[3.0], override=[4.0])
    assert empty.state == rules.KNOWN and empty.values["fva"] is None


def test_override_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        rules.override_outcome(actuals=[1.0], statistical=[1.0, 2.0], override=[1.0])


def test_order_late_with_a_stockout_before_arrival() -> None:
    out = rules.order_outcome(
        status="received",
        order_date=D(2026, 11, 1),
        promised_date=D(2026, 11, 15),
        arrival_date=D(2026, 11, 18),
        stockout_days=[D(2026, 10, 30), D(2026, 11, 16), D(2026, 11, 20)],
        today=D(2026, 12, 1),
    )
    assert out.state == rules.KNOWN
    assert out.values["days_late"] == 3
    assert out.values["stocked_out"] is True and out.values["first_stockout"] == D(2026, 11, 16)
    assert "3 days late" in out.summary and "16 Nov 2026" in out.summary


def test_order_early_without_stockout() -> None:
    out = rules.order_outcome(
        status="approved",  # a receipt import showed the arrival; the order was not marked received
        order_date=D(2026, 11, 1),
        promised_date=D(2026, 11, 15),
        arrival_date=D(2026, 11, 14),
        stockout_days=[D(2026, 11, 20)],  # after the arrival: not the order's fault
        today=D(2026, 12, 1),
    )
    assert out.state == rules.KNOWN and out.values["days_late"] == -1 and out.values["stocked_out"] is False
    assert "1 day early" in out.summary and "no stock-out" in out.summary


def test_order_not_arrived_is_pending_and_says_overdue() -> None:
    out = rules.order_outcome(
        status="approved",
        order_date=D(2026, 11, 1),
        promised_date=D(2026, 11, 15),
        arrival_date=None,
        stockout_days=[],
        today=D(2026, 11, 20),
    )
    assert out.state == rules.PENDING and "5 days past" in out.summary
    due = rules.order_outcome(
        status="approved",
        order_date=D(2026, 11, 1),
        promised_date=D(2026, 11, 15),
        arrival_date=None,
        stockout_days=[],
        today=D(2026, 11, 10),
    )
    assert due.state == rules.PENDING and "promised 15 Nov 2026" in due.summary


def test_order_cancelled_or_still_recommended() -> None:
    kw = {"order_date": None, "promised_date": None, "arrival_date": None, "stockout_days": [], "today": D(2026, 1, 1)}
    assert rules.order_outcome(status="cancelled", **kw).state == rules.KNOWN
    assert rules.order_outcome(status="recommended", **kw).state == rules.PENDING


def test_rejection_outcome_window() -> None:
    kw = {"rejected_on": D(2026, 11, 1), "lead_time_days": 10.0}
    out = rules.rejection_outcome(stockout_days=[D(2026, 11, 5)], data_through=D(2026, 11, 6), **kw)
    assert out.state == rules.KNOWN and out.values["stocked_out"] is True
    wait = rules.rejection_outcome(stockout_days=[D(2026, 11, 12)], data_through=D(2026, 11, 6), **kw)
    assert wait.state == rules.PENDING
    fine = rules.rejection_outcome(stockout_days=[D(2026, 11, 12)], data_through=D(2026, 11, 20), **kw)
    assert fine.state == rules.KNOWN and fine.values["stocked_out"] is False


def test_policy_outcome_fill_and_inventory_against_before() -> None:
    out = rules.policy_outcome(
        demand_after=[10.0, 30.0],
        stocked_out_after=[False, True],
        on_hand_after=[50.0, 70.0],
        demand_before=[20.0, 20.0],
        stocked_out_before=[False, False],
        on_hand_before=[40.0],
    )
    assert out.state == rules.KNOWN
    assert out.values["fill_after"] == pytest.approx(0.25)
    assert out.values["fill_before"] == pytest.approx(1.0)
    assert out.values["avg_on_hand_after"] == pytest.approx(60.0)
    assert "fill 25.0% (before 100.0%)" in out.summary


def test_policy_outcome_pending_without_demand_since() -> None:
    out = rules.policy_outcome(demand_after=[], stocked_out_after=[], on_hand_after=[5.0])
    assert out.state == rules.PENDING
