"""SKU detail (/sku/<code>)."""

from __future__ import annotations

import dash
from dash import html
from sqlalchemy import select

from db.models import Sku
from db.session import session_scope
from layouts._components import page_header

dash.register_page(__name__, path_template="/sku/<code>", name="SKU", order=10, title="SKU · Inventory Command Center")


def layout(code: str | None = None, **_kwargs: object) -> html.Div:
    with session_scope() as session:
        sku = session.scalar(select(Sku).where(Sku.code == code))
        name = sku.name if sku else None
    if name is None:
        return html.Div([page_header("SKU not found"), html.P(f"No SKU with code {code!r}.")])
    return html.Div([page_header(f"{code} · {name}")])
