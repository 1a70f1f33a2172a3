"""Admin page callbacks: users and roles, API tokens, audit log. Every one needs the admin role (server-side)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from auth.identity import current_email
from db.session import session_scope
from layouts import _ids as ids
from layouts.admin import AUDIT_LIMIT, audit_count_text, token_user_options
from services import audit, users

USER_ACTIONS = {
    ids.ADMIN_USER_ADD: "add",
    ids.ADMIN_USER_SET_ROLE: "role",
    ids.ADMIN_USER_DEACTIVATE: "deactivate",
    ids.ADMIN_USER_ACTIVATE: "activate",
}


def _shown_once(label: str, secret: str, note: str) -> list[Any]:
    return [
        html.Div(label, className="fw-semibold"),
        dbc.Input(value=secret, readonly=True, className="font-monospace my-2"),
        html.Div(note, className="small"),
    ]


def _selected_id(selected: list[dict[str, Any]] | None) -> int | None:
    if not selected:
        return None
    try:
        return int(selected[0]["id"])
    except (KeyError, TypeError, ValueError):
        return None


def user_action(
    action: str,
    *,
    email: str | None,
    role: str | None,
    password: str | None,
    selected: list[dict[str, Any]] | None,
    new_role: str | None,
    actor: str,
) -> tuple[list[dict[str, Any]], Any, list[dict[str, Any]], Any, Any, Any]:
    """Carry out one Users-tab action.

    Returns (user rows, message, token-user options, password field, e-mail field, selected rows): the acted-on
    user stays selected with its fresh values.
    """
    clear_form = False
    acted_on: int | None = None
    try:
        with session_scope() as session:
            if action == "add":
                generated = not password
                secret = users.generate_password() if generated else password or ""
                user = users.create_user(
                    session=session, email=email or "", password=secret, role=role or "viewer", actor=actor
                )
                message: Any = dbc.Alert(
                    _shown_once(
                        f"Added {user.email} as {user.role}. Their password:",
                        secret,
                        "Shown once: pass it on now; they can change it under My account.",
                    )
                    if generated
                    else f"Added {user.email} as {user.role}.",
                    color="success",
                )
                clear_form = True
            else:
                user_id = _selected_id(selected)
                if user_id is None:
                    raise users.UserError("Select a user in the table first.")
                acted_on = user_id
                if action == "role":
                    user = users.set_role(session=session, user_id=user_id, role=new_role or "", actor=actor)
                    message = dbc.Alert(f"{user.email} is now {user.role}.", color="success")
                elif action in ("deactivate", "activate"):
                    user = users.set_active(session=session, user_id=user_id, active=action == "activate", actor=actor)
                    state = "active" if user.active else "deactivated"
                    message = dbc.Alert(f"{user.email} is {state}.", color="success")
                else:
                    raise PreventUpdate
    except users.UserError as exc:
        message = dbc.Alert(str(exc), color="danger")
    with session_scope() as session:
        rows = users.user_rows(session=session)
    selected_now = [row for row in rows if row["id"] == acted_on]
    return (
        rows,
        message,
        token_user_options(rows),
        "" if clear_form else no_update,
        "" if clear_form else no_update,
        selected_now if acted_on is not None else no_update,
    )


@guarded_callback(
    "admin",
    Output(ids.ADMIN_USERS_GRID, "rowData"),
    Output(ids.ADMIN_USER_RESULT, "children"),
    Output(ids.ADMIN_TOKEN_USER, "options"),
    Output(ids.ADMIN_USER_PASSWORD, "value"),
    Output(ids.ADMIN_USER_EMAIL, "value"),
    Output(ids.ADMIN_USERS_GRID, "selectedRows"),
    Input(ids.ADMIN_USER_ADD, "n_clicks"),
    Input(ids.ADMIN_USER_SET_ROLE, "n_clicks"),
    Input(ids.ADMIN_USER_DEACTIVATE, "n_clicks"),
    Input(ids.ADMIN_USER_ACTIVATE, "n_clicks"),
    State(ids.ADMIN_USER_EMAIL, "value"),
    State(ids.ADMIN_USER_ROLE, "value"),
    State(ids.ADMIN_USER_PASSWORD, "value"),
    State(ids.ADMIN_USERS_GRID, "selectedRows"),
    State(ids.ADMIN_USER_NEW_ROLE, "value"),
    prevent_initial_call=True,
)
def users_changed(
    _add: int | None,
    _role: int | None,
    _deactivate: int | None,
    _activate: int | None,
    email: str | None,
    role: str | None,
    password: str | None,
    selected: list[dict[str, Any]] | None,
    new_role: str | None,
) -> tuple[Any, ...]:
    action = USER_ACTIONS.get(str(ctx.triggered_id))
    if action is None:
        raise PreventUpdate
    return user_action(
        action,
        email=email,
        role=role,
        password=password,
        selected=selected,
        new_role=new_role,
        actor=current_email() or "unknown",
    )


def selected_text(selected: list[dict[str, Any]] | None) -> str:
    """The line naming the selected user."""
    if not selected:
        return "Select a row in the table."
    row = selected[0]
    state = "active" if row.get("active") else "deactivated"
    return f"{row.get('email')} · {row.get('role')} · {state}"


@guarded_callback(
    "admin",
    Output(ids.ADMIN_USER_SELECTED, "children"),
    Input(ids.ADMIN_USERS_GRID, "selectedRows"),
    prevent_initial_call=True,
)
def user_selected(selected: list[dict[str, Any]] | None) -> str:
    return selected_text(selected)


def token_action(
    action: str, *, email: str | None, name: str | None, selected: list[dict[str, Any]] | None, actor: str
) -> tuple[list[dict[str, Any]], Any]:
    """Create or revoke a token; returns (token rows, message). A new token is in the message, once."""
    try:
        with session_scope() as session:
            if action == "create":
                if not email:
                    raise users.UserError("Choose the user the token is for.")
                token = users.create_token(session=session, email=email, name=name or "token", actor=actor)
                message: Any = dbc.Alert(
                    _shown_once(
                        f"New token for {email}:",
                        token,
                        "Copy it now: it is not stored and cannot be shown again. "
                        "Send it as 'Authorization: Bearer <token>'.",
                    ),
                    color="success",
                )
            elif action == "revoke":
                token_id = _selected_id(selected)
                if token_id is None:
                    raise users.UserError("Select a token in the table first.")
                users.revoke_token(session=session, token_id=token_id, actor=actor)
                message = dbc.Alert("The token is revoked.", color="success")
            else:
                raise PreventUpdate
    except users.UserError as exc:
        message = dbc.Alert(str(exc), color="danger")
    with session_scope() as session:
        rows = users.token_rows(session=session)
    return rows, message


@guarded_callback(
    "admin",
    Output(ids.ADMIN_TOKENS_GRID, "rowData"),
    Output(ids.ADMIN_TOKEN_RESULT, "children"),
    Input(ids.ADMIN_TOKEN_CREATE, "n_clicks"),
    Input(ids.ADMIN_TOKEN_REVOKE, "n_clicks"),
    State(ids.ADMIN_TOKEN_USER, "value"),
    State(ids.ADMIN_TOKEN_NAME, "value"),
    State(ids.ADMIN_TOKENS_GRID, "selectedRows"),
    prevent_initial_call=True,
)
def tokens_changed(
    _create: int | None,
    _revoke: int | None,
    email: str | None,
    name: str | None,
    selected: list[dict[str, Any]] | None,
) -> tuple[Any, ...]:
    action = {ids.ADMIN_TOKEN_CREATE: "create", ids.ADMIN_TOKEN_REVOKE: "revoke"}.get(str(ctx.triggered_id))
    if action is None:
        raise PreventUpdate
    return token_action(action, email=email, name=name, selected=selected, actor=current_email() or "unknown")


def _parse_day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def audit_view(
    *,
    user: str | None,
    action: str | None,
    outcome: str | None,
    start_date: str | None,
    end_date: str | None,
) -> tuple[list[dict[str, Any]], str, list[str]]:
    """The filtered audit log: (rows, count text, action options)."""
    with session_scope() as session:
        entries = audit.recent(
            session=session,
            limit=AUDIT_LIMIT,
            user_email=(user or "").strip() or None,
            action=action or None,
            outcome=outcome if outcome in audit.OUTCOMES else None,
            date_from=_parse_day(start_date),
            date_to=_parse_day(end_date),
        )
        actions = audit.actions(session=session)
    rows = audit.rows(entries)
    return rows, audit_count_text(len(rows)), actions


@guarded_callback(
    "admin",
    Output(ids.ADMIN_AUDIT_GRID, "rowData"),
    Output(ids.ADMIN_AUDIT_COUNT, "children"),
    Output(ids.ADMIN_AUDIT_ACTION, "options"),
    Input(ids.ADMIN_AUDIT_USER, "value"),
    Input(ids.ADMIN_AUDIT_ACTION, "value"),
    Input(ids.ADMIN_AUDIT_OUTCOME, "value"),
    Input(ids.ADMIN_AUDIT_DATES, "start_date"),
    Input(ids.ADMIN_AUDIT_DATES, "end_date"),
    Input(ids.ADMIN_AUDIT_REFRESH, "n_clicks"),
    Input(ids.ADMIN_TABS, "active_tab"),
    prevent_initial_call=True,
)
def audit_filtered(
    user: str | None,
    action: str | None,
    outcome: str | None,
    start_date: str | None,
    end_date: str | None,
    _refresh: int | None,
    _tab: str | None,
) -> tuple[Any, ...]:
    return audit_view(user=user, action=action, outcome=outcome, start_date=start_date, end_date=end_date)
