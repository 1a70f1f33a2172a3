"""SKU detail (/sku)."""

from __future__ import annotations

import dash
from dash import html

from db.session import session_scope
from layouts._components import page_header
from services.overview import overview

dash.register_page(__name__, path="/sku", name="SKU detail", order=1, title="SKU detail · Inventory Command Center")


def layout(**_kwargs: object) -> html.Div:
    with session_scope() as session:
        ov = overview(session=session)
    return html.Div([page_header("SKU detail"), html.P(f"{ov.sku_count:,} SKUs in the database.")])
