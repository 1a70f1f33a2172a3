"""Change my password."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State
from dash.exceptions import PreventUpdate
from flask_login import current_user, login_user

from auth.guard import guarded_callback
from auth.web import SessionUser
from db.session import session_scope
from layouts import _ids as ids
from services import users


@guarded_callback(
    "viewer",
    Output(ids.ACCOUNT_RESULT, "children"),
    Input(ids.ACCOUNT_SUBMIT, "n_clicks"),
    State(ids.ACCOUNT_CURRENT, "value"),
    State(ids.ACCOUNT_NEW, "value"),
    State(ids.ACCOUNT_REPEAT, "value"),
    prevent_initial_call=True,
)
def change_password(n_clicks: int | None, current: str | None, new: str | None, repeat: str | None) -> dbc.Alert:
    if not n_clicks:
        raise PreventUpdate
    if (new or "") != (repeat or ""):
        return dbc.Alert("The new passwords do not match.", color="danger")
    try:
        with session_scope() as session:
            users.change_password(
                session=session, user_id=int(current_user.id), current_password=current or "", new_password=new or ""
            )
            refreshed = SessionUser.of(users.get_user(session=session, user_id=int(current_user.id)))
    except users.UserError as exc:
        return dbc.Alert(str(exc), color="danger")
    login_user(refreshed)  # this browser stays signed in; every other session of this account ends
    return dbc.Alert("Your password was changed. Other sessions of your account were signed out.", color="success")
