"""Data page, Resources tab: load the capacity grid (everyone), export it (everyone), add / edit / delete rows
(planners). The rules are the import's (services.supply.resources); the messages and the grid refresh go through the
Data page's shared message area and version store."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from dash import Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email
from callbacks.data import _EDIT_OUTPUTS, _alert, _changes, _edited, _new_value
from core import formats
from db.session import session_scope
from layouts import _ids as ids
from services import datatables
from services.supply import resources as svc
from services.xlsx_export import XLSX_TYPE


@guarded_callback(
    "viewer",
    Output(ids.DATA_RESOURCES_GRID, "rowData"),
    Input(ids.DATA_VERSION, "data"),
)
def load_resources(_version: int | None) -> list[dict[str, Any]]:
    with session_scope() as session:
        return svc.capacity_rows(session=session)


@guarded_callback(
    "viewer",
    Output(ids.DATA_RESOURCES_DOWNLOAD, "data"),
    Input(ids.DATA_RESOURCES_EXPORT, "n_clicks"),
    prevent_initial_call=True,
)
def export_resources(n_clicks: int | None) -> dict:
    """The capacities as CSV in the import format (spreadsheet-safe)."""
    if not n_clicks:
        raise PreventUpdate
    with session_scope() as session:
        content = svc.export_text(session=session)
    return {
        "content": content,
        "filename": f"resources-{formats.file_stamp(dt.datetime.now(dt.UTC))}.csv",
        "type": "text/csv",
    }


@guarded_callback(
    "viewer",
    Output(ids.DATA_RESOURCES_DOWNLOAD, "data", allow_duplicate=True),
    Input(ids.DATA_RESOURCES_EXPORT_XLSX, "n_clicks"),
    prevent_initial_call=True,
)
def export_resources_workbook(n_clicks: int | None) -> dict:
    """The capacities as an Excel workbook (the import's columns; numbers and dates typed, formula-safe text)."""
    if not n_clicks:
        raise PreventUpdate
    buffer = io.BytesIO()
    with session_scope() as session:
        datatables.export_workbook(session=session, table="resources", target=buffer)
    stamp = formats.file_stamp(dt.datetime.now(dt.UTC))
    return dcc.send_bytes(buffer.getvalue(), filename=f"resources-{stamp}.xlsx", type=XLSX_TYPE)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_RESOURCES_GRID, "cellValueChanged"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def edit_resource(changes: list[dict] | None, version: int | None) -> tuple:
    edits = _changes(changes)

    def action(session: Any) -> str:
        for change in edits:
            svc.save_capacity(
                session=session,
                values={change["colId"]: _new_value(change)},
                user=request_email(),
                row_id=int(change["data"]["id"]),
            )
        return "Capacity saved."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_RESOURCES_ADD, "n_clicks"),
    State(ids.DATA_ADD_RESOURCE_NAME, "value"),
    State(ids.DATA_ADD_RESOURCE_PERIOD, "value"),
    State(ids.DATA_ADD_RESOURCE_CAPACITY, "value"),
    State(ids.DATA_ADD_RESOURCE_OVERTIME, "value"),
    State(ids.DATA_ADD_RESOURCE_OVERTIME_COST, "value"),
    State(ids.DATA_ADD_RESOURCE_REGULAR_COST, "value"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def add_resource(
    n_clicks: int | None,
    name: str | None,
    period: str | None,
    capacity: Any,
    overtime: Any,
    overtime_cost: Any,
    regular_cost: Any,
    version: int | None,
) -> tuple:
    if not n_clicks:
        raise PreventUpdate
    values = {
        "resource": name or "",
        "period": period or "",
        "capacity": "" if capacity is None else capacity,
        "overtime_capacity": overtime,
        "overtime_cost": overtime_cost,
        "regular_cost": regular_cost,
    }
    values = {k: v for k, v in values.items() if v is not None}

    def action(session: Any) -> str:
        row = svc.save_capacity(session=session, values=values, user=request_email())
        return f"Added capacity for {row.resource.name} from {row.period.isoformat()}."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_RESOURCES_DELETE, "n_clicks"),
    State(ids.DATA_RESOURCES_GRID, "selectedRows"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def delete_resources(n_clicks: int | None, selected: list[dict] | None, version: int | None) -> tuple:
    if not n_clicks:
        raise PreventUpdate
    if not selected:
        return _alert("Select rows first (the boxes on the left).", "warning"), no_update

    def action(session: Any) -> str:
        removed = svc.delete_capacities(session=session, ids=[int(r["id"]) for r in selected], user=request_email())
        return f"Deleted {removed:,} capacity row(s)."

    return _edited(version, action)
