"""Cycles page callbacks: close a cycle (planner), compare two (viewer), export the comparison as CSV (viewer).
Each is guarded on the server (auth.guard.guarded_callback)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email as _request_email
from core import formats
from db.models import utcnow
from db.session import session_scope
from layouts import cycles as page
from layouts._charts import blank_figure
from services import cycles
from services.errors import UserFacingError


def close(name: str | None, user: str | None) -> tuple[Any, Any, Any, Any, Any]:
    """Close a cycle; (message, options, options, A, B) with the new cycle as B and the one before as A."""
    try:
        with session_scope() as session:
            made = cycles.close_cycle(session=session, name=name, user=user, source="cycles page")
    except UserFacingError as exc:
        return html.Span(str(exc), className="text-danger"), no_update, no_update, no_update, no_update
    with session_scope() as session:
        found = cycles.list_cycles(session=session)
    options = page.cycle_options(found)
    a, b = page.default_pair(found)
    t = made.totals
    message = (
        f"Closed {made.name!r}: run {made.run_id}, {t['sku_count']:,} SKUs, demand {t['demand']:,.0f} units over "
        f"{t['horizon']} periods."
    )
    return html.Span(message, className="text-success"), options, options, a, b


@guarded_callback(
    "planner",
    Output(page.CLOSE_MESSAGE, "children"),
    Output(page.PICK_A, "options"),
    Output(page.PICK_B, "options"),
    Output(page.PICK_A, "value"),
    Output(page.PICK_B, "value"),
    Input(page.CLOSE_BUTTON, "n_clicks"),
    State(page.CLOSE_NAME, "value"),
    prevent_initial_call=True,
)
def close_cycle(n_clicks: int | None, name: str | None) -> tuple[Any, ...]:
    if not n_clicks:
        raise PreventUpdate
    return close(name, _request_email())


def view(a: Any, b: Any) -> tuple[Any, Any, Any, Any, Any]:
    """(waterfall, totals table, SKU rows, period figure, note) of cycles ``a`` and ``b``."""
    if a is None or b is None:
        note = "No cycle has been closed yet." if a is None and b is None else "Pick two cycles."
        return blank_figure(), None, [], blank_figure(), note
    try:
        with session_scope() as session:
            document = cycles.compare(session=session, a=a, b=b)
    except UserFacingError as exc:
        return blank_figure(), None, [], blank_figure(), html.Span(str(exc), className="text-danger")
    note = (
        f"A: {document['a']['name']} (run {document['a']['run_id']}, data through "
        f"{formats.fmt_date_prose(_date(document['a']['data_as_of']))}) · B: {document['b']['name']} (run "
        f"{document['b']['run_id']}, data through {formats.fmt_date_prose(_date(document['b']['data_as_of']))}) · "
        f"{document['sku_count']:,} SKUs"
    )
    return (
        page.waterfall_figure(document),
        page.totals_table(document),
        page.sku_rows(document),
        page.periods_figure(document),
        note,
    )


def _date(value: str | None) -> Any:
    return dt.date.fromisoformat(value) if value else None


@guarded_callback(
    "viewer",
    Output(page.WATERFALL, "figure"),
    Output(page.TOTALS, "children"),
    Output(page.SKU_GRID, "rowData"),
    Output(page.PERIODS, "figure"),
    Output(page.NOTE, "children"),
    Output(page.WATERFALL_BOX, "style"),
    Output(page.PERIODS_BOX, "style"),
    Input(page.PICK_A, "value"),
    Input(page.PICK_B, "value"),
)
def compare(a: Any, b: Any) -> tuple[Any, ...]:
    """The comparison; its charts are shown only when there is one (an empty chart stays hidden)."""
    out = view(a, b)
    shown = page.CHARTS_SHOWN if out[0].get("data") else page.CHARTS_HIDDEN
    return (*out, shown, shown)


def export_file(a: Any, b: Any) -> dict[str, Any] | None:
    """The comparison's per-SKU CSV (None when a cycle is missing)."""
    if a is None or b is None:
        return None
    try:
        with session_scope() as session:
            document = cycles.compare(session=session, a=a, b=b)
    except UserFacingError:
        return None
    name = f"cycles-{document['a']['id']}-vs-{document['b']['id']}-{formats.file_stamp(utcnow())}.csv"
    return dcc.send_string(cycles.compare_csv(document), filename=name, type="text/csv")


@guarded_callback(
    "viewer",
    Output(page.EXPORT_FILE, "data"),
    Input(page.EXPORT, "n_clicks"),
    State(page.PICK_A, "value"),
    State(page.PICK_B, "value"),
    prevent_initial_call=True,
)
def export(n_clicks: int | None, a: Any, b: Any) -> Any:
    if not n_clicks:
        raise PreventUpdate
    sent = export_file(a, b)
    if sent is None:
        raise PreventUpdate
    return sent
