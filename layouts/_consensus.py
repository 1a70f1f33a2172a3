"""The Cycles page's "Consensus demand" section (issue 19 item 1): commercial adjustments in force (planners add and
delete them; everyone reads), the layers of the adjusted periods, and the forecast value added of each layer by layer
and by who. Figures come from :mod:`services.consensus`; the callbacks are callbacks/consensus.py."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from sqlalchemy.orm import Session

from core import formats
from layouts._charts import SECTION_CLASS, fmt_qty
from services import consensus

SCOPE = "consensus-scope"
PERIOD = "consensus-period"
KIND = "consensus-kind"
VALUE = "consensus-value"
REASON = "consensus-reason"
SAVE = "consensus-save"
MESSAGE = "consensus-message"
GRID = "consensus-grid"
DELETE = "consensus-delete"
LAYERS = "consensus-layers"
FVA = "consensus-fva"
SECTION = "consensus-section"
SAVE_LABEL = "Save adjustment"
SAVING_LABEL = "Saving and recomputing…"
PLANNER_ONLY = "Adding or deleting an adjustment needs the planner role."
LAYER_NAMES = {"overrides": "Planner overrides", "commercial": "Commercial adjustments", "consensus": "Consensus"}
MAX_LAYER_ROWS = 200
GRID_COLUMNS: list[dict[str, Any]] = [
    {"field": "id", "headerName": "#", "width": 70},
    {"field": "scope", "headerName": "Scope", "flex": 1, "minWidth": 140},
    {"field": "month", "headerName": "Month", "width": 100},
    {"field": "change", "headerName": "Change", "width": 130},
    {"field": "reason", "headerName": "Why", "flex": 2, "minWidth": 160, "tooltipField": "reason"},
    {"field": "who", "headerName": "Who", "width": 190},
    {"field": "when", "headerName": "When", "width": 150},
]


def adjustment_rows(found: list[consensus.AdjustmentView]) -> list[dict[str, Any]]:
    """Grid rows of the adjustments in force."""
    return [
        {
            "id": a.id,
            "scope": f"{'category ' if a.scope_kind == 'category' else ''}{a.scope}",
            "month": formats.fmt_month(a.period),
            "change": a.change,
            "reason": a.reason,
            "who": a.user_email,
            "when": formats.fmt_datetime(a.created_at),
        }
        for a in found
    ]


def month_options(session: Session) -> list[dict[str, str]]:
    """The months an adjustment may be for (the latest run's forecast), as dropdown options."""
    try:
        first, last = consensus.month_range(session)
    except consensus.AdjustmentError:
        return []
    out, month = [], first
    while month <= last:
        out.append({"label": formats.fmt_month(month), "value": month.isoformat()})
        month = month.replace(year=month.year + (month.month == 12), month=month.month % 12 + 1)
    return out


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _pts(value: Any) -> str:
    return "–" if value is None else f"{value * 100:+.1f} pts"


def fva_table(rows: list[dict[str, Any]], *, by: str) -> Any:
    """The forecast value added table (MAE and WAPE before / after each layer)."""
    if not rows:
        return html.Div(
            "No adjusted or overridden period has its actual yet: the value added shows once it has.",
            className="small text-secondary",
        )
    head = ["Layer", "Who" if by == "who" else "", "Periods", "MAE before", "MAE after", "FVA (MAE)", "FVA (WAPE)"]
    body = [
        html.Tr(
            [
                html.Td(LAYER_NAMES.get(r["layer"], r["layer"])),
                html.Td("" if by == "layer" else r["key"]),
                html.Td(f"{r['periods']:,}"),
                html.Td(_num(r["mae_before"])),
                html.Td(_num(r["mae_after"])),
                html.Td(_num(r["fva_mae"])),
                html.Td(_pts(r["fva_wape"])),
            ]
        )
        for r in rows
    ]
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
        size="sm",
        className="small mb-2",
        striped=True,
    )


