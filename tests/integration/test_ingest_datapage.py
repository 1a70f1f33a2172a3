"""Data page: layout per role (component tree), callbacks called directly, the guard over HTTP."""

from __future__ import annotations

import base64
import json
from contextvars import copy_context
from typing import Any

import dash_ag_grid as dag
import pytest
from dash import dcc
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from db.models import AuditLog, Demand, Sku
from db.session import session_scope
from layouts import _ids as ids


def ensure_app():
    from tests.conftest import _APP

    if "app" not in _APP:
        from app import create_app

        _APP["app"] = create_app()
    return _APP["app"]


def walk(component: Any):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from walk(child)


def has_id(tree: Any, component_id: Any) -> bool:
    return any(getattr(c, "id", None) == component_id for c in walk(tree))


def by_id(tree: Any, component_id: Any) -> Any:
    found = [c for c in walk(tree) if getattr(c, "id", None) == component_id]
    assert found, component_id
    return found[0]


def text_of(tree: Any) -> str:
    parts = []
    for c in walk(tree):
        children = getattr(c, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if isinstance(child, str | int | float):
                parts.append(str(child))
    return " ".join(parts)


def triggered(prop_id: str, func, *args):
    def run():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))
        return func(*args)

    return copy_context().run(run)


def data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


@pytest.fixture
def page(sqlite_db):
    ensure_app()
    from layouts import data

    return data


@pytest.fixture
def cb(sqlite_db):
    ensure_app()
    from callbacks import data

    return data


def test_viewer_sees_tables_and_exports_only(page) -> None:
    tree = page.layout()
    for present in (
        ids.DATA_SKU_GRID,
        ids.DATA_STOCK_GRID,
        ids.DATA_DEMAND_GRID,
        ids.DATA_IMPORTS_GRID,
        ids.DATA_COUNTS,
        {"type": ids.DATA_EXPORT, "table": "skus"},
        ids.DATA_DOWNLOAD,
    ):
        assert has_id(tree, present), present
    for absent in (ids.DATA_UPLOAD, ids.DATA_IMPORT, ids.DATA_ADD_SKU, ids.DATA_DELETE_SKUS, ids.DATA_RESET):
        assert not has_id(tree, absent), absent
    assert not any(c.get("editable") for c in by_id(tree, ids.DATA_SKU_GRID).columnDefs)
    assert "planner role" in text_of(tree) and "0 SKUs" in text_of(tree)


def test_planner_gets_upload_and_editing_admin_gets_the_danger_zone(page, monkeypatch) -> None:
    monkeypatch.setattr(page, "allowed", lambda role: role in ("viewer", "planner"))
    tree = page.layout()
    upload = by_id(tree, ids.DATA_UPLOAD)
    assert isinstance(upload, dcc.Upload) and upload.max_size == 200 * 1024 * 1024
    assert by_id(tree, ids.DATA_KIND).value == "demand" and by_id(tree, ids.DATA_ON_ERROR).value == "reject"
    assert by_id(tree, ids.DATA_IMPORT).disabled is True
    grid = by_id(tree, ids.DATA_SKU_GRID)
    assert isinstance(grid, dag.AgGrid) and any(c.get("editable") for c in grid.columnDefs)
    assert "up to 200 MB" in text_of(tree) and "service_level" in text_of(tree)  # format help from the importer
    assert not has_id(tree, ids.DATA_RESET)
    monkeypatch.setattr(page, "allowed", lambda role: True)
    assert has_id(page.layout(), ids.DATA_RESET)


