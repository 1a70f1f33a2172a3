"""One truth for "today" on the Risk and Profit pages (issue 15 item 8): today is the stored snapshot; at the stored
settings every "vs today" delta is zero; a control moves a SKU from the snapshot by the formula's change; one-shot
SKUs are their season's newsvendor; stopped sellers have nothing; a segment newsvendor is the sum of per-SKU ones.

The hand-made snapshot of tests/unit/test_risk.py (T-SMOOTH, T-LUMPY, G-ZERO) plus a one-shot SKU (S-POOL) and a
phased-out stopped seller (X-STOP) in the same run."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pytest
from scipy import stats

from core import policy
from tests.integration.test_risk import args, ensure_app, store_whatif, text_of

H = 13
POOL = {"d": 40.0, "sigma": 12.0, "cost": 8.0, "price": 20.0, "salvage": 2.0}
# its critical ratio as the engine computes it (core.portfolio.newsvendor_critical_ratio, holding 25 %/yr over 13 wk)
POOL["ratio"] = (20.0 - 8.0) / ((20.0 - 8.0) + (8.0 - 2.0 + 8.0 * 0.25 * H / (365.25 / 7)))


def _store() -> dict[str, int]:
    """test_risk's snapshot, a one-shot SKU stored with its newsvendor quantity and critical ratio, a stopped seller
    stored as the engine phases it out, and 13 future forecast periods (the season)."""
    from db.models import Forecast, RecomputeRun, Sku, SkuSnapshot
    from db.session import session_scope

    ids = store_whatif()
    p = POOL
    mu_h, sd_h = p["d"] * H, p["sigma"] * np.sqrt(H)
    nv = mu_h + sd_h * stats.norm.ppf(p["ratio"])
    with session_scope() as s:
        run_id = s.query(RecomputeRun.id).scalar()
        for code, policy_name in (("S-POOL", "newsvendor"), ("X-STOP", "phase_out")):
            one_shot = code == "S-POOL"
            sku = Sku(
                code=code,
                name=f"{code} item",
                category="Garden",
                unit_cost=p["cost"],
                unit_price=p["price"],
                salvage_value=p["salvage"],
                holding_cost_rate=0.25,
                order_cost=20.0,
                lead_time_mean=21.0,
                lead_time_std=0.0,
                service_level_target=0.95,
                one_shot=one_shot,
            )
            s.add(sku)
            s.flush()
            ids[code] = sku.id
            s.add(
                SkuSnapshot(
                    run_id=run_id,
                    sku_id=sku.id,
                    status="normal" if one_shot else "dead_stock",
                    status_reason="",
                    demand_class="smooth",
                    abc="B",
                    forecast_per_period=p["d"] if one_shot else 35.0,  # the stopped seller's forecast: old level
                    sigma=p["sigma"],
                    lead_time_periods=3.0,
                    lead_time_std_periods=0.0,
                    lead_time_source="master",
                    service_level=0.95,
                    safety_stock=80.0 if one_shot else 0.0,  # replenishment figures the engine keeps
                    reorder_point=200.0 if one_shot else 0.0,
                    order_up_to=240.0 if one_shot else 0.0,
                    eoq=100.0,
                    newsvendor_qty=nv if one_shot else 0.0,
                    rop_method="normal",
                    rop_method_reason="",
                    on_hand=50.0,
                    order_policy=policy_name,
                    critical_ratio=p["ratio"] if one_shot else None,
                )
            )
        _engine_newsvendor(s, run_id)
        first = min(ids, key=lambda c: c)  # the season is read from the first SKU in code order
        for w in range(H):
            s.add(
                Forecast(
                    run_id=run_id,
                    sku_id=ids[first],
                    period=dt.date(2026, 3, 9) + dt.timedelta(weeks=w),
                    kind="future",
                    mean=1.0,
                )
            )
    return ids


def _engine_newsvendor(session: Any, run_id: int) -> None:
    """Store test_risk's SKUs' newsvendor quantities as the engine computes them (core.portfolio, step 3: Cu = p - c,
    Co = c - s + c h T over the 13-period horizon; mu_h = D h, sigma_h = sigma sqrt(h)), so today is consistent."""
    from db.models import Sku, SkuSnapshot

    rows = session.query(SkuSnapshot, Sku).join(Sku, Sku.id == SkuSnapshot.sku_id).filter(SkuSnapshot.run_id == run_id)
    for snap, sku in rows:
        if snap.order_policy is not None:
            continue
        cu = sku.unit_price - sku.unit_cost
        co = sku.unit_cost - sku.salvage_value + sku.unit_cost * sku.holding_cost_rate * H / (365.25 / 7)
        mu, sd = snap.forecast_per_period * H, snap.sigma * np.sqrt(H)
        q = mu + sd * stats.norm.ppf(cu / (cu + co)) if mu > 0 else 0.0
        snap.newsvendor_qty = max(float(q), 0.0)


@pytest.fixture
def stored(sqlite_db) -> dict[str, int]:
    return _store()


def model(key: str):
    from db.session import session_scope
    from services import whatif as svc
    from services import whatif_baseline as wb

    with session_scope() as s:
        return wb.load_model(session=s, scope=svc.Scope.parse(key))


def stored_controls(items, **changes: Any):
    from services import whatif_baseline as wb

    c = wb.stored_controls(items)
    return dataclasses.replace(c, **changes) if changes else c


FIELDS = ("safety_stock", "level", "capital", "holding_per_year", "stockouts_per_year", "cycles_per_year")
FIELDS += ("cycle_service_level", "fill_rate", "demand_part", "lead_time_part")


@pytest.mark.parametrize(
    "key", ["sku:T-SMOOTH", "sku:T-LUMPY", "sku:S-POOL", "sku:X-STOP", "category:Tools", "portfolio"]
)
def test_at_the_stored_settings_the_setting_is_today(stored, key: str) -> None:
    from services import whatif_baseline as wb

    items = model(key)
    setting, today = wb.risk_setting(items, stored_controls(items)), wb.risk_today(items)
    for name in FIELDS:
        assert getattr(setting, name) == pytest.approx(getattr(today, name), abs=1e-9), name
    front = wb.risk_frontier(items, stored_controls(items), setting=setting)
    assert front.chosen.capital == pytest.approx(front.today[0].capital)
    assert front.chosen.service == pytest.approx(front.today[0].service)


def test_today_is_the_snapshot_not_a_formula(stored) -> None:
    from services import whatif as svc
    from services import whatif_baseline as wb

    smooth = model("sku:T-SMOOTH")
    today = wb.risk_today(smooth)
    assert today.safety_stock == pytest.approx(95.0) and today.level == pytest.approx(295.0)  # the stored row
    assert today.capital == pytest.approx(950.0) and today.cycle_service_level == pytest.approx(0.95)
    formula = svc.risk_result(smooth, stored_controls(smooth), today=True)
    assert formula.safety_stock != pytest.approx(95.0)  # the old "today" re-derived its own number
    portfolio = wb.risk_today(model("portfolio"))
    nv = POOL["d"] * H + POOL["sigma"] * np.sqrt(H) * stats.norm.ppf(POOL["ratio"])
    assert portfolio.safety_stock == pytest.approx(95.0 + 4.0 + 4.0 + (nv - POOL["d"] * H))  # X-STOP 0


def test_a_control_moves_the_snapshot_by_the_formula_change(stored) -> None:
    from services import whatif as svc
    from services import whatif_baseline as wb

    items = model("sku:T-SMOOTH")
    base = stored_controls(items)
    longer = dataclasses.replace(base, lead_time_days=base.baseline["lead_time_days"] + 7)
    setting = wb.risk_setting(items, longer)
    f_new = svc.policy_levels(svc.policy_inputs(items, longer), target=items.service_level)
    f_old = svc.policy_levels(svc.policy_inputs(items, base), target=items.service_level)
    assert setting.safety_stock - 95.0 == pytest.approx(float(f_new.safety_stock[0] - f_old.safety_stock[0]))
    assert setting.safety_stock > 95.0
    higher = wb.risk_setting(items, dataclasses.replace(base, target_pct=99.0))
    assert higher.safety_stock > 95.0 and higher.cycle_service_level == pytest.approx(0.99)


def test_segment_target_own_until_changed_then_one_for_all(stored) -> None:
    from services import whatif_baseline as wb

    items = model("portfolio")
    base = stored_controls(items)
    assert wb.uses_own_targets(items, base)
    _, own, _ = wb.setting_levels(items, base)
    assert own.cycle_service_level[list(items.codes).index("S-POOL")] == pytest.approx(POOL["ratio"])
    changed = dataclasses.replace(base, target_pct=97.0)
    assert not wb.uses_own_targets(items, changed)
    _, one, _ = wb.setting_levels(items, changed)
    active = items.demand_mean > 0
    assert np.allclose(one.cycle_service_level[active], 0.97)


def test_one_shot_is_its_season_newsvendor(stored) -> None:
    from services import whatif_baseline as wb

    items = model("sku:S-POOL")
    assert items.one_shot.tolist() == [True] and items.season_periods == H
    today = wb.risk_today(items)
    mu_h, sd_h = POOL["d"] * H, POOL["sigma"] * np.sqrt(H)
    q = mu_h + sd_h * stats.norm.ppf(POOL["ratio"])
    assert today.level == pytest.approx(q)  # the newsvendor quantity, not the stored reorder point 200
    assert today.safety_stock == pytest.approx(q - mu_h)
    assert today.cycle_service_level == pytest.approx(POOL["ratio"])
    lost = float(policy.expected_shortage(level=q, mean=mu_h, std=sd_h))
    assert today.fill_rate == pytest.approx(1 - lost / mu_h, rel=1e-6)  # the newsvendor's fill rate
    assert today.inputs.lead_time[0] == H and today.inputs.lead_time_std[0] == 0
    assert today.quantile is None and wb.risk_setting(items, stored_controls(items)).quantile is None
    assert "newsvendor" in " ".join(wb.model_notes(items))


def test_stopped_seller_has_no_policy_at_any_setting(stored) -> None:
    from services import whatif_baseline as wb

    items = model("sku:X-STOP")
    assert items.phase_out.tolist() == [True] and items.demand_mean.tolist() == [0.0]
    for changes in ({}, {"target_pct": 99.0}, {"lead_time_days": 60.0}):
        r = wb.risk_setting(items, stored_controls(items, **changes))
        assert r.safety_stock == 0 and r.level == 0 and r.capital == 0
    assert "phased out" in " ".join(wb.model_notes(items))


def test_risk_callback_at_the_stored_settings_reads_same_as_today(stored) -> None:
    ensure_app()
    from callbacks import risk as cb
    from services import whatif as svc

    for key in ("sku:T-SMOOTH", "sku:S-POOL", "portfolio"):
        items = model(key)
        data = {"scope": key, "baseline": svc.risk_defaults(items)}
        message, kpis, _decomp, detail, _note, _frontier, _data = cb.update(*args(data))
        text = text_of(kpis)
        assert text.count("same as today") == 6 and "vs today" not in text, (key, text)
        assert "Today (snapshot)" in text_of(detail)
        moved = cb.update(*args(data, lt=data["baseline"]["lead_time_days"] + 14))
        assert "vs today" in text_of(moved[1])
    assert "Newsvendor quantity" in text_of(
        cb.update(*args({"scope": "sku:S-POOL", "baseline": svc.risk_defaults(model("sku:S-POOL"))}))[1]
    )


def test_one_shot_simulation_points_to_the_profit_page(stored) -> None:
    ensure_app()
    from callbacks import risk as cb
    from services import whatif as svc

    items = model("sku:S-POOL")
    block = cb.run_simulation(lambda *_: None, *args({"scope": "sku:S-POOL", "baseline": svc.risk_defaults(items)}))
    assert "Profit optimizer" in text_of(block)


# -- Profit optimizer --------------------------------------------------------------------------------------------


def _profit(items, **changes: Any):
    from services import whatif as svc

    d = svc.profit_defaults(items)
    return svc.economics(items, svc.ProfitControls(**{**d, **changes}, baseline=d))[0]


def test_profit_today_is_the_snapshot_and_same_at_stored_inputs(stored) -> None:
    from services import whatif_baseline as wb

    items = model("portfolio")
    view = wb.newsvendor_view(items, _profit(items))
    today = wb.profit_today(items)
    assert today.quantity == pytest.approx(float(np.nansum(items.newsvendor_qty)))
    assert view.quantity == pytest.approx(today.quantity, rel=1e-9)  # the stopped seller is 0 on both sides
    assert view.expected_profit == pytest.approx(today.expected_profit, rel=1e-9)
    dearer = wb.newsvendor_view(items, _profit(items, price=svc_price(items) * 1.2))
    assert dearer.quantity > today.quantity


def svc_price(items) -> float:
    from services import whatif as svc

    return svc.profit_defaults(items)["price"]


def test_segment_newsvendor_is_the_sum_of_per_sku_newsvendors_never_pooled(stored) -> None:
    from services import whatif as svc
    from services import whatif_baseline as wb

    items = model("portfolio")
    econ = _profit(items)
    view = wb.newsvendor_view(items, econ)
    per_sku = svc.optimal_quantities(econ)
    assert view.quantity == pytest.approx(float(per_sku["quantity"].sum()))
    peak = int(np.argmax(view.curve_profit))
    assert view.curve_quantity[peak] == pytest.approx(view.quantity)  # the curve peaks at the sum of the optima
    assert view.curve_profit[peak] == pytest.approx(view.expected_profit)
    # one pooled distribution (summed mean, root-sum-square std, averaged costs) would give another quantity
    active = econ.season_mean > 0
    cu, co = svc.newsvendor_costs(econ)
    ratio = float(np.average(cu[active] / (cu[active] + co[active]), weights=econ.season_mean[active]))
    pooled = econ.season_mean.sum() + np.sqrt((econ.season_std[active] ** 2).sum()) * stats.norm.ppf(ratio)
    assert abs(pooled - view.quantity) > 1.0


def test_profit_callback_reads_same_as_today(stored) -> None:
    ensure_app()
    from callbacks import profit as cb
    from layouts import profit as page
    from services import whatif as svc

    items = model("portfolio")
    d = svc.profit_defaults(items)
    values = [d[name] for name in page.INPUT_IDS]
    out = cb.update(*values, {"scope": "portfolio", "baseline": d})
    text = text_of(out[1])
    assert text.count("same as today") == 2 and "per-SKU newsvendors" in text
    assert "phased out" in text_of(out[0])


def test_apply_with_the_target_unchanged_keeps_own_targets(stored, monkeypatch) -> None:
    from db.models import Sku
    from db.session import session_scope
    from services import whatif as svc

    with session_scope() as s:
        items = svc.load_items(session=s, scope=svc.Scope.parse("category:Tools"))
        c = svc.RiskControls(
            **{k: v for k, v in svc.risk_defaults(items).items() if k != "review_period"},
            baseline=svc.risk_defaults(items),
        )
        svc.apply_policy(session=s, items=items, controls=c, user="planner@example.com")
    with session_scope() as s:
        levels = {k.code: k.service_level_target for k in s.query(Sku).filter(Sku.category == "Tools")}
    assert levels == {"T-LUMPY": pytest.approx(0.95), "T-SMOOTH": pytest.approx(0.95)}
