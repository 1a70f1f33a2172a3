"""Watchtower layout (component tree) and callbacks (called directly), plus the server-side guard over HTTP."""

from __future__ import annotations

import json
from contextvars import copy_context
from typing import Any

import dash_ag_grid as dag
import pytest
from dash import dcc
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from db.models import STATUSES, AuditLog
from db.session import session_scope
from layouts import _ids as ids
from tests.integration.test_watchtower_data import ensure_app, store_portfolio


@pytest.fixture
def sqlite_portfolio(sqlite_db):
    return store_portfolio()


pytestmark = pytest.mark.usefixtures("sqlite_portfolio")


def walk(component: Any):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from walk(child)


def by_id(tree: Any, component_id: Any) -> Any:
    found = [c for c in walk(tree) if getattr(c, "id", None) == component_id]
    assert found, f"no component with id {component_id!r}"
    return found[0]


def has_id(tree: Any, component_id: Any) -> bool:
    return any(getattr(c, "id", None) == component_id for c in walk(tree))


def text_of(tree: Any) -> str:
    parts = []
    for c in walk(tree):
        children = getattr(c, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if isinstance(child, str | int | float):
                parts.append(str(child))
    return " ".join(parts)


def with_trigger(prop_id: str, func, *args):
    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))
        return func(*args)

    return copy_context().run(run)


@pytest.fixture
def page(sqlite_portfolio):
    ensure_app()
    from layouts import watchtower

    return watchtower


@pytest.fixture
def cb(sqlite_portfolio):
    ensure_app()
    from callbacks import watchtower

    return watchtower


def test_layout_has_kpis_filters_charts_and_the_infinite_grid(page) -> None:
    tree = page.layout()
    grid = by_id(tree, ids.WATCHTOWER_GRID)
    assert isinstance(grid, dag.AgGrid) and grid.rowModelType == "infinite"
    assert grid.columnDefs[0]["field"] == "code" and grid.columnDefs[0]["pinned"] == "left"
    assert grid.defaultColDef["sortable"] and grid.defaultColDef["resizable"]
    fields = [c["field"] for c in grid.columnDefs]
    for needed in (
        "status_label",
        "reason",
        "days_of_cover",
        "on_hand",
        "reorder_point",
        "recommended_qty",
        "value_at_risk",
        "accuracy",
    ):
        assert needed in fields
    for status in STATUSES:
        assert has_id(tree, {"type": ids.WATCHTOWER_STATUS_CARD, "status": status})
    text = text_of(tree)
    for label in ("Inventory value", "Value at risk", "Fill rate", "Turns", "Days of supply", "Forecast accuracy"):
        assert label in text
    assert "Changes vs" in text and "Snapshot " in text and "run #" in text
    assert by_id(tree, ids.WATCHTOWER_COMPARE).value == "previous"
    assert by_id(tree, ids.WATCHTOWER_COUNT).children == "All 40 SKUs"
    for cid, _ in page.FILTER_CONTROLS.values():
        assert by_id(tree, cid).value == []
    assert by_id(tree, ids.WATCHTOWER_CATEGORY_CHART).figure["data"] == []  # filled by refresh_charts
    assert has_id(tree, ids.WATCHTOWER_HEADER_ACTIONS) and has_id(tree, ids.WATCHTOWER_COMMENTARY)
    assert not has_id(tree, ids.WATCHTOWER_RECOMPUTE)  # no signed-in planner here


def test_layout_reads_filters_from_the_url(page) -> None:
    tree = page.layout(status=["surge", "nonsense"], category="Snacks", q="a")
    assert by_id(tree, ids.WATCHTOWER_STATUS).value == ["surge"]
    assert by_id(tree, ids.WATCHTOWER_SEARCH).value == "a"
    store = by_id(tree, ids.WATCHTOWER_FILTERS).data
    assert store["status"] == ["surge"] and store["search"] == "a"


def test_planner_sees_recompute_viewer_does_not(page, monkeypatch) -> None:
    monkeypatch.setattr(page, "allowed", lambda role: role == "planner")
    tree = page.layout()
    assert has_id(tree, ids.WATCHTOWER_RECOMPUTE) and has_id(tree, ids.WATCHTOWER_RECOMPUTE_CANCEL)
    assert has_id(tree, ids.WATCHTOWER_RECOMPUTE_PROGRESS)
    monkeypatch.setattr(page, "allowed", lambda role: False)
    assert not has_id(page.layout(), ids.WATCHTOWER_RECOMPUTE)