def test_upload_check_then_import(cb) -> None:
    csv = "date,sku,quantity\n2024-01-01,A,5\n2024-01-08,A,6\n2024-01-01,B,1\n2024-01-08,B,x\n"
    staged, message, contents = cb.stage_upload(data_url(csv), "weekly.csv", "demand", None)
    assert staged["file_name"] == "weekly.csv" and contents is None and "Received weekly.csv" in text_of(message)
    progress: list[Any] = []
    preview, disabled, label, report, *_ = cb.check_upload(progress.append, staged, "demand", "reject", True, None)
    assert disabled is True and report.endswith("-errors.csv")
    assert "cannot be imported" in text_of(preview) and "line 5" in text_of(preview)
    preview, disabled, label, report, *_ = cb.check_upload(progress.append, staged, "demand", "skip", True, None)
    assert disabled is False and label == "Import 3 rows" and "Ready to import" in text_of(preview)
    assert "weekly" in text_of(preview) and "2024-01-01 to 2024-01-08" in text_of(preview)
    assert progress and progress[-1][0] <= 60
    progress.clear()
    summary, version, next_staged, report = cb.run_import(progress.append, 1, staged, "demand", "skip", True, None, 4)
    assert version == 5 and next_staged is None and report.startswith("batch-")
    # issue 23: an import followed by its recompute shows both stages, in order
    stages = [text for _, text in progress]
    assert any("Step 1 of 2 · import" in t for t in stages) and any("Step 2 of 2 · recompute" in t for t in stages)
    first_recompute = next(i for i, t in enumerate(stages) if "Step 2 of 2" in t)
    assert all("Step 1 of 2" in t for t in stages[:first_recompute])
    assert "3 inserted" in text_of(summary) and "2 SKUs created" in text_of(summary)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Demand)) == 3
    download = cb.download_report(1, report)
    assert download["filename"] == report and base64.b64decode(download["content"]).startswith(b"line,column")
    assert cb.check_upload(progress.append, None, "demand", "reject", False, None)[0] is None
    with pytest.raises(PreventUpdate):
        cb.options_changed("skus", "reject", False, None, False, None)
    assert cb.options_changed("skus", "reject", False, None, False, {"token": "t"})["token"] == "t"
    skus, stock, imports, counts = cb.load_tables(5)
    assert [s["sku"] for s in skus] == ["A", "B"] and stock == [] and imports[0]["rows_inserted"] == 3
    assert "3 demand rows" in " ".join(b.children for b in counts)


def test_oversized_or_undecodable_uploads_are_refused(cb, monkeypatch) -> None:
    from services.ingest import uploads

    monkeypatch.setattr(uploads, "limit_bytes", lambda: 10)
    staged, message, _ = cb.stage_upload(data_url("date,sku,quantity\n2024-01-01,A,1\n"), "big.csv", "demand", None)
    assert staged is None and "limit is" in text_of(message)
    with pytest.raises(PreventUpdate):
        cb.stage_upload(None, None, "demand", None)


def test_grid_edits_adds_deletes_use_the_import_rules(cb) -> None:
    ok, version = cb.add_sku(1, "S1", "Widget", "Tools", "2.5", None, "21", 0)
    assert "Added SKU S1" in text_of(ok) and version == 1
    bad, _ = cb.add_sku(1, "S2", None, None, "-3", None, None, 1)
    assert "unit_cost: negative value" in text_of(bad)
    skus, *_ = cb.load_tables(2)
    row = skus[0]
    change = [{"colId": "service_level", "newValue": "97%", "oldValue": 0.95, "data": row}]
    assert "Saved S1" in text_of(cb.edit_sku(change, 2)[0])
    change = [{"colId": "service_level", "newValue": "1.5", "oldValue": 0.97, "data": row}]
    assert "value out of range" in text_of(cb.edit_sku(change, 3)[0])
    with session_scope() as session:
        assert session.scalar(select(Sku.service_level_target)) == pytest.approx(0.97)
    assert "Added a stock position" in text_of(cb.add_stock(1, "S1", "4", None, "2024-05-01", 4)[0])
    assert "Added demand" in text_of(cb.add_demand(1, "S1", "2024-05-06", "3", 5)[0])
    (demand_row,) = cb.load_demand("S1", 6)
    assert "Demand saved" in text_of(cb.edit_demand([{"colId": "quantity", "newValue": "8", "data": demand_row}], 6)[0])
    assert cb.demand_sku_options("s", None) == [{"label": "S1", "value": "S1"}]
    warn, version = cb.delete_skus(1, [], 7)
    assert "Select rows first" in text_of(warn)
    assert "Deleted 1 row" in text_of(cb.delete_skus(1, [row], 7)[0])
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Demand)) == 0
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-1] == "data.delete" and "data.edit" in actions


