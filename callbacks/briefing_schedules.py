"""E-mail schedules on the Briefings page: add one, delete the selected ones. Both are guarded ("admin"): the server
refuses viewers and planners (and logs the attempt), whatever the page showed them."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email as _request_email
from db.session import session_scope
from layouts import _briefing_schedules as ui
from services import schedules
from services.briefing import BriefingScope
from services.errors import UserFacingError


def scope_of(choice: str | None, sku: str | None) -> BriefingScope:
    """The scope the form describes: a typed SKU wins over the dropdown (``portfolio`` / ``category=X`` / ...)."""
    if sku and str(sku).strip():
        return BriefingScope.make(sku=str(sku))
    if not choice or choice == "portfolio":
        return BriefingScope()
    kind, _, value = str(choice).partition("=")
    if kind not in ("category", "location", "abc") or not value:
        raise UserFacingError(f"Unknown scope {str(choice)[:40]!r}.")
    return BriefingScope.make(**{kind: value})


def add(weekday: Any, time_of_day: str | None, choice: str | None, sku: str | None, to: str | None, user: str | None):
    """Store the schedule; (message, refreshed rows or no_update)."""
    try:
        with session_scope() as session:
            view = schedules.add_schedule(
                session=session,
                weekday=weekday,
                time_of_day=time_of_day,
                scope=scope_of(choice, sku),
                recipients=to or "",
                user=user,
            )
    except UserFacingError as exc:
        return html.Span(str(exc), className="text-danger"), no_update
    with session_scope() as session:
        rows = ui.schedule_rows(schedules.list_schedules(session=session))
    message = f"Added: {view.scope_label}, {view.when}, to {view.recipients}; first send {view.as_dict()['next_at']}."
    return html.Span(message, className="text-success"), rows


@guarded_callback(
    "admin",
    Output(ui.SCHEDULE_MESSAGE, "children"),
    Output(ui.SCHEDULES_GRID, "rowData"),
    Input(ui.SCHEDULE_ADD, "n_clicks"),
    State(ui.SCHEDULE_WEEKDAY, "value"),
    State(ui.SCHEDULE_TIME, "value"),
    State(ui.SCHEDULE_SCOPE, "value"),
    State(ui.SCHEDULE_SKU, "value"),
    State(ui.SCHEDULE_TO, "value"),
    prevent_initial_call=True,
)
def add_schedule(
    n_clicks: int | None, weekday: Any, time_of_day: str | None, choice: str | None, sku: str | None, to: str | None
) -> tuple[Any, Any]:
    if not n_clicks:
        raise PreventUpdate
    return add(weekday, time_of_day, choice, sku, to, _request_email())


@guarded_callback(
    "admin",
    Output(ui.SCHEDULE_MESSAGE, "children", allow_duplicate=True),
    Output(ui.SCHEDULES_GRID, "rowData", allow_duplicate=True),
    Input(ui.SCHEDULE_DELETE, "n_clicks"),
    State(ui.SCHEDULES_GRID, "selectedRows"),
    prevent_initial_call=True,
)
def delete_schedules(n_clicks: int | None, selected: list[dict[str, Any]] | None) -> tuple[Any, Any]:
    if not n_clicks:
        raise PreventUpdate
    return delete(selected, _request_email())


def delete(selected: list[dict[str, Any]] | None, user: str | None) -> tuple[Any, Any]:
    """Delete the selected schedules; (message, refreshed rows or no_update)."""
    if not selected:
        return html.Span("Select the schedules to delete first.", className="text-danger"), no_update
    with session_scope() as session:
        deleted = sum(
            schedules.delete_schedule(session=session, schedule_id=row.get("id"), user=user) for row in selected[:200]
        )
    with session_scope() as session:
        rows = ui.schedule_rows(schedules.list_schedules(session=session))
    return html.Span(f"Deleted {deleted} schedule{'s' if deleted != 1 else ''}.", className="text-success"), rows
