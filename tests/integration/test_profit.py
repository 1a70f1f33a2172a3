"""Profit optimizer (/profit): newsvendor, heatmap, sensitivity and EOQ against core.policy and hand-computed values;
the callbacks (called directly) with valid and out-of-range inputs; scenarios; the page's component tree."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from core import policy
from tests.integration.test_risk import ensure_app, items_for, store_whatif, text_of, walk

PPY = 365.25 / 7.0


@pytest.fixture
def stored(sqlite_db) -> dict[str, int]:
    return store_whatif()


@pytest.fixture
def svc():
    from services import whatif

    return whatif


def controls(svc, items, **changes: Any):
    base = svc.profit_defaults(items)
    kwargs = {k: base[k] for k in svc.PROFIT_FIELDS}
    kwargs.update(changes)
    return svc.ProfitControls(**kwargs, baseline=base)


def hand_newsvendor(p: float, c: float, v: float, h: float, b: float, mu: float, sd: float) -> tuple[float, float]:
    """Q* and expected profit computed from the textbook formulas with scipy only."""
    cu, co = p - c + b, c - v + h
    z = stats.norm.ppf(cu / (cu + co))
    q = mu + sd * z
    lost = sd * (stats.norm.pdf(z) - z * (1 - stats.norm.cdf(z)))
    profit = p * (mu - lost) - c * q + (v - h) * (q - mu + lost) - b * lost
    return q, profit


def test_defaults_come_from_the_master_and_snapshot(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    d = svc.profit_defaults(items)
    assert d == {
        "season_periods": 13,
        "price": 20.0,
        "unit_cost": 10.0,
        "salvage_value": 2.0,
        "holding_pct": 25.0,
        "penalty": 0.0,
        "demand_mean": 100.0,
        "demand_std": 20.0,
        "order_cost": 50.0,
        "moq": 0.0,
        "order_multiple": 1.0,
    }
    seg = svc.profit_defaults(items_for(svc, "category:Tools"))
    assert seg["moq"] is None and seg["price"] == pytest.approx(50.0) and seg["demand_mean"] == pytest.approx(100.8)


def test_newsvendor_matches_hand_computation_and_core(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    econ, notes = svc.economics(items, controls(svc, items, penalty=1.5))
    assert notes == []
    nv = svc.newsvendor_view(items, econ)
    h = 10 * 0.25 * 13 / PPY
    q, profit = hand_newsvendor(20, 10, 2, h, 1.5, 1300, 20 * math.sqrt(13))
    assert nv.underage_cost == pytest.approx(11.5)
    assert nv.overage_cost == pytest.approx(8 + h)
    assert nv.critical_ratio == pytest.approx(11.5 / (11.5 + 8 + h))
    assert nv.quantity == pytest.approx(q, rel=1e-9)
    assert nv.expected_profit == pytest.approx(profit, rel=1e-9)
    core = policy.newsvendor_normal(underage_cost=11.5, overage_cost=8 + h, demand_mean=1300, demand_std=20 * 13**0.5)
    assert nv.expected_leftover == pytest.approx(core.expected_leftover)
    assert nv.expected_lost_sales == pytest.approx(core.expected_lost_sales)
    assert nv.fill_rate == pytest.approx(core.expected_sales / 1300)
    # the curve peaks at the optimum
    best = int(np.argmax(nv.curve_profit))
    assert nv.curve_quantity[best] == pytest.approx(nv.quantity)
    assert nv.curve_profit[best] == pytest.approx(nv.expected_profit)


def test_segment_newsvendor_sums_the_skus(stored, svc) -> None:
    seg = items_for(svc, "category:Tools")
    econ, _ = svc.economics(seg, controls(svc, seg))
    total = svc.newsvendor_view(seg, econ)
    parts = []
    for code in seg.codes:
        one = items_for(svc, f"sku:{code}")
        e, _ = svc.economics(one, controls(svc, one))
        parts.append(svc.newsvendor_view(one, e))
    assert total.quantity == pytest.approx(sum(p.quantity for p in parts))
    assert total.expected_profit == pytest.approx(sum(p.expected_profit for p in parts))
    assert max(total.curve_profit) <= total.expected_profit + 1e-6  # a common z never beats each SKU's own optimum


def test_segment_inputs_scale_each_sku(stored, svc) -> None:
    seg = items_for(svc, "category:Tools")
    d = svc.profit_defaults(seg)
    econ, _ = svc.economics(seg, controls(svc, seg, price=d["price"] * 1.1))
    assert econ.price == pytest.approx(seg.unit_price * 1.1)
    econ, _ = svc.economics(seg, controls(svc, seg, penalty=2.0))
    assert econ.penalty.tolist() == [2.0, 2.0]


def test_heatmap_cells_are_realised_profits(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    econ, _ = svc.economics(items, controls(svc, items))
    heat = svc.profit_heatmap(econ)
    assert len(heat.profit) == len(svc.HEAT_QUANTILES) and len(heat.profit[0]) == len(svc.HEAT_Z) + 1
    assert heat.quantities == sorted(heat.quantities)
    col = heat.optimum_column
    assert heat.quantities[col] == pytest.approx(heat.optimum)
    median_row = list(svc.HEAT_QUANTILES).index(0.5)
    q = heat.quantities[col]
    h = 10 * 0.25 * 13 / PPY
    # demand 1300 known: sell min(1300, q), pay for q, salvage the rest net of holding
    expected = 20 * min(1300, q) - 10 * q + (2 - h) * max(q - 1300, 0)
    assert heat.profit[median_row][col] == pytest.approx(expected)
    assert heat.demands[median_row] == pytest.approx(1300)


def test_sensitivity_moves_the_optimum_the_right_way(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    econ, _ = svc.economics(items, controls(svc, items))
    sens = svc.sensitivity(econ)
    mid = sens.changes.index(0.0) if 0.0 in sens.changes else int(np.argmin(np.abs(sens.changes)))
    for name in svc.SENSITIVITY_PARAMS:
        assert sens.quantity[name][mid] == pytest.approx(sens.base_quantity)
    assert sens.quantity["price"][-1] > sens.quantity["price"][0]
    assert sens.quantity["unit_cost"][-1] < sens.quantity["unit_cost"][0]
    assert sens.profit["price"][-1] > sens.profit["price"][0]


def test_eoq_with_moq_matches_hand_values(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    econ, _ = svc.economics(items, controls(svc, items, moq=600))
    eq = svc.eoq_view(items, econ)
    a = 100 * PPY
    assert eq.eoq == pytest.approx(math.sqrt(2 * 50 * a / 2.5))
    assert eq.feasible == 600.0
    assert eq.cost_at_eoq == pytest.approx(math.sqrt(2 * 50 * a * 2.5))
    assert eq.cost_at_feasible == pytest.approx(50 * a / 600 + 2.5 * 300)
    assert eq.penalty == pytest.approx(eq.cost_at_feasible - eq.cost_at_eoq)
    assert eq.orders_per_year == pytest.approx(a / 600)
    assert min(eq.curve_total) == pytest.approx(eq.cost_at_eoq, rel=1e-6)
    seg = items_for(svc, "portfolio")
    econ, _ = svc.economics(seg, controls(svc, seg))
    seg_eq = svc.eoq_view(seg, econ)
    assert seg_eq.curve_x[0] == pytest.approx(0.2) and min(seg_eq.curve_total) == pytest.approx(
        seg_eq.cost_at_eoq, rel=1e-3
    )


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"unit_cost": -1}, "Unit cost cannot be negative"),
        ({"price": -2}, "Price cannot be negative"),
        ({"holding_pct": -5}, "Holding cost cannot be negative"),
        ({"season_periods": 0}, "whole number"),
        ({"order_multiple": 0}, "Order multiple must be above 0"),
        ({"moq": -1}, "MOQ cannot be negative"),
        ({"demand_mean": None}, "enter a number"),
    ],
)
def test_invalid_inputs_raise_clear_errors(stored, svc, changes: dict[str, Any], needle: str) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    with pytest.raises(svc.WhatIfError, match=needle):
        svc.economics(items, controls(svc, items, **changes))


def test_price_below_cost_orders_nothing(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    econ, notes = svc.economics(items, controls(svc, items, price=8))
    assert any("below unit cost" in n for n in notes)
    nv = svc.newsvendor_view(items, econ)
    assert nv.quantity == 0 and nv.critical_ratio == 0 and nv.expected_profit == pytest.approx(0.0)
    # a penalty large enough makes stocking worth it again
    econ, _ = svc.economics(items, controls(svc, items, price=8, penalty=6))
    assert svc.newsvendor_view(items, econ).quantity > 0


def test_free_leftovers_are_capped(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    econ, notes = svc.economics(items, controls(svc, items, salvage_value=12, holding_pct=0))
    assert any("capped" in n for n in notes)
    nv = svc.newsvendor_view(items, econ)
    assert nv.quantity == pytest.approx(1300 + 20 * math.sqrt(13) * stats.norm.ppf(svc.CAP_QUANTILE))


def test_zero_demand_says_so(stored, svc) -> None:
    items = items_for(svc, "sku:G-ZERO")
    econ, notes = svc.economics(items, controls(svc, items))
    assert any("No demand" in n for n in notes)
    nv = svc.newsvendor_view(items, econ)
    assert nv.quantity == 0 and math.isnan(nv.fill_rate)
    assert svc.eoq_view(items, econ).eoq == 0


# --------------------------------------------------------------------------------------------------------------------
# callbacks


@pytest.fixture
def cb(stored):
    ensure_app()
    from callbacks import profit

    return profit


def scope_data(svc, key: str) -> dict[str, Any]:
    return {"scope": key, "baseline": svc.profit_defaults(items_for(svc, key))}


def values(data: dict[str, Any], **changes: Any) -> list[Any]:
    from callbacks.profit import FIELDS

    merged = {**data["baseline"], **changes}
    return [merged[name] for name in FIELDS]


def test_update_callback_renders_every_figure(cb, svc) -> None:
    from dash import no_update

    data = scope_data(svc, "sku:T-SMOOTH")
    out = cb.update(*values(data), data)
    assert no_update not in out
    message, kpis, curve, heat, sens, eoq, eoq_table = out
    assert "Critical ratio" in text_of(kpis) and "Expected profit" in text_of(kpis)
    assert curve["data"][1]["name"] == "Optimum"
    assert heat["data"][0]["type"] == "heatmap" and heat["layout"]["shapes"]
    assert len(sens["data"]) == 6
    assert any("EOQ" in a["text"] for a in eoq["layout"]["annotations"])
    assert "Cost of the constraint" in text_of(eoq_table)
    changed = cb.update(*values(data, price=25), data)
    assert text_of(changed[1]) != text_of(kpis)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"unit_cost": -3}, "cannot be negative"),
        ({"season_periods": 2.5}, "whole number"),
        ({"price": None}, "enter a number"),
    ],
)
def test_update_callback_shows_errors_without_raising(cb, svc, changes: dict[str, Any], needle: str) -> None:
    from dash import no_update

    data = scope_data(svc, "sku:T-SMOOTH")
    out = cb.update(*values(data, **changes), data)
    assert needle in text_of(out[0]) and all(o is no_update for o in out[1:])


def test_update_callback_warns_on_price_below_cost_and_zero_demand(cb, svc) -> None:
    data = scope_data(svc, "sku:T-SMOOTH")
    out = cb.update(*values(data, price=5), data)
    assert "below unit cost" in text_of(out[0])
    zero = scope_data(svc, "sku:G-ZERO")
    out = cb.update(*values(zero), zero)
    assert "No demand" in text_of(out[0])
    assert out[2]["data"] == [] and out[3]["data"] == []


def test_load_scope_fills_the_inputs(cb, svc) -> None:
    out = cb.load_scope("segment", None, "category:Tools", None)
    assert out[0]["scope"] == "category:Tools"
    moq_disabled = out[1 + len(cb.FIELDS)]
    assert moq_disabled is True
    out = cb.load_scope("sku", "T-SMOOTH", "portfolio", None)
    assert out[1] == "20" and out[1 + len(cb.FIELDS)] is False
    assert out[0]["hints"]["price"] == "from the SKU master"


def test_one_sku_without_a_sku_and_edited_hints(cb, svc) -> None:
    """Issue 23: "One SKU" with no SKU asks for one (no portfolio figures, no scenario of the portfolio); a price
    typed over today's no longer says "from the SKU master"; "1,234.5" reads as a number."""
    out = cb.load_scope("sku", None, "portfolio", None)
    assert out[0] == {"scope": None, "pick": True} and "Pick a SKU" in out[-1]
    shown_today = values(scope_data(svc, "sku:T-SMOOTH"))
    view = cb.compute_view(*shown_today, out[0])
    assert "Pick a SKU" in text_of(view[0]) and view[1] == [] and view[2]["data"] == []
    message, ok = cb.save("x", tuple(shown_today), out[0], "planner@example.com")
    assert not ok and "Pick a SKU" in text_of(message)
    loaded = cb.load_scope("sku", "T-SMOOTH", "portfolio", None)
    data = loaded[0]
    shown = list(loaded[1 : 1 + len(cb.FIELDS)])
    assert cb.hints(*shown, data)[0] == "from the SKU master"
    shown[0] = "1,234.5"
    assert cb.hints(*shown, data)[0] == "edited · today 20"
    assert cb._stored("1,234.5") == 1234.5


