"""The Data page's Promotions tab: prices and promotions per SKU and period (history and plan; filled by the import
of kind ``promotions``), with edit / delete for planners and export. Callbacks: callbacks/data_promotions.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids

_NUMBER = {"type": "rightAligned", "filter": "agNumberColumnFilter"}


def promotion_columns(editable: bool) -> list[dict[str, Any]]:
    return [
        {"field": "sku", "headerName": "SKU", "minWidth": 140},
        {"field": "name", "headerName": "Name", "minWidth": 160},
        {"field": "period", "headerName": "Period", "minWidth": 120},
        {"field": "price", "headerName": "Price", "editable": editable, **_NUMBER},
        {"field": "promotion", "headerName": "Promotion", "editable": editable, "minWidth": 130},
        {"field": "features", "headerName": "Causal columns", "minWidth": 180},
    ]


def promotions_tab(can_edit: bool, grid: Any) -> list[Any]:
    """Explanation, toolbar and the grid (built by layouts.data.grid so it looks like the other tabs)."""
    buttons = [
        dbc.Button(
            "Export CSV", id=ids.DATA_PROMOTIONS_EXPORT, size="sm", color="secondary", outline=True, className="me-2"
        )
    ]
    if can_edit:
        buttons.append(
            dbc.Button("Delete selected", id=ids.DATA_PROMOTIONS_DELETE, size="sm", color="danger", outline=True)
        )
    return [
        html.P(
            "Selling price and promotion per SKU and period, with further causal columns such as feature or display. "
            "Rows after the last demand period are the plan: the forecast rises in planned promotion periods and "
            "past promotions stop counting as noise in the safety stock. Import them with the kind 'Promotions' "
            "(holidays and company events with the kind 'Events').",
            className="small text-secondary mb-2",
        ),
        html.Div(buttons, className="mb-2"),
        grid,
        dcc.Download(id=ids.DATA_PROMOTIONS_DOWNLOAD),
    ]


def promotions_tab_item(can_edit: bool, grid: Callable[..., Any], column_size: str) -> dbc.Tab:
    """The tab: ``grid`` is layouts.data.grid (the Data page's table look), ``column_size`` its hidden-tab sizing."""
    table = grid(
        ids.DATA_PROMOTIONS_GRID, promotion_columns(can_edit), height=380, selectable=can_edit, column_size=column_size
    )
    return dbc.Tab(html.Div(promotions_tab(can_edit, table), className="pt-3"), label="Promotions", tab_id="promotions")
