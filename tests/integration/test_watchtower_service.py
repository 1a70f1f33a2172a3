"""services.watchtower on SQLite and PostgreSQL: filters, sorting, paging, KPIs with deltas, charts, CSV export.

The tests on a database; the pure ones are in tests/unit/test_watchtower_service.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import python_calamine
from sqlalchemy import select, update

from db.models import STATUSES, Sku, SkuSnapshot, utcnow
from db.session import session_scope
from services import runs
from services import watchtower as w
from tests.integration.test_watchtower_data import store_portfolio, write_synthetic_run


@pytest.fixture
def portfolio(db_url):
    """Two synthetic runs over a small demo portfolio, on SQLite and PostgreSQL: (latest_id, previous_id)."""
    return store_portfolio()


@pytest.fixture
def sqlite_portfolio(sqlite_db):
    """The same on SQLite only (for queries that do not differ between engines)."""
    return store_portfolio()


def _all_rows(session, run_id, filters=None, sort=None):
    return w.query_skus(session=session, run_id=run_id, filters=filters, sort=sort, start=0, limit=1000).rows


def test_kpi_summary_counts_statuses_and_compares_with_previous_run(portfolio) -> None:
    latest, previous = portfolio
    with session_scope() as s:
        summary = w.kpi_summary(session=s)
        counts = w.status_counts(session=s, run_ids=[latest, previous])
    assert summary is not None and summary.run.id == latest and summary.previous.id == previous
    assert [k.key for k in summary.status_counts] == list(STATUSES)
    for kpi in summary.status_counts:
        assert kpi.value == counts[latest][kpi.key] and kpi.previous == counts[previous][kpi.key]
    assert summary.sku_count == 40
    keys = [k.key for k in summary.portfolio]
    assert keys == ["inventory_value", "value_at_risk", "fill_rate", "turns", "days_of_supply", "forecast_accuracy"]
    accuracy = summary.portfolio[-1]
    assert accuracy.value == pytest.approx(1 - summary.run.kpis["wape"])
    assert accuracy.delta == pytest.approx(accuracy.value - (1 - summary.previous.kpis["wape"]))


def test_kpis_fall_back_to_the_stored_counts_when_the_previous_snapshot_was_pruned(sqlite_portfolio) -> None:
    latest, previous = sqlite_portfolio
    with session_scope() as s:
        s.execute(SkuSnapshot.__table__.delete().where(SkuSnapshot.run_id == previous))
    with session_scope() as s:
        summary = w.kpi_summary(session=s)
        stored = runs.run_by_id(session=s, run_id=previous).kpis
    assert [k.previous for k in summary.status_counts] == [stored[f"count_{x}"] for x in STATUSES]


def test_no_run_gives_none(sqlite_db) -> None:
    with session_scope() as s:
        assert runs.latest_run(session=s) is None and w.kpi_summary(session=s) is None


def test_filters_combine_and_search_code_and_name(portfolio) -> None:
    latest, _ = portfolio
    with session_scope() as s:
        everything = _all_rows(s, latest)
        assert len(everything) == 40
        status, category = everything[0]["status"], everything[0]["category"]
        both = _all_rows(s, latest, w.GridFilters(status=(status,), category=(category,)))
        assert both and all(r["status"] == status and r["category"] == category for r in both)
        expected = [r for r in everything if r["status"] == status and r["category"] == category]
        assert {r["code"] for r in both} == {r["code"] for r in expected}
        two = _all_rows(s, latest, w.GridFilters(status=("surge", "normal")))
        assert {r["status"] for r in two} <= {"surge", "normal"}
        assert len(two) == sum(r["status"] in ("surge", "normal") for r in everything)
        code = everything[5]["code"]
        assert [r["code"] for r in _all_rows(s, latest, w.GridFilters(search=code.lower()))] == [code]
        word = everything[5]["name"].split()[0].upper()
        by_name = _all_rows(s, latest, w.GridFilters(search=word))
        assert by_name and all(word.lower() in (r["name"] + r["code"]).lower() for r in by_name)
        assert _all_rows(s, latest, w.GridFilters(search="%")) == []  # LIKE wildcards are escaped
        for name in ("location", "supplier", "abc", "xyz", "demand_class"):
            value = everything[0][name]
            rows = _all_rows(s, latest, w.GridFilters(**{name: (value,)}))
            assert rows and all(r[name] == value for r in rows)
            assert w.count_skus(session=s, run_id=latest, filters=w.GridFilters(**{name: (value,)})) == len(rows)


def test_sorting_and_paging_are_stable(portfolio) -> None:
    latest, _ = portfolio
    with session_scope() as s:
        default = _all_rows(s, latest)
        values = [r["value_at_risk"] for r in default]
        assert values == sorted(values, reverse=True)
        pages = []
        for start in range(0, 40, 7):
            page = w.query_skus(session=s, run_id=latest, start=start, limit=7)
            assert page.total == 40
            pages += page.rows
        assert [r["code"] for r in pages] == [r["code"] for r in default]
        for col in w.SORT_COLUMNS:
            asc = _all_rows(s, latest, sort=[(col, "asc")])
            desc = _all_rows(s, latest, sort=[(col, "desc")])
            assert len(asc) == len(desc) == 40
        by_cover = [r["days_of_cover"] for r in _all_rows(s, latest, sort=[("days_of_cover", "asc")])]
        assert by_cover == sorted(by_cover)
        by_accuracy = [r["accuracy"] for r in _all_rows(s, latest, sort=[("accuracy", "desc")])]
        assert by_accuracy == sorted(by_accuracy, reverse=True)
        by_status = [r["status"] for r in _all_rows(s, latest, sort=[("status", "asc")])]
        assert by_status == sorted(by_status, key=STATUSES.index)
        codes = [r["code"] for r in _all_rows(s, latest, sort=[("code", "desc")])]
        assert codes == sorted(codes, reverse=True)
        with pytest.raises(ValueError, match="sort"):
            w.query_skus(session=s, run_id=latest, sort=[("password", "asc")])
        with pytest.raises(ValueError, match="limit"):
            w.query_skus(session=s, run_id=latest, limit=0)
        with pytest.raises(ValueError, match="start"):
            w.query_skus(session=s, run_id=latest, start=-1)


def test_nulls_sort_last_and_serialise_as_none(portfolio) -> None:
    latest, _ = portfolio
    with session_scope() as s:
        first = s.scalar(select(SkuSnapshot.id).where(SkuSnapshot.run_id == latest).limit(1))
        s.execute(update(SkuSnapshot).where(SkuSnapshot.id == first).values(days_of_cover=None, wape=None))
    with session_scope() as s:
        asc = _all_rows(s, latest, sort=[("days_of_cover", "asc")])
        desc = _all_rows(s, latest, sort=[("days_of_cover", "desc")])
    assert asc[-1]["days_of_cover"] is None and desc[-1]["days_of_cover"] is None
    assert asc[-1]["accuracy"] is None


def test_csv_export_is_exactly_the_filtered_rows_and_formula_safe(portfolio) -> None:
    latest, _ = portfolio
    with session_scope() as s:
        sku = s.scalars(select(Sku).order_by(Sku.id)).first()
        sku.name = '=HYPERLINK("http://evil")'
        s.flush()
        snap = s.scalar(select(SkuSnapshot).where(SkuSnapshot.run_id == latest, SkuSnapshot.sku_id == sku.id))
        snap.status_reason = "+1 -2 @3"
        filters = w.GridFilters(status=(snap.status,))
        s.flush()
        text = w.export_csv(session=s, run_id=latest, filters=filters, sort=[("code", "asc")])
        expected = _all_rows(s, latest, filters, sort=[("code", "asc")])
        code = sku.code
        s.rollback()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [h for h, _ in w.EXPORT_COLUMNS]
    assert [r[0] for r in rows[1:]] == [r["code"] for r in expected]
    target = next(r for r in rows[1:] if r[0] == code)
    assert target[1] == '\'=HYPERLINK("http://evil")' and target[3] == "'+1 -2 @3"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), cell
            if cell.startswith("-"):
                float(cell)  # only negative numbers may start with a minus


def test_chart_data_follows_the_filters(portfolio) -> None:
    latest, _ = portfolio
    with session_scope() as s:
        everything = _all_rows(s, latest)
        cats = w.status_by_category(session=s, run_id=latest)
        assert sum(c.skus for c in cats) == 40
        assert sum(c.value_at_risk for c in cats) == pytest.approx(sum(r["value_at_risk"] or 0 for r in everything))
        one = everything[0]["category"]
        only = w.status_by_category(session=s, run_id=latest, filters=w.GridFilters(category=(one,)))
        assert {c.category for c in only} == {one}
        points = w.risk_points(session=s, run_id=latest)
        at_risk = [r for r in everything if (r["value_at_risk"] or 0) > 0]
        assert points.total_at_risk == len(at_risk) == len(points.rows)
        assert [p["code"] for p in points.rows] == [r["code"] for r in at_risk]
        few = w.risk_points(session=s, run_id=latest, limit=3)
        assert len(few.rows) == 3 and few.total_at_risk == len(at_risk)


def test_filter_options_and_top_risks(sqlite_portfolio) -> None:
    latest, _ = sqlite_portfolio
    with session_scope() as s:
        options = w.filter_options(session=s, run_id=latest)
        risks = w.top_risks(session=s, run_id=latest, limit=3)
        everything = _all_rows(s, latest)
    assert options["status"] == list(STATUSES)
    assert options["abc"] == ["A", "B", "C"]
    assert options["category"] == sorted({r["category"] for r in everything}, key=str.lower)
    assert [r["code"] for r in risks] == [r["code"] for r in everything[:3]]
    assert all(r["reason"] and r["value_at_risk"] > 0 for r in risks)


def test_commentary_falls_back_to_top_reasons(sqlite_portfolio, monkeypatch) -> None:
    latest, _ = sqlite_portfolio
    monkeypatch.setattr(w.narrative, "portfolio_commentary", lambda **_: None)
    with session_scope() as s:
        c = w.portfolio_commentary(session=s, run_id=latest)
    assert c.source == "snapshot" and c.items and c.items[0]["reason"]


def test_commentary_uses_the_narrative_service_when_present(sqlite_portfolio, monkeypatch) -> None:
    latest, _ = sqlite_portfolio

    class Narrative:
        text = "Twelve SKUs need attention."
        provider = "offline"

    monkeypatch.setattr(w.narrative, "portfolio_commentary", lambda *, session: Narrative())
    with session_scope() as s:
        c = w.portfolio_commentary(session=s, run_id=latest)
    assert (c.source, c.text, c.provider) == ("narrative", "Twelve SKUs need attention.", "offline")

    def broken(*, session):
        raise RuntimeError("model down")

    monkeypatch.setattr(w.narrative, "portfolio_commentary", broken)
    with session_scope() as s:
        assert w.portfolio_commentary(session=s, run_id=latest).source == "snapshot"


def test_recompute_cancel_request_is_audited_and_seen(sqlite_portfolio) -> None:
    since = utcnow() - dt.timedelta(seconds=1)
    with session_scope() as s:
        assert not w.recompute_cancel_requested(session=s, since=since)
        w.request_recompute_cancel(session=s, user="planner@example.com")
    with session_scope() as s:
        assert w.recompute_cancel_requested(session=s, since=since)
        assert not w.recompute_cancel_requested(session=s, since=utcnow() + dt.timedelta(seconds=5))


def test_latest_run_ignores_running_and_failed_runs(sqlite_portfolio) -> None:
    latest, _ = sqlite_portfolio
    from db.models import RecomputeRun

    with session_scope() as s:
        s.add(RecomputeRun(status="running"))
        s.add(RecomputeRun(status="failed", error="boom"))
    with session_scope() as s:
        assert runs.latest_run(session=s).id == latest
        assert runs.running_run(session=s) is not None
        assert runs.run_by_id(session=s, run_id=10_000).id == latest


def test_a_third_run_compares_with_the_second(sqlite_portfolio) -> None:
    latest, _ = sqlite_portfolio
    with session_scope() as s:
        newest = write_synthetic_run(s, seed=9, forecasts=False)
    with session_scope() as s:
        summary = w.kpi_summary(session=s)
    assert summary.run.id == newest and summary.previous.id == latest


def test_excel_export_holds_the_csv_rows_as_numbers_and_is_formula_safe(portfolio) -> None:
    latest, _ = portfolio
    with session_scope() as s:
        sku = s.scalars(select(Sku).order_by(Sku.id)).first()
        sku.name = '=HYPERLINK("http://evil")'
        s.flush()
        filters = w.GridFilters(status=(s.scalar(select(SkuSnapshot.status).where(SkuSnapshot.sku_id == sku.id)),))
        text = w.export_csv(session=s, run_id=latest, filters=filters, sort=[("code", "desc")])
        content = w.export_xlsx(session=s, run_id=latest, filters=filters, sort=[("code", "desc")])
        s.rollback()
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    header, *cells = book.get_sheet_by_index(0).to_python()
    rows = list(csv.reader(io.StringIO(text)))
    assert header == rows[0] and len(cells) == len(rows) - 1 > 0
    for got, want in zip(cells, rows[1:], strict=True):
        for value, expected in zip(got, want, strict=True):
            if isinstance(value, float):
                assert value == float(expected)  # a number cell, the CSV's value
            else:
                assert str(value) == expected
    assert '\'=HYPERLINK("http://evil")' in [r[1] for r in cells]
