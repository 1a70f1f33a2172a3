"""Cycles (/cycles): S&OP cycles frozen under a name and two of them side by side -- the demand change by category
(waterfall), the largest SKU changes, inventory and money -- with a CSV export. Everyone reads; closing a cycle needs
the planner role (checked again on the server by callbacks/cycles.py). Figures come from :mod:`services.cycles`.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from core import formats
from db.session import session_scope
from layouts._charts import GRAPH_CONFIG, SECTION_CLASS, base_layout, blank_figure, fmt_money, fmt_pct, fmt_qty
from layouts._components import allowed, page_header
from layouts._consensus import consensus_section
from services.cycles import CycleSummary, list_cycles

dash.register_page(__name__, path="/cycles", name="Cycles", order=5, title="Cycles · Inventory Command Center")

CLOSE_NAME = "cycles-close-name"
CLOSE_BUTTON = "cycles-close-button"
CLOSE_MESSAGE = "cycles-close-message"
PICK_A = "cycles-pick-a"
PICK_B = "cycles-pick-b"
TOTALS = "cycles-totals"
WATERFALL = "cycles-waterfall"
PERIODS = "cycles-periods"
CHARTS_SHOWN = {"display": "block"}
CHARTS_HIDDEN = {"display": "none"}  # no comparison yet: an empty chart is hidden, not read as "no data"
WATERFALL_BOX = "cycles-waterfall-box"
PERIODS_BOX = "cycles-periods-box"
SKU_GRID = "cycles-sku-grid"
EXPORT = "cycles-export"
EXPORT_FILE = "cycles-export-file"
NOTE = "cycles-note"
PLANNER_ONLY = "Closing a cycle needs the planner role."
TOP_SKUS = 25
TOTAL_LABELS = {
    "demand": ("Consensus demand (units)", fmt_qty),
    "supply": ("Planned supply (units)", fmt_qty),
    "unmet": ("Unmet demand (units)", fmt_qty),
    "ending_inventory": ("Projected inventory at the horizon (units)", fmt_qty),
    "revenue": ("Revenue of the plan", fmt_money),
    "margin": ("Margin of the plan", fmt_money),
    "inventory_value": ("Inventory value now", fmt_money),
    "ending_inventory_value": ("Inventory value at the horizon", fmt_money),
    "open_orders_value": ("Open (approved) orders", fmt_money),
    "recommended_orders_value": ("Recommended orders", fmt_money),
}
_NUM = "params.value == null ? '\u2013' : d3.format(',.0f')(params.value)"
_SIGNED = "params.value == null ? '\u2013' : d3.format('+,.0f')(params.value)"
_PCT = "params.value == null ? '\u2013' : d3.format('+,.1f')(params.value) + '%'"
SKU_COLUMNS: list[dict[str, Any]] = [
    {"field": "sku_link", "colId": "code", "headerName": "SKU", "width": 120, "cellRenderer": "markdown"},
    {"field": "name", "headerName": "Name", "flex": 1, "minWidth": 150, "tooltipField": "name"},
    {"field": "category", "headerName": "Category", "width": 130},
    {"field": "demand_a", "headerName": "Demand A", "width": 110, "valueFormatter": {"function": _NUM}},
    {"field": "demand_b", "headerName": "Demand B", "width": 110, "valueFormatter": {"function": _NUM}},
    {"field": "change", "headerName": "Change", "width": 110, "valueFormatter": {"function": _SIGNED}},
    {"field": "change_pct", "headerName": "Change %", "width": 100, "valueFormatter": {"function": _PCT}},
    {
        "field": "ending_inventory_change",
        "headerName": "Inventory Δ",
        "width": 115,
        "valueFormatter": {"function": _SIGNED},
    },
    {"field": "margin_change", "headerName": "Margin Δ", "width": 110, "valueFormatter": {"function": _SIGNED}},
]
for _column in SKU_COLUMNS[3:]:
    _column["type"] = "rightAligned"


def cycle_options(found: list[CycleSummary]) -> list[dict[str, Any]]:
    return [
        {"label": f"{c.name} · closed {formats.fmt_datetime(c.closed_at)} · run {c.run_id}", "value": c.id}
        for c in found
    ]


def default_pair(found: list[CycleSummary]) -> tuple[int | None, int | None]:
    """(A, B): the second newest and the newest cycle (the same one when there is only one)."""
    if not found:
        return None, None
    return (found[1].id if len(found) > 1 else found[0].id), found[0].id


def totals_table(document: dict[str, Any]) -> dbc.Table:
    head = html.Thead(
        html.Tr([html.Th(""), html.Th(document["a"]["name"]), html.Th(document["b"]["name"]), html.Th("Change")])
    )
    rows = []
    for field, (label, fmt) in TOTAL_LABELS.items():
        pair = document["totals"].get(field)
        if pair is None:
            continue
        change = "" if pair["change"] is None else ("+" if pair["change"] > 0 else "") + fmt(pair["change"])
        if pair["change_pct"] is not None:
            change += f" ({fmt_pct(pair['change_pct'] / 100)})"
        rows.append(html.Tr([html.Td(label), html.Td(fmt(pair["a"])), html.Td(fmt(pair["b"])), html.Td(change)]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="small mb-0")


def waterfall_figure(document: dict[str, Any], *, most: int = 12) -> dict[str, Any]:
    """Demand of A, each category's change (the ``most`` largest; the rest as one bar), demand of B."""
    categories = document["by_category"]
    shown, rest = categories[:most], categories[most:]
    x = [f"{document['a']['name']}"] + [c["category"] for c in shown]
    y = [document["totals"]["demand"]["a"] or 0.0] + [c["change"] or 0.0 for c in shown]
    measure = ["absolute"] + ["relative"] * len(shown)
    if rest:
        x.append(f"{len(rest)} other categories")
        y.append(sum(c["change"] or 0.0 for c in rest))
        measure.append("relative")
    x.append(f"{document['b']['name']}")
    y.append(document["totals"]["demand"]["b"] or 0.0)
    measure.append("total")
    trace = {
        "type": "waterfall",
        "x": x,
        "y": y,
        "measure": measure,
        "connector": {"line": {"color": "#adb5bd"}},
        "increasing": {"marker": {"color": "#2ca02c"}},
        "decreasing": {"marker": {"color": "#d62728"}},
        "totals": {"marker": {"color": "#1f3a5f"}},
        "hovertemplate": "%{x}: %{y:,.0f} units<extra></extra>",
    }
    levels = list(np.cumsum(y[:-1])) + [y[-1]]
    low, high = min(levels), max(levels)
    pad = max((high - low) * 0.25, abs(high) * 0.01, 1.0)
    yaxis = {"title": "units over the horizon", "range": [max(low - 2 * pad, 0.0), high + pad]}
    return {"data": [trace], "layout": base_layout(height=360, showlegend=False, yaxis=yaxis)}


