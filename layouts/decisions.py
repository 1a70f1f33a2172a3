"""Decisions (/decisions): the decision log (services/decisions.py) -- every order approved, edited, rejected or
received, override saved, policy applied, supply scenario saved and cycle closed, with who, when, what and its
outcome once knowable. Filters: kind, SKU, user, date range, outcome known / pending. Everyone reads (checked again
on the server by callbacks/decisions.py)."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.session import session_scope
from layouts._charts import SECTION_CLASS
from layouts._components import page_header
from services.decisions import KINDS, users

dash.register_page(__name__, path="/decisions", name="Decisions", order=6, title="Decisions · Inventory Command Center")

KIND = "decisions-kind"
SKU = "decisions-sku"
USER = "decisions-user"
DATE_FROM = "decisions-from"
DATE_TO = "decisions-to"
OUTCOME = "decisions-outcome"
GRID = "decisions-grid"
NOTE = "decisions-note"
EXPORT = "decisions-export"
EXPORT_FILE = "decisions-export-file"
OUTCOME_OPTIONS = [
    {"label": "All", "value": ""},
    {"label": "Outcome known", "value": "known"},
    {"label": "Pending", "value": "pending"},
    {"label": "No outcome to follow", "value": "none"},
]
_STATE_STYLE = {
    "styleConditions": [
        {"condition": "params.data.outcome_state == 'pending'", "style": {"color": "#6c757d", "fontStyle": "italic"}},
    ]
}
COLUMNS: list[dict[str, Any]] = [
    {"field": "at", "headerName": "When (UTC)", "width": 150, "sort": "desc"},
    {"field": "kind", "headerName": "Decision", "width": 140},
    {"field": "sku_link", "colId": "sku", "headerName": "SKU", "width": 120, "cellRenderer": "markdown"},
    {"field": "user", "headerName": "Who", "width": 180, "tooltipField": "user"},
    {"field": "what", "headerName": "What", "flex": 2, "minWidth": 240, "tooltipField": "what"},
    {"field": "before", "headerName": "Before", "width": 95, "type": "rightAligned"},
    {"field": "after", "headerName": "After", "width": 95, "type": "rightAligned"},
    {"field": "outcome_state", "headerName": "Outcome state", "width": 120},
    {
        "field": "outcome",
        "headerName": "Outcome",
        "flex": 2,
        "minWidth": 240,
        "tooltipField": "outcome",
        "cellStyle": _STATE_STYLE,
    },
]


def grid_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grid rows of :meth:`services.decisions.Decision.row` dicts (the SKU as a link to its page)."""
    return [{**r, "sku_link": f"[{r['sku']}](/sku/{r['sku']})" if r["sku"] else ""} for r in rows]


def _field(label: str, control: Any, md: int) -> dbc.Col:
    return dbc.Col(
        [dbc.Label(label, html_for=getattr(control, "id", None), className="small fw-semibold mb-1"), control], md=md
    )


def filters(people: list[str]) -> dbc.Card:
    kinds = [{"label": label, "value": action} for action, label in KINDS.items()]
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Filters", className=SECTION_CLASS),
                dbc.Row(
                    [
                        _field("Kind", dcc.Dropdown(id=KIND, options=kinds, placeholder="All kinds"), 3),
                        _field("SKU", dbc.Input(id=SKU, placeholder="SKU code", debounce=True, maxLength=64), 2),
                        _field("Who", dcc.Dropdown(id=USER, options=people, placeholder="Everyone"), 3),
                        _field(
                            "From", dbc.Input(id=DATE_FROM, placeholder="YYYY-MM-DD", debounce=True, maxLength=10), 2
                        ),
                        _field("To", dbc.Input(id=DATE_TO, placeholder="YYYY-MM-DD", debounce=True, maxLength=10), 2),
                    ],
                    className="g-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.RadioItems(
                                id=OUTCOME, options=OUTCOME_OPTIONS, value="", inline=True, className="small mt-2"
                            ),
                            md=9,
                        ),
                        dbc.Col(
                            dbc.Button(
                                "Export CSV",
                                id=EXPORT,
                                color="secondary",
                                outline=True,
                                size="sm",
                                className="mt-1 float-end",
                            ),
                            md=3,
                        ),
                    ]
                ),
                html.Div(id=NOTE, className="small text-secondary mt-2"),
            ]
        ),
        className="shadow-sm border-0 mb-3",
    )


def layout(**_query: Any) -> html.Div:
    with session_scope() as session:
        people = users(session=session)
    grid = dag.AgGrid(
        id=GRID,
        columnDefs=COLUMNS,
        rowData=[],
        getRowId="params.data.id + ''",
        defaultColDef={"sortable": True, "resizable": True, "filter": True},
        dashGridOptions={
            "rowHeight": 32,
            "headerHeight": 36,
            "pagination": True,
            "paginationPageSize": 50,
            "tooltipShowDelay": 300,
            "localeText": {"noRowsToShow": "No decision matches the filters."},
        },
        style={"width": "100%", "height": "640px"},
        className="ag-theme-alpine",
    )
    return html.Div(
        [
            page_header(
                "Decision log",
                "Who decided what and when, and what became of it: an order's arrival against its promise, an "
                "override's forecast value added, a policy's service and inventory since",
            ),
            dcc.Download(id=EXPORT_FILE),
            filters(people),
            dbc.Card(dbc.CardBody(grid), className="shadow-sm border-0"),
        ]
    )
