"""Friendly page for unknown addresses."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

dash.register_page(__name__, path="/404", name="Not found", order=99, title="Not found · Inventory Command Center")


def layout(**_kwargs: object) -> html.Div:
    return html.Div(
        [html.H1("Page not found", className="h4"), dbc.Button("Back to the watchtower", href="/", color="primary")],
        className="mt-4",
    )
