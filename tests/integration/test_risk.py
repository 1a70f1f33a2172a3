"""Risk engine (/risk): services.whatif risk maths against core.policy and hand-computed values, the callbacks (called
directly) with valid and out-of-range inputs, and the page's component tree. A tiny hand-made snapshot is stored
in SQLite (no recompute needed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from dash._utils import AttributeDict
from scipy import stats

from core import policy

WEEK_DAYS = 7.0
PPY = 365.25 / 7.0


def store_whatif() -> dict[str, int]:
    """Three SKUs and a finished weekly run with hand-set snapshot values; returns sku ids by code.

    T-SMOOTH: D 100/wk, sigma 20, L 2 wk (14 d) +- 0.5 wk, CSL 95 %, cost 10, price 20, K 50, h 25 %/yr.
    T-LUMPY: D 0.8/wk, sigma 2, L 4 wk, lumpy (engine: bootstrap). G-ZERO: no demand.
    """
    from db.models import Demand, Forecast, RecomputeRun, Sku, SkuSnapshot
    from db.session import session_scope

    rng = np.random.default_rng(4)
    start = dt.date(2025, 1, 6)
    ids: dict[str, int] = {}
    with session_scope() as s:
        run = RecomputeRun(
            status="finished",
            grain="weekly",
            data_as_of=start + dt.timedelta(weeks=59),
            finished_at=dt.datetime(2026, 3, 2, 6, 0),
            sku_count=3,
        )
        s.add(run)
        s.flush()
        specs = [
            # code, category, cost, price, salvage, K, moq, mult, lt days, lt sd days, sl, D, sigma, cls, abc, method
            (
                "T-SMOOTH",
                "Tools",
                10.0,
                20.0,
                2.0,
                50.0,
                0.0,
                1.0,
                14.0,
                3.5,
                0.95,
                100.0,
                20.0,
                "smooth",
                "A",
                "normal",
            ),
            (
                "T-LUMPY",
                "Tools",
                50.0,
                80.0,
                10.0,
                40.0,
                0.0,
                1.0,
                28.0,
                0.0,
                0.95,
                0.8,
                2.0,
                "lumpy",
                "B",
                "bootstrap",
            ),
            ("G-ZERO", "Garden", 5.0, 9.0, 1.0, 30.0, 0.0, 1.0, 7.0, 0.0, 0.9, 0.0, 0.0, "no_demand", "C", "poisson"),
        ]
        for code, cat, cost, price, salv, k, moq, mult, lt, lt_sd, sl, d, sigma, cls, abc, method in specs:
            sku = Sku(
                code=code,
                name=f"{code.title()} item",
                category=cat,
                unit_cost=cost,
                unit_price=price,
                salvage_value=salv,
                holding_cost_rate=0.25,
                order_cost=k,
                lead_time_mean=lt,
                lead_time_std=lt_sd,
                moq=moq,
                order_multiple=mult,
                service_level_target=sl,
            )
            s.add(sku)
            s.flush()
            ids[code] = sku.id
            s.add(
                SkuSnapshot(
                    run_id=run.id,
                    sku_id=sku.id,
                    status="normal",
                    status_reason="",
                    demand_class=cls,
                    abc=abc,
                    forecast_per_period=d,
                    sigma=sigma,
                    lead_time_periods=lt / WEEK_DAYS,
                    lead_time_std_periods=lt_sd / WEEK_DAYS,
                    lead_time_source="master",
                    service_level=sl,
                    safety_stock=95.0 if d > 10 else 4.0,
                    reorder_point=295.0 if d > 10 else 7.0,
                    order_up_to=395.0 if d > 10 else 8.0,
                    eoq=456.85 if d > 10 else 5.0,
                    newsvendor_qty=1327.0 if d > 10 else 10.0,
                    rop_method=method,
                    rop_method_reason="test reason",
                    on_hand=300.0 if d > 10 else 3.0,
                )
            )
            if code == "T-SMOOTH":
                qty = np.maximum(rng.normal(100, 20, 60), 0)
            elif code == "T-LUMPY":
                qty = np.where(rng.random(60) < 0.12, rng.choice([3, 6, 12], 60), 0.0)
            else:
                qty = np.zeros(60)
            for w, q in enumerate(qty):
                if q > 0 or code != "G-ZERO":
                    s.add(Demand(sku_id=sku.id, period=start + dt.timedelta(weeks=w), quantity=float(q)))
            if code == "T-SMOOTH":
                for w in range(30, 60):
                    s.add(
                        Forecast(
                            run_id=run.id,
                            sku_id=sku.id,
                            period=start + dt.timedelta(weeks=w),
                            kind="backtest",
                            mean=100.0,
                        )
                    )
    return ids


def ensure_app():
    """The Dash app (pages need one to register); reuses the suite's app so callbacks register only once."""
    from tests.conftest import _APP

    if "app" not in _APP:
        from app import create_app

        _APP["app"] = create_app()
    return _APP["app"]


