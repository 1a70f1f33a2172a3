"""Planner forecast overrides on both engines: the audit trail (rows are only added), the recompute using the newest
override per period, the statistical figure kept with each override, validation, and forecast value added."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, update

from db.models import AuditLog, Demand, Forecast, ForecastOverride, Sku
from db.session import session_scope
from services import overrides as ovr
from services.errors import UserFacingError
from tests.integration.test_orders import DATES, fast_forecast, run, seed, snapshot  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("fast_forecast")
PLANNER = "planner@example.com"
OTHER = "second.planner@example.com"


def future_mean(run_id: int, code: str) -> dict[dt.date, float]:
    with session_scope() as s:
        rows = s.execute(
            select(Forecast.period, Forecast.mean)
            .join(Sku, Sku.id == Forecast.sku_id)
            .where(Forecast.run_id == run_id, Sku.code == code, Forecast.kind == "future")
        ).all()
    return {p: m for p, m in rows}


def test_override_trail_and_the_recompute_uses_the_newest(db_url) -> None:
    seed()
    first = run()
    with session_scope() as s:
        periods = ovr.override_periods(session=s, code="A-NEED")
    assert len(periods) == 13 and all(p.override is None for p in periods)
    stat = {p.period: p.statistical for p in periods}
    assert stat == pytest.approx(future_mean(first, "A-NEED"))
    p0, p1 = periods[0].period, periods[1].period

    with session_scope() as s:
        made = ovr.add_override(session=s, code="A-NEED", periods=[p1, p0], qty=100, reason="promotion", user=PLANNER)
    assert [(o.period, o.qty, o.statistical_qty) for o in made] == [(p0, 100, stat[p0]), (p1, 100, stat[p1])]
    with session_scope() as s:
        ovr.add_override(session=s, code="A-NEED", periods=[p0.isoformat()], qty=80, reason="smaller promo", user=OTHER)
        history = ovr.override_history(session=s, code="A-NEED")
        rows = s.scalar(select(func.count()).select_from(ForecastOverride))
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "forecast.override").order_by(AuditLog.id)).all()
    assert rows == 3  # never overwritten: the first p0 override is still there
    assert [(o.period, o.qty, o.user_email, o.active) for o in history] == [
        (p0, 80, OTHER, True),  # newest first
        (p1, 100, PLANNER, True),
        (p0, 100, PLANNER, False),
    ]
    assert [(a.user_email, a.target, a.details["qty"], a.details["reason"]) for a in audit] == [
        (PLANNER, "sku:A-NEED", 100, "promotion"),
        (OTHER, "sku:A-NEED", 80, "smaller promo"),
    ]

    second = run()
    mean = future_mean(second, "A-NEED")
    assert mean[p0] == pytest.approx(80) and mean[p1] == pytest.approx(100)
    others = [mean[p] for p in mean if p not in (p0, p1)]
    assert others == pytest.approx([stat[p] for p in stat if p not in (p0, p1)])
    snap_before, snap_after = snapshot(first, "A-NEED"), snapshot(second, "A-NEED")
    assert snap_after.forecast_per_period == pytest.approx(sum(mean.values()) / 13)
    assert snap_after.forecast_per_period > snap_before.forecast_per_period
    assert snap_after.reorder_point > snap_before.reorder_point  # the policy follows the overridden forecast

    with session_scope() as s:
        after = {p.period: p for p in ovr.override_periods(session=s, code="A-NEED")}
        # the run's stored mean is the override; the statistical figure is still the model's
        assert after[p0].forecast == pytest.approx(80) and after[p0].statistical == pytest.approx(stat[p0])
        assert after[p0].override == 80
        again = ovr.add_override(session=s, code="A-NEED", periods=[p0], qty=90, reason="re-plan", user=PLANNER)
    assert again[0].statistical_qty == pytest.approx(stat[p0])


def test_override_validation(db_url) -> None:
    seed()
    run()
    with session_scope() as s:
        future = ovr.override_periods(session=s, code="A-NEED")[0].period
        cases = [
            ({"qty": -1}, "cannot be negative"),
            ({"qty": "lots"}, "must be a number"),
            ({"qty": float("nan")}, "finite"),
            ({"reason": "   "}, "reason .* required"),
            ({"periods": []}, "at least one future period"),
            ({"periods": [DATES[-1]]}, "not a forecast period"),
            ({"periods": ["2026-13-40"]}, "must be a date"),
            ({"code": "NOPE"}, "no SKU 'NOPE'"),
            ({"user": ""}, "user is empty"),
        ]
        for change, message in cases:
            args = {"code": "A-NEED", "periods": [future], "qty": 10, "reason": "why", "user": PLANNER} | change
            with pytest.raises(UserFacingError, match=message):
                ovr.add_override(session=s, **args)
        assert s.scalar(select(func.count()).select_from(ForecastOverride)) == 0
        with pytest.raises(UserFacingError, match="by must be one of"):
            ovr.fva_summary(session=s, by="supplier")


def _set_demand(s, code: str, period: dt.date, qty: float | None) -> None:
    sku_id = s.scalar(select(Sku.id).where(Sku.code == code))
    if qty is None:
        s.execute(delete(Demand).where(Demand.sku_id == sku_id, Demand.period == period))
    else:
        s.execute(update(Demand).where(Demand.sku_id == sku_id, Demand.period == period).values(quantity=qty))


def _override(s, code: str, period: dt.date, qty: float, statistical: float, user: str, minutes: int) -> None:
    sku_id = s.scalar(select(Sku.id).where(Sku.code == code))
    s.add(
        ForecastOverride(
            sku_id=sku_id,
            period=period,
            qty=qty,
            statistical_qty=statistical,
            reason="test",
            user_email=user,
            created_at=dt.datetime(2026, 1, 1) + dt.timedelta(minutes=minutes),
        )
    )


def test_forecast_value_added_arithmetic(db_url) -> None:
    seed()
    run()  # the run gives the grain (weekly)
    with session_scope() as s:
        # Tools / PLANNER: actual 20, statistical 10, override 18 (helped); an older override of OTHER is superseded
        _set_demand(s, "A-NEED", DATES[-2], 20)
        _override(s, "A-NEED", DATES[-2], 50, 10, OTHER, minutes=1)
        _override(s, "A-NEED", DATES[-2], 18, 10, PLANNER, minutes=2)
        # Food / OTHER: actual 10, statistical 12, override 20 (hurt)
        _set_demand(s, "D-NEED", DATES[-3], 10)
        _override(s, "D-NEED", DATES[-3], 20, 12, OTHER, minutes=3)
        # Tools / OTHER: no demand row in the period -> actual 0; statistical 5, override 0
        _set_demand(s, "E-FULL", DATES[-4], None)
        _override(s, "E-FULL", DATES[-4], 0, 5, OTHER, minutes=4)
        # no actual yet (a future period): left out
        _override(s, "B-NEED", DATES[-1] + dt.timedelta(days=7), 99, 30, PLANNER, minutes=5)
    with session_scope() as s:
        frame = ovr.fva_frame(session=s)
        by_planner = {r.key: r for r in ovr.fva_summary(session=s, by="planner")}
        by_category = {r.key: r for r in ovr.fva_summary(session=s, by="category")}
        by_sku = {r.key: r for r in ovr.fva_summary(session=s, by="sku")}
        (total,) = ovr.fva_summary(session=s, by="total")
    assert sorted(frame["sku"]) == ["A-NEED", "D-NEED", "E-FULL"]
    assert frame.set_index("sku")["actual"].to_dict() == {"A-NEED": 20, "D-NEED": 10, "E-FULL": 0}

    p = by_planner[PLANNER]
    assert (p.periods, p.actual_sum) == (1, 20)
    assert p.statistical_wape == pytest.approx(10 / 20) and p.final_wape == pytest.approx(2 / 20)
    assert p.fva_wape == pytest.approx(0.4) and p.improved_share == 1.0 and p.verdict == "overrides helped"
    assert p.statistical_bias == pytest.approx(-10 / 20) and p.final_bias == pytest.approx(-2 / 20)
    o = by_planner[OTHER]  # D: |12-10| = 2 vs |20-10| = 10; E: |5-0| = 5 vs 0; actual sum 10
    assert (o.periods, o.actual_sum) == (2, 10)
    assert o.statistical_wape == pytest.approx(7 / 10) and o.final_wape == pytest.approx(10 / 10)
    assert o.fva_wape == pytest.approx(-0.3) and o.improved_share == pytest.approx(0.5)
    assert o.verdict == "overrides hurt"
    assert total.statistical_wape == pytest.approx(17 / 30) and total.final_wape == pytest.approx(12 / 30)
    assert total.fva_wape == pytest.approx(5 / 30)
    assert by_category["Tools"].periods == 1 and by_category["Tools"].fva_wape == pytest.approx(0.4)  # A
    assert by_category["Food"].periods == 2 and by_category["Food"].fva_wape == pytest.approx(-0.3)  # D and E
    assert by_sku["E-FULL"].statistical_wape is None and by_sku["E-FULL"].verdict == "no actual demand to compare"
    assert list(by_planner) == [OTHER, PLANNER]  # most overridden periods first