def test_exports_and_reset(cb) -> None:
    refused, _ = cb.add_sku(1, "=EVIL()", None, None, None, None, None, 0)
    assert "'=' is not allowed in a SKU code" in text_of(refused)  # codes keep to a safe alphabet (issue 16)
    cb.add_sku(1, "EVIL-1", "=EVIL()", None, None, None, None, 0)
    sent = triggered(json.dumps({"table": "skus", "type": ids.DATA_EXPORT}) + ".n_clicks", cb.export, [1], None, None)
    assert sent["filename"].startswith("skus-") and "\nEVIL-1,'=EVIL()," in sent["content"]
    message, href = cb.reset(1, "please")
    assert "type RESET" in text_of(message) and href is not None and href.__class__.__name__ == "NoUpdate"
    message, href = cb.reset(1, "RESET")
    assert "Factory reset done" in text_of(message) and href == "/data"
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Sku)) == 0


def test_the_server_refuses_planner_and_admin_callbacks_to_a_viewer(client_as) -> None:
    viewer = client_as("viewer")
    for output, role in ((f"{ids.DATA_STAGED}.data", "planner"), (f"{ids.DATA_RESET_RESULT}.children", "admin")):
        body = {
            "output": output,
            "outputs": {"id": output.split(".")[0], "property": output.split(".")[1]},
            "inputs": [],
            "changedPropIds": [],
        }
        response = viewer.post("/_dash-update-component", json=body)
        assert response.status_code == 403 and role in response.get_json()["error"]["message"]
    assert client_as("viewer").get("/data").status_code == 200


def test_near_duplicates_need_the_tick_and_full_extract_changes_the_preview(cb) -> None:
    setup = "sku,name,unit_cost\nGS-1,Lemonade 1.5 l,1\nGS-2,Orange juice,1\n"
    staged, *_ = cb.stage_upload(data_url(setup), "master.csv", "skus", None)
    cb.run_import(lambda *_: None, 1, staged, "skus", "reject", False, None, 0)
    history = "date,sku,quantity\n2026-11-09,GS-1,1\n2026-11-16,GS-1,3\n2026-11-09,GS-2,2\n2026-11-16,GS-2,4\n"
    staged, *_ = cb.stage_upload(data_url(history), "history.csv", "demand", None)
    cb.run_import(lambda *_: None, 1, staged, "demand", "reject", False, None, 0)
    csv = "date,product_name,demand\n2026-11-23,LEMONADE 1.5 L,5\n2026-11-23,Orange juise,2\n"
    staged, *_ = cb.stage_upload(data_url(csv), "names.csv", "demand", None)
    out = cb.check_upload(lambda *_: None, staged, "demand", "reject", True, None, False)
    preview, disabled, label, _report, _msg, style, confirm, state, *_sheet = out
    text = text_of(preview)
    assert disabled is True and style == {"display": "block"} and confirm is False
    assert state == {"can_import": True, "needs_confirm": True} and label == "Import 2 rows"
    assert "'Orange juise' is close to" in text and "GS-2 'Orange juice'" in text
    assert "1 product name matched to existing SKUs" in text
    assert "1 active SKU not in this file" in text and "nothing is recorded for them" in text
    assert cb.confirm_changed(True, state) is False and cb.confirm_changed(False, state) is True
    refused, *_ = cb.run_import(lambda *_: None, 1, staged, "demand", "reject", True, None, 0, False, False)
    assert "close to existing SKU names" in text_of(refused)
    full = cb.check_upload(lambda *_: None, staged, "demand", "reject", True, None, True)
    assert "will be recorded as zero sales for the week of 2026-11-23" in text_of(full[0]), text_of(full[0])
    summary, *_ = cb.run_import(lambda *_: None, 1, staged, "demand", "reject", True, None, 0, True, True)
    assert "3 inserted" in text_of(summary) and "1 SKUs created" in text_of(summary)
    with session_scope() as session:
        created = session.scalar(select(Sku).where(Sku.code == "Orange juise"))
        assert created.defaulted_fields == "unit_cost,category,lead_time_days,supplier"