def walk(component: Any):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from walk(child)


def text_of(tree: Any) -> str:
    parts = []
    for c in walk(tree) if not isinstance(tree, list) else (x for t in tree for x in walk(t)):
        children = getattr(c, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if isinstance(child, str | int | float):
                parts.append(str(child))
    return " ".join(parts)


def ids_in(tree: Any) -> set[Any]:
    return {getattr(c, "id", None) for c in walk(tree)} - {None}


@pytest.fixture
def stored(sqlite_db) -> dict[str, int]:
    return store_whatif()


@pytest.fixture
def svc():
    from services import whatif

    return whatif


def items_for(svc, key: str):
    from db.session import session_scope

    with session_scope() as s:
        return svc.load_items(session=s, scope=svc.Scope.parse(key))


def controls(svc, items, **changes: Any):
    base = svc.risk_defaults(items)
    kwargs = {k: base[k] for k in ("target_pct", "lead_time_days", "lead_time_std_days", "sigma", "order_quantity")}
    kwargs.update(measure="csl", policy="sQ", review_period=1, baseline=base)
    kwargs.update(changes)
    return svc.RiskControls(**kwargs)


# --------------------------------------------------------------------------------------------------------------------
# service maths


def test_sku_safety_stock_matches_core_and_hand_values(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    assert items.n == 1 and items.run.grain == "weekly"
    result = svc.risk_result(items, controls(svc, items))
    # by hand: sigma_LTD = sqrt(2 * 20^2 + 100^2 * 0.5^2) = sqrt(3300); z(0.95) = 1.644854
    sigma_ltd = math.sqrt(2 * 400 + 100**2 * 0.25)
    assert result.safety_stock == pytest.approx(1.644854 * sigma_ltd, rel=1e-5)
    assert result.safety_stock == pytest.approx(
        policy.safety_stock(service_level=0.95, demand_mean=100, demand_std=20, lead_time=2, lead_time_std=0.5)
    )
    assert result.level == pytest.approx(
        policy.reorder_point(service_level=0.95, demand_mean=100, demand_std=20, lead_time=2, lead_time_std=0.5)
    )
    assert result.capital == pytest.approx(result.safety_stock * 10)
    assert result.holding_per_year == pytest.approx(result.safety_stock * 10 * 0.25)
    # the variance split: demand 800 / 3300, lead time 2500 / 3300
    assert result.demand_part == pytest.approx(result.safety_stock * 800 / 3300)
    assert result.lead_time_part == pytest.approx(result.safety_stock * 2500 / 3300)
    assert result.demand_only == pytest.approx(1.644854 * math.sqrt(800), rel=1e-5)
    assert result.lead_time_only == pytest.approx(1.644854 * 50, rel=1e-5)
    # lot = EOQ rounded: sqrt(2 * 50 * 100 * PPY / 2.5) = 456.8 -> 457 (the cheaper whole unit)
    q = float(items.lot()[0])
    assert q in (456.0, 457.0)
    assert result.stockouts_per_year == pytest.approx(0.05 * 100 * PPY / q)
    assert result.engine_safety_stock == 95.0 and result.engine_level == 295.0
    assert result.quantile is not None and result.quantile.method == "normal"


def test_periodic_review_uses_lead_time_plus_review(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    result = svc.risk_result(items, controls(svc, items, policy="RS", review_period=2))
    expected = policy.order_up_to_level(
        service_level=0.95, demand_mean=100, demand_std=20, lead_time=2, review_period=2, lead_time_std=0.5
    )
    assert result.level == pytest.approx(expected)
    assert result.safety_stock == pytest.approx(expected - 100 * 4)
    assert result.cycles_per_year == pytest.approx(PPY / 2)


def test_fill_rate_target_uses_the_loss_function(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    result = svc.risk_result(items, controls(svc, items, measure="fill_rate", target_pct=99.5, order_quantity=400))
    sigma_ltd = math.sqrt(3300)
    k = policy.fill_rate_safety_factor(fill_rate=0.995, order_quantity=400, lead_time_demand_std=sigma_ltd)
    assert result.safety_stock == pytest.approx(k * sigma_ltd)
    # the expected fill rate at that level is the target (the definition closes the loop)
    assert result.fill_rate == pytest.approx(0.995, abs=1e-6)
    assert result.cycle_service_level == pytest.approx(stats.norm.cdf(k))


def test_changing_controls_changes_the_numbers(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    base = svc.risk_result(items, controls(svc, items))
    longer = svc.risk_result(items, controls(svc, items, lead_time_days=28))
    steady = svc.risk_result(items, controls(svc, items, lead_time_std_days=0))
    higher = svc.risk_result(items, controls(svc, items, target_pct=99))
    assert longer.safety_stock > base.safety_stock
    assert steady.lead_time_part == pytest.approx(0.0) and steady.safety_stock < base.safety_stock
    assert higher.capital > base.capital and higher.stockouts_per_year < base.stockouts_per_year


def test_segment_controls_scale_each_sku(stored, svc) -> None:
    items = items_for(svc, "category:Tools")
    assert items.codes == ["T-LUMPY", "T-SMOOTH"]
    d = svc.risk_defaults(items)
    assert d["lead_time_days"] == pytest.approx((14 + 28) / 2)
    inputs = svc.policy_inputs(items, controls(svc, items, lead_time_days=d["lead_time_days"] * 2))
    assert inputs.lead_time == pytest.approx(items.lead_time * 2)
    unchanged = svc.policy_inputs(items, controls(svc, items))
    assert unchanged.lead_time == pytest.approx(items.lead_time)
    assert not any(unchanged.changed.values())
    # a total whose today value is 0 spreads the entered total evenly
    zero = svc.adjust(base=np.zeros(2), entered=6.0, shown=0.0, how="sum", label="x")
    assert zero.tolist() == [3.0, 3.0]


def test_portfolio_totals_and_notes(stored, svc) -> None:
    items = items_for(svc, "portfolio")
    result = svc.risk_result(items, controls(svc, items))
    parts = [
        svc.risk_result(
            items_for(svc, f"sku:{c}"), controls(svc, items_for(svc, f"sku:{c}"), target_pct=result.inputs.target * 100)
        )
        for c in items.codes
    ]
    assert result.capital == pytest.approx(sum(p.capital for p in parts))
    assert result.slow_movers == 2  # bootstrap and poisson
    assert any("no forecast demand" in n for n in result.notes)


def test_frontier_curves_today_and_reading(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    front = svc.frontier(items, controls(svc, items))
    curve = front.curves[0]
    assert curve.kind == "uniform" and len(curve.capital) == len(svc.CSL_GRID)
    assert np.all(np.diff(curve.capital) > 0) and np.all(np.diff(curve.service) > 0)
    j = svc.CSL_GRID.index(0.95)
    ss = policy.safety_stock(service_level=0.95, demand_mean=100, demand_std=20, lead_time=2, lead_time_std=0.5)
    assert curve.capital[j] == pytest.approx(ss * 10)
    assert front.today[0].service == pytest.approx(0.95)
    assert front.today[0].capital == pytest.approx(ss * 10)
    assert svc.read_frontier(curve, service=0.95) == pytest.approx(ss * 10)
    assert svc.read_frontier(curve, capital=ss * 10) == pytest.approx(0.95)
    assert svc.read_frontier(curve, service=0.2) is None
    restored = svc.Frontier.from_dict(front.to_dict())
    assert restored.curves[0].capital == curve.capital


def test_segment_frontier_has_classes_and_best_allocation(stored, svc) -> None:
    items = items_for(svc, "portfolio")
    front = svc.frontier(items, controls(svc, items))
    names = [(c.name, c.kind) for c in front.curves]
    assert ("Whole portfolio", "uniform") in names and ("Whole portfolio", "best") in names
    assert {"Class A", "Class B", "Class C"} <= {n for n, _ in names}
    uniform = front.curve("Whole portfolio")
    best = front.curve("Whole portfolio", "best")
    # the best allocation never buys less service for the same money
    for cap, svc_level in zip(uniform.capital, uniform.service, strict=True):
        got = svc.read_frontier(best, capital=cap)
        assert got is None or got >= svc_level - 1e-9


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"target_pct": 100}, "below 100%"),
        ({"target_pct": 0}, "above 0%"),
        ({"target_pct": None}, "enter a number"),
        ({"lead_time_days": -3}, "cannot be negative"),
        ({"sigma": -1}, "cannot be negative"),
        ({"order_quantity": 0}, "Order quantity must be above 0"),
        ({"policy": "RS", "review_period": 1.5}, "whole number"),
        ({"target_pct": "abc"}, "not a number"),
    ],
)
def test_out_of_range_inputs_raise_a_clear_error(stored, svc, changes: dict[str, Any], needle: str) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    with pytest.raises(svc.WhatIfError, match=needle):
        svc.risk_result(items, controls(svc, items, **changes))


def test_quantile_check_for_a_lumpy_sku(stored, svc) -> None:
    from db.session import session_scope

    items = items_for(svc, "sku:T-LUMPY")
    with session_scope() as s:
        history = svc.demand_history(session=s, items=items)
    assert history.size == 60 and np.count_nonzero(history) >= 3
    result = svc.risk_result(items, controls(svc, items), history=history)
    check = result.quantile
    assert check is not None and check.method in ("bootstrap", "negative_binomial", "poisson")
    assert check.normal_level == pytest.approx(result.level)


def test_history_and_forecast_errors_on_the_engine_grid(stored, svc) -> None:
    from db.session import session_scope

    items = items_for(svc, "sku:T-SMOOTH")
    with session_scope() as s:
        history = svc.demand_history(session=s, items=items)
        errors = svc.forecast_errors(session=s, items=items)
    assert history.size == 60
    assert errors.size == 30
    assert errors == pytest.approx(history[30:] - 100.0)


def test_simulation_of_a_periodic_policy_meets_a_normal_target(stored, svc) -> None:
    items = items_for(svc, "sku:T-SMOOTH")
    result = svc.risk_result(
        items, controls(svc, items, policy="RS", review_period=1, target_pct=90, lead_time_std_days=0)
    )
    seen: list[float] = []
    view = svc.simulate(
        items=items,
        result=result,
        errors=np.zeros(0),
        history=np.zeros(0),
        rng=np.random.default_rng(7),
        replications=200,
        years=4,
        chunks=2,
        progress=lambda f, _m: seen.append(f),
    )
    assert [r.key for r in view.runs] == ["formula_normal"]
    run = view.runs[0]
    assert run.cycle_service_level == pytest.approx(0.90, abs=0.02)
    assert seen[-1] == pytest.approx(1.0)
    assert view.verdict and len(run.paths) == 4 and len(run.stockouts_per_year) == 200
    restored = svc.SimulationView.from_dict(view.to_dict())
    assert restored.runs[0].level == run.level


def test_simulation_compares_formula_and_quantile_for_lumpy_demand(stored, svc) -> None:
    from db.session import session_scope

    items = items_for(svc, "sku:T-LUMPY")
    with session_scope() as s:
        history = svc.demand_history(session=s, items=items)
        errors = svc.forecast_errors(session=s, items=items)
    result = svc.risk_result(items, controls(svc, items), history=history)
    view = svc.simulate(
        items=items,
        result=result,
        errors=errors,
        history=history,
        rng=np.random.default_rng(3),
        replications=90,
        years=3,
        chunks=1,
    )
    keys = [r.key for r in view.runs]
    assert keys[:2] == ["formula_normal", "formula"]
    assert "periods of this SKU's demand" in view.runs[1].demand
    if "quantile" in keys:
        assert "quantile" in view.verdict or "bootstrapped" in view.verdict or "Poisson" in view.verdict


def test_simulation_refuses_segments_and_zero_demand(stored, svc) -> None:
    items = items_for(svc, "portfolio")
    result = svc.risk_result(items, controls(svc, items))
    with pytest.raises(svc.WhatIfError, match="one SKU"):
        svc.simulate(items=items, result=result, errors=np.zeros(0), history=np.zeros(0), rng=np.random.default_rng(1))
    zero = items_for(svc, "sku:G-ZERO")
    result = svc.risk_result(zero, controls(svc, zero))
    with pytest.raises(svc.WhatIfError, match="no forecast demand"):
        svc.simulate(items=zero, result=result, errors=np.zeros(0), history=np.zeros(0), rng=np.random.default_rng(1))


# --------------------------------------------------------------------------------------------------------------------
# callbacks (called directly; outside a request the guard passes)


@pytest.fixture
def cb(stored):
    ensure_app()
    from callbacks import risk

    return risk


def scope_data(svc, key: str) -> dict[str, Any]:
    items = items_for(svc, key)
    return {"scope": key, "baseline": svc.risk_defaults(items)}


def args(data: dict[str, Any], **changes: Any) -> list[Any]:
    b = data["baseline"]
    values = {
        "measure": "csl",
        "target": b["target_pct"],
        "lt": b["lead_time_days"],
        "lt_std": b["lead_time_std_days"],
        "sigma": b["sigma"],
        "policy": "sQ",
        "review": 1,
        "q": b["order_quantity"],
    }
    values.update(changes)
    return [values[k] for k in ("measure", "target", "lt", "lt_std", "sigma", "policy", "review", "q")] + [data]


def test_update_callback_renders_figures(cb, svc) -> None:
    from dash import no_update

    data = scope_data(svc, "sku:T-SMOOTH")
    out = cb.update(*args(data))
    message, kpis, decomp, detail, note, frontier, frontier_data = out
    assert no_update not in out
    assert "Safety stock" in text_of(kpis) and "$" in text_of(kpis)
    assert [t["name"] for t in decomp["data"]] == ["Demand variability (forecast error)", "Lead-time variability"]
    assert len(frontier["data"]) >= 3 and frontier_data["measure"] == "csl"
    assert "This setting" in text_of(detail) or "Service target" in text_of(detail)
    higher = cb.update(*args(data, target=99.5))
    assert text_of(higher[1]) != text_of(kpis)
    fill = cb.update(*args(data, measure="fill_rate", target=99.0))
    assert "Expected fill rate" in text_of(fill[1]) and fill[6]["measure"] == "fill_rate"
    assert fill[5]["layout"]["yaxis"]["title"]["text"] == "Expected fill rate"


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"target": 100}, "below 100%"),
        ({"target": 0}, "above 0%"),
        ({"lt": -1}, "cannot be negative"),
        ({"q": None}, "enter a number"),
    ],
)
def test_update_callback_shows_input_errors_without_raising(cb, svc, changes, needle) -> None:
    from dash import no_update

    out = cb.update(*args(scope_data(svc, "sku:T-SMOOTH"), **changes))
    assert needle in text_of(out[0])
    assert all(o is no_update for o in out[1:])