def test_empty_database_gives_a_friendly_state(page, sqlite_db) -> None:
    from tests.conftest import wipe

    wipe(sqlite_db)
    tree = page.layout()
    assert not has_id(tree, ids.WATCHTOWER_GRID)
    assert "no snapshot yet" in text_of(tree).lower()
    assert has_id(tree, ids.WATCHTOWER_URL) and has_id(tree, ids.WATCHTOWER_RELOAD)  # the recompute's state/output


def _run(page) -> dict:
    tree = page.layout()
    return by_id(tree, ids.WATCHTOWER_RUN).data


CARDS = [{"type": ids.WATCHTOWER_STATUS_CARD, "status": s} for s in STATUSES]


def _drive(cb, run, prop_id, *, reset=None, category=None, scatter=None, clicks=None, search="", values=None, cur=None):
    values = values or [[] for _ in cb.CONTROL_IDS]
    clicks = clicks or [0 for _ in CARDS]
    args = (reset, category, scatter, clicks, search, *values, cur, run, CARDS)
    return with_trigger(prop_id, cb.drive_filters, *args)


def _named(cb, out) -> dict:
    n = len(cb.CONTROL_IDS)
    named = dict(zip(cb.FILTER_NAMES, out[:n], strict=True))
    keys = ("search", "category_click", "scatter_click", "store", "url", "count", "pressed", "styles")
    return {**named, **dict(zip(keys, out[n:], strict=True))}


def test_one_round_sets_store_url_count_and_pressed_tiles(page, cb) -> None:
    """Issue 23: a status tile click gives the store, the URL, the count and the tiles' pressed state in one callback
    round (it used to take two server callbacks before the count moved)."""
    run = _run(page)
    card = json.dumps({"status": "stockout_risk", "type": ids.WATCHTOWER_STATUS_CARD}, separators=(",", ":"))
    clicks = [1 if c["status"] == "stockout_risk" else 0 for c in CARDS]
    out = _named(cb, _drive(cb, run, f"{card}.n_clicks", clicks=clicks))
    assert out["status"] == ["stockout_risk"] and out["store"]["status"] == ["stockout_risk"]
    assert out["url"] == "?status=stockout_risk" and "of 40 SKUs match" in out["count"]
    assert out["pressed"] == ["true" if c["status"] == "stockout_risk" else "false" for c in CARDS]
    assert "boxShadow" in out["styles"][0] and "boxShadow" not in out["styles"][1]
    # the control itself changing: same round, the control is not written back
    values = [[] for _ in cb.CONTROL_IDS]
    values[cb.FILTER_NAMES.index("status")] = ["stockout_risk"]
    out2 = _named(cb, _drive(cb, run, f"{ids.WATCHTOWER_STATUS}.value", values=values))
    assert out2["store"] == out["store"] and out2["status"] is dash_no_update()
    with pytest.raises(PreventUpdate):  # unchanged filters: nothing to do
        _drive(cb, run, f"{ids.WATCHTOWER_STATUS}.value", values=values, cur=out["store"])
    out3 = _named(cb, _drive(cb, run, f"{ids.WATCHTOWER_SEARCH}.value", search=" zzz ", cur=out["store"]))
    assert out3["url"] == "?q=zzz" and out3["store"]["search"] == "zzz" and out3["count"] == "0 of 40 SKUs match"


def dash_no_update():
    from dash import no_update

    return no_update


def test_refresh_charts_follows_the_filters(page, cb) -> None:
    run = _run(page)
    bars, scatter, note = cb.refresh_charts({}, run)
    assert bars["data"] and scatter["data"] and "at risk" in note
    assert sum(sum(t["x"]) for t in bars["data"]) == 40
    categories = set(bars["data"][0]["y"])
    bars, scatter, note = cb.refresh_charts({"status": ["stockout_risk"]}, run)
    # issue 23: every category keeps its bar and the scale; the SKUs outside the filter are one grey segment
    assert [t["name"] for t in bars["data"]] == ["Stockout risk", "Other SKUs"]
    assert set(bars["data"][0]["y"]) == categories and sum(sum(t["x"]) for t in bars["data"]) == 40
    assert all(t["name"] == "Stockout risk" for t in scatter["data"])
    for axis in ("xaxis", "yaxis"):  # at least a decade: tick labels stay
        low, high = scatter["layout"][axis]["range"]
        assert high - low >= 1
    bars, scatter, note = cb.refresh_charts({"search": "zzz-no-such-sku"}, run)
    assert [t["name"] for t in bars["data"]] == ["Other SKUs"]
    with pytest.raises(PreventUpdate):
        cb.refresh_charts({}, None)


