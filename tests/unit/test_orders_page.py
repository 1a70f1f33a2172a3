"""Orders page: the pure helpers (the layout, callbacks and HTTP guard on a database: tests/integration)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services import orders as svc

PLANNER = "planner@example.com"


def walk(component: Any):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from walk(child)


# --- pure helpers ----------------------------------------------------------------------------------------------------


def test_recommendation_reason_quotes_the_policy_numbers() -> None:
    row = {
        "recommended_qty": 120,
        "inventory_position": 30,
        "reorder_point": 50,
        "order_up_to": 140,
        "eoq": 60,
        "moq": 100,
        "order_multiple": 12,
        "forecast_per_period": 9.5,
    }
    text = svc.recommendation_reason(row, unit="week")
    assert text == (
        "Position 30 is at or below the reorder point 50; order-up-to: level 140 - position 30 = 110; "
        "rounded to MOQ 100 and multiple 12 -> 120; forecast 9.5 per week."
    )
    eoq_text = svc.recommendation_reason(row | {"eoq": 300, "recommended_qty": 300, "moq": 0, "order_multiple": 1})
    assert "reorder point with EOQ: lot 300 (above the order-up-to gap 110); -> 300" in eoq_text


def test_reason_summary_says_the_reason_in_words_with_its_numbers() -> None:
    row = {"recommended_qty": 696, "inventory_position": 150, "reorder_point": 198, "order_up_to": 400, "eoq": 696}
    assert svc.reason_summary(svc.recommendation_reason(row)) == "Below the reorder point 198: order the lot of 696"
    up_to = row | {"eoq": 60, "recommended_qty": 348, "order_up_to": 490, "moq": 0, "order_multiple": 12}
    assert svc.reason_summary(svc.recommendation_reason(up_to, unit="week")) == (
        "Below the reorder point 198: order 340 to bring stock up to 490, rounded to 348 for the multiple 12"
    )
    one_shot = {
        "one_shot": True,
        "recommended_qty": 348.0,
        "newsvendor_qty": 559.6,
        "inventory_position": 210.0,
        "forecast_per_period": 40.0,
        "critical_ratio": 0.625,
        "horizon_periods": 13,
        "moq": 24.0,
        "order_multiple": 12.0,
    }
    assert svc.reason_summary(svc.recommendation_reason(one_shot, unit="week")) == (
        "One-shot season buy: 520 expected over 13 weeks, 210 in hand: order 348"
    )
    assert svc.reason_summary("Planner's own order; see the note.") == "Planner's own order"  # other text: 1st clause
    assert svc.reason_summary(None) == ""


def test_order_by_date_and_pack_warnings() -> None:
    day = dt.date(2026, 1, 5)  # the start of the last data period; the first forecast period starts one period later
    assert svc.order_by_date(data_as_of=day, order_by_periods=0, grain="weekly") == dt.date(2026, 1, 12)  # now
    assert svc.order_by_date(data_as_of=day, order_by_periods=2, grain="weekly") == dt.date(2026, 1, 26)
    assert svc.order_by_date(data_as_of=day, order_by_periods=3, grain="daily") == dt.date(2026, 1, 9)
    assert svc.order_by_date(data_as_of=dt.date(2026, 1, 1), order_by_periods=1, grain="monthly") == dt.date(
        2026, 3, 1
    )  # calendar months
    assert svc.order_by_date(data_as_of=day, order_by_periods=1.2, grain="weekly") == dt.date(2026, 1, 26)  # up
    assert svc.order_by_date(data_as_of=day, order_by_periods=-1, grain="weekly") == dt.date(2026, 1, 12)
    assert svc.order_by_date(data_as_of=day, order_by_periods=float("nan"), grain="weekly") is None
    assert svc.order_by_date(data_as_of=None, order_by_periods=1, grain="weekly") is None
    assert svc.pack_warnings(qty=30, moq=50, order_multiple=12) == (
        "below the minimum order quantity 50",
        "not a multiple of the order multiple 12",
    )
    assert svc.pack_warnings(qty=48, moq=0, order_multiple=12) == ()


def test_newest_override_per_period_for_the_chart() -> None:
    from layouts._sku_panels import newest_per_period

    t0 = dt.datetime(2026, 1, 1)
    rows = [
        {"period": dt.date(2026, 2, 2), "qty": 5, "created_at": t0 + dt.timedelta(hours=2)},
        {"period": dt.date(2026, 2, 2), "qty": 9, "created_at": t0},
        {"period": dt.date(2026, 1, 26), "qty": 7, "created_at": t0},
    ]
    assert [(r["period"].day, r["qty"]) for r in newest_per_period(rows)] == [(26, 7), (2, 5)]


# --- over HTTP: the guard --------------------------------------------------------------------------------------------