def test_lookup_reads_budget_and_service(cb, svc) -> None:
    from layouts import _ids as ids

    data = scope_data(svc, "portfolio")
    frontier_data = cb.update(*args(data))[6]
    text = text_of(cb.lookup_text(5000, None, frontier_data, ids.RISK_BUDGET))
    assert "buys" in text and "%" in text
    text = text_of(cb.lookup_text(None, 97, frontier_data, ids.RISK_SERVICE_READ))
    assert "97.0%" in text and "$" in text
    assert "below 100%" in text_of(cb.lookup_text(None, 100, frontier_data, ids.RISK_SERVICE_READ))
    assert "negative" in text_of(cb.lookup_text(-5, None, frontier_data, ids.RISK_BUDGET))


def test_load_scope_prefills_today_values(cb, svc) -> None:
    out = cb.load_scope("segment", None, "category:Tools", None)
    assert out[0]["scope"] == "category:Tools"
    assert out[3] == "21"  # mean lead time of 14 and 28 days, as the input shows it
    out = cb.load_scope("sku", "T-SMOOTH", "portfolio", None)
    assert out[0]["scope"] == "sku:T-SMOOTH" and out[2] == "95" and out[5] == "20"
    assert out[0]["hints"]["target"].startswith("today 95.0%")


def test_one_sku_without_a_sku_asks_for_one(cb, svc) -> None:
    """Issue 23: "One SKU" with no SKU picked showed the portfolio's figures."""
    from dash import no_update

    out = cb.load_scope("sku", None, "portfolio", None)
    assert out[0] == {"scope": None, "pick": True} and out[1] is no_update and "Pick a SKU" in out[-1]
    picking = [*args(scope_data(svc, "sku:T-SMOOTH"))[:-1], out[0]]
    view = cb.compute_view(*picking)
    assert "Pick a SKU" in text_of(view[0]) and view[1] == [] and view[2]["data"] == [] and view[6] is None
    assert "Pick a SKU" in text_of(cb.run_simulation(lambda *_: None, *picking))
    assert "Pick a SKU" in text_of(cb.run_apply(lambda *_: None, *picking))


