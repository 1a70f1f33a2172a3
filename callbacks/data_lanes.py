"""Data page, Lanes tab: load the lanes grid and export it (everyone may read; lanes change through imports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dash import Input, Output
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from core import formats
from db.session import session_scope
from layouts import _ids as ids
from services import datatables
from services.ingest.lanes import lane_rows


@guarded_callback("viewer", Output(ids.DATA_LANES_GRID, "rowData"), Input(ids.DATA_VERSION, "data"))
def load_lanes(_version: int | None) -> list[dict[str, Any]]:
    with session_scope() as session:
        return lane_rows(session=session)


@guarded_callback(
    "viewer",
    Output(ids.DATA_LANES_DOWNLOAD, "data"),
    Input(ids.DATA_LANES_EXPORT, "n_clicks"),
    prevent_initial_call=True,
)
def export_lanes(n_clicks: int | None) -> dict:
    """The lanes as CSV in the import format (spreadsheet-safe)."""
    if not n_clicks:
        raise PreventUpdate
    with session_scope() as session:
        content = datatables.export_text(session=session, table="lanes")
    return {
        "content": content,
        "filename": f"lanes-{formats.file_stamp(dt.datetime.now(dt.UTC))}.csv",
        "type": "text/csv",
    }
