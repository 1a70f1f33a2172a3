"""Orders page: layout (component tree), callbacks called directly, the SKU-page override form and the Watchtower's
FVA panel pieces, pure helpers, and the server-side guard over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import zipfile
from contextvars import copy_context
from typing import Any

import dash_ag_grid as dag
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from db.models import ForecastOverride, PurchaseOrder
from db.session import session_scope
from layouts import _ids as ids
from services import orders as svc
from tests.integration.test_orders import fast_forecast, run, seed  # noqa: F401  (fixture)
from tests.unit.test_watchtower_data import ensure_app

PLANNER = "planner@example.com"


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


@pytest.fixture
def portfolio(sqlite_db, fast_forecast) -> int:  # noqa: F811
    seed()
    return run()


@pytest.fixture
def page(portfolio):
    ensure_app()
    from layouts import orders

    return orders


@pytest.fixture
def cb(portfolio):
    ensure_app()
    from callbacks import orders

    return orders


def recommended_rows() -> list[dict[str, Any]]:
    from layouts.orders import order_row

    with session_scope() as s:
        return [order_row(o) for o in svc.list_orders(session=s, status="recommended")]


def status_of(order_id: int | str) -> str:
    with session_scope() as s:
        return s.get(PurchaseOrder, int(order_id)).status


# --- layout ----------------------------------------------------------------------------------------------------------


def test_layout_shows_the_recommendations_grouped_by_supplier(page) -> None:
    tree = page.layout()
    grid = by_id(tree, ids.ORDERS_GRID)
    assert isinstance(grid, dag.AgGrid)
    rows = recommended_rows()
    assert len(grid.rowData) == len(rows) == 6
    assert [r["supplier"] for r in grid.rowData] == sorted(r["supplier"] for r in grid.rowData)  # grouped
    assert grid.dashGridOptions["rowSelection"]["mode"] == "multiRow"
    suppliers = by_id(tree, ids.ORDERS_SUPPLIER_GRID).rowData
    assert {s["supplier"] for s in suppliers} == {r["supplier"] for r in rows}
    acme = next(s for s in suppliers if s["supplier"] == "Acme")
    assert acme["value"] == pytest.approx(sum(r["value"] for r in rows if r["supplier"] == "Acme"), abs=0.01)
    text = text_of(tree)
    assert "Recommended" in text and "6" in text
    # outside a request there is no planner: the action buttons are disabled, exports too (nothing approved)
    assert by_id(tree, ids.ORDERS_APPROVE).disabled is True
    assert by_id(tree, ids.ORDERS_EXPORT_CSV).disabled is True
    assert by_id(tree, ids.ORDERS_RECEIVE).disabled is True
    # ... and hidden, with a line that says who can act (no faded buttons without an explanation, issue 23)
    assert "Planners can approve" in text_of(by_id(tree, ids.ORDERS_VIEWER_NOTE))
    assert "Planners can mark orders received" in text_of(by_id(tree, ids.ORDERS_VIEWER_RECEIVE_NOTE))
    assert by_id(tree, ids.ORDERS_EXPORT_CSV).title == page.EXPORT_TITLE  # a faded export says why
    # the "Why" column: the reason in words with its numbers, the full arithmetic as the tooltip
    why = next(c for c in page.RECOMMENDED_COLUMNS if c["field"] == "why")
    assert why["tooltipField"] == "reason"
    assert all(r["why"] == svc.reason_summary(r["reason"]) for r in grid.rowData)
    assert any(r["why"].startswith("Below the reorder point ") for r in grid.rowData)


def test_layout_enables_actions_for_planners(page, monkeypatch) -> None:
    monkeypatch.setattr(page, "allowed", lambda role: True)
    tree = page.layout()
    for control in (ids.ORDERS_APPROVE, ids.ORDERS_REJECT, ids.ORDERS_EDIT_SAVE, ids.ORDERS_RECEIVE, ids.ORDERS_CANCEL):
        assert not by_id(tree, control).disabled
    assert not [c for c in walk(tree) if getattr(c, "id", None) == ids.ORDERS_VIEWER_NOTE]


def test_order_row_formats_links_and_edits(page) -> None:
    with session_scope() as s:
        order = svc.list_orders(session=s, status="recommended")[0]
        edited = svc.edit_quantity(session=s, order_id=order.id, qty=123, reason="pallet", user=PLANNER).order
    row = page.order_row(edited)
    assert row["id"] == str(order.id) and row["po_number"] == f"PO-{order.id:06d}"
    assert row["sku_link"].endswith(f"](/sku/{order.sku})") and "\\-" in row["sku_link"]  # markdown-escaped label
    assert row["edit_note"].startswith("pallet (recommended ") and row["qty"] == 123
    assert json.dumps(row)  # plain JSON values


# --- callbacks -------------------------------------------------------------------------------------------------------


def test_approve_reject_edit_receive_cancel(cb) -> None:
    rows = recommended_rows()
    first, second, third = rows[0], rows[1], rows[2]
    message, changed = cb.run_action("approve", selected=[first], approved_selected=None, user=PLANNER)
    assert changed and "Approved 1 order(s)" in message.children and status_of(first["id"]) == "approved"
    message, changed = cb.run_action("approve", selected=[first], approved_selected=None, user=PLANNER)
    assert not changed and message.color == "danger" and "it is approved" in message.children

    message, changed = cb.run_action("edit", selected=[second, third], approved_selected=None, qty=5, user=PLANNER)
    assert not changed and "exactly one" in message.children
    message, changed = cb.run_action(
        "edit", selected=[second], approved_selected=None, qty="40", reason="promo", user=PLANNER
    )
    assert changed and "-> 40" in message.children
    message, changed = cb.run_action(
        "reject", selected=[third], approved_selected=None, reject_reason="no", user=PLANNER
    )
    assert changed and status_of(third["id"]) == "rejected"
    message, changed = cb.run_action("approve", selected=[], approved_selected=None, user=PLANNER)
    assert not changed and "select at least one" in message.children

    approved = [{"id": first["id"]}]
    message, changed = cb.run_action(
        "receive", selected=None, approved_selected=approved, receive_date=svc.today().isoformat(), user=PLANNER
    )
    assert changed and "Received 1 order(s)" in message.children
    with session_scope() as s:
        got = s.get(PurchaseOrder, int(first["id"]))
        assert got.status == "received" and got.received_qty == first["qty"]  # blank quantity = as ordered
    message, changed = cb.run_action("cancel", selected=None, approved_selected=approved, user=PLANNER)
    assert not changed and "only approved" in message.children


def test_act_dispatches_on_the_button_and_bumps_the_refresh_counter(cb) -> None:
    row = recommended_rows()[0]

    def trigger():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{ids.ORDERS_APPROVE}.n_clicks", "value": 1}]))
        return cb.act(1, None, None, None, None, [row], None, None, None, None, None, None, 4, None)

    message, counter, reason, reject_reason, cancel_reason = copy_context().run(trigger)
    assert counter == 5 and reason is not None and "Approved" in message.children

    def untriggered():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": ".", "value": None}]))
        return cb.act(None, None, None, None, None, [row], None, None, None, None, None, None, 0)

    with pytest.raises(PreventUpdate):
        copy_context().run(untriggered)


def test_refresh_selection_supplier_and_export(cb) -> None:
    rows = recommended_rows()
    out = cb.refresh(1, "Acme")
    assert {r["supplier"] for r in out[0]} == {"Acme"} and out[1] == [] and out[6] is True  # nothing approved
    assert out[8] == [] and out[9] == []  # the ticks are cleared after a refresh
    text, qty = cb.selection([rows[0]])
    assert text.startswith("1 selected") and qty == rows[0]["qty"]
    text, qty = cb.selection([])
    assert "Tick orders" in text and qty is None
    assert cb.pick_supplier({"data": {"supplier": "Acme"}}) == "Acme"
    with pytest.raises(PreventUpdate):
        cb.pick_supplier(None)
    assert cb.export_file(per_supplier_zip=False) is None  # nothing approved yet
    cb.run_action("approve", selected=rows, approved_selected=None, user=PLANNER)
    payload = cb.export_file(per_supplier_zip=True)
    assert payload["filename"].endswith(".zip") and payload["base64"]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(payload["content"]))) as archive:
        assert len(archive.namelist()) == len({r["supplier"] for r in rows})
    assert cb.refresh(2, None)[6] is False


def test_override_form_saves_and_reports_errors(cb, monkeypatch) -> None:
    from layouts import _sku_panels as view

    monkeypatch.setattr(view, "allowed", lambda role: True)
    panel = view.override_panel("A-NEED")
    options = by_id(panel, ids.SKU_OVERRIDE_PERIODS).options
    assert by_id(panel, ids.SKU_OVERRIDE_SAVE).children == cb.OVERRIDE_SAVE_LABEL  # restored after the background job
    assert len(options) == 13 and "forecast" in options[0]["label"]
    first = options[0]["value"]
    message, history, new_options, chosen, reason = cb.save_override(
        code="A-NEED", periods=[first], qty="55", reason="trade fair", user=PLANNER
    )
    assert message.color == "success" and chosen == [] and reason == ""
    assert "override 55" in new_options[0]["label"] and "trade fair" in text_of(history)
    message, *rest = cb.save_override(code="A-NEED", periods=[first], qty="", reason="x", user=PLANNER)
    assert message.color == "danger" and "units per period" in message.children
    assert all(r is cb.no_update for r in rest)
    message, *_ = cb.save_override(code="A-NEED", periods=[first], qty=-3, reason="x", user=PLANNER)
    assert "cannot be negative" in message.children
    with session_scope() as s:
        rows = s.scalars(select(ForecastOverride)).all()
    assert [(r.qty, r.reason, r.user_email) for r in rows] == [(55, "trade fair", PLANNER)]


def test_override_form_hidden_for_viewers_and_lead_time_panel(page) -> None:
    from layouts import _sku_panels as panels

    panel = panels.override_panel("A-NEED")
    assert "needs the planner role" in text_of(panel)
    lead = panels.lead_time_panel("A-NEED")
    text = text_of(lead)
    assert "master-data lead time" in text and "0 of the 5 receipts" in text
    assert "PO-" in text  # its open recommended order


def test_fva_panel_and_callback(cb) -> None:
    from layouts import _fva_panel as view

    panel = view.fva_panel()
    assert by_id(panel, ids.WATCHTOWER_FVA_BY).value == "planner"
    content = cb.fva_by("category")
    assert "Backtest WAPE" in text_of(content) and "No overridden period" in text_of(content)
    with pytest.raises(PreventUpdate):
        cb.fva_by("supplier")


# --- pure helpers ----------------------------------------------------------------------------------------------------


def test_recommendation_reason_quotes_the_policy_numbers() -> None:
    row = {
        "recommended_qty": 120,
        "inventory_position": 30,
        "reorder_point": 50,
        "order_up_to": 140,
        "eoq": 60,
        "moq": 100,
        "order_multiple": 12,
        "forecast_per_period": 9.5,
    }
    text = svc.recommendation_reason(row, unit="week")
    assert text == (
        "Position 30 is at or below the reorder point 50; order-up-to: level 140 - position 30 = 110; "
        "rounded to MOQ 100 and multiple 12 -> 120; forecast 9.5 per week."
    )
    eoq_text = svc.recommendation_reason(row | {"eoq": 300, "recommended_qty": 300, "moq": 0, "order_multiple": 1})
    assert "reorder point with EOQ: lot 300 (above the order-up-to gap 110); -> 300" in eoq_text


def test_reason_summary_says_the_reason_in_words_with_its_numbers() -> None:
    row = {"recommended_qty": 696, "inventory_position": 150, "reorder_point": 198, "order_up_to": 400, "eoq": 696}
    assert svc.reason_summary(svc.recommendation_reason(row)) == "Below the reorder point 198: order the lot of 696"
    up_to = row | {"eoq": 60, "recommended_qty": 348, "order_up_to": 490, "moq": 0, "order_multiple": 12}
    assert svc.reason_summary(svc.recommendation_reason(up_to, unit="week")) == (
        "Below the reorder point 198: order 340 to bring stock up to 490, rounded to 348 for the multiple 12"
    )
    one_shot = {
        "one_shot": True,
        "recommended_qty": 348.0,
        "newsvendor_qty": 559.6,
        "inventory_position": 210.0,
        "forecast_per_period": 40.0,
        "critical_ratio": 0.625,
        "horizon_periods": 13,
        "moq": 24.0,
        "order_multiple": 12.0,
    }
    assert svc.reason_summary(svc.recommendation_reason(one_shot, unit="week")) == (
        "One-shot season buy: 520 expected over 13 weeks, 210 in hand: order 348"
    )
    assert svc.reason_summary("Planner's own order; see the note.") == "Planner's own order"  # other text: 1st clause
    assert svc.reason_summary(None) == ""


def test_order_by_date_and_pack_warnings() -> None:
    day = dt.date(2026, 1, 5)  # the start of the last data period; the first forecast period starts one period later
    assert svc.order_by_date(data_as_of=day, order_by_periods=0, grain="weekly") == dt.date(2026, 1, 12)  # now
    assert svc.order_by_date(data_as_of=day, order_by_periods=2, grain="weekly") == dt.date(2026, 1, 26)
    assert svc.order_by_date(data_as_of=day, order_by_periods=3, grain="daily") == dt.date(2026, 1, 9)
    assert svc.order_by_date(data_as_of=dt.date(2026, 1, 1), order_by_periods=1, grain="monthly") == dt.date(
        2026, 3, 1
    )  # calendar months
    assert svc.order_by_date(data_as_of=day, order_by_periods=1.2, grain="weekly") == dt.date(2026, 1, 26)  # up
    assert svc.order_by_date(data_as_of=day, order_by_periods=-1, grain="weekly") == dt.date(2026, 1, 12)
    assert svc.order_by_date(data_as_of=day, order_by_periods=float("nan"), grain="weekly") is None
    assert svc.order_by_date(data_as_of=None, order_by_periods=1, grain="weekly") is None
    assert svc.pack_warnings(qty=30, moq=50, order_multiple=12) == (
        "below the minimum order quantity 50",
        "not a multiple of the order multiple 12",
    )
    assert svc.pack_warnings(qty=48, moq=0, order_multiple=12) == ()


def test_newest_override_per_period_for_the_chart() -> None:
    from layouts._sku_panels import newest_per_period

    t0 = dt.datetime(2026, 1, 1)
    rows = [
        {"period": dt.date(2026, 2, 2), "qty": 5, "created_at": t0 + dt.timedelta(hours=2)},
        {"period": dt.date(2026, 2, 2), "qty": 9, "created_at": t0},
        {"period": dt.date(2026, 1, 26), "qty": 7, "created_at": t0},
    ]
    assert [(r["period"].day, r["qty"]) for r in newest_per_period(rows)] == [(26, 7), (2, 5)]


# --- over HTTP: the guard --------------------------------------------------------------------------------------------


def _approve_body(order_id: int) -> dict[str, Any]:
    from auth.guard import CALLBACK_KEY_ROLES

    key = next(k for k in CALLBACK_KEY_ROLES if f"{ids.ORDERS_MESSAGE}.children" in k and ids.ORDERS_REFRESH in k)
    row = {"id": str(order_id)}
    states = [
        (ids.ORDERS_GRID, "selectedRows", [row]),
        (ids.ORDERS_APPROVED_GRID, "selectedRows", None),
        (ids.ORDERS_EDIT_QTY, "value", None),
        (ids.ORDERS_EDIT_REASON, "value", None),
        (ids.ORDERS_REJECT_REASON, "value", None),
        (ids.ORDERS_RECEIVE_DATE, "date", None),
        (ids.ORDERS_RECEIVE_QTY, "value", None),
        (ids.ORDERS_REFRESH, "data", 0),
        (ids.ORDERS_CANCEL_REASON, "value", None),
    ]
    buttons = (ids.ORDERS_APPROVE, ids.ORDERS_REJECT, ids.ORDERS_EDIT_SAVE, ids.ORDERS_RECEIVE, ids.ORDERS_CANCEL)
    return {
        "output": key,
        "outputs": [
            {"id": ids.ORDERS_MESSAGE, "property": "children"},
            {"id": ids.ORDERS_REFRESH, "property": "data"},
            {"id": ids.ORDERS_EDIT_REASON, "property": "value"},
            {"id": ids.ORDERS_REJECT_REASON, "property": "value"},
            {"id": ids.ORDERS_CANCEL_REASON, "property": "value"},
        ],
        "inputs": [{"id": b, "property": "n_clicks", "value": 1 if b == ids.ORDERS_APPROVE else None} for b in buttons],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in states],
        "changedPropIds": [f"{ids.ORDERS_APPROVE}.n_clicks"],
    }


def test_only_planners_can_approve_over_http(client_as) -> None:
    with session_scope() as s:
        order = s.scalars(select(PurchaseOrder).where(PurchaseOrder.status == "recommended")).first()
        assert order is not None, "the demo recompute made no recommendation"
        order_id = order.id
    viewer = client_as("viewer")
    response = viewer.post("/_dash-update-component", json=_approve_body(order_id))
    assert response.status_code == 403 and status_of(order_id) == "recommended"
    planner = client_as("planner")
    assert planner.get("/orders").status_code == 200
    response = planner.post("/_dash-update-component", json=_approve_body(order_id))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert status_of(order_id) == "approved"
    with session_scope() as s:
        assert s.get(PurchaseOrder, order_id).approved_by == PLANNER


def test_override_save_runs_as_a_background_job_guarded_for_planners(client_as) -> None:
    """The save recomputes the SKU (seconds at 10,000 SKUs): a background callback that disables the button while it
    runs, still refused to a viewer by the server (403, audit-logged, nothing stored)."""
    from auth.guard import CALLBACK_KEY_ROLES
    from callbacks import orders as cb
    from db.models import AuditLog

    planner = client_as("planner")
    deps = planner.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if f"{ids.SKU_OVERRIDE_RESULT}.children" in d["output"])
    key = dep["output"]
    assert dep.get("background"), "the override save must be a background callback"
    assert CALLBACK_KEY_ROLES[key] == "planner"
    running, off = dep["running"]["running"], dep["running"]["runningOff"]
    assert running[f"{ids.SKU_OVERRIDE_SAVE}.disabled"] is True and off[f"{ids.SKU_OVERRIDE_SAVE}.disabled"] is False
    assert running[f"{ids.SKU_OVERRIDE_SAVE}.children"] == cb.OVERRIDE_RUNNING_LABEL == "Saving and recomputing SKU…"
    assert off[f"{ids.SKU_OVERRIDE_SAVE}.children"] == cb.OVERRIDE_SAVE_LABEL

    outputs = [
        {"id": ids.SKU_OVERRIDE_RESULT, "property": "children"},
        {"id": ids.SKU_OVERRIDE_HISTORY, "property": "children"},
        {"id": ids.SKU_OVERRIDE_PERIODS, "property": "options"},
        {"id": ids.SKU_OVERRIDE_PERIODS, "property": "value"},
        {"id": ids.SKU_OVERRIDE_REASON, "property": "value"},
    ]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": ids.SKU_OVERRIDE_SAVE, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": ids.SKU_CODE, "property": "data", "value": {"code": "ANY"}},
            {"id": ids.SKU_OVERRIDE_PERIODS, "property": "value", "value": ["2030-01-01"]},
            {"id": ids.SKU_OVERRIDE_QTY, "property": "value", "value": 5},
            {"id": ids.SKU_OVERRIDE_REASON, "property": "value", "value": "crafted"},
        ],
        "changedPropIds": [f"{ids.SKU_OVERRIDE_SAVE}.n_clicks"],
    }

    def denied() -> int:
        with session_scope() as s:
            rows = s.scalars(select(AuditLog).where(AuditLog.action == "callback.denied", AuditLog.target == key))
            return len(rows.all())

    before = denied()
    response = client_as("viewer").post("/_dash-update-component", json=body)
    assert response.status_code == 403
    assert denied() == before + 1
    with session_scope() as s:
        assert s.scalars(select(ForecastOverride).where(ForecastOverride.reason == "crafted")).first() is None