def test_scenarios_save_list_compare_delete(cb, svc) -> None:
    from db.models import AuditLog
    from db.session import session_scope

    data = scope_data(svc, "sku:T-SMOOTH")
    message, ok = cb.save("Base case", tuple(values(data)), data, "planner@example.com")
    assert ok and "Saved" in text_of(message)
    message, ok = cb.save("Dearer", tuple(values(data, price=24)), data, "planner@example.com")
    assert ok
    message, ok = cb.save("base CASE", tuple(values(data)), data, "planner@example.com")
    assert not ok and "exists already" in text_of(message)
    message, ok = cb.save("  ", tuple(values(data)), data, "planner@example.com")
    assert not ok and "name" in text_of(message)
    message, ok = cb.save("Broken", tuple(values(data, unit_cost=-1)), data, "planner@example.com")
    assert not ok and "negative" in text_of(message)

    rows, options_a, _options_b, a, b = cb.list_scenarios(1, None, None)
    assert [r["name"] for r in rows] == ["Dearer", "Base case"]
    assert b == options_a[0]["value"] and a == options_a[1]["value"]
    table = cb.compare(a, b)
    text = text_of(table)
    assert "Base case" in text and "Dearer" in text and "+$4.00" in text
    assert "Pick two" in text_of(cb.compare(a, None))

    with session_scope() as s:
        stored = svc.get_scenario(session=s, scenario_id=b)
        assert stored.inputs["price"] == 24.0 and stored.inputs["scope"] == "sku:T-SMOOTH"
        econ, _ = svc.economics(items_for(svc, "sku:T-SMOOTH"), controls(svc, items_for(svc, "sku:T-SMOOTH"), price=24))
        assert stored.results["quantity"] == pytest.approx(
            svc.newsvendor_view(items_for(svc, "sku:T-SMOOTH"), econ).quantity
        )
        assert s.query(AuditLog).filter_by(action="scenario.save").count() == 2

    result, version = cb.delete_scenario(1, a, 3)
    assert "deleted" in text_of(result) and version == 4
    rows, *_ = cb.list_scenarios(version, a, b)
    assert [r["name"] for r in rows] == ["Dearer"]