def test_formatted_inputs_are_read_and_edited_hints_say_so(cb, svc) -> None:
    """Issue 23: inputs read "8,696.3"; the hint of an edited control no longer claims today's source."""
    from layouts._components import fmt_input

    assert fmt_input(8696.3) == "8,696.3" and fmt_input(223427.0) == "223,427" and fmt_input(None) is None
    assert svc.parse_number("Budget", "$223,427") == 223427.0 and svc.parse_number("Target", "97.5 %") == 97.5
    data = scope_data(svc, "sku:T-SMOOTH")
    loaded = cb.load_scope("sku", "T-SMOOTH", "portfolio", None)
    data = dict(data, hints=loaded[0]["hints"])
    names = list(cb.page.HINT_ID)
    today = [loaded[2], loaded[3], loaded[4], loaded[5], loaded[8]]
    same = cb.hints(*today, data)
    assert same == [data["hints"][n] for n in names]
    edited = cb.hints("97", *today[1:], data)
    assert edited[0] == "edited · today 95" and edited[1:] == same[1:]
    frontier = cb.update(*args(data))[6]
    assert "$" in text_of(cb.lookup_text("$1,000", None, frontier, "risk-budget"))


def test_simulation_callback_body(cb, svc) -> None:
    data = scope_data(svc, "sku:T-SMOOTH")
    progress: list[Any] = []
    block = cb.run_simulation(progress.append, *args(data, policy="RS"))
    assert "Target" in text_of(block) and progress
    segment = cb.run_simulation(progress.append, *args(scope_data(svc, "portfolio")))
    text = text_of(segment)
    assert "largest SKUs" in text and "T-SMOOTH" in text and "G-ZERO" not in text


