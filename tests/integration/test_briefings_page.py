"""Briefings page (component tree), its callbacks called directly, the Watchtower / SKU "Download briefing" buttons,
the preview fallbacks, and the download callback through Dash's HTTP endpoint (role checked on the server).

The tests on a database; the pure ones are in tests/unit/test_briefings_page.py.
"""

from __future__ import annotations

import base64
import json
from contextvars import copy_context
from typing import Any

import pytest
from dash import html
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from layouts import _ids as ids

UNICODE_NAME = "Café crème 東京"


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


def _unicode_code() -> str:
    from db.models import Sku
    from db.session import session_scope

    with session_scope() as session:
        return session.scalar(select(Sku.code).where(Sku.name == UNICODE_NAME))


def _decoded(sent: dict[str, Any]) -> bytes:
    assert sent["base64"] is True and sent["type"] == "application/pdf"
    return base64.b64decode(sent["content"])


# --------------------------------------------------------------------------------------------------------------------
# layout


def test_layout_lists_scopes_and_recent_briefings(demo_app) -> None:
    from db.session import session_scope
    from layouts import briefings as page
    from services import briefing as svc

    with session_scope() as session:
        made = svc.make_briefing(session=session, scope=svc.BriefingScope(), user="viewer@example.com")
        options = svc.scope_options(session=session)
    tree = page.layout()
    assert by_id(tree, ids.BRIEFINGS_KIND).value == "portfolio"
    assert by_id(tree, ids.BRIEFINGS_VALUE_WRAP).style == page.HIDDEN
    stored = by_id(tree, ids.BRIEFINGS_OPTIONS).data
    assert [o["value"] for o in stored["category"]] == options.categories
    assert [o["value"] for o in stored["abc"]] == options.abc
    rows = by_id(tree, ids.BRIEFINGS_GRID).rowData
    assert rows[0]["id"] == made.id and rows[0]["user"] == "viewer@example.com"
    assert rows[0]["scope"] == "Whole portfolio" and rows[0]["file_name"] == made.file_name
    assert by_id(tree, ids.BRIEFINGS_DOWNLOAD).disabled is True
    text = text_of(tree)
    assert f"run {options.run_id}" in text and "Make a briefing" in text


def test_layout_preselects_the_scope_from_the_url(demo_app) -> None:
    from layouts import briefings as page

    code = _unicode_code()
    tree = page.layout(sku=code)
    assert by_id(tree, ids.BRIEFINGS_KIND).value == "sku"
    dropdown = by_id(tree, ids.BRIEFINGS_VALUE)
    assert dropdown.value == code and dropdown.options == [{"label": code, "value": code}]
    tree = page.layout(category=["Beverages"])
    assert by_id(tree, ids.BRIEFINGS_KIND).value == "category"
    assert by_id(tree, ids.BRIEFINGS_VALUE_WRAP).style == page.SHOWN


def test_download_buttons_on_watchtower_and_sku_pages(demo_app) -> None:
    from db.session import session_scope
    from layouts import sku as sku_page
    from layouts import watchtower
    from services.runs import latest_run
    from services.sku_detail import sku_detail

    with session_scope() as session:
        run = latest_run(session=session)
        detail = sku_detail(session=session, code=_unicode_code())
    head = watchtower.header(run, planner=False, running=None)
    assert by_id(head, ids.WATCHTOWER_BRIEFING).children == "Download briefing"
    by_id(head, ids.WATCHTOWER_BRIEFING_FILE)
    head = sku_page.header(detail)
    assert by_id(head, ids.SKU_BRIEFING).children == "Download briefing"
    from dataclasses import replace

    assert not any(
        getattr(c, "id", None) == ids.SKU_BRIEFING for c in walk(sku_page.header(replace(detail, snapshot=None)))
    )


# --------------------------------------------------------------------------------------------------------------------
# callbacks


def test_pick_scope(demo_app) -> None:
    from callbacks import briefings as cb

    options = {"category": [{"label": "Snacks", "value": "Snacks"}], "location": [], "abc": []}
    kind = f"{ids.BRIEFINGS_KIND}.value"
    got = with_trigger(kind, cb.pick_scope, "category", None, options, "old", [])
    assert got == (options["category"], "Choose a category", {"display": "block"}, None)
    assert with_trigger(kind, cb.pick_scope, "portfolio", None, options, "x", [])[2] == {"display": "none"}
    search = f"{ids.BRIEFINGS_VALUE}.search_value"
    code = _unicode_code()
    found, *_ = with_trigger(search, cb.pick_scope, "sku", "crème", options, None, [])
    assert code in [o["value"] for o in found] and any(UNICODE_NAME in o["label"] for o in found)
    with pytest.raises(PreventUpdate):
        with_trigger(search, cb.pick_scope, "category", "sn", options, None, [])


