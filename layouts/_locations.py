"""The SKU page's "Same item at other locations" panel (issue 21): stock, cover and status of the SKUs that stock
the same item elsewhere (services.transfers.item_locations)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids
from layouts._charts import SECTION_CLASS, fmt_days, fmt_qty
from services.watchtower import status_label


def locations_panel(*, item: str, rows: list[dict[str, Any]]) -> dbc.Card | None:
    """A small table of the other locations of ``item`` (None when the item is held at one location only)."""
    if not rows:
        return None
    body = [
        html.Tr(
            [
                html.Td(dcc.Link(r["sku"], href=f"/sku/{quote(r['sku'], safe='')}")),
                html.Td(r["location"]),
                html.Td(fmt_qty(r["on_hand"]), className="text-end"),
                html.Td(fmt_days(r["days_of_cover"]), className="text-end"),
                html.Td(status_label(r["status"]) if r["status"] else "not computed yet"),
            ]
        )
        for r in rows
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th("SKU"),
                html.Th("Location"),
                html.Th("On hand", className="text-end"),
                html.Th("Cover", className="text-end"),
                html.Th("Status"),
            ]
        )
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(f"Same item ({item}) at other locations", className=SECTION_CLASS),
                dbc.Table([head, html.Tbody(body)], size="sm", borderless=True, className="mb-1 align-middle"),
                html.Div(
                    ["Transfers between them: ", dcc.Link("Orders, Transfers tab", href="/orders"), "."],
                    className="small text-secondary",
                ),
            ]
        ),
        id=ids.SKU_LOCATIONS,
        className="shadow-sm border-0 mt-3",
    )
