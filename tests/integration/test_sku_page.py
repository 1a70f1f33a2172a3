"""SKU detail page and /sku search page: component trees and callbacks (called directly)."""

from __future__ import annotations

import datetime as dt

import pytest
from dash import dcc
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from db.models import ForecastOverride, Sku, SkuSnapshot
from db.session import session_scope
from layouts import _ids as ids
from tests.integration.test_watchtower_data import ensure_app, store_portfolio
from tests.integration.test_watchtower_page import by_id, has_id, text_of, walk


@pytest.fixture
def portfolio(sqlite_db):
    return store_portfolio()


@pytest.fixture
def page(portfolio):
    ensure_app()
    from layouts import sku

    return sku


@pytest.fixture
def index(portfolio):
    ensure_app()
    from layouts import sku_index

    return sku_index


@pytest.fixture
def cb(portfolio):
    ensure_app()
    from callbacks import sku

    return sku


def _sku(status: str | None = None) -> tuple[str, int]:
    with session_scope() as s:
        stmt = select(Sku.code, Sku.id).join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id).order_by(Sku.code)
        if status:
            stmt = stmt.where(SkuSnapshot.status == status)
        return tuple(s.execute(stmt).first())  # type: ignore[return-value]


def test_detail_page_shows_charts_status_policy_and_links(page) -> None:
    code, sku_id = _sku("stockout_risk")
    with session_scope() as s:
        s.add(
            ForecastOverride(sku_id=sku_id, period=dt.date(2030, 1, 7), qty=5, reason="Store event", user_email="a@b")
        )
    tree = page.layout(code=code)
    text = text_of(tree)
    assert code in text and "Stockout risk" in text and "at or below the reorder point" in text
    assert "Order " in text and "units" in text
    history = by_id(tree, ids.SKU_HISTORY_CHART).figure
    names = [t.get("name") for t in history["data"]]
    assert names == ["p10–p90 band", "Actual demand", "Backtest forecast", "Forecast", "Planner override"]
    projection = by_id(tree, ids.SKU_PROJECTION_CHART).figure
    shapes = [a["text"] for a in projection["layout"]["annotations"]]
    assert any(t.startswith("Reorder point") for t in shapes) and any(t.startswith("Safety stock") for t in shapes)
    for label in (
        "Demand pattern",
        "ABC / XYZ",
        "Service level",
        "Lead time",
        "Safety stock",
        "Reorder point",
        "EOQ",
        "Newsvendor quantity",
        "Reorder rule",
        "Backtest MASE",
        "chosen",
        "Store event",
    ):
        assert label in text, label
    hrefs = [getattr(c, "href", None) for c in walk(tree)]
    assert f"/risk?sku={code}" in hrefs and f"/profit?sku={code}" in hrefs
    assert has_id(tree, ids.SKU_COMMENTARY) and has_id(tree, ids.SKU_HEADER_ACTIONS)
    assert by_id(tree, ids.SKU_CODE).data["code"] == code
    assert by_id(tree, ids.SKU_ORDER_QTY).value >= 0


def test_unknown_code_is_a_friendly_not_found_with_search(page) -> None:
    tree = page.layout(code="NO%20SUCH")
    assert "SKU not found" in text_of(tree) and "NO SUCH" in text_of(tree)
    assert has_id(tree, ids.SKU_SEARCH) and not has_id(tree, ids.SKU_HISTORY_CHART)
    assert "SKU not found" in text_of(page.layout())


def test_sku_outside_the_snapshot_shows_history_only(page) -> None:
    with session_scope() as s:
        s.add(Sku(code="LATE-1", name="Added later"))
    tree = page.layout(code="LATE-1")
    assert "not in the latest snapshot" in text_of(tree)
    assert not has_id(tree, ids.SKU_PROJECTION_CHART)


def test_order_sentence_and_projection_note(page) -> None:
    from services.sku_detail import sku_detail

    code, _ = _sku("stockout_risk")
    with session_scope() as s:
        d = sku_detail(session=s, code=code)
    assert page.order_sentence(d).startswith("Order ")
    note = page.projection_note(d, d.projection)
    assert "Without a new order" in note
    assert page.projection_note(d, None) == ""
    assert page.model_name("croston_sba") == "Croston (SBA)" and page.model_name("new_model") == "New model"


