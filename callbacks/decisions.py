"""Decisions page callbacks: the filtered log and its CSV (viewer; guarded on the server)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from core import formats
from db.models import utcnow
from db.session import session_scope
from layouts import decisions as page
from services import decisions
from services.csv_safety import neutralise
from services.errors import UserFacingError

CSV_FIELDS = ["id", "at", "kind", "sku", "user", "what", "before", "after", "outcome_state", "outcome"]


def _day(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise UserFacingError(f"a date must be YYYY-MM-DD, got {str(value)[:20]!r}") from None


def find(kind: Any, sku: Any, user: Any, start: Any, end: Any, outcome: Any) -> list[dict[str, Any]]:
    """The decisions matching the page's filters, as grid rows (:meth:`services.decisions.Decision.row`)."""
    with session_scope() as session:
        found = decisions.list_decisions(
            session=session,
            kind=kind or None,
            sku=(str(sku).strip() or None) if sku else None,
            user=user or None,
            date_from=_day(start),
            date_to=_day(end),
            outcome=outcome or None,
            limit=decisions.MAX_LIMIT,
        )
    return [d.row() for d in found]


def view(kind: Any, sku: Any, user: Any, start: Any, end: Any, outcome: Any) -> tuple[list[dict[str, Any]], Any]:
    """(grid rows, note) for the filters; a bad filter is a message, never a traceback."""
    try:
        rows = find(kind, sku, user, start, end, outcome)
    except UserFacingError as exc:
        return [], html.Span(str(exc), className="text-danger")
    known = sum(1 for r in rows if r["outcome_state"] == "known")
    pending = sum(1 for r in rows if r["outcome_state"] == "pending")
    note = (
        f"{len(rows):,} decision{'s' if len(rows) != 1 else ''}: {known:,} with a known outcome, {pending:,} pending."
    )
    return page.grid_rows(rows), note


@guarded_callback(
    "viewer",
    Output(page.GRID, "rowData"),
    Output(page.NOTE, "children"),
    Input(page.KIND, "value"),
    Input(page.SKU, "value"),
    Input(page.USER, "value"),
    Input(page.DATE_FROM, "value"),
    Input(page.DATE_TO, "value"),
    Input(page.OUTCOME, "value"),
)
def refresh(kind: Any, sku: Any, user: Any, start: Any, end: Any, outcome: Any) -> tuple[Any, ...]:
    return view(kind, sku, user, start, end, outcome)


def export_text(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV (spreadsheet formulas neutralised by services.csv_safety)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for r in rows:
        writer.writerow([neutralise(r[f]) for f in CSV_FIELDS])
    return out.getvalue()


@guarded_callback(
    "viewer",
    Output(page.EXPORT_FILE, "data"),
    Input(page.EXPORT, "n_clicks"),
    State(page.KIND, "value"),
    State(page.SKU, "value"),
    State(page.USER, "value"),
    State(page.DATE_FROM, "value"),
    State(page.DATE_TO, "value"),
    State(page.OUTCOME, "value"),
    prevent_initial_call=True,
)
def export(n_clicks: int | None, *filters: Any) -> Any:
    if not n_clicks:
        raise PreventUpdate
    try:
        rows = find(*filters)
    except UserFacingError:
        raise PreventUpdate from None
    name = f"decisions-{formats.file_stamp(utcnow())}.csv"
    return dcc.send_string(export_text(rows), filename=name, type="text/csv")
