"""The Data page's Resources tab: capacity per resource and period, with add / edit / delete and export (the tab
the import of kind ``resources`` fills). Callbacks: callbacks/data_resources.py."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids

_NUMBER = {"type": "rightAligned", "filter": "agNumberColumnFilter"}


def resource_columns(editable: bool) -> list[dict[str, Any]]:
    def number(field: str, header: str) -> dict[str, Any]:
        return {"field": field, "headerName": header, "editable": editable, **_NUMBER}

    return [
        {"field": "resource", "headerName": "Resource", "minWidth": 170},
        {"field": "period", "headerName": "Period", "minWidth": 120},
        {"field": "grain", "headerName": "Grain", "maxWidth": 110},
        number("capacity", "Capacity"),
        number("overtime_capacity", "Overtime capacity"),
        number("overtime_cost", "Overtime cost / unit"),
        number("regular_cost", "Regular cost / unit"),
    ]


def _field(component_id: str, label: str, width: int = 2, **props: Any) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-0"), dbc.Input(id=component_id, size="sm", **props)], md=width)


def resources_tab(can_edit: bool, grid: Any) -> list[Any]:
    """Toolbar, add form (planners) and the grid (built by layouts.data.grid so it looks like the other tabs)."""
    buttons = [
        dbc.Button(
            "Export CSV", id=ids.DATA_RESOURCES_EXPORT, size="sm", color="secondary", outline=True, className="me-2"
        ),
        dbc.Button(
            "Export Excel",
            id=ids.DATA_RESOURCES_EXPORT_XLSX,
            size="sm",
            color="secondary",
            outline=True,
            className="me-2",
        ),
    ]
    if can_edit:
        buttons.append(
            dbc.Button("Delete selected", id=ids.DATA_RESOURCES_DELETE, size="sm", color="danger", outline=True)
        )
    add = dbc.Row(
        [
            _field(ids.DATA_ADD_RESOURCE_NAME, "Resource", 3, placeholder="e.g. Bottling line"),
            _field(ids.DATA_ADD_RESOURCE_PERIOD, "Period (YYYY-MM-DD)", 2, placeholder="2027-01-01"),
            _field(ids.DATA_ADD_RESOURCE_CAPACITY, "Capacity", 2, type="number", min=0),
            _field(ids.DATA_ADD_RESOURCE_OVERTIME, "Overtime capacity", 2, type="number", min=0),
            _field(ids.DATA_ADD_RESOURCE_OVERTIME_COST, "Overtime cost", 1, type="number", min=0),
            _field(ids.DATA_ADD_RESOURCE_REGULAR_COST, "Regular cost", 1, type="number", min=0),
            dbc.Col(dbc.Button("Add capacity", id=ids.DATA_RESOURCES_ADD, size="sm", color="primary"), width="auto"),
        ],
        className="g-2 align-items-end mb-2",
    )
    return [
        html.P(
            "Capacity of production lines and suppliers per month or week, in capacity units; SKUs load them "
            "through their resource and capacity per unit (the SKUs tab). The Supply page plans against them.",
            className="small text-secondary mb-2",
        ),
        html.Div(buttons, className="mb-2"),
        add if can_edit else None,
        grid,
        dcc.Download(id=ids.DATA_RESOURCES_DOWNLOAD),
    ]