def test_apply_callback_writes_audits_and_recomputes(cb, svc, monkeypatch) -> None:
    import services.jobs as jobs
    from db.models import AuditLog, Sku
    from db.session import session_scope

    calls: list[dict[str, Any]] = []

    def fake_recompute(**kwargs: Any):
        calls.append(kwargs)
        return AttributeDict(sku_count=3, seconds=0.1, status="finished")

    monkeypatch.setattr(jobs, "recompute_portfolio", fake_recompute)
    data = scope_data(svc, "category:Tools")
    out = cb.run_apply(lambda *_: None, *args(data, target=97.5, lt=data["baseline"]["lead_time_days"] * 1.5))
    assert "written to 2 SKUs" in text_of(out) and calls
    assert calls[0].get("sku_codes") == ["T-LUMPY", "T-SMOOTH"], "only the scope's SKUs are recomputed"
    with session_scope() as s:
        skus = {k.code: k for k in s.query(Sku)}
        assert skus["T-SMOOTH"].service_level_target == pytest.approx(0.975)
        assert skus["T-SMOOTH"].lead_time_mean == pytest.approx(21.0)
        assert skus["T-LUMPY"].lead_time_mean == pytest.approx(42.0)
        assert skus["G-ZERO"].service_level_target == pytest.approx(0.9)  # outside the scope
        entry = s.query(AuditLog).filter_by(action="policy.apply").one()
        assert entry.target == "category:Tools" and entry.details["skus"] == 2
    bad = cb.run_apply(lambda *_: None, *args(data, target=100))
    assert "below 100%" in text_of(bad)


