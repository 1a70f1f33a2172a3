"""The supply side on SQLite and PostgreSQL: the resources import and its row errors, the SKU master's resource,
the Data page's capacity table, the plan on the demo portfolio (every strategy feasible, the optimum cheapest and
short no more than chase, demand = the forecast after overrides, receipts at their due dates), scenarios, the
capacity alerts, the CLI, and migration 0010 keeping demand rows."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from core.supply import capacity_violation
from db.models import Demand, Forecast, PurchaseOrder, Resource, ResourceCapacity, Sku, SkuSnapshot
from db.session import session_scope
from services.ingest import ImportOptions, import_file
from services.supply import PlanRequest, SupplyPlanError, capacity_alerts, document, make_plan, scenarios
from services.supply import resources as capacity_table

END = dt.date(2026, 11, 23)  # the demo's last week (a Monday): plans start in December 2026


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def imported(tmp_path, kind: str, text: str, **options):
    with session_scope() as session:
        return import_file(session=session, path=write(tmp_path, f"{kind}.csv", text), kind=kind, **options)


def capacity_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ResourceCapacity))


GOOD = """resource,period,capacity,overtime_capacity,overtime_cost,regular_cost
Line A,2027-01-01,100,10,3,1
Line A,2027-02-01,120,10,3,1
Supplier B,2027-01-01,50,,,
"""


# --- import -----------------------------------------------------------------------------------------------------------


def test_a_resources_file_is_imported_by_its_natural_key(db_url, tmp_path) -> None:
    first = imported(tmp_path, "resources", GOOD)
    assert first.status == "committed", first.summary()
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    assert first.format.grain == "monthly"
    again = imported(tmp_path, "resources", GOOD)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    changed = imported(tmp_path, "resources", GOOD.replace("Line A,2027-02-01,120", "Line A,2027-02-01,125"))
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 2)
    with session_scope() as session:
        rows = capacity_table.capacity_rows(session=session)
        assert {r["resource"] for r in rows} == {"Line A", "Supplier B"}
        supplier = next(r for r in rows if r["resource"] == "Supplier B")
        assert (supplier["overtime_capacity"], supplier["overtime_cost"], supplier["regular_cost"]) == (0, 0, 0)
        exported = capacity_table.export_text(session=session)
    assert exported.splitlines()[0] == "resource,period,capacity,overtime_capacity,overtime_cost,regular_cost"
    round_trip = imported(tmp_path, "resources", exported)
    assert (round_trip.inserted, round_trip.updated, round_trip.unchanged) == (0, 0, 3)


def test_bad_capacity_rows_are_row_errors_and_nothing_is_written(db_url, tmp_path) -> None:
    imported(tmp_path, "resources", GOOD)
    before = capacity_count()
    bad = """resource,period,capacity
