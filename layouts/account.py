"""My account (/account): change my password."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from layouts import _ids as ids
from layouts._components import page_header
from services.passwords import MIN_PASSWORD_LENGTH

dash.register_page(
    __name__, path="/account", name="My account", order=20, title="My account · Inventory Command Center"
)


def layout(**_kwargs: object) -> html.Div:
    return html.Div(
        [
            page_header(
                "Change my password",
                f"At least {MIN_PASSWORD_LENGTH} characters; not your e-mail or name, not a common or easily "
                "guessed password. Every other session of your account is signed out.",
            ),
            dbc.Card(
                dbc.CardBody(
                    dbc.Form(  # password fields belong in a form (the browser warns otherwise); nothing is posted
                        [
                            dbc.Label("Current password", html_for=ids.ACCOUNT_CURRENT),
                            dbc.Input(id=ids.ACCOUNT_CURRENT, type="password", autocomplete="current-password"),
                            dbc.Label("New password", html_for=ids.ACCOUNT_NEW, className="mt-2"),
                            dbc.Input(id=ids.ACCOUNT_NEW, type="password", autocomplete="new-password"),
                            dbc.Label("Repeat the new password", html_for=ids.ACCOUNT_REPEAT, className="mt-2"),
                            dbc.Input(id=ids.ACCOUNT_REPEAT, type="password", autocomplete="new-password"),
                            dbc.Button("Change password", id=ids.ACCOUNT_SUBMIT, color="primary", className="mt-3"),
                            html.Div(id=ids.ACCOUNT_RESULT, className="mt-3"),
                        ],
                        prevent_default_on_submit=True,
                    )
                ),
                style={"maxWidth": "460px"},
            ),
        ]
    )
