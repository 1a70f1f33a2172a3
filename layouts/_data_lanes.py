"""The Data page's Lanes tab: the routes between locations (filled by the import of kind ``lanes``), view and
export. Callbacks: callbacks/data_lanes.py."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids

_NUMBER = {"type": "rightAligned", "filter": "agNumberColumnFilter"}

LANE_COLUMNS: list[dict[str, Any]] = [
    {"field": "from_location", "headerName": "From", "minWidth": 150},
    {"field": "to_location", "headerName": "To", "minWidth": 150},
    {"field": "lead_time_days", "headerName": "Lead time (d)", **_NUMBER},
    {"field": "cost_per_unit", "headerName": "Cost / unit", **_NUMBER},
    {"field": "min_qty", "headerName": "Min quantity", **_NUMBER},
]


def lanes_tab(grid: Any) -> list[Any]:
    """Explanation, export button and the grid (built by layouts.data.grid so it looks like the other tabs)."""
    return [
        html.P(
            "Routes stock can move over between two locations (one way each), with the days in transit, the cost "
            "per unit and the smallest quantity worth moving. After each recompute, an item above its policy maximum "
            "at one location is proposed for transfer to a location at or below its reorder point over a lane, when "
            "that is cheaper than buying (Orders page, Transfers tab). Import them with the kind 'Lanes'.",
            className="small text-secondary mb-2",
        ),
        html.Div(
            dbc.Button("Export CSV", id=ids.DATA_LANES_EXPORT, size="sm", color="secondary", outline=True),
            className="mb-2",
        ),
        grid,
        dcc.Download(id=ids.DATA_LANES_DOWNLOAD),
    ]
