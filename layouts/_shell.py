"""The frame around every page: navbar with every page, the signed-in user, and the page container."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from layouts import _ids as ids

NAV_ITEMS = [
    ("Watchtower", "/"),
    ("SKU detail", "/sku"),
    ("Risk engine", "/risk"),
    ("Profit optimizer", "/profit"),
    ("Orders", "/orders"),
    ("Data", "/data"),
    ("Briefings", "/briefings"),
    ("Admin", "/admin"),
]


def navbar() -> dbc.Navbar:
    user = current_user if current_user and current_user.is_authenticated else None
    user_menu = (
        dbc.DropdownMenu(
            label=f"{user.email} · {user.role}",
            children=[
                dbc.DropdownMenuItem("Change my password", href="/account"),
                dbc.DropdownMenuItem("Sign out", href="/logout", external_link=True),
            ],
            nav=True,
            align_end=True,
            id=ids.SHELL_USER,
        )
        if user
        else dbc.NavItem(dbc.NavLink("Sign in", href="/login", external_link=True))
    )
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Inventory Command Center", href="/", className="fw-semibold"),
                dbc.Nav(
                    [dbc.NavItem(dbc.NavLink(label, href=href, active="exact")) for label, href in NAV_ITEMS],
                    className="me-auto",
                    navbar=True,
                    id=ids.SHELL_NAV,
                ),
                dbc.Nav([user_menu], navbar=True),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def shell() -> html.Div:
    """Called on every full page load (so the navbar shows the signed-in user)."""
    return html.Div(
        [navbar(), dcc.Location(id=ids.SHELL_URL), dbc.Container(dash.page_container, fluid=True, className="pb-5")]
    )