def test_grid_rows_sorts_filters_and_pages_on_the_server(page, cb) -> None:
    run = _run(page)
    response = cb.grid_rows({"startRow": 0, "endRow": 10, "sortModel": []}, None, run)
    assert response["rowCount"] == 40 and len(response["rowData"]) == 10
    var = [r["value_at_risk"] for r in response["rowData"]]
    assert var == sorted(var, reverse=True)
    asc = cb.grid_rows({"startRow": 0, "endRow": 100, "sortModel": [{"colId": "code", "sort": "asc"}]}, None, run)
    codes = [r["code"] for r in asc["rowData"]]
    assert codes == sorted(codes) and len(codes) == 40
    filtered = cb.grid_rows({"startRow": 0, "endRow": 100}, {"status": ["normal"]}, run)
    assert filtered["rowCount"] == len(filtered["rowData"]) and {r["status"] for r in filtered["rowData"]} == {"normal"}
    page2 = cb.grid_rows({"startRow": 30, "endRow": 40, "sortModel": [{"colId": "code", "sort": "asc"}]}, None, run)
    assert [r["code"] for r in page2["rowData"]] == codes[30:40]
    json.dumps(response)  # serialisable (no NaN)
    with pytest.raises(PreventUpdate):
        cb.grid_rows(None, None, run)
    with pytest.raises(PreventUpdate):
        cb.grid_rows({"startRow": 0, "endRow": 10}, None, None)


def test_export_sends_the_filtered_rows_as_csv(page, cb) -> None:
    run = _run(page)
    sent = cb.export(1, {"status": ["normal"]}, run, {"sortModel": [{"colId": "code", "sort": "desc"}]})
    assert sent["filename"].endswith(".csv") and sent["type"] == "text/csv"
    lines = sent["content"].strip().splitlines()
    count = cb.grid_rows({"startRow": 0, "endRow": 100}, {"status": ["normal"]}, run)["rowCount"]
    assert len(lines) == count + 1 and lines[0].startswith("SKU,Name,Status")
    codes = [line.split(",")[0] for line in lines[1:]]
    assert codes == sorted(codes, reverse=True)
    with pytest.raises(PreventUpdate):
        cb.export(None, None, run, None)


def test_row_click_opens_the_sku(cb) -> None:
    assert cb.open_sku({"rowId": "A/1 x", "colId": "name"}) == "/sku/A%2F1%20x"
    with pytest.raises(PreventUpdate):
        cb.open_sku({"colId": "name"})


def test_controls_reset_chart_clicks_and_status_tiles(page, cb) -> None:
    run = _run(page)
    values = [[] for _ in cb.CONTROL_IDS]
    values[cb.FILTER_NAMES.index("status")] = ["surge"]
    values[cb.FILTER_NAMES.index("category")] = ["Snacks"]
    out = _named(cb, _drive(cb, run, f"{ids.WATCHTOWER_RESET}.n_clicks", reset=1, values=values))
    assert out["status"] == [] and out["category"] == [] and out["search"] is dash_no_update()
    # a status segment of a category bar: that status AND that category (issue 23); the same click again clears
    click = {"points": [{"y": "Snacks", "x": 3, "customdata": ["$10", "stockout_risk"]}]}
    prop = f"{ids.WATCHTOWER_CATEGORY_CHART}.clickData"
    out = _named(cb, _drive(cb, run, prop, category=click))
    assert out["category"] == ["Snacks"] and out["status"] == ["stockout_risk"] and out["category_click"] is None
    values = [[] for _ in cb.CONTROL_IDS]
    values[cb.FILTER_NAMES.index("status")] = ["stockout_risk"]
    values[cb.FILTER_NAMES.index("category")] = ["Snacks"]
    out = _named(cb, _drive(cb, run, prop, category=click, values=values))
    assert out["category"] == [] and out["status"] == []
    # the grey "Other SKUs" segment toggles the category only
    grey = {"points": [{"y": "Snacks", "x": 3, "customdata": ["", ""]}]}
    values = [[] for _ in cb.CONTROL_IDS]
    values[cb.FILTER_NAMES.index("category")] = ["Snacks", "Household"]
    out = _named(cb, _drive(cb, run, prop, category=grey, values=values))
    assert out["category"] == ["Household"] and out["status"] is dash_no_update()
    point = {"points": [{"customdata": ["B-00001", "Cola", "3 d", "$10"]}]}
    out = _named(cb, _drive(cb, run, f"{ids.WATCHTOWER_SCATTER}.clickData", scatter=point))
    assert out["search"] == "B-00001" and out["scatter_click"] is None
    card = json.dumps({"status": "surge", "type": ids.WATCHTOWER_STATUS_CARD}, separators=(",", ":"))
    values = [[] for _ in cb.CONTROL_IDS]
    values[cb.FILTER_NAMES.index("status")] = ["normal"]
    out = _named(cb, _drive(cb, run, f"{card}.n_clicks", clicks=[0, 1, 0, 0, 0, 0], values=values))
    assert out["status"] == ["normal", "surge"]
    with pytest.raises(PreventUpdate):
        _drive(cb, run, f"{ids.WATCHTOWER_SCATTER}.clickData", scatter={"points": []})


