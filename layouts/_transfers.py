"""The Orders page's Transfers tab (issue 21): moves of one item between locations, proposed after each recompute,
with approve / edit with reason / reject / receive (planners) and a CSV export. Callbacks: callbacks/transfers.py;
data: services.transfers."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids
from services import transfers as svc

PLANNER_ONLY = "Needs the planner role"
STATUS_OPTIONS = [
    {"label": "Open (proposed and approved)", "value": "open"},
    {"label": "Proposed", "value": "proposed"},
    {"label": "Approved (on the way)", "value": "approved"},
    {"label": "Received", "value": "received"},
    {"label": "Rejected", "value": "rejected"},
    {"label": "All", "value": "all"},
]
_NUM = "params.value == null ? '\u2013' : d3.format(',.0f')(params.value)"
_MONEY = "params.value == null ? '\u2013' : '$' + d3.format(',.2f')(params.value)"
_RIGHT = {"type": "rightAligned"}

COLUMNS: list[dict[str, Any]] = [
    {"field": "id", "headerName": "#", "maxWidth": 70},
    {"field": "status", "headerName": "Status", "maxWidth": 110},
    {"field": "item", "headerName": "Item", "minWidth": 140, "maxWidth": 180},
    {"field": "from_location", "headerName": "From", "minWidth": 120, "maxWidth": 150},
    {"field": "to_location", "headerName": "To", "minWidth": 120, "maxWidth": 150},
    {"field": "quantity", "headerName": "Qty", "valueFormatter": {"function": _NUM}, **_RIGHT, "maxWidth": 90},
    {"field": "cost", "headerName": "Cost", "valueFormatter": {"function": _MONEY}, **_RIGHT, "maxWidth": 100},
    {"field": "reason", "headerName": "Why", "minWidth": 520, "tooltipField": "reason"},
    {"field": "expected_date", "headerName": "Expected", "maxWidth": 120},
    {"field": "lead_time_days", "headerName": "Days", **_RIGHT, "maxWidth": 80},
    {"field": "edit_reason", "headerName": "Planner's note", "minWidth": 160},
    {"field": "from_sku", "headerName": "From SKU", "minWidth": 130},
    {"field": "to_sku", "headerName": "To SKU", "minWidth": 130},
]


def rows(*, session: Any, status: str | None = "open") -> list[dict[str, Any]]:
    """Grid rows of the transfers with ``status`` ("open": proposed and approved; "all" or None: every one)."""
    if status in (None, "all"):
        views = svc.list_transfers(session=session)
    elif status == "open":
        views = [t for t in svc.list_transfers(session=session) if t.status in ("proposed", "approved")]
    else:
        views = svc.list_transfers(session=session, status=status)
    return [t.as_row() for t in views]


def _actions(*, planner: bool) -> dbc.Card:
    disabled = not planner
    title = None if planner else PLANNER_ONLY
    size = {"size": "sm"}
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Button(
                            "Approve selected",
                            id=ids.TRANSFERS_APPROVE,
                            color="primary",
                            disabled=disabled,
                            title=title,
                            **size,
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        dbc.InputGroup(
                            [
                                dbc.Input(
                                    id=ids.TRANSFERS_EDIT_QTY,
                                    type="number",
                                    min=1,
                                    placeholder="New qty",
                                    disabled=disabled,
                                    style={"maxWidth": "110px"},
                                ),
                                dbc.Input(
                                    id=ids.TRANSFERS_REASON,
                                    placeholder="Reason (to edit; optional to reject)",
                                    maxLength=svc.MAX_REASON,
                                    disabled=disabled,
                                ),
                                dbc.Button(
                                    "Save quantity",
                                    id=ids.TRANSFERS_EDIT_SAVE,
                                    color="secondary",
                                    outline=True,
                                    disabled=disabled,
                                    title=title,
                                ),
                                dbc.Button(
                                    "Reject selected",
                                    id=ids.TRANSFERS_REJECT,
                                    color="danger",
                                    outline=True,
                                    disabled=disabled,
                                    title=title,
                                ),
                            ],
                            **size,
                        ),
                        lg=5,
                    ),
                    dbc.Col(
                        dbc.InputGroup(
                            [
                                dbc.Input(
                                    id=ids.TRANSFERS_RECEIVE_QTY,
                                    type="number",
                                    min=0,
                                    placeholder="as sent",
                                    disabled=disabled,
                                    style={"maxWidth": "100px"},
                                ),
                                dbc.Input(
                                    id=ids.TRANSFERS_RECEIVE_DATE,
                                    placeholder="YYYY-MM-DD (today)",
                                    disabled=disabled,
                                    style={"maxWidth": "170px"},
                                ),
                                dbc.Button(
                                    "Mark received",
                                    id=ids.TRANSFERS_RECEIVE,
                                    color="success",
                                    disabled=disabled,
                                    title=title,
                                ),
                            ],
                            **size,
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        dbc.Button("Export CSV", id=ids.TRANSFERS_EXPORT, color="secondary", outline=True, **size),
                        width="auto",
                    ),
                ],
                className="g-2 align-items-center",
            ),
            className="py-2",
        ),
        className="shadow-sm border-0 mb-2",
    )


def transfers_tab(*, session: Any, planner: bool) -> html.Div:
    """The tab: what transfers are, the actions, the status filter and the grid (open transfers first)."""
    return html.Div(
        [
            dcc.Store(id=ids.TRANSFERS_VERSION, data=0),
            dcc.Download(id=ids.TRANSFERS_DOWNLOAD),
            html.P(
                "Stock of one item moved between locations before buying more: after each recompute, a location "
                "above its policy maximum gives to one at or below its reorder point over a lane (Data page, Lanes) "
                "when moving costs less than the order cost and the sales a faster lane protects. A proposal lowers "
                "the receiver's recommended purchase; an approved transfer counts as on order at the receiver and "
                "leaves the giver's stock in the next recompute.",
                className="small text-secondary mb-2",
            ),
            _actions(planner=planner),
            None  # the faded buttons say why (issue 23)
            if planner
            else html.Div(
                "Planners can approve, edit, reject and receive transfers; you are signed in as a viewer.",
                className="small text-secondary mb-2",
            ),
            html.Div(id=ids.TRANSFERS_MESSAGE),
            dbc.Row(
                dbc.Col(
                    dbc.Select(id=ids.TRANSFERS_STATUS, options=STATUS_OPTIONS, value="open", size="sm"),
                    md=3,
                ),
                className="mb-2",
            ),
            dbc.Card(
                dbc.CardBody(
                    dag.AgGrid(
                        id=ids.TRANSFERS_GRID,
                        columnDefs=COLUMNS,
                        rowData=rows(session=session),
                        getRowId="params.data.id + ''",
                        defaultColDef={"sortable": True, "resizable": True, "filter": True},
                        dashGridOptions={
                            "animateRows": False,
                            "rowHeight": 34,
                            "tooltipShowDelay": 400,
                            "suppressCellFocus": True,
                            "rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True},
                        },
                        style={"height": "420px", "width": "100%"},
                    )
                ),
                className="shadow-sm border-0",
            ),
        ]
    )
