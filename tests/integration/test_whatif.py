"""services.whatif against a real database on SQLite and PostgreSQL: scope reading, search, history on the engine's
grid, scenarios (unique names, audit), apply as policy (SKU master and audit), and one real recompute after an apply."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import AuditLog, RecomputeRun, Scenario, Sku, SkuSnapshot
from services import runs
from services import whatif as w
from tests.integration.test_risk import store_whatif


@pytest.fixture
def stored(db_url) -> dict[str, int]:
    return store_whatif()


def risk_controls(items: w.Items, **changes) -> w.RiskControls:
    base = w.risk_defaults(items)
    kwargs = {k: base[k] for k in ("target_pct", "lead_time_days", "lead_time_std_days", "sigma", "order_quantity")}
    kwargs.update(measure="csl", policy="sQ", review_period=1, baseline=base)
    kwargs.update(changes)
    return w.RiskControls(**kwargs)


def test_scopes_options_and_search(stored, session) -> None:
    assert w.load_items(session=session, scope=w.Scope("portfolio")).codes == ["G-ZERO", "T-LUMPY", "T-SMOOTH"]
    assert w.load_items(session=session, scope=w.Scope("abc", "B")).codes == ["T-LUMPY"]
    assert w.load_items(session=session, scope=w.Scope("category", "Garden")).codes == ["G-ZERO"]
    assert w.load_items(session=session, scope=w.Scope("sku", "NOPE")) is None
    options = w.scope_options(session=session)
    assert (
        options.categories == ["Garden", "Tools"] and options.abc_classes == ["A", "B", "C"] and options.sku_count == 3
    )
    hits = w.search_skus(session=session, text="t-")
    assert [h.code for h in hits] == ["T-LUMPY", "T-SMOOTH"]
    assert [h.code for h in w.search_skus(session=session, text="T-SMOOTH")] == ["T-SMOOTH"]
    assert w.search_skus(session=session, text="100%_") == []


def test_latest_finished_run_wins(stored, session) -> None:
    session.add(RecomputeRun(status="running", grain="daily"))
    session.commit()
    run = runs.latest_run(session=session)
    assert run is not None and run.grain == "weekly"


def test_history_and_errors(stored, session) -> None:
    items = w.load_items(session=session, scope=w.Scope("sku", "T-SMOOTH"))
    history = w.demand_history(session=session, items=items)
    errors = w.forecast_errors(session=session, items=items)
    assert history.size == 60 and errors.size == 30
    assert errors == pytest.approx(history[30:] - 100.0)


def test_scenarios_crud(stored, session) -> None:
    scope = w.Scope("sku", "T-SMOOTH")
    first = w.save_scenario(
        session=session,
        name=" Base   case ",
        scope=scope,
        inputs={"price": 20.0},
        results={"quantity": 1.0},
        user="p@x",
    )
    session.commit()
    assert first.name == "Base case" and first.scope == "sku:T-SMOOTH"
    with pytest.raises(w.WhatIfError, match="exists already"):
        w.save_scenario(session=session, name="BASE CASE", scope=scope, inputs={}, results={}, user="p@x")
    with pytest.raises(w.WhatIfError, match="at most"):
        w.save_scenario(session=session, name="x" * 200, scope=scope, inputs={}, results={}, user="p@x")
    second = w.save_scenario(
        session=session, name="Dearer", scope=w.Scope("portfolio"), inputs={"price": 24.0}, results={}, user="p@x"
    )
    session.commit()
    assert [r.name for r in w.list_scenarios(session=session)] == ["Dearer", "Base case"]
    rows = w.compare_scenarios(first, second)
    price = next(r for r in rows if r.key == "price")
    assert price.difference == pytest.approx(4.0)
    assert w.delete_scenario(session=session, scenario_id=first.id, user="p@x")
    session.commit()
    assert not w.delete_scenario(session=session, scenario_id=first.id, user="p@x")
    assert session.scalar(select(func.count()).select_from(Scenario)) == 1
    actions = sorted(session.scalars(select(AuditLog.action)))
    assert actions == ["scenario.delete", "scenario.save", "scenario.save"]


def test_apply_policy_writes_the_master_and_audits(stored, session) -> None:
    items = w.load_items(session=session, scope=w.Scope("sku", "T-SMOOTH"))
    result = w.apply_policy(
        session=session, items=items, controls=risk_controls(items, target_pct=98, lead_time_std_days=7), user="p@x"
    )
    session.commit()
    sku = session.scalar(select(Sku).where(Sku.code == "T-SMOOTH"))
    assert sku.service_level_target == pytest.approx(0.98)
    assert sku.lead_time_std == pytest.approx(7.0) and sku.lead_time_mean == pytest.approx(14.0)
    assert result.lead_times_changed and "98.0% cycle service level" in result.message
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "policy.apply"))
    assert entry.user_email == "p@x" and entry.details["service_level_target"] == pytest.approx(0.98)


def test_apply_a_fill_rate_target_stores_the_equivalent_csl(stored, session) -> None:
    items = w.load_items(session=session, scope=w.Scope("category", "Tools"))
    controls = risk_controls(items, measure="fill_rate", target_pct=99)
    levels = w.policy_levels(w.policy_inputs(items, controls))
    w.apply_policy(session=session, items=items, controls=controls, user=None)
    session.commit()
    stored_levels = dict(session.execute(select(Sku.code, Sku.service_level_target)).tuples().all())
    for code, csl in zip(items.codes, levels.cycle_service_level, strict=True):
        assert stored_levels[code] == pytest.approx(min(max(csl, 0.001), 0.999), abs=1e-6)
    assert stored_levels["G-ZERO"] == pytest.approx(0.9)  # outside the scope


def test_recompute_after_apply_uses_the_new_target(stored, session, db_url) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("one engine is enough for the end-to-end recompute")
    from services.recompute import recompute

    items = w.load_items(session=session, scope=w.Scope("sku", "T-SMOOTH"))
    w.apply_policy(session=session, items=items, controls=risk_controls(items, target_pct=99), user="p@x")
    session.commit()
    summary = recompute(session=session, triggered_by="p@x")
    assert summary.status == "finished"
    fresh = w.load_items(session=session, scope=w.Scope("sku", "T-SMOOTH"))
    assert fresh.run.id == summary.run_id and fresh.service_level[0] == pytest.approx(0.99)
    others = session.scalar(select(func.count()).select_from(SkuSnapshot).where(SkuSnapshot.run_id == summary.run_id))
    assert others == 3  # the whole portfolio, not only the applied SKU