def test_search_page_lists_the_top_risks(index) -> None:
    tree = index.layout()
    assert has_id(tree, ids.SKU_SEARCH)
    links = [c for c in walk(tree) if isinstance(c, dcc.Link)]
    assert 0 < len(links) <= index.TOP and all(link.href.startswith("/sku/") for link in links)
    assert "Highest value at risk" in text_of(tree)


def test_search_callbacks(cb) -> None:
    code, _ = _sku()
    options = cb.search_options(code.lower(), None, [])
    assert options[0]["value"] == code and code in options[0]["label"]
    kept = cb.search_options("zzzz-nothing", code, options[:1])
    assert kept == options[:1]  # the chosen SKU stays selectable
    with pytest.raises(PreventUpdate):
        cb.search_options("  ", None, [])
    assert cb.open_chosen(code) == f"/sku/{code}"
    assert cb.open_chosen("A/B") == "/sku/A%2FB"
    with pytest.raises(PreventUpdate):
        cb.open_chosen(None)


def test_commentary_callback(cb, monkeypatch) -> None:
    from services import sku_detail

    code, _ = _sku("stockout_risk")
    monkeypatch.setattr(sku_detail.narrative, "sku_commentary", lambda **_: None)
    card = cb.commentary({"code": code, "run_id": None})
    assert "Why this status" in text_of(card) and "reorder point" in text_of(card)
    monkeypatch.undo()
    card = cb.commentary({"code": code, "run_id": None})  # services.narrative exists: the AI package's panel
    assert has_id(card, {"type": "commentary-body", "scope": f"sku:{code}"})
    with pytest.raises(PreventUpdate):
        cb.commentary(None)
    with pytest.raises(PreventUpdate):
        cb.commentary({"code": "NO-SUCH"})


def test_what_if_reprojects_with_another_quantity(cb) -> None:
    code, _ = _sku("stockout_risk")
    data = {"code": code, "run_id": None}
    small, note_small = cb.what_if(0, data)
    big, note_big = cb.what_if(100_000, data)
    stock = next(t for t in small["data"] if str(t.get("name", "")).startswith("Projected stock"))
    stock_big = next(t for t in big["data"] if str(t.get("name", "")).startswith("Projected stock"))
    assert stock_big["y"][-1] == pytest.approx(stock["y"][-1] + 100_000)
    assert "An order of" not in note_small and "An order of 100,000" in note_big
    for bad in (None, "abc"):
        with pytest.raises(PreventUpdate):
            cb.what_if(bad, data)
    with pytest.raises(PreventUpdate):
        cb.what_if(5, {"code": "NO-SUCH"})


def test_choice_note_says_why_the_chosen_model_is_not_the_lowest() -> None:
    """Issue 23: the ensemble 14% worse than seasonal naive, with no explanation; now one sentence with the numbers
    and the engine's own rule (core.forecast.engine.SWITCH_MARGIN)."""
    from core.forecast.engine import SWITCH_MARGIN
    from layouts._sku_panels import choice_note
    from layouts.sku import model_name
    from services.sku_detail import ModelScore

    scores = [
        ModelScore("ensemble", 0.93, True),
        ModelScore("seasonal_naive", 0.82, False),
        ModelScore("ets", 1.1, False),
    ]
    note = choice_note(scores, model_name=model_name)
    assert "Seasonal naive" in note and "0.82" in note and "0.93" in note and "12%" in note
    assert f"{SWITCH_MARGIN:.0%} margin" in note
    assert choice_note([ModelScore("ets", 0.8, True), ModelScore("ensemble", 0.9, False)], model_name=model_name) == ""
    intermittent = [ModelScore("tsb", 1.0, True), ModelScore("ets", 0.7, False)]
    assert "intermittent" in choice_note(intermittent, model_name=model_name)
    assert choice_note([ModelScore("ensemble", None, True)], model_name=model_name) == ""


def test_heading_and_tab_title_do_not_repeat_the_name() -> None:
    from layouts.sku import heading_text

    assert heading_text("B-1", "Iced coffee 330 ml") == "Iced coffee 330 ml (B-1)"
    assert heading_text("Iced coffee 330 ml", "Iced coffee 330 ml") == "Iced coffee 330 ml"
    assert heading_text("B-1", None) == "B-1"
