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


def items_panel(groups: list[dict[str, Any]]) -> dbc.Card | None:
    """The Watchtower's "by item" view: one row per item stocked at several locations, with each location's status
    and cover (None when no item is held at two locations)."""
    if not groups:
        return None

    def place(p: dict[str, Any]) -> html.Span:
        status = status_label(p["status"]) if p["status"] else "not computed"
        return html.Span(
            [
                dcc.Link(p["location"], href=f"/sku/{quote(p['sku'], safe='')}"),
                f": {status}, {fmt_days(p['days_of_cover'])} cover",
            ],
            className="me-3 text-nowrap",
        )

    body = [
        html.Tr(
            [
                html.Td([html.Div(g["item"], className="fw-semibold"), html.Div(g["name"], className="small")]),
                html.Td(fmt_qty(g["on_hand"]), className="text-end"),
                html.Td([place(p) for p in g["places"]]),
                html.Td(
                    dcc.Link(f"{g['open_transfers']} open", href="/orders") if g["open_transfers"] else "none",
                    className="text-end",
                ),
            ]
        )
        for g in groups
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th("Item"),
                html.Th("On hand, all locations", className="text-end"),
                html.Th("Locations: status and cover"),
                html.Th("Transfers", className="text-end"),
            ]
        )
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Items at several locations", className=SECTION_CLASS),
                dbc.Table([head, html.Tbody(body)], size="sm", hover=True, className="mb-1 align-middle"),
                html.Div(
                    "One row per item; the location filter above keeps the items held there. Transfers between "
                    "locations are proposed on the Orders page (Transfers tab).",
                    className="small text-secondary",
                ),
            ]
        ),
        id=ids.WATCHTOWER_ITEMS,
        className="shadow-sm border-0 mt-3",
    )