def test_apply_and_simulate_are_guarded_with_the_right_roles(cb) -> None:
    from auth.guard import CALLBACK_KEY_ROLES
    from layouts import _ids as ids

    roles = {key: role for key, role in CALLBACK_KEY_ROLES.items() if "risk-" in key}
    assert next(r for k, r in roles.items() if ids.RISK_APPLY_RESULT in k) == "planner"
    assert next(r for k, r in roles.items() if ids.RISK_SIM_RESULT in k) == "viewer"
    assert next(r for k, r in roles.items() if ids.RISK_KPIS in k) == "viewer"


# --------------------------------------------------------------------------------------------------------------------
# layout


def test_page_tree_for_a_sku_and_unknown_codes(cb, svc) -> None:
    from layouts import _ids as ids
    from layouts import risk

    tree = risk.layout(sku="T-SMOOTH")
    found = ids_in(tree)
    for needed in (ids.RISK_TARGET, ids.RISK_FRONTIER_CHART, ids.RISK_SIM_RUN, ids.RISK_DECOMP_CHART, ids.RISK_SCOPE):
        assert needed in found
    assert ids.RISK_APPLY not in found  # no planner signed in
    assert "T-SMOOTH" in text_of(tree) or "T-Smooth item" in text_of(tree)
    unknown = risk.layout(sku="NOPE")
    assert "No SKU" in text_of(unknown) and "whole portfolio" in text_of(unknown)
    segment = risk.layout(category="Tools")
    assert "Category Tools" in text_of(segment)