def periods_figure(document: dict[str, Any]) -> dict[str, Any]:
    """Demand and projected inventory per period of both cycles (periods matched by date)."""
    periods = document["periods"]
    if not periods:
        return blank_figure()
    x = [p["period"] for p in periods]
    traces = []
    for side, dash_style in (("a", "dot"), ("b", "solid")):
        name = document[side]["name"]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": [p.get(f"demand_{side}") for p in periods],
                "name": f"Demand · {name}",
                "line": {"color": "#1f3a5f", "dash": dash_style},
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": [p.get(f"projected_inventory_{side}") for p in periods],
                "name": f"Projected inventory · {name}",
                "line": {"color": "#ff7f0e", "dash": dash_style},
            }
        )
    layout = base_layout(height=320, xaxis={"tickformat": formats.PLOTLY_DATE}, yaxis={"title": "units"})
    layout["legend"] = {"orientation": "h", "y": -0.25}
    return {"data": traces, "layout": layout}


def sku_rows(document: dict[str, Any], *, limit: int = TOP_SKUS) -> list[dict[str, Any]]:
    return [{**s, "sku_link": f"[{s['code']}](/sku/{s['code']})"} for s in document["skus"][:limit]]


def close_card(can_close: bool) -> dbc.Card:
    if not can_close:
        body: Any = html.Div(PLANNER_ONLY, className="small text-secondary")
    else:
        body = dbc.InputGroup(
            [
                dbc.Input(id=CLOSE_NAME, placeholder="Cycle name, e.g. Dec 2026", maxLength=120),
                dbc.Button("Close cycle", id=CLOSE_BUTTON, color="primary"),
            ],
            size="sm",
        )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Close a cycle", className=SECTION_CLASS),
                html.P(
                    "Freezes the consensus demand (forecast after overrides and commercial adjustments), the "
                    "supply plan, projected inventory and the money view of the latest recompute under a name.",
                    className="small text-secondary",
                ),
                body,
                html.Div(id=CLOSE_MESSAGE, className="small mt-2", style={"minHeight": "1.2em"}),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )


