"""Data page, Promotions tab: load the grid and export it (everyone), edit prices and promotions and delete rows
(planners; checked on the server by the guard). Messages and the grid refresh go through the Data page's shared
message area and version store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email
from callbacks.data import _EDIT_OUTPUTS, _alert, _changes, _edited, _new_value
from core import formats
from db.session import session_scope
from layouts import _ids as ids
from services import datatables
from services import promotions as svc


@guarded_callback("viewer", Output(ids.DATA_PROMOTIONS_GRID, "rowData"), Input(ids.DATA_VERSION, "data"))
def load_promotions(_version: int | None) -> list[dict[str, Any]]:
    with session_scope() as session:
        return svc.promotion_rows(session=session)


@guarded_callback(
    "viewer",
    Output(ids.DATA_PROMOTIONS_DOWNLOAD, "data"),
    Input(ids.DATA_PROMOTIONS_EXPORT, "n_clicks"),
    prevent_initial_call=True,
)
def export_promotions(n_clicks: int | None) -> dict:
    """The promotions as CSV in the import format (spreadsheet-safe)."""
    if not n_clicks:
        raise PreventUpdate
    with session_scope() as session:
        content = datatables.export_text(session=session, table="promotions")
    return {
        "content": content,
        "filename": f"promotions-{formats.file_stamp(dt.datetime.now(dt.UTC))}.csv",
        "type": "text/csv",
    }


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_PROMOTIONS_GRID, "cellValueChanged"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def edit_promotion(changes: list[dict] | None, version: int | None) -> tuple:
    edits = _changes(changes)

    def action(session: Any) -> str:
        for change in edits:
            svc.save_promotion(
                session=session,
                row_id=int(change["data"]["id"]),
                values={change["colId"]: _new_value(change)},
                user=request_email(),
            )
        return "Promotion saved; the next recompute uses it."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_PROMOTIONS_DELETE, "n_clicks"),
    State(ids.DATA_PROMOTIONS_GRID, "selectedRows"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def delete_promotions(n_clicks: int | None, selected: list[dict] | None, version: int | None) -> tuple:
    if not n_clicks:
        raise PreventUpdate
    if not selected:
        return _alert("Select rows first (the boxes on the left).", "warning"), no_update

    def action(session: Any) -> str:
        removed = svc.delete_promotions(session=session, ids=[int(r["id"]) for r in selected], user=request_email())
        return f"Deleted {removed:,} promotion row(s)."

    return _edited(version, action)
