"""The frame around every page: navbar with the pages the signed-in user may open, the user, and the page
container."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from layouts import _ids as ids
from services.users import has_role

NAV_ITEMS = [
    ("Watchtower", "/"),
    ("SKU", "/sku"),
    ("Risk", "/risk"),
    ("Profit", "/profit"),
    ("Orders", "/orders"),
    ("Supply", "/supply"),
    ("Cycles", "/cycles"),
    ("Decisions", "/decisions"),
    ("Data", "/data"),
    ("Briefings", "/briefings"),
    ("Admin", "/admin"),
]
# the role a link needs to be shown (the page itself still checks it: /admin renders "needs the admin role")
NAV_ROLES = {"/admin": "admin"}
# links that stay highlighted on their sub-pages: "SKU" on /sku/<code> (Dash matches by prefix)
NAV_PARTIAL = {"/sku"}


def nav_items(role: str | None) -> list[tuple[str, str]]:
    """The navbar's ``(label, href)`` links a user with ``role`` may open (None: signed out)."""
    return [(label, href) for label, href in NAV_ITEMS if href not in NAV_ROLES or has_role(role, NAV_ROLES[href])]


def nav_link(label: str, href: str) -> dbc.NavLink:
    """A navbar link, highlighted on its page (and its sub-pages for :data:`NAV_PARTIAL`); the browser updates the
    highlight on every client-side page change."""
    return dbc.NavLink(label, href=href, active="partial" if href in NAV_PARTIAL else "exact")


def sign_out_form() -> html.Form:
    """ "Sign out" as a menu item that POSTs to /logout with this session's CSRF token (a GET does not sign out)."""
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
            html.Button("Sign out", type="submit", className="dropdown-item", id=ids.SHELL_SIGN_OUT),
        ],
        action="/logout",
        method="post",
        className="m-0",
    )


def navbar() -> dbc.Navbar:
    user = current_user if current_user and current_user.is_authenticated else None
    user_menu = (
        dbc.DropdownMenu(
            label=user.email,  # the role is the menu's first line: the navbar stays on one line at 1280 px
            children=[
                dbc.DropdownMenuItem(f"{user.email} · {user.role}", header=True),
                dbc.DropdownMenuItem("Change my password", href="/account"),
                sign_out_form(),
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
                    [dbc.NavItem(nav_link(label, href)) for label, href in nav_items(user.role if user else None)],
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
    """Called on every full page load (so the navbar shows the signed-in user). Landmarks: the navbar's <nav> in a
    <header>, the page in <main> (target of the "Skip to main content" link, the first stop of the Tab key)."""
    return html.Div(
        [
            html.A("Skip to main content", href="#main", className="visually-hidden-focusable btn btn-light m-1"),
            html.Header(navbar()),
            dcc.Location(id=ids.SHELL_URL),
            html.Main(dbc.Container(dash.page_container, fluid=True, className="pb-5"), id="main", tabIndex=-1),
        ]
    )
