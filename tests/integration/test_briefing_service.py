"""Briefing service on both engines: the PDF's text checked against the snapshot rows written to the database.

The snapshot is written by hand (two finished runs, known values), so every figure the PDF prints can be predicted.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from core.portfolio import expected_fill_rates
from reports.fonts import find_cjk_font
from reports.formatting import fmt_change, fmt_date, fmt_int, fmt_money, fmt_pct, fmt_qty

UNICODE_NAME = "Café crème 東京"
AS_OF = dt.date(2026, 3, 9)
PREVIOUS_AS_OF = dt.date(2026, 3, 2)


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _snapshot_row(i: int, *, category: str, var: float, status: str, on_hand: float = 100.0) -> dict:
    return {
        "status": status,
        "status_reason": f"reason-{i:02d} cover {i + 1} d",
        "abc": "A" if i % 3 == 0 else "B",
        "xyz": "X",
        "demand_class": "smooth",
        "forecast_model": "ets",
        "forecast_per_period": 10.0 + i,
        "annual_demand": (10.0 + i) * 52,
        "sigma": 3.0,
        "lead_time_periods": 2.0,
        "lead_time_std_periods": 0.5,
        "service_level": 0.95,
        "safety_stock": 8.0,
        "reorder_point": 2 * (10.0 + i) + 8.0,
        "order_up_to": 3 * (10.0 + i) + 8.0,
        "eoq": 60.0 + i,
        "newsvendor_qty": 40.0,
        "on_hand": on_hand,
        "on_order": 0.0,
        "inventory_position": on_hand,
        "recommended_qty": 0.0,
        "order_by_periods": 1.0,
        "days_of_cover": float(i + 1),
        "inventory_value": on_hand * 2.0,
        "value_at_risk": var,
        "excess_value": 0.0,
        "demand_recent": 10.0 + i + (i % 4) * 5,
        "demand_baseline": 10.0 + i,
        "wape": 0.2 + i / 100,
        "mase": 0.9,
        "bias": 0.01,
        "rop_method": "normal",
        "rop_method_reason": "normal approximation",
    }


def seed(session, *, with_previous: bool = True) -> dict:
    """14 SKUs in two categories, two finished runs, three recommended orders (one approved, not counted)."""
    from db.models import PurchaseOrder, RecomputeRun, Sku, SkuSnapshot

    skus = []
    for i in range(14):
        category = "Beverages" if i % 2 == 0 else "Snacks"
        name = UNICODE_NAME if i == 3 else f"Item {i:02d}"
        skus.append(
            Sku(
                code=f"RISK-{i:02d}",
                name=name,
                category=category,
                location="Main" if i < 7 else "North",
                unit_cost=2.0,
                unit_price=5.0,
                supplier=f"Supplier {i % 3}",
                moq=0.0,
                order_multiple=1.0,
                order_cost=50.0,
                holding_cost_rate=0.25,
            )
        )
    session.add_all(skus)
    session.flush()
    runs = {}
    kpis_latest = {
        "sku_count": 14.0,
        "inventory_value": 123_456.78,
        "value_at_risk": 45_678.9,
        "fill_rate": 0.9634,
        "turns": 7.25,
        "days_of_supply": 50.4,
        "wape": 0.2871,
        "excess_value": 0.0,
    }
    kpis_before = {**kpis_latest, "inventory_value": 120_000.0, "value_at_risk": 50_000.0, "fill_rate": 0.95}
    if with_previous:
        before = RecomputeRun(
            status="finished",
            grain="weekly",
            data_as_of=PREVIOUS_AS_OF,
            sku_count=14,
            kpis=kpis_before,
            finished_at=dt.datetime(2026, 3, 3, 6, 0),
        )
        session.add(before)
        session.flush()
        runs["previous"] = before
        for i, sku in enumerate(skus):
            row = _snapshot_row(i, category=sku.category, var=10.0 * (i + 1), status="normal", on_hand=90.0)
            session.add(SkuSnapshot(run_id=before.id, sku_id=sku.id, **row))
    latest = RecomputeRun(
        status="finished",
        grain="weekly",
        data_as_of=AS_OF,
        sku_count=14,
        kpis=kpis_latest,
        finished_at=dt.datetime(2026, 3, 10, 6, 0),
    )
    session.add(latest)
    session.flush()
    runs["latest"] = latest
    # value at risk: distinct, not in code order; SKU 13 has none (not a risk), SKU 12 is the smallest risk
    values = [500.0, 9000.0, 1200.0, 8800.0, 300.0, 7000.0, 4100.0, 2500.0, 6100.0, 999.0, 5200.0, 350.0, 100.0, 0.0]
    statuses = ["stockout_risk", "surge", "overstock", "stockout_risk", "normal", "dead_stock", "low_velocity"] * 2
    for i, sku in enumerate(skus):
        row = _snapshot_row(i, category=sku.category, var=values[i], status=statuses[i])
        session.add(SkuSnapshot(run_id=latest.id, sku_id=sku.id, **row))
    orders = [(skus[3], 1200.0, AS_OF + dt.timedelta(days=7)), (skus[0], 480.0, AS_OF), (skus[5], 36.0, None)]
    for sku, qty, order_by in orders:
        session.add(
            PurchaseOrder(
                sku_id=sku.id,
                run_id=latest.id,
                supplier=sku.supplier,
                qty=qty,
                recommended_qty=qty,
                unit_cost=sku.unit_cost,
                status="recommended",
                order_by=order_by,
            )
        )
    session.add(
        PurchaseOrder(
            sku_id=skus[1].id, supplier="Supplier 1", qty=777.0, unit_cost=2.0, status="approved", order_by=AS_OF
        )
    )
    session.flush()
    return {"skus": skus, "values": values, "runs": runs, "kpis": kpis_latest, "previous_kpis": kpis_before}


def _section(text: str, start: str, end: str) -> str:
    i = text.index(start)
    j = text.index(end, i + len(start))
    return text[i:j]


def test_portfolio_briefing_text_matches_the_snapshot(session) -> None:
    from services import briefing as svc

    data = seed(session)
    made = svc.make_briefing(session=session, scope=svc.BriefingScope(), user="viewer@example.com")
    text = " ".join(page_texts(made.pdf))
    kpis, before = data["kpis"], data["previous_kpis"]

    # cover
    assert "Portfolio briefing" in text and "Whole portfolio" in text
    assert fmt_date(AS_OF) in text
    assert f"Run {data['runs']['latest'].id}" in text or str(data["runs"]["latest"].id) in text
    # KPI table with the change since the previous run
    key_figures = _section(text, "Key figures", "Commentary")
    assert f"SKUs in scope {fmt_int(14)}" in key_figures
    assert f"Inventory value (at cost) {fmt_money(kpis['inventory_value'])} {fmt_money(before['inventory_value'])}" in (
        key_figures
    )
    assert fmt_change(kpis["inventory_value"], before["inventory_value"], kind="money") in key_figures
    assert f"Fill rate {fmt_pct(kpis['fill_rate'])} {fmt_pct(before['fill_rate'])}" in key_figures
    assert fmt_change(kpis["fill_rate"], before["fill_rate"], kind="fraction") in key_figures
    assert f"Value at risk {fmt_money(kpis['value_at_risk'])}" in key_figures
    assert f"Forecast error (WAPE) {fmt_pct(kpis['wape'])}" in key_figures
    # status counts come from the snapshot rows
    assert re.search(r"STOCKOUT RISK\s*4\b", text), key_figures

    # top 10 risks by value at risk, in order, with their reasons; the 11th and 12th and the zero one are not listed
    ranked = sorted(((v, i) for i, v in enumerate(data["values"]) if v > 0), key=lambda t: -t[0])
    top = [i for _, i in ranked[:10]]
    risks = _section(text, "Top risks", "Top movers")
    positions = [risks.index(f"RISK-{i:02d}") for i in top]
    assert positions == sorted(positions)
    for i in top:
        assert f"reason-{i:02d}" in risks
    for _, i in ranked[10:]:
        assert f"RISK-{i:02d}" not in risks
    assert "RISK-13" not in risks
    assert "Café crème" in risks
    if find_cjk_font() is not None:
        assert UNICODE_NAME in risks

    # recommended orders: recommended only (the approved 777 is not), earliest order-by first, totals over all
    orders = _section(text, "Recommended purchase orders", "Method notes")
    assert "3 recommended lines, total value " + fmt_money((1200 + 480 + 36) * 2.0) in orders
    assert orders.index("RISK-00") < orders.index("RISK-03") < orders.index("RISK-05")
    for qty in (1200, 480, 36):
        assert fmt_qty(qty) in orders
    assert "777" not in orders
    assert fmt_date(AS_OF + dt.timedelta(days=7)) in orders
    # the method notes say how many are printed, as the section does (issue 23: "25 most urgent" over 15 lines)
    notes = " ".join(text[text.index("Method notes") :].split())
    assert "all 3 are printed, the most urgent first" in notes and "25 most urgent" not in notes

    # stored, listed, downloadable again, audit-logged
    assert made.id is not None and made.run_id == data["runs"]["latest"].id
    listed = svc.list_briefings(session=session)
    assert [r.id for r in listed] == [made.id]
    assert listed[0].user_email == "viewer@example.com" and listed[0].data_as_of == AS_OF
    again = svc.get_briefing(session=session, briefing_id=made.id, user="planner@example.com")
    assert (
        again.pdf == made.pdf
        and again.file_name == made.file_name == f"briefing-portfolio-{AS_OF}-run{made.run_id}.pdf"
    )
    from db.models import AuditLog

    actions = session.scalars(select(AuditLog.action).where(AuditLog.action.like("briefing.%"))).all()
    assert sorted(actions) == ["briefing.create", "briefing.download"]


def test_segment_briefing_computes_its_own_figures(session) -> None:
    from services import briefing as svc

    data = seed(session)
    made = svc.make_briefing(session=session, scope=svc.BriefingScope.make(category="Snacks"), user=None)
    text = " ".join(page_texts(made.pdf))
    snacks = [i for i in range(14) if i % 2 == 1]
    assert "Category Snacks" in text
    key_figures = _section(text, "Key figures", "Commentary")
    assert f"SKUs in scope {len(snacks)}" in key_figures
    segment_var = sum(data["values"][i] for i in snacks)
    previous_var = sum(10.0 * (i + 1) for i in snacks)
    assert f"Value at risk {fmt_money(segment_var)} {fmt_money(previous_var)}" in key_figures
    inventory = len(snacks) * 100.0 * 2.0
    assert f"Inventory value (at cost) {fmt_money(inventory)}" in key_figures
    risks = _section(text, "Top risks", "Top movers")
    assert all(f"RISK-{i:02d}" not in risks for i in range(0, 14, 2))
    orders = _section(text, "Recommended purchase orders", "Method notes")
    assert "3 recommended lines" not in orders and "RISK-03" in orders and "RISK-00" not in orders
    assert "Segment figures" in text
    assert svc.list_briefings(session=session)[0].scope_label == "Category Snacks"


def test_segment_kpis_follow_the_engine_definitions(session) -> None:
    from core import kpi as core_kpi
    from services import runs

    data = seed(session)
    frame = runs.snapshot_frame(session=session, run_id=data["runs"]["latest"].id)
    got = runs.segment_kpis(frame, days_per_period=7.0)
    fill = expected_fill_rates(frame, days_per_period=7.0)
    expected = core_kpi.portfolio_kpis(snapshot=frame, unit_cost=2.0, expected_fill_rate=fill)
    assert got == pytest.approx(expected, nan_ok=True)
    assert got["inventory_value"] == pytest.approx(14 * 100.0 * 2.0)
    assert got["value_at_risk"] == pytest.approx(sum(data["values"]))
    assert 0.0 < got["fill_rate"] <= 1.0


def test_empty_database_gives_a_short_briefing(session) -> None:
    from services import briefing as svc

    made = svc.make_briefing(session=session, scope=svc.BriefingScope(), user=None)
    pages = page_texts(made.pdf)
    assert len(pages) == made.page_count == 1
    assert "No SKUs in scope" in pages[0] and "none yet" in pages[0]
    assert made.run_id is None and made.file_name == "briefing-portfolio-no-data.pdf"
    with pytest.raises(svc.BriefingNotFoundError):
        svc.make_briefing(session=session, scope=svc.BriefingScope.make(sku="NOPE"), user=None)


def test_the_pdf_carries_the_settings_locale(session, monkeypatch) -> None:
    from services import briefing as svc
    from settings import get_settings

    monkeypatch.setenv("APP_LOCALE", "de-CH")
    get_settings.cache_clear()
    try:
        made = svc.make_briefing(session=session, scope=svc.BriefingScope(), user=None)
    finally:
        monkeypatch.delenv("APP_LOCALE")
        get_settings.cache_clear()
    assert PdfReader(io.BytesIO(made.pdf)).trailer["/Root"]["/Lang"] == "de-CH"


def test_sku_errors_and_unknown_segments(session) -> None:
    from db.models import Sku
    from services import briefing as svc
    from services.errors import UserFacingError

    seed(session)
    with pytest.raises(svc.BriefingNotFoundError):
        svc.make_briefing(session=session, scope=svc.BriefingScope.make(sku="NOPE"), user=None)
    session.add(Sku(code="NEW-1", name="Added since the run"))
    session.flush()
    with pytest.raises(UserFacingError, match="not in the latest finished recompute"):
        svc.make_briefing(session=session, scope=svc.BriefingScope.make(sku="NEW-1"), user=None)
    with pytest.raises(UserFacingError, match="No SKU of the latest snapshot"):
        svc.make_briefing(session=session, scope=svc.BriefingScope.make(category="Nope"), user=None)
    with pytest.raises(svc.BriefingNotFoundError):
        svc.get_briefing(session=session, briefing_id=12345)
    with pytest.raises(svc.BriefingNotFoundError):
        svc.get_briefing(session=session, briefing_id="x")


def test_only_the_newest_briefings_are_kept(session, monkeypatch) -> None:
    from db.models import Briefing
    from services import briefing as svc

    monkeypatch.setattr(svc.storage, "KEEP_BRIEFINGS", 3)
    built = svc.build_briefing(session=session, scope=svc.BriefingScope())
    made = [svc.store_briefing(session=session, briefing=built, user=None) for _ in range(5)]
    ids = sorted(session.scalars(select(Briefing.id)).all())
    assert ids == [m.id for m in made[-3:]]
    assert session.scalar(select(func.count()).select_from(Briefing)) == 3


def test_the_orders_method_note_counts_what_is_printed() -> None:
    """Issue 23: the note said "the 25 most urgent are printed" over a list of 15."""
    from services.briefing.facts import _orders_note

    assert "the 25 most urgent of 140 " in _orders_note(25, 140)
    assert "all 15 are printed, the most urgent first" in _orders_note(15, 15) and "25 most urgent" not in _orders_note(
        15, 15
    )