def test_page_without_a_snapshot(sqlite_db) -> None:
    ensure_app()
    from layouts import risk

    assert "no snapshot yet" in text_of(risk.layout())


def test_figures_handle_empty_results(cb, svc) -> None:
    from layouts import _risk_figures as figures

    items = items_for(svc, "sku:G-ZERO")
    result = svc.risk_result(items, controls(svc, items))
    fig = figures.decomposition_figure(result)
    assert fig["data"] == [] and "No safety stock" in fig["layout"]["annotations"][0]["text"]
    front = svc.frontier(items, controls(svc, items))
    assert figures.frontier_figure(front)["data"]


def test_scope_parsing(svc) -> None:
    assert svc.Scope.parse(None).kind == "portfolio"
    assert svc.Scope.parse("abc:A") == svc.Scope("abc", "A")
    assert svc.Scope.parse("category:Home: garden").value == "Home: garden"
    with pytest.raises(svc.WhatIfError):
        svc.Scope.parse("sku:")
    with pytest.raises(svc.WhatIfError):
        svc.Scope.parse("region:North")


def test_policy_levels_vectorise_over_skus(stored, svc) -> None:
    items = items_for(svc, "portfolio")
    inputs = svc.policy_inputs(items, controls(svc, items))
    levels = svc.policy_levels(inputs, target=np.array([0.9, 0.95, 0.99]))
    expected = policy.reorder_point(
        service_level=np.array([0.9, 0.95, 0.99]),
        demand_mean=inputs.demand_mean,
        demand_std=inputs.sigma,
        lead_time=inputs.lead_time,
        lead_time_std=inputs.lead_time_std,
    )
    assert levels.level == pytest.approx(expected)
    assert dataclasses.is_dataclass(levels)


