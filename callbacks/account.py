"""Change my password (throttled and audited like sign-in; every session of the account ends, this browser gets a
new one)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State
from dash.exceptions import PreventUpdate
from flask import session as cookie_session
from flask_login import current_user, login_user

from auth.guard import guarded_callback
from auth.identity import SessionUser, client_address
from db.session import session_scope
from layouts import _ids as ids
from services import user_sessions, users
from services.login_throttle import ThrottlePolicy
from settings import get_settings


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
    settings = get_settings()
    address = client_address()
    with session_scope() as session:  # commits a refused attempt too (it counts towards the throttle)
        outcome = users.change_password(
            session=session,
            user_id=int(current_user.id),
            current_password=(current or "")[:1024],
            new_password=new or "",
            address=address,
            policy=ThrottlePolicy.from_settings(settings),
        )
        refreshed = None
        if outcome.ok:
            user = users.get_user(session=session, user_id=int(current_user.id))
            session_id = user_sessions.start(
                session=session, user=user, address=address, max_age_hours=settings.session_max_age_hours
            )
            refreshed = SessionUser.of(user, session_id)
    if refreshed is None:
        return dbc.Alert(outcome.message, color="danger")
    cookie_session.clear()  # a new session id and CSRF token for this browser
    login_user(refreshed)
    return dbc.Alert("Your password was changed. Other sessions of your account were signed out.", color="success")