def test_make_shows_the_preview_and_download_sends_it(demo_app) -> None:
    from callbacks import briefings as cb

    seen: list[Any] = []
    current, preview, result, disabled, rows = cb.make(seen.append, 1, "category", "Beverages")
    assert disabled is False and current["id"] == rows[0]["id"] and rows[0]["scope"] == "Category Beverages"
    assert any("drawing the PDF" in str(s) for s in seen)
    assert current["file_name"] in text_of(result)
    images = [c for c in walk(preview) if isinstance(c, html.Img)]
    texts = text_of(preview)
    assert (images and images[0].src.startswith("data:image/png;base64,")) or "no PDF renderer" in texts
    assert "Page 1 of" in texts or "pages" in texts

    sent = with_trigger(f"{ids.BRIEFINGS_DOWNLOAD}.n_clicks", cb.download, 1, None, current)
    pdf = _decoded(sent)
    assert pdf.startswith(b"%PDF") and sent["filename"] == current["file_name"]
    cell = {"colId": "download", "rowId": str(current["id"]), "value": "Download"}
    assert _decoded(with_trigger(f"{ids.BRIEFINGS_GRID}.cellClicked", cb.download, None, cell, None)) == pdf
    with pytest.raises(PreventUpdate):
        with_trigger(f"{ids.BRIEFINGS_GRID}.cellClicked", cb.download, None, {**cell, "colId": "scope"}, None)
    with pytest.raises(PreventUpdate):  # a pruned / unknown briefing
        with_trigger(f"{ids.BRIEFINGS_GRID}.cellClicked", cb.download, None, {**cell, "rowId": "999999"}, None)


def test_make_explains_a_missing_choice(demo_app) -> None:
    from callbacks import briefings as cb

    current, preview, result, disabled, rows = cb.make(lambda _: None, 1, "location", None)
    assert "Choose a location first." in text_of(result)
    assert current is cb.no_update and rows is cb.no_update
    with pytest.raises(PreventUpdate):
        cb.make(lambda _: None, 0, "portfolio", None)


def test_quick_download_buttons(demo_app) -> None:
    from callbacks import briefings as cb

    labels: list[Any] = []
    sent, note = cb.watchtower_briefing(labels.append, 1)
    assert _decoded(sent).startswith(b"%PDF") and sent["filename"].startswith("briefing-portfolio-")
    assert labels and "pages" in note
    code = _unicode_code()
    sent, note = cb.sku_briefing(labels.append, 1, {"code": code, "run_id": None})
    assert sent["filename"].startswith(f"briefing-sku-{code.lower()}")
    sent, note = cb.sku_briefing(labels.append, 1, {"code": "NOPE-1"})
    assert sent is cb.no_update and "No SKU" in text_of(note)


# --------------------------------------------------------------------------------------------------------------------
# preview fallbacks: a fresh machine without poppler or pypdfium2 still gets a preview


# --------------------------------------------------------------------------------------------------------------------
# over HTTP: the download callback checks the role on the server


def _dependency(client, output_id: str) -> dict[str, Any]:
    return next(d for d in client.get("/_dash-dependencies").get_json() if output_id in d["output"])


def _post(client, dep: dict[str, Any], values: dict[str, Any], changed: str):
    body = {
        "output": dep["output"],
        "outputs": {"id": dep["output"].rsplit(".", 1)[0], "property": dep["output"].rsplit(".", 1)[1]},
        "inputs": [dict(i, value=values.get(f"{i['id']}.{i['property']}")) for i in dep["inputs"]],
        "state": [dict(s, value=values.get(f"{s['id']}.{s['property']}")) for s in dep.get("state", [])],
        "changedPropIds": [changed],
    }
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def test_download_over_http_needs_a_signed_in_viewer(client_as, demo_app) -> None:
    from db.session import session_scope
    from services import briefing as svc

    with session_scope() as session:
        made = svc.make_briefing(session=session, scope=svc.BriefingScope(), user=None)
    values = {f"{ids.BRIEFINGS_DOWNLOAD}.n_clicks": 1, f"{ids.BRIEFINGS_CURRENT}.data": {"id": made.id}}
    changed = f"{ids.BRIEFINGS_DOWNLOAD}.n_clicks"
    viewer = client_as("viewer")
    response = _post(viewer, _dependency(viewer, f"{ids.BRIEFINGS_FILE}.data"), values, changed)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    sent = response.get_json()["response"][ids.BRIEFINGS_FILE]["data"]
    assert base64.b64decode(sent["content"]) == made.pdf
    anonymous = client_as(None)
    refused = _post(anonymous, _dependency(viewer, f"{ids.BRIEFINGS_FILE}.data"), values, changed)
    assert refused.status_code in (302, 401, 403)
    assert b"%PDF" not in refused.data and made.file_name.encode() not in refused.data


# the callbacks' scope rules and the preview fallback (they import the pages: the app must exist)


def test_scope_for(demo_app) -> None:
    from callbacks import briefings as cb
    from services.errors import UserFacingError

    assert cb.scope_for("portfolio", "ignored").key == "portfolio"
    assert cb.scope_for("abc", "b").key == "portfolio?abc=B"
    assert cb.scope_for("sku", " X-1 ").key == "sku:X-1"
    for kind in ("category", "sku"):
        with pytest.raises(UserFacingError, match="first"):
            cb.scope_for(kind, "  ")
    with pytest.raises(UserFacingError):
        cb.scope_for("supplier", "x")


def test_preview_without_any_renderer(demo_app, monkeypatch) -> None:
    from layouts.briefings import preview_view
    from reports import build_portfolio_briefing
    from reports.samples import sample_portfolio_briefing
    from services import briefing as svc

    pdf = build_portfolio_briefing(sample_portfolio_briefing())
    monkeypatch.setattr(svc.preview.shutil, "which", lambda _name: None)  # no pdftoppm
    monkeypatch.setitem(__import__("sys").modules, "pypdfium2", None)  # import fails
    preview = svc.render_preview(pdf=pdf, cover_lines=("Portfolio briefing", "Whole portfolio"))
    assert preview.png is None and preview.method == "text" and preview.page_count == svc.pdf_page_count(pdf) > 1
    text = text_of(preview_view(preview))
    assert f"{preview.page_count} pages" in text and "Portfolio briefing" in text and "Whole portfolio" in text