def test_compare_base_changes_the_change_lines(page, cb) -> None:
    run = _run(page)
    line_ids = [{"type": ids.WATCHTOWER_KPI_DELTA, "key": s} for s in ("stockout_risk", "fill_rate")]
    lines = cb.compare_kpis("previous", line_ids, run)
    assert len(lines) == 2
    for children in lines:  # a change worth reading, or nothing: never "no change"
        assert children == [] or "vs previous run" in children[-1]
    from db.session import session_scope
    from services import kpi_bases, runs

    with session_scope() as s:
        latest = runs.latest_run(session=s)
        week = kpi_bases.resolve(session=s, run=latest, key="week")
        cycle = kpi_bases.resolve(session=s, run=latest, key="cycle:999999")
    assert cycle.run is None  # an unknown cycle: no base, so no change lines
    weekly = cb.compare_kpis("week", line_ids, run)
    if week.run is None:
        assert weekly == [[], []]
    else:
        assert (latest.finished_at - week.run.finished_at).days >= 7
        assert all(c == [] or c[-1] == " vs last week" for c in weekly)


def test_commentary_panel_shows_top_risks_without_the_narrative(page, cb, monkeypatch) -> None:
    from services import watchtower as svc

    monkeypatch.setattr(svc.narrative, "portfolio_commentary", lambda **_: None)
    card = cb.commentary("note", _run(page), None)
    text = text_of(card)
    assert "Top risks by value at risk" in text and "at risk" in text
    links = [c for c in walk(card) if isinstance(c, dcc.Link)]
    assert links and links[0].href.startswith("/sku/")


def test_commentary_panel_uses_the_narrative_service(page, cb) -> None:
    pytest.importorskip("services.narrative")
    card = cb.commentary("note", _run(page), None)
    body = by_id(card, {"type": "commentary-body", "scope": "portfolio"})
    assert "Written by" in text_of(body)
    assert "Portfolio commentary" in text_of(card)
    with pytest.raises(PreventUpdate):  # written once per page, not again on every filter change
        cb.commentary("another note", _run(page), card.to_plotly_json())


class _Summary:
    def __init__(self, status: str) -> None:
        self.status, self.sku_count, self.seconds = status, 40, 2.0


def test_recompute_reports_progress_and_reloads(cb, monkeypatch) -> None:
    import services.jobs as jobs
    import services.recompute as rec

    calls: dict[str, Any] = {}

    def fake(*, session, triggered_by, progress, cancel):
        calls["by"] = triggered_by
        progress(0.5, "computing batch 1 of 2")
        calls["cancel"] = cancel()
        return _Summary("finished")

    monkeypatch.setattr(jobs, "recompute_portfolio", fake)
    seen = []
    href, message = cb.run_recompute(seen.append, 1, "?status=surge")
    assert href == "/?status=surge" and "40 SKUs" in message
    assert seen == [(50, "50% · computing batch 1 of 2")] and calls["cancel"] is False

    monkeypatch.setattr(jobs, "recompute_portfolio", lambda **kw: _Summary("cancelled"))
    href, message = cb.run_recompute(seen.append, 1, "")
    assert href is cb.no_update and "cancelled" in str(message.children).lower()

    def failing(**kw):
        raise rec.RecomputeError("recompute failed (run 9): no demand", run_id=9)

    monkeypatch.setattr(jobs, "recompute_portfolio", failing)
    href, message = cb.run_recompute(seen.append, 1, "")
    assert href is cb.no_update and "no demand" in message.children
    with pytest.raises(PreventUpdate):
        cb.run_recompute(seen.append, 0, "")


def test_cancel_is_recorded_and_seen_by_the_job(cb, monkeypatch) -> None:
    import services.jobs as jobs

    assert cb.cancel_recompute(1) == "Cancelling…"
    with session_scope() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "recompute.cancel_requested")) is not None

    seen: dict[str, bool] = {}

    def fake(*, session, triggered_by, progress, cancel):
        seen["cancel"] = cancel()
        return _Summary("finished")

    monkeypatch.setattr(jobs, "recompute_portfolio", fake)
    cb.run_recompute(lambda _: None, 1, "")
    assert seen["cancel"] is False  # a cancel from before the job started does not stop it


def test_count_and_scatter_notes(page) -> None:
    assert page.count_text(40, 40) == "All 40 SKUs"
    assert page.count_text(3, 10_000) == "3 of 10,000 SKUs match"
    assert "top 1,500 of 2,000" in page.scatter_note(2000, 1500)