Line A,2027-03-01,-5
Line A,2027-04-01,100
Line A,2027-04-01,90
Line A,2027-05-15,100
Line A,2027-02-01,100
,2027-06-01,100
"""
    result = imported(tmp_path, "resources", bad)
    assert result.status == "rejected"
    reasons = {(e.line, e.column): e.reason for e in result.first_errors(20)}
    assert reasons[(2, "capacity")] == "negative value"
    assert "overlapping periods" in reasons[(4, "period")] and "line 3" in reasons[(4, "period")]
    assert "1st of a month" in reasons[(5, "period")]
    assert (7, "resource") in reasons
    assert capacity_count() == before  # one transaction: the good rows were not written either
    skipped = imported(tmp_path, "resources", bad, options=ImportOptions(on_error="skip"))
    assert skipped.status == "committed" and skipped.inserted == 1  # 2027-04-01 (line 3); line 6 updates Feb
    assert skipped.updated == 1


def test_a_period_overlapping_a_stored_one_and_another_grain_are_refused(db_url, tmp_path) -> None:
    weekly = "resource,period,capacity\nLine W,2027-01-04,70\nLine W,2027-01-11,70\n"
    assert imported(tmp_path, "resources", weekly).status == "committed"
    overlapping = imported(
        tmp_path, "resources", "resource,period,capacity\nLine W,2027-01-13,70\nLine W,2027-01-20,70\n"
    )
    assert overlapping.status == "rejected"
    error = overlapping.first_errors(5)[0]
    assert error.line == 2 and "overlaps the period starting 2027-01-11 (a period already stored)" in error.reason
    monthly = imported(tmp_path, "resources", GOOD)
    assert monthly.status == "rejected" and "holds monthly capacities but the database holds weekly" in monthly.message


def test_the_sku_master_names_known_resources_only(db_url, tmp_path) -> None:
    imported(tmp_path, "resources", GOOD)
    result = imported(tmp_path, "skus", "sku,resource,capacity_per_unit\nS-1,Line A,2\nS-2,Line Z,1\nS-3,,0\n")
    assert result.status == "rejected"
    reasons = {e.line: e.reason for e in result.first_errors(10)}
    assert reasons[3].startswith("unknown resource") and "must be greater than 0" in reasons[4]
    ok = imported(tmp_path, "skus", "sku,resource,capacity_per_unit\nS-1,Line A,2\nS-3,,\n")
    assert ok.status == "committed", ok.summary()
    with session_scope() as session:
        one, three = (session.scalar(select(Sku).where(Sku.code == c)) for c in ("S-1", "S-3"))
        assert (one.resource, one.capacity_per_unit) == ("Line A", 2.0)
        assert (three.resource, three.capacity_per_unit) == (None, 1.0)


def test_the_data_page_edits_capacities_and_sku_resources_with_the_same_rules(db_url, tmp_path) -> None:
    from services import datatables
    from services.datatables import RecordError

    imported(tmp_path, "resources", GOOD)
    with session_scope() as session:
        row = capacity_table.save_capacity(
            session=session, values={"resource": "Line A", "period": "2027-03-01", "capacity": "80"}, user="p@x"
        )
        added = row.id
    with session_scope() as session, pytest.raises(RecordError, match="overlapping periods"):
        capacity_table.save_capacity(
            session=session, values={"resource": "Line A", "period": "2027-03-01", "capacity": "1"}, user="p@x"
        )
    with session_scope() as session, pytest.raises(RecordError, match="negative value"):
        capacity_table.save_capacity(session=session, values={"capacity": "-1"}, user="p@x", row_id=added)
    with session_scope() as session:
        capacity_table.save_capacity(session=session, values={"overtime_capacity": "12"}, user="p@x", row_id=added)
        assert session.get(ResourceCapacity, added).overtime_capacity == 12.0
        sku = datatables.save_sku(session=session, values={"sku": "E-1", "resource": "Line A"}, user="p@x")
        sku_id = sku.id
    with session_scope() as session, pytest.raises(RecordError, match="unknown resource"):
        datatables.save_sku(session=session, values={"resource": "Nope"}, user="p@x", sku_id=sku_id)
    with session_scope() as session:
        datatables.save_sku(session=session, values={"resource": ""}, user="p@x", sku_id=sku_id)  # clears it
        assert session.get(Sku, sku_id).resource is None
        assert capacity_table.delete_capacities(session=session, ids=[added], user="p@x") == 1


# --- the plan on the demo portfolio -----------------------------------------------------------------------------------


@pytest.fixture
def demo(db_url):
    from services import demo as demo_data
    from services.recompute import recompute

    with session_scope() as session:
        counts = demo_data.store(session=session, portfolio=demo_data.generate(skus=60, periods=120, seed=5, end=END))
    assert counts["capacities"] > 0
    with session_scope() as session:
        assert recompute(session=session, triggered_by="tests").status == "finished"
    return db_url


def test_every_strategy_is_feasible_and_the_optimum_is_cheapest(demo) -> None:
    with session_scope() as session:
        results = {
            s: make_plan(session=session, request=PlanRequest(strategy=s)) for s in ("chase", "level", "optimal")
        }
    chase, level, best = (results[s].plan for s in ("chase", "level", "optimal"))
    problem = results["chase"].data.problem
    assert results["optimal"].plan.strategy == "optimal", results["optimal"].message
    assert problem.resources == 3 and (problem.resource >= 0).sum() > 0 and (problem.resource < 0).sum() > 0
    for plan in (chase, level, best):
        assert capacity_violation(problem, plan) <= 1e-6 * np.nan_to_num(problem.capacity, posinf=0).max()
    assert best.costs.total_cost <= min(chase.costs.total_cost, level.costs.total_cost) * (1 + 1e-9) + 1e-6
    assert best.costs.shortage_units <= chase.costs.shortage_units + 1e-4
    labels = results["chase"].labels
    assert labels[0] == "Dec 2026" and len(labels) == 12 and results["chase"].data.grain == "monthly"
    # the bottling line's maintenance month cuts it to 55 %: chase runs overtime there
    line = results["chase"].data.resources.index("Bottling line")
    assert chase.overtime_used[line].sum() > 0
    assert all(chase.overtime_used[line] <= problem.overtime_capacity[line] + 1e-6)
    # the demo's supplier closes in February: level builds stock before it (its SKUs hold months of stock, so with
    # the fill-rate safety stocks of issue 24 chase draws the stock down instead of buying overtime)
    k = results["chase"].data.resources.index("GreenLeaf supply")
    feb = labels.index("Feb 2027")
    assert problem.capacity[k, feb] == 0 and problem.overtime_capacity[k, feb] == 0
    rows = problem.resource == k
    assert level.inventory[rows, :feb].sum() >= chase.inventory[rows, :feb].sum()


def test_the_document_has_the_issue_s_keys(demo) -> None:
    with session_scope() as session:
        result = make_plan(session=session, request=PlanRequest(horizon=4, strategy="level", overtime_pct=10))
    doc = json.loads(json.dumps(document(result)))
    assert {"strategy", "grain", "periods", "resources", "skus", "totals"} <= set(doc)
    assert set(doc["totals"]) == {
        "regular_cost",
        "overtime_cost",
        "holding_cost",
        "shortage_cost",
        "total_cost",
        "shortage_units",
        "fill_rate",
    }
    period = doc["resources"][0]["periods"][0]
    assert set(period) == {
        "period",
        "capacity",
        "overtime_capacity",
        "required",
        "planned",
        "overtime_used",
        "shortfall",
    }
    assert period["overtime_capacity"] == pytest.approx(0.1 * period["capacity"], rel=1e-6)  # the 10 % knob
    assert set(doc["skus"][0]["periods"][0]) == {
        "period",
        "demand",
        "supply",
        "projected_inventory",
        "target_inventory",
        "unmet_demand",
    }
    assert len(doc["periods"]) == 4 and doc["strategy"] == "level"


def test_demand_is_the_run_s_forecast_after_overrides_bucketed_into_months(demo) -> None:
    with session_scope() as session:
        result = make_plan(session=session, request=PlanRequest(horizon=3))
        run_id = result.data.run_id
        rows = session.execute(
            select(Sku.code, Forecast.period, Forecast.mean)
            .join(Sku, Sku.id == Forecast.sku_id)
            .where(Forecast.run_id == run_id, Forecast.kind == "future")
        ).all()
    december = dt.date(2026, 12, 1)
    first = min(p for _c, p, _m in rows)
    assert first == dt.date(2026, 11, 30)  # the stub joins December
    code = result.data.codes[0]
    mine = [(p, m) for c, p, m in rows if c == code]
    expected = sum(m * _days_in(p, first, dt.date(2027, 1, 1)) / 7 for p, m in mine)
    assert result.data.problem.demand[0, 0] == pytest.approx(expected, rel=1e-9)
    assert result.data.periods[0] == december


def _days_in(week: dt.date, start: dt.date, end: dt.date) -> int:
    lo, hi = max(week, start), min(week + dt.timedelta(days=7), end)
    return max((hi - lo).days, 0)


def test_open_orders_arrive_at_their_due_date(demo) -> None:
    with session_scope() as session:
        before = make_plan(session=session, request=PlanRequest(horizon=6))
        row = 0
        sku = session.scalar(select(Sku).where(Sku.code == before.data.codes[row]))
        session.add(
            PurchaseOrder(sku_id=sku.id, qty=500.0, status="approved", supplier="X", promised_date=dt.date(2027, 3, 10))
        )
        session.flush()
        after = make_plan(session=session, request=PlanRequest(horizon=6))
        session.rollback()
    march = [p.isoformat() for p in after.data.periods].index("2027-03-01")
    delta = after.data.problem.receipts[row] - before.data.problem.receipts[row]
    assert delta[march] == pytest.approx(500.0) and delta.sum() == pytest.approx(500.0)


def test_scenarios_are_saved_compared_and_deleted(demo) -> None:
    with session_scope() as session:
        result = make_plan(session=session, request=PlanRequest(strategy="optimal", horizon=6))
        saved = scenarios.save_scenario(session=session, name="  Optimal   six months ", result=result, user="p@x")
    assert saved.name == "Optimal six months" and saved.totals == document(result)["totals"]
    with session_scope() as session, pytest.raises(SupplyPlanError, match="exists already"):
        scenarios.save_scenario(session=session, name="optimal SIX months", result=result, user="p@x")
    with session_scope() as session:
        listed = scenarios.list_scenarios(session=session)
        assert [s.name for s in listed] == ["Optimal six months"]
        assert scenarios.get_scenarios(session=session, ids=[saved.id, 999])[0].plan["labels"][0] == "Dec 2026"
        assert scenarios.delete_scenario(session=session, scenario_id=saved.id, user="p@x")
        assert not scenarios.delete_scenario(session=session, scenario_id=saved.id, user="p@x")


def test_capacity_alerts_name_the_short_resource(demo) -> None:
    with session_scope() as session:
        alerts, unit = capacity_alerts(session=session)
    assert unit == "months"
    names = [a.resource for a in alerts]
    assert "GreenLeaf supply" in names
    sentence = alerts[names.index("GreenLeaf supply")].sentence(unit)
    assert sentence.startswith("GreenLeaf supply is short of capacity in ") and "of the next 12 months" in sentence


def test_an_unknown_resource_on_a_sku_is_planned_unconstrained_with_a_note(demo) -> None:
    with session_scope() as session:
        code = session.scalar(select(Sku.code).where(Sku.resource.is_(None)).order_by(Sku.code))
        session.execute(sa.update(Sku).where(Sku.code == code).values(resource="Ghost line"))
        session.flush()
        result = make_plan(session=session, request=PlanRequest(horizon=3))
        session.rollback()
    row = result.data.codes.index(code)
    assert result.data.problem.resource[row] == -1
    assert "Ghost line" in result.message


def test_no_finished_run_is_a_clear_error(db_url) -> None:
    with session_scope() as session, pytest.raises(SupplyPlanError, match="no recompute has finished yet"):
        make_plan(session=session, request=PlanRequest())
    with pytest.raises(SupplyPlanError, match="horizon must be between 3 and 18"):
        PlanRequest.parse(horizon=19)
    with pytest.raises(SupplyPlanError, match="strategy"):
        PlanRequest.parse(strategy="cheapest")
    with pytest.raises(SupplyPlanError, match="overtime"):
        PlanRequest.parse(overtime_pct="-3")


def test_the_cli_prints_the_plan_and_imports_resources(demo, tmp_path, capsys) -> None:
    import cli

    assert cli.main(["supply-plan", "--json", "--horizon", "3", "--strategy", "optimal"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["strategy"] == "optimal" and len(doc["periods"]) == 3
    assert cli.main(["supply-plan", "--horizon", "3"]) == 0
    assert "chase plan, 3 monthly periods (Dec 2026 .. Feb 2027)" in capsys.readouterr().out
    assert cli.main(["supply-plan", "--horizon", "40"]) == 2
    assert "horizon must be between 3 and 18" in capsys.readouterr().err
    bad = write(tmp_path, "r.csv", "resource,period,capacity\nLine A,2027-01-01,-1\n")
    assert cli.main(["import", "resources", str(bad)]) == 1
    assert "negative value" in capsys.readouterr().out


# --- migration 0010 ---------------------------------------------------------------------------------------------------


def test_migration_0010_keeps_demand_rows_both_ways(db_url) -> None:
    from db import migrate
    from db.session import engine_for

    engine = engine_for(db_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO sku (code, name, category, location, unit_cost, unit_price, salvage_value, "
                "holding_cost_rate, order_cost, lead_time_mean, lead_time_std, moq, order_multiple, "
                "service_level_target, supplier, active, one_shot, created_at, updated_at) VALUES ('MIG-1', 'M', 'C', "
                "'L', 1, 2, 0, 0.25, 50, 14, 0, 0, 1, 0.95, 'S', true, false, '2026-01-01', '2026-01-01')"
            )
        )
        sku_id = connection.execute(sa.text("SELECT id FROM sku WHERE code = 'MIG-1'")).scalar_one()
        connection.execute(
            sa.text("INSERT INTO demand (sku_id, period, quantity) VALUES (:s, '2026-01-05', 4)"), {"s": sku_id}
        )
    migrate.downgrade(engine, "0005")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM demand")).scalar_one() == 1
        assert "resource" not in {c["name"] for c in sa.inspect(connection).get_columns("sku")}
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM demand")).scalar_one() == 1
        assert connection.execute(sa.text("SELECT capacity_per_unit FROM sku WHERE code = 'MIG-1'")).scalar_one() == 1.0
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Demand)) == 1
        assert session.scalar(select(func.count()).select_from(Resource)) == 0
        assert session.scalar(select(func.count()).select_from(SkuSnapshot)) == 0


def test_the_portfolio_briefing_mentions_the_capacity_shortfall(demo) -> None:
    from pypdf import PdfReader

    from services import briefing

    with session_scope() as session:
        facts, _run = briefing.portfolio_briefing_facts(session=session)
        made = briefing.make_briefing(session=session, scope=briefing.BriefingScope(), user="viewer@example.com")
        segment, _ = briefing.portfolio_briefing_facts(
            session=session, scope=briefing.BriefingScope.make(category="Snacks")
        )
    assert any(line.startswith("GreenLeaf supply is short of capacity") for line in facts.capacity_alerts)
    assert segment.capacity_alerts == ()  # a segment briefing stays about its segment
    import io

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(made.pdf)).pages)
    assert "Capacity" in text and "GreenLeaf supply is short of capacity" in " ".join(text.split())


def test_a_weekly_resources_file_makes_a_weekly_plan(demo, tmp_path) -> None:
    with session_scope() as session:
        session.execute(sa.delete(ResourceCapacity))
        session.execute(sa.update(Sku).values(resource=None))
    weeks = [dt.date(2026, 11, 30) + dt.timedelta(days=7 * k) for k in range(10)]  # Mondays
    text = "resource,period,capacity,overtime_capacity\n" + "".join(f"Week line,{w},500,50\n" for w in weeks)
    result = imported(tmp_path, "resources", text)
    assert result.status == "committed" and result.format.grain == "weekly", result.summary()
    with session_scope() as session:
        code = session.scalar(select(Sku.code).order_by(Sku.code))
    assert imported(tmp_path, "skus", f"sku,resource\n{code},Week line\n").status == "committed"
    with session_scope() as session:
        plan = make_plan(session=session, request=PlanRequest(horizon=6, strategy="optimal"))
    assert plan.data.grain == "weekly" and plan.labels[0] == "2026-11-30"
    assert [p.weekday() for p in plan.data.periods] == [0] * 6
    k = plan.data.resources.index("Week line")
    np.testing.assert_allclose(plan.data.problem.capacity[k], [500.0] * 6)
    assert (plan.data.problem.resource >= 0).sum() == 1
    assert capacity_violation(plan.data.problem, plan.plan) <= 1e-6
