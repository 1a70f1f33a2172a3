"""The Data page's danger zone (admins only): the factory reset with its typed confirmation."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids


def danger_zone() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Danger zone", className="fw-semibold text-danger"),
            dbc.CardBody(
                [
                    html.P(
                        "Factory reset deletes every SKU, demand row, stock position, receipt, order, forecast, run, "
                        "briefing, scenario and import record. Users, API tokens and the audit log stay. "
                        "It cannot be undone.",
                        className="small",
                    ),
                    dbc.InputGroup(
                        [
                            dbc.Input(
                                id=ids.DATA_RESET_CONFIRM,
                                placeholder="type RESET to confirm",
                                size="sm",
                                autocomplete="off",
                            ),
                            dbc.Button("Factory reset", id=ids.DATA_RESET, color="danger", size="sm"),
                        ],
                        style={"maxWidth": "420px"},
                    ),
                    html.Div(id=ids.DATA_RESET_RESULT, className="mt-2"),
                    dcc.Location(id=ids.DATA_RESET_RELOAD, refresh=True),
                ]
            ),
        ],
        className="border-danger mb-4",
    )
