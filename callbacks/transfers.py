"""Orders page, Transfers tab (issue 21): approve / edit with reason / reject / receive (planners), the grid and its
status filter, and the CSV export (everyone). Thin: parse inputs -> services.transfers -> a message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from auth.identity import current_email
from core import formats
from db.session import session_scope
from layouts import _ids as ids
from layouts import _transfers as view
from services import transfers as svc
from services.errors import UserFacingError

ACTIONS = {
    ids.TRANSFERS_APPROVE: "approve",
    ids.TRANSFERS_EDIT_SAVE: "edit",
    ids.TRANSFERS_REJECT: "reject",
    ids.TRANSFERS_RECEIVE: "receive",
}


def _alert(message: str, color: str) -> dbc.Alert:
    return dbc.Alert(message, color=color, dismissable=True, className="py-2 small mb-2")


def _ids(rows: list[dict[str, Any]] | None) -> list[int]:
    return [int(r["id"]) for r in rows or [] if isinstance(r, dict) and r.get("id") is not None]


def apply(
    action: str, *, selected: list[int], qty: Any, reason: str | None, receive_qty: Any, receive_date: Any, user: str
) -> tuple[dbc.Alert, bool]:
    """Carry out one planner action on the ticked transfers; returns (message, whether anything changed)."""
    if not selected:
        return _alert("Tick the transfer(s) first.", "warning"), False
    try:
        with session_scope() as session:
            if action == "approve":
                done = [svc.approve_transfer(session=session, transfer_id=i, user=user) for i in selected]
                message = (
                    f"Approved {len(done):,} transfer(s); they count as on order at the receiver (expected "
                    f"{formats.fmt_date(done[0].expected_date)}) and leave the giver's stock in the next recompute."
                )
            elif action == "edit":
                if len(selected) != 1:
                    raise UserFacingError("tick exactly one transfer to change its quantity")
                t = svc.edit_transfer(session=session, transfer_id=selected[0], qty=qty, reason=reason, user=user)
                message = f"Transfer {t.id}: {t.quantity:,.0f} units now (reason kept)."
            elif action == "reject":
                done = [svc.reject_transfer(session=session, transfer_id=i, user=user, reason=reason) for i in selected]
                message = f"Rejected {len(done):,} transfer(s)."
            elif action == "receive":
                if receive_qty not in (None, "") and len(selected) != 1:
                    raise UserFacingError("enter a received quantity only when one transfer is ticked (blank: as sent)")
                done = [
                    svc.receive_transfer(
                        session=session,
                        transfer_id=i,
                        user=user,
                        received_qty=receive_qty,
                        received_date=receive_date,
                    )
                    for i in selected
                ]
                message = f"Received {len(done):,} transfer(s); both locations' stock is updated."
            else:
                raise UserFacingError(f"unknown action {action!r}")
    except UserFacingError as exc:
        return _alert(str(exc), "danger"), False
    return _alert(message, "success"), True


@guarded_callback(
    "planner",
    Output(ids.TRANSFERS_MESSAGE, "children"),
    Output(ids.TRANSFERS_VERSION, "data"),
    Output(ids.TRANSFERS_REASON, "value"),
    Input(ids.TRANSFERS_APPROVE, "n_clicks"),
    Input(ids.TRANSFERS_EDIT_SAVE, "n_clicks"),
    Input(ids.TRANSFERS_REJECT, "n_clicks"),
    Input(ids.TRANSFERS_RECEIVE, "n_clicks"),
    State(ids.TRANSFERS_GRID, "selectedRows"),
    State(ids.TRANSFERS_EDIT_QTY, "value"),
    State(ids.TRANSFERS_REASON, "value"),
    State(ids.TRANSFERS_RECEIVE_QTY, "value"),
    State(ids.TRANSFERS_RECEIVE_DATE, "value"),
    State(ids.TRANSFERS_VERSION, "data"),
    prevent_initial_call=True,
)
def act(
    _approve: int | None,
    _edit: int | None,
    _reject: int | None,
    _receive: int | None,
    selected: list[dict[str, Any]] | None,
    qty: Any,
    reason: str | None,
    receive_qty: Any,
    receive_date: str | None,
    version: int | None,
) -> tuple[Any, Any, Any]:
    """A planner's button: run it, say what happened, refresh the grid when something changed."""
    action = ACTIONS.get(str(ctx.triggered_id))
    if action is None or not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    message, changed = apply(
        action,
        selected=_ids(selected),
        qty=qty,
        reason=reason,
        receive_qty=receive_qty,
        receive_date=receive_date,
        user=current_email() or "unknown",
    )
    if not changed:
        return message, no_update, no_update
    return message, (version or 0) + 1, ""


@guarded_callback(
    "viewer",
    Output(ids.TRANSFERS_GRID, "rowData"),
    Output(ids.TRANSFERS_GRID, "selectedRows"),
    Input(ids.TRANSFERS_VERSION, "data"),
    Input(ids.TRANSFERS_STATUS, "value"),
    prevent_initial_call=True,
)
def refresh(_version: int | None, status: str | None) -> tuple[list[dict[str, Any]], list]:
    """Reload the grid (after an action, or for another status)."""
    wanted = status if status in {o["value"] for o in view.STATUS_OPTIONS} else "open"
    with session_scope() as session:
        return view.rows(session=session, status=wanted), []


@guarded_callback(
    "viewer",
    Output(ids.TRANSFERS_DOWNLOAD, "data"),
    Input(ids.TRANSFERS_EXPORT, "n_clicks"),
    prevent_initial_call=True,
)
def export(n_clicks: int | None) -> dict[str, str]:
    """Every transfer as spreadsheet-safe CSV."""
    if not n_clicks:
        raise PreventUpdate
    with session_scope() as session:
        content = svc.export_csv(session=session)
    return {
        "content": content,
        "filename": f"transfers-{formats.file_stamp(dt.datetime.now(dt.UTC))}.csv",
        "type": "text/csv",
    }