def test_empirical_demand_keeps_the_forecast_mean_and_reports_bias(svc) -> None:
    errors = np.array([30.0, -10.0, 50.0, 10.0, 40.0, 0.0, 20.0, 20.0])  # mean +20: forecasts ran 20 % low
    model = svc.empirical_demand(demand_mean=100.0, sigma=18.0, errors=errors, history=np.zeros(0))
    assert model.kind == "errors" and model.samples.mean() == pytest.approx(100.0)
    assert model.bias == pytest.approx(0.2)
    history = np.array([0, 0, 12, 0, 0, 0, 6, 0, 0, 18, 0, 0], dtype=float)
    lumpy = svc.empirical_demand(demand_mean=3.0, sigma=5.0, errors=errors, history=history, demand_class="lumpy")
    assert lumpy.kind == "history" and lumpy.samples.mean() == pytest.approx(3.0)
    assert np.count_nonzero(lumpy.samples) == 3
    fallback = svc.empirical_demand(demand_mean=3.0, sigma=5.0, errors=np.zeros(0), history=np.zeros(3))
    assert fallback.kind == "normal" and fallback.samples is None


def test_segment_simulation_covers_the_largest_skus(stored, svc) -> None:
    from db.session import session_scope

    items = items_for(svc, "portfolio")
    order = svc.top_skus(items, 5)
    assert [items.codes[i] for i in order] == ["T-SMOOTH", "T-LUMPY"]  # by demand value; no-demand SKUs left out
    one = svc.sku_slice(items, order[0])
    assert one.n == 1 and one.scope.key == "sku:T-SMOOTH" and one.demand_mean.tolist() == [100.0]
    with session_scope() as s:
        data = {
            i: (
                svc.forecast_errors(session=s, items=svc.sku_slice(items, i)),
                svc.demand_history(session=s, items=svc.sku_slice(items, i)),
            )
            for i in order
        }
    result = svc.risk_result(items, controls(svc, items, policy="RS", target_pct=90))
    seen: list[float] = []
    view = svc.simulate_segment(
        items=items,
        result=result,
        demand_data=data,
        rng=np.random.default_rng(2),
        replications=60,
        years=3,
        progress=lambda f, _m: seen.append(f),
    )
    assert [r.code for r in view.rows] == ["T-SMOOTH", "T-LUMPY"]
    smooth = view.rows[0]
    assert smooth.level == pytest.approx(result.levels.level[items.codes.index("T-SMOOTH")])
    assert smooth.achieved == pytest.approx(0.9, abs=0.05)
    assert view.verdict.startswith("The 2 largest SKUs") and seen[-1] == pytest.approx(1.0)
    with pytest.raises(svc.WhatIfError):
        svc.simulate_segment(items=items, result=result, demand_data={}, rng=np.random.default_rng(2))
