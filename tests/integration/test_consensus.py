"""Consensus demand on both engines: commercial adjustments (validation, supersede, delete, audit), the engine
applying them once on top of the overrides, the layers of record, their forecast value added once actuals arrive,
and the decision log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db.models import AuditLog, ConsensusLayer, Demand, DemandAdjustment, Sku
from db.session import session_scope
from services import consensus as cs
from services import decisions
from services import overrides as ovr
from services.errors import UserFacingError
from tests.integration.test_orders import LAST, fast_forecast, run, seed, snapshot  # noqa: F401  (fixture)
from tests.integration.test_overrides import future_mean

pytestmark = pytest.mark.usefixtures("fast_forecast")
PLANNER = "planner@example.com"
SALES = "sales.lead@example.com"
MARCH = dt.date(2026, 3, 1)  # the forecast starts on Monday 2026-03-09 (weekly)
APRIL = dt.date(2026, 4, 1)


def in_month(values: dict[dt.date, float], month: dt.date) -> dict[dt.date, float]:
    return {p: v for p, v in values.items() if (p.year, p.month) == (month.year, month.month)}


def layers(code: str) -> dict[dt.date, tuple[float, float, float]]:
    with session_scope() as s:
        rows = s.execute(
            select(
                ConsensusLayer.period, ConsensusLayer.statistical, ConsensusLayer.overridden, ConsensusLayer.consensus
            )
            .join(Sku, Sku.id == ConsensusLayer.sku_id)
            .where(Sku.code == code)
        ).all()
    return {p: (a, b, c) for p, a, b, c in rows}


def test_layers_apply_once_and_drive_the_policy(db_url) -> None:
    seed()
    first = run()
    stat = future_mean(first, "A-NEED")
    march = sorted(in_month(stat, MARCH))
    p0 = march[0]
    with session_scope() as s:
        ovr.add_override(session=s, code="A-NEED", periods=[p0], qty=100, reason="promotion", user=PLANNER)
        cs.add_adjustment(session=s, scope="A-NEED", period="2026-03", change_pct=50, reason="listing", user=SALES)
        cs.add_adjustment(session=s, scope="Tools", period="2026-04-15", change_units=120, reason="tender", user=SALES)
    second = run()
    mean = future_mean(second, "A-NEED")
    assert mean[p0] == pytest.approx(150)  # the override, then +50 %: each layer once
    for p in march[1:]:
        assert mean[p] == pytest.approx(stat[p] * 1.5)
    got = layers("A-NEED")
    assert got[p0] == pytest.approx((stat[p0], 100, 150))
    assert snapshot(second, "A-NEED").forecast_per_period > snapshot(first, "A-NEED").forecast_per_period
    # the category's 120 units are shared among its SKUs and April periods (A-NEED's own March pct is not April)
    with session_scope() as s:
        tools = s.scalars(select(Sku.code).where(Sku.category == "Tools")).all()
    added = sum(
        sum(in_month(future_mean(second, c), APRIL).values()) - sum(in_month(future_mean(first, c), APRIL).values())
        for c in tools
    )
    assert added == pytest.approx(120)
    # run again: the same consensus (not applied twice)
    third = run()
    assert future_mean(third, "A-NEED") == pytest.approx(mean)
    # a SKU's own adjustment replaces its category's for that month
    with session_scope() as s:
        cs.add_adjustment(session=s, scope="A-NEED", period=APRIL, change_pct=0, reason="no tender here", user=SALES)
    fourth = run()
    assert in_month(future_mean(fourth, "A-NEED"), APRIL) == pytest.approx(in_month(stat, APRIL))


def test_adjustments_supersede_delete_and_audit(db_url) -> None:
    seed()
    run()
    with session_scope() as s:
        a = cs.add_adjustment(
            session=s, scope="category:Tools", period="2026-04", change_pct=10, reason="a", user=SALES
        )
        b = cs.add_adjustment(session=s, scope="Tools", period="2026-04-30", change_units=-5, reason="b", user=PLANNER)
        active = cs.list_adjustments(session=s)
        every = cs.list_adjustments(session=s, include_deleted=True)
    assert [v.id for v in active] == [b.id] and {v.id for v in every} == {a.id, b.id}
    assert (b.scope_kind, b.scope, b.period, b.change_units) == ("category", "Tools", APRIL, -5)
    with session_scope() as s:
        cs.delete_adjustment(session=s, adjustment_id=b.id, user=PLANNER)
        assert cs.list_adjustments(session=s) == []
        with pytest.raises(UserFacingError, match="no adjustment"):
            cs.delete_adjustment(session=s, adjustment_id=b.id, user=PLANNER)
        actions = s.scalars(select(AuditLog.action).where(AuditLog.action.like("consensus.%"))).all()
        found = decisions.list_decisions(session=s, kind="adjustment saved")
    assert sorted(actions) == ["consensus.adjustment", "consensus.adjustment", "consensus.adjustment_delete"]
    assert len(found) == 2 and "Tools" in found[0].what


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scope": "NOPE"}, "unknown SKU or category"),
        ({"scope": "category:Toys"}, "unknown category"),
        ({"change_units": 5}, "not both"),
        ({"change_pct": None}, "give a change"),
        ({"change_pct": "ten"}, "must be a number"),
        ({"change_pct": -150}, "from -100"),
        ({"period": "2031-01"}, "outside the forecast"),
        ({"period": "2025-12"}, "outside the forecast"),
        ({"period": "March"}, "month like 2027-01"),
        ({"reason": "  "}, "reason is required"),
    ],
)
def test_bad_adjustments_write_nothing(db_url, kwargs, match) -> None:
    seed()
    run()
    args = {"scope": "A-NEED", "period": "2026-04", "change_pct": 5, "reason": "why", "user": SALES, **kwargs}
    with session_scope() as s:
        with pytest.raises(UserFacingError, match=match):
            cs.add_adjustment(session=s, **args)
        assert s.scalar(select(func.count()).select_from(DemandAdjustment)) == 0


def test_forecast_value_added_per_layer_and_decision_outcome(db_url) -> None:
    seed()
    first = run()
    stat = future_mean(first, "A-NEED")
    p0 = min(stat)
    with session_scope() as s:
        ovr.add_override(session=s, code="A-NEED", periods=[p0], qty=30, reason="promo", user=PLANNER)
        cs.add_adjustment(session=s, scope="A-NEED", period=p0, change_pct=-50, reason="delisting", user=SALES)
    run()
    with session_scope() as s:
        assert cs.fva_report(session=s) == []  # no actual yet
        for sku in s.scalars(select(Sku)):  # the week's actuals arrive for every SKU
            s.add(Demand(sku_id=sku.id, period=p0, quantity=20.0 if sku.code == "A-NEED" else 30.0))
    with session_scope() as s:
        by_layer = {r["layer"]: r for r in cs.fva_report(session=s, by="layer")}
        by_who = {(r["layer"], r["key"]): r for r in cs.fva_report(session=s, by="who")}
        outcome = decisions.list_decisions(session=s, kind="consensus.adjustment")[0].outcome
    # statistical s, overridden 30, consensus 15, actual 20
    s0 = stat[p0]
    assert by_layer["overrides"]["mae_before"] == pytest.approx(abs(s0 - 20))
    assert by_layer["overrides"]["mae_after"] == pytest.approx(10)
    assert by_layer["commercial"]["mae_before"] == pytest.approx(10) and by_layer["commercial"]["mae_after"] == 5
    assert by_layer["commercial"]["fva_mae"] == pytest.approx(5) and by_layer["commercial"]["fva_wape"] == 0.25
    assert by_layer["consensus"]["fva_mae"] == pytest.approx(abs(s0 - 20) - 5)
    assert by_who[("commercial", SALES)]["periods"] == 1 and ("overrides", PLANNER) in by_who
    with session_scope() as s:  # the briefing's forecast value added has the consensus layers too
        from services import briefing

        facts, _ = briefing.portfolio_briefing_facts(session=s)
    groups = {r.group: r for r in facts.fva}
    assert groups["Commercial adjustments (vs after overrides)"].fva_points == pytest.approx(25.0)
    assert "Consensus (vs statistical)" in groups
    # the adjustment set every March week; one week's actual is in: its outcome waits for the others
    assert outcome.state == "pending" and "actuals in for 1 of" in outcome.summary
    assert p0 > LAST


def _import(tmp_path, text: str, **kw):
    from services.ingest import import_file

    path = tmp_path / "adjustments.csv"
    path.write_text(text, encoding="utf-8")
    with session_scope() as s:
        return import_file(session=s, path=path, kind="adjustments", user=SALES, **kw)


def test_import_adjustments_rows_errors_and_nothing_written(db_url, tmp_path) -> None:
    seed()
    run()
    bad = _import(
        tmp_path,
        "scope,period,change_pct,change_units,reason\n"
        "A-NEED,2026-04,10,,listing\n"  # good
        "NOPE,2026-04,10,,x\n"  # unknown scope
        "A-NEED,2026-05,10,5,x\n"  # both
        "A-NEED,2026-05,,,x\n"  # neither
        "A-NEED,2026-05,ten,,x\n"  # not a number
        "A-NEED,2031-01,10,,x\n"  # out of range
        "category:Tools,2026-04-20,,50,\n"  # no reason
        "A-NEED,2026-04-30,5,,again\n",  # same scope and month as line 2
    )
    assert bad.status == "rejected"
    errors = bad.errors.frame()
    assert sorted(errors["line"].dropna().astype(int)) == [3, 4, 5, 6, 7, 8, 9]
    reasons = " | ".join(errors["reason"].astype(str))
    for text in ("unknown SKU or category", "not both", "give a change", "must be a number", "outside", "duplicate"):
        assert text in reasons
    assert set(errors["column"]) >= {"scope", "change_pct", "period", "reason"}
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(DemandAdjustment)) == 0
    good = _import(tmp_path, "sku,month,units,why\nTools,2026-04,120,tender\ncategory:Food,2026-05-03,-10,strike\n")
    assert good.status == "committed" and good.inserted == 2
    with session_scope() as s:
        made = {(a.scope_kind, a.scope): a for a in cs.list_adjustments(session=s)}
    assert made[("category", "Tools")].change_units == 120 and made[("category", "Food")].period == dt.date(2026, 5, 1)
    assert made[("category", "Tools")].user_email == SALES


def test_a_closed_cycle_freezes_the_consensus(db_url) -> None:
    from db.models import SopCycleSku
    from services import cycles

    seed()
    run()
    with session_scope() as s:
        before = cycles.close_cycle(session=s, name="before", user=PLANNER, source="tests")
        months = cs.month_range(s)
        cs.add_adjustment(session=s, scope="A-NEED", period=months[0], change_pct=100, reason="x", user=SALES)
    run()
    with session_scope() as s:
        after = cycles.close_cycle(session=s, name="after", user=PLANNER, source="tests")
        demand = dict(
            s.execute(select(SopCycleSku.cycle_id, SopCycleSku.demand).where(SopCycleSku.code == "A-NEED")).all()
        )
        other = dict(
            s.execute(select(SopCycleSku.cycle_id, SopCycleSku.demand).where(SopCycleSku.code == "B-NEED")).all()
        )
    assert demand[after.id] > demand[before.id] * 1.05  # the first month doubled
    assert other[after.id] == pytest.approx(other[before.id])


def test_the_command_line(db_url, tmp_path, capsys) -> None:
    import json

    import cli

    seed()
    run()
    bad = tmp_path / "bad.csv"
    bad.write_text("scope,period,change_pct,reason\nNOPE,2026-04,5,x\n", encoding="utf-8")
    assert cli.main(["import", "adjustments", str(bad), "--no-recompute"]) == 1
    out = capsys.readouterr()
    assert "rejected" in out.err and "unknown SKU or category" in out.out  # line 2, column scope, the reason
    good = tmp_path / "good.csv"
    good.write_text("scope,period,change_units,reason\ncategory:Tools,2026-04,60,tender\n", encoding="utf-8")
    assert cli.main(["import", "adjustments", str(good)]) == 0
    assert "1 inserted" in capsys.readouterr().out
    assert cli.main(["consensus", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["data"]
    assert [(a["scope"], a["period"], a["change_units"], a["user_email"]) for a in listed] == [
        ("Tools", "2026-04", 60.0, "cli")
    ]
    assert (
        cli.main(["consensus", "add", "--scope", "A-NEED", "--period", "2026-05", "--pct", "5", "--reason", "r"]) == 0
    )
    assert "recomputed 1 SKUs" in capsys.readouterr().out
    assert (
        cli.main(["consensus", "add", "--scope", "A-NEED", "--period", "2030-05", "--pct", "5", "--reason", "r"]) != 0
    )
    assert "outside the forecast" in capsys.readouterr().err
    assert cli.main(["consensus", "fva", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"by": "layer", "data": []}
    assert cli.main(["consensus", "delete", str(listed[0]["id"]), "--no-recompute"]) == 0
    assert "deleted adjustment" in capsys.readouterr().out


def test_a_workbook_of_adjustments(db_url, tmp_path) -> None:
    import xlsxwriter

    from services.ingest import import_file

    seed()
    run()
    path = tmp_path / "adjustments.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("Commercial")
    rows = (
        ("Scope", "Month", "Change pct", "Reason"),
        ("A-NEED", "2026-04", 12, "listing"),
        ("Food", "2026-05", -3, "x"),
    )
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    with session_scope() as s:
        result = import_file(session=s, path=path, kind="adjustments", user=SALES)
    assert result.status == "committed" and result.inserted == 2, result.message
    with session_scope() as s:
        made = {a.scope: a for a in cs.list_adjustments(session=s)}
    assert made["A-NEED"].change_pct == 12 and made["Food"].scope_kind == "category"