def layers_table(frame: Any) -> Any:
    """The adjusted or overridden forecast periods: statistical -> after overrides -> consensus."""
    if frame is None or len(frame) == 0:
        return html.Div(
            "No forecast period is overridden or adjusted: the consensus is the statistical forecast.",
            className="small text-secondary",
        )
    rows = [
        html.Tr(
            [
                html.Td(r.code),
                html.Td(formats.fmt_date(r.period)),
                html.Td(fmt_qty(r.statistical)),
                html.Td(fmt_qty(r.overridden)),
                html.Td(fmt_qty(r.consensus)),
            ]
        )
        for r in frame.head(MAX_LAYER_ROWS).itertuples(index=False)
    ]
    head = ["SKU", "Period", "Statistical", "After overrides", "Consensus"]
    return html.Div(
        dbc.Table(
            [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)], size="sm", className="small mb-0"
        ),
        style={"maxHeight": "320px", "overflowY": "auto"},
    )


def _form(months: list[dict[str, str]]) -> Any:
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("SKU or category", html_for=SCOPE, className="small fw-semibold mb-1"),
                            dbc.Input(id=SCOPE, placeholder="B-00012 or category:Beverages", maxLength=110, size="sm"),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Month", html_for=PERIOD, className="small fw-semibold mb-1"),
                            dcc.Dropdown(id=PERIOD, options=months, placeholder="Month", clearable=False),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Change", html_for=VALUE, className="small fw-semibold mb-1"),
                            dbc.Label("Change in", html_for=KIND, className="visually-hidden"),
                            dbc.InputGroup(
                                [
                                    dbc.Input(id=VALUE, type="number", placeholder="10", size="sm"),
                                    dbc.Select(
                                        id=KIND,
                                        options=[{"label": "%", "value": "pct"}, {"label": "units", "value": "units"}],
                                        value="pct",
                                        size="sm",
                                    ),
                                ],
                                size="sm",
                            ),
                        ],
                        md=5,
                    ),
                ],
                className="g-2 mb-2",
            ),
            dbc.InputGroup(
                [
                    dbc.Input(id=REASON, placeholder="Why (required)", maxLength=500, size="sm"),
                    dbc.Button(SAVE_LABEL, id=SAVE, color="primary", size="sm"),
                    dbc.Button("Delete selected", id=DELETE, color="danger", outline=True, size="sm"),
                ],
                size="sm",
            ),
        ]
    )


def consensus_section(*, session: Session, can_edit: bool) -> dbc.Card:
    """The section: form (planners), adjustments grid, layers and forecast value added."""
    found = consensus.list_adjustments(session=session)
    grid = dag.AgGrid(
        id=GRID,
        columnDefs=GRID_COLUMNS,
        rowData=adjustment_rows(found),
        getRowId="params.data.id + ''",  # a string row id (AG Grid warning #25)
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "rowHeight": 32,
            "headerHeight": 36,
            "domLayout": "autoHeight",
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "localeText": {"noRowsToShow": "No commercial adjustment in force."},
        },
        style={"width": "100%"},
        className="ag-theme-alpine mt-2",
    )
    form = _form(month_options(session)) if can_edit else html.Div(PLANNER_ONLY, className="small text-secondary")
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Consensus demand", className=SECTION_CLASS),
                html.P(
                    "Statistical forecast → planner overrides → commercial adjustments → consensus. An adjustment "
                    "is a percentage or units for a SKU or a category and a month (units are shared in proportion "
                    "to the forecast); a SKU's own adjustment replaces its category's. The consensus drives the "
                    "policy, the orders and a closed cycle.",
                    className="small text-secondary",
                ),
                form,
                html.Div(id=MESSAGE, className="small mt-2", style={"minHeight": "1.2em"}),
                grid,
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                html.Div("Adjusted periods", className="small fw-semibold mt-3 mb-1"),
                                html.Div(layers_table(consensus.layer_table(session=session)), id=LAYERS),
                            ],
                            lg=6,
                        ),
                        dbc.Col(
                            [
                                html.Div("Forecast value added", className="small fw-semibold mt-3 mb-1"),
                                html.Div(
                                    [
                                        fva_table(consensus.fva_report(session=session, by="layer"), by="layer"),
                                        fva_table(consensus.fva_report(session=session, by="who"), by="who"),
                                    ],
                                    id=FVA,
                                ),
                            ],
                            lg=6,
                        ),
                    ]
                ),
            ]
        ),
        id=SECTION,
        className="shadow-sm border-0 mb-3",
    )
