"""Risk engine (/risk)."""

from __future__ import annotations

import dash
from dash import html

from db.session import session_scope
from layouts._components import page_header
from services.overview import overview

dash.register_page(__name__, path="/risk", name="Risk engine", order=2, title="Risk engine · Inventory Command Center")


def layout(**_kwargs: object) -> html.Div:
    with session_scope() as session:
        ov = overview(session=session)
    return html.Div([page_header("Risk engine"), html.P(f"{ov.sku_count:,} SKUs in the database.")])