def picker_card(found: list[CycleSummary]) -> dbc.Card:
    a, b = default_pair(found)
    options = cycle_options(found)
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Compare", className=SECTION_CLASS),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Cycle A (earlier)", html_for=PICK_A, className="small fw-semibold mb-1"),
                                dcc.Dropdown(id=PICK_A, options=options, value=a, clearable=False),
                            ],
                            md=5,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Cycle B (later)", html_for=PICK_B, className="small fw-semibold mb-1"),
                                dcc.Dropdown(id=PICK_B, options=options, value=b, clearable=False),
                            ],
                            md=5,
                        ),
                        dbc.Col(
                            dbc.Button(
                                "Export CSV", id=EXPORT, color="secondary", outline=True, size="sm", className="mt-4"
                            ),
                            md=2,
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(id=NOTE, className="small text-secondary mt-2"),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )


def _card(title: str, child: Any) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody([html.Div(title, className=SECTION_CLASS), child]), className="shadow-sm border-0 mb-3"
    )


def layout(**_query: Any) -> html.Div:
    with session_scope() as session:
        found = list_cycles(session=session)
        consensus = consensus_section(session=session, can_edit=allowed("planner"))  # issue 19 item 1
    grid = dag.AgGrid(
        id=SKU_GRID,
        columnDefs=SKU_COLUMNS,
        rowData=[],
        getRowId="params.data.code + ''",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "rowHeight": 32,
            "headerHeight": 36,
            "domLayout": "autoHeight",
            "tooltipShowDelay": 300,
            "localeText": {"noRowsToShow": "Close two cycles to compare them."},
        },
        style={"width": "100%"},
        className="ag-theme-alpine",
    )
    return html.Div(
        [
            page_header("S&OP cycles", "The monthly plan frozen under a name, and two cycles side by side"),
            dcc.Download(id=EXPORT_FILE),
            consensus,
            dbc.Row(
                [
                    dbc.Col(close_card(allowed("planner")), lg=4, className="mb-3"),
                    dbc.Col(picker_card(found), lg=8, className="mb-3"),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Demand change by category",
                            html.Div(
                                dcc.Graph(id=WATERFALL, figure=blank_figure(), config=GRAPH_CONFIG),
                                id=WATERFALL_BOX,
                                style=CHARTS_HIDDEN,
                            ),
                        ),
                        lg=7,
                    ),
                    dbc.Col(_card("Inventory and money", html.Div(id=TOTALS)), lg=5),
                ]
            ),
            _card(f"Largest SKU changes (top {TOP_SKUS} by absolute demand change)", grid),
            _card(
                "Demand and projected inventory by period",
                html.Div(
                    dcc.Graph(id=PERIODS, figure=blank_figure(), config=GRAPH_CONFIG),
                    id=PERIODS_BOX,
                    style=CHARTS_HIDDEN,
                ),
            ),
        ]
    )
