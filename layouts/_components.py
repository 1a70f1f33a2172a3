"""Small shared UI pieces."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from auth.guard import current_role
from services.users import has_role


def page_header(title: str, subtitle: str | None = None) -> html.Div:
    return html.Div(
        [html.H2(title, className="h4 mb-0"), html.P(subtitle, className="text-muted small mb-3") if subtitle else None]
    )


def forbidden(required: str) -> html.Div:
    return html.Div(
        dbc.Alert(f"This page needs the {required} role. Ask an administrator if you need access.", color="warning"),
        className="mt-4",
    )


def allowed(required: str) -> bool:
    """True when the signed-in user has at least ``required`` (checked on the server when the layout renders)."""
    return has_role(current_role(), required)


def empty_state(message: str, href: str | None = None, link_text: str | None = None) -> dbc.Alert:
    children: list = [message]
    if href and link_text:
        children += [" ", dbc.Button(link_text, href=href, size="sm", color="primary", className="ms-2")]
    return dbc.Alert(children, color="light", className="border")
