"""The backtest panels without a browser: component trees, figures, and the callbacks called directly.

Only the pure tests here; those on a database are in tests/integration/test_backtest_pages.py.
"""

from __future__ import annotations

import datetime as dt

from layouts import _backtest as panel
from layouts import _ids as ids
from services import backtest as bt


def _ids_in(component) -> set[str]:
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, list | tuple):
            for child in node:
                walk(child)
            return
        node_id = getattr(node, "id", None)
        if isinstance(node_id, str):
            found.add(node_id)
        children = getattr(node, "children", None)
        if children is not None:
            walk(children)

    walk(component)
    return found


def _text(component) -> str:
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child)
        elif node is not None:
            walk(getattr(node, "children", None))

    walk(component)
    return " ".join(parts)


def test_panels_hold_their_controls_and_replay_nothing_on_load() -> None:
    sku = _ids_in(panel.sku_panel(grain="monthly"))
    assert {ids.BACKTEST_SKU_RUN, ids.BACKTEST_SKU_CANCEL, ids.BACKTEST_SKU_PERIODS, ids.BACKTEST_SKU_RESULT} <= sku
    assert "the last 12 months" in _text(panel.sku_panel(grain="monthly"))
    risk = _ids_in(panel.risk_panel(grain="weekly"))
    assert {ids.BACKTEST_RISK_RUN, ids.BACKTEST_RISK_DONE, ids.BACKTEST_RISK_RESULT, ids.BACKTEST_RISK_MESSAGE} <= risk


def _figures(fill: float | None, *, rop: float | None = 10.0) -> bt.ReplayFigures:
    return bt.ReplayFigures(
        reorder_point=rop,
        order_up_to=None,
        order_quantity=20.0,
        fill_rate=fill,
        cycle_service_level=0.75,
        stockout_periods=1,
        orders=1,
        average_inventory_units=12.5,
        average_inventory_value=125.0,
        paths={
            "demand": [5.0, 8.0, 0.0, 9.0],
            "served": [5.0, 8.0, 0.0, 4.0],
            "arrived": [0.0, 0.0, 20.0, 0.0],
            "ordered": [0.0, 20.0, 0.0, 0.0],
            "on_hand": [25.0, 17.0, 37.0, -5.0],
            "position": [25.0, 37.0, 37.0, -5.0],
        },
    )


def _view(fill: float | None = 0.8) -> bt.SkuReplay:
    return bt.SkuReplay(
        code="A-1",
        grain="weekly",
        periods=4,
        fit_periods=30,
        dates=[dt.date(2026, 1, 5) + dt.timedelta(weeks=k) for k in range(4)],
        target_service_level=0.95,
        demand=22.0,
        engine=_figures(fill),
        textbook=_figures(0.9, rop=None),
        seconds=0.5,
    )


def test_sku_result_draws_the_replay_and_says_the_gap_to_target() -> None:
    out = panel.sku_result(_view())
    text = _text(out)
    assert "Fill rate 80.0%: 15.0 pp short of the 95.0% target." in text
    assert "1 of 4" in text and "reorder at 10, lot 20" in text and "never orders" in text
    figure = panel.replay_figure(_view())
    names = [trace["name"] for trace in figure["data"]]
    assert names == [
        "Demand",
        "Textbook: stock on hand",
        "Engine: stock on hand",
        "Engine: order placed",
        "Engine: stockout",
    ]
    assert figure["data"][3]["x"] == ["2026-01-12"] and figure["data"][4]["x"] == ["2026-01-26"]  # order, stockout
    assert any("reorder point 10" in a["text"] for a in figure["layout"]["annotations"])
    assert "met the 95.0% target" in _text(panel.sku_result(_view(0.97)))
    assert "No demand in the replayed periods" in _text(panel.sku_result(_view(None)))


def _document() -> dict:
    return {
        "periods": 13,
        "grain": "weekly",
        "sku_count": 2,
        "portfolio": {
            "fill_rate": 0.95,
            "cycle_service_level": 0.9,
            "average_inventory_value": 1000.0,
            "target_service_level": 0.95,
        },
        "baseline": {
            "fill_rate": 0.96,
            "cycle_service_level": 0.92,
            "average_inventory_value": 1100.0,
            "target_service_level": 0.95,
        },
        "frontier": [
            {"service_target": 0.5, "fill_rate": 0.9, "average_inventory_value": 800.0},
            {"service_target": 0.9, "fill_rate": 0.95, "average_inventory_value": 950.0},
            {"service_target": 0.999, "fill_rate": 0.99, "average_inventory_value": 1500.0},
        ],
        "skus": [
            {"code": "A-1", "demand": 10.0, "fill_rate": 0.9, "stockout_periods": 2},
            {"code": "B/2", "demand": 30.0, "fill_rate": 1.0, "stockout_periods": 0},
        ],
        "excluded": [{"code": "C-3", "reason": "no demand history"}],
        "comparison": {
            "fill_gap_at_equal_inventory": -0.007,
            "inventory_ratio_at_equal_fill": 1.05,
            "baseline_fill_at_equal_inventory": 0.957,
            "baseline_inventory_at_equal_fill": 952.4,
            "verdict": "below",
        },
        "replay_start": "2026-01-05",
        "replay_end": "2026-03-30",
    }


def test_risk_result_draws_the_frontier_and_the_words() -> None:
    stored = bt.StoredBacktest(
        id=1,
        created_at=dt.datetime(2026, 4, 1, 9, 30),
        triggered_by="planner@example.com",
        scope_key="portfolio",
        periods=13,
        grain="weekly",
        data_as_of=dt.date(2026, 3, 30),
        sku_count=2,
        excluded_count=1,
        fill_rate=0.95,
        target_service_level=0.95,
        average_inventory_value=1000.0,
        seconds=2.0,
        document=_document(),
    )
    view = bt.StoredView(
        scope=bt.BacktestScope(), stored=stored, grain="weekly", default_periods=26, data_as_of=dt.date(2026, 4, 6)
    )
    out = panel.risk_result(view)
    text = _text(out)
    assert "Below the textbook frontier" in text
    assert "At the same inventory the textbook reaches 95.7%; the engine 95.0% (-0.7 pp)." in text
    assert "1 SKU(s) left out of the replay: C-3 (no demand history)." in text
    assert "by planner@example.com" in text and "The data now runs to 2026-04-06" in text
    assert "A-1  90.0% fill, 2 stockout weeks" in text  # the link, then its line
    figure = panel.frontier_figure(_document())
    assert [t["name"] for t in figure["data"]] == [
        "Textbook, one target for every SKU",
        "Textbook at each SKU's own target",
        "Engine's policies",
    ]
    none = panel.risk_result(bt.StoredView(bt.BacktestScope.make(abc="B"), None, "weekly", 26, None))
    assert "No policy replay of ABC class B of the latest recompute yet" in _text(none)


# --------------------------------------------------------------------------------------------------------------------
# callbacks, on the demo database