def test_scenario_callbacks_roles(cb) -> None:
    from auth.guard import CALLBACK_KEY_ROLES
    from layouts import _ids as ids

    roles = {key: role for key, role in CALLBACK_KEY_ROLES.items() if "profit-" in key}
    saving = [r for k, r in roles.items() if ids.PROFIT_SCENARIO_RESULT in k]
    assert saving and set(saving) == {"planner"}
    assert next(r for k, r in roles.items() if ids.PROFIT_SCENARIO_COMPARE in k) == "viewer"
    assert next(r for k, r in roles.items() if ids.PROFIT_KPIS in k) == "viewer"


def test_page_tree(cb, svc) -> None:
    from layouts import _ids as ids
    from layouts import profit

    tree = profit.layout(sku="T-SMOOTH")
    found = {getattr(c, "id", None) for c in walk(tree)}
    for needed in (
        ids.PROFIT_PRICE,
        ids.PROFIT_CURVE,
        ids.PROFIT_HEATMAP,
        ids.PROFIT_EOQ_CHART,
        ids.PROFIT_SCENARIO_GRID,
    ):
        assert needed in found
    assert ids.PROFIT_SCENARIO_SAVE not in found  # viewers list and compare only
    assert "Planners can save scenarios" in text_of(tree)
    segment = profit.layout(category="Tools")
    moq = next(c for c in walk(segment) if getattr(c, "id", None) == ids.PROFIT_MOQ)
    assert moq.disabled is True
    assert "No SKU" in text_of(profit.layout(sku="UNKNOWN"))
