"""Supply (/supply): the S&OP supply side -- can the lines and suppliers deliver what the plan asks for, month by month?

Knobs (horizon 3-18 periods, strategy chase / level / optimal, overtime %), the plan's totals, per resource the
required load against planned load, regular capacity and the overtime band, the projected inventory of its SKUs
against their safety stock and target, the unmet-demand table with the reason, named scenarios side by side (saving
and deleting: planners), CSV exports. Everything shown comes from :mod:`services.supply`; the callbacks are in
callbacks/supply.py.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids
from layouts._charts import (
    GRAPH_CONFIG,
    MISSING,
    SECTION_CLASS,
    base_layout,
    blank_figure,
    empty_figure,
    fmt_money,
    fmt_pct,
    fmt_qty,
)
from layouts._components import allowed, page_header

dash.register_page(__name__, path="/supply", name="Supply", order=4, title="Supply · Inventory Command Center")

SHOWN = {"display": "flex"}
HIDDEN = {"display": "none"}
STRATEGY_LABELS = {"chase": "Chase", "level": "Level", "optimal": "Optimal (LP)"}
STRATEGY_HELP = {
    "chase": "supply follows the requirement; overtime first, then shortfall",
    "level": "a constant regular rate per resource, building inventory ahead of peaks",
    "optimal": "least total cost (HiGHS linear programme); never short more than chase",
}
COLORS = {
    "capacity": "#1f3a5f",
    "band": "rgba(255,127,14,0.30)",
    "overtime_line": "rgba(255,127,14,0.7)",
    "regular": "#1f77b4",
    "overtime": "#ff7f0e",
    "required": "#212529",
    "inventory": "#2c7fb8",
    "safety": "#d62728",
    "target": "#9467bd",
    "unmet": "rgba(214,39,40,0.55)",
}
PLANNER_ONLY = "Saving and deleting scenarios need the planner role"
_NUM = "params.value == null ? '\u2013' : d3.format(',.0f')(params.value)"
_MONEY = "params.value == null ? '\u2013' : '$' + d3.format(',.2f')(params.value)"
_MONEY0 = "params.value == null ? '\u2013' : '$' + d3.format(',.0f')(params.value)"
_RIGHT = {"type": "rightAligned"}
UNMET_COLUMNS: list[dict[str, Any]] = [
    {"field": "sku_link", "colId": "sku", "headerName": "SKU", "width": 115, "cellRenderer": "markdown"},
    {"field": "name", "headerName": "Name", "width": 150, "tooltipField": "name"},
    {"field": "resource", "headerName": "Resource", "width": 130, "tooltipField": "resource"},
    {"field": "abc", "headerName": "ABC", "width": 70},
    {"field": "margin_per_unit", "headerName": "Margin / unit", "width": 105, "valueFormatter": {"function": _MONEY}},
    {"field": "unmet_demand", "headerName": "Unmet units", "width": 110, "valueFormatter": {"function": _NUM}},
    {"field": "lost_margin", "headerName": "Lost margin", "width": 110, "valueFormatter": {"function": _MONEY0}},
    {"field": "first_short_period", "headerName": "First short", "width": 110},
    {
        "field": "reason",
        "headerName": "Why",
        "flex": 1,
        "minWidth": 300,
        "tooltipField": "reason",
        "wrapText": True,
        "autoHeight": True,
        "cellStyle": {"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px"},
    },
]
for _column in UNMET_COLUMNS[4:7]:
    _column.update(_RIGHT)


def controls() -> dbc.Card:
    marks = {k: str(k) for k in (3, 6, 9, 12, 15, 18)}
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Horizon (periods)", html_for=ids.SUPPLY_HORIZON, className="small fw-semibold"),
                            dcc.Slider(3, 18, 1, value=12, marks=marks, id=ids.SUPPLY_HORIZON),
                        ],
                        lg=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Strategy", className="small fw-semibold"),
                            dbc.RadioItems(
                                id=ids.SUPPLY_STRATEGY,
                                options=[{"label": label, "value": key} for key, label in STRATEGY_LABELS.items()],
                                value="chase",
                                inline=True,
                            ),
                            html.Div(id=f"{ids.SUPPLY_STRATEGY}-help", className="form-text mt-0"),
                        ],
                        lg=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Overtime %", html_for=ids.SUPPLY_OVERTIME, className="small fw-semibold"),
                            dbc.Input(
                                id=ids.SUPPLY_OVERTIME,
                                type="number",
                                min=0,
                                max=200,
                                step="any",
                                placeholder="from the file",
                                size="sm",
                            ),
                            html.Div("of regular capacity; blank: the resources file's", className="form-text mt-0"),
                        ],
                        lg=2,
                    ),
                    dbc.Col(
                        [
                            dbc.Button("Plan", id=ids.SUPPLY_RUN, color="primary", className="w-100 mt-4"),
                        ],
                        lg=2,
                    ),
                ],
                className="g-3 align-items-start",
            )
        ),
        className="mb-3 shadow-sm",
    )


def progress_row() -> html.Div:
    return html.Div(
        [
            dbc.Progress(id=ids.SUPPLY_PROGRESS, value=0, striped=True, animated=True, className="flex-grow-1"),
            html.Span(id=ids.SUPPLY_PROGRESS_LABEL, className="small text-secondary ms-3 text-nowrap"),
            dbc.Button("Cancel", id=ids.SUPPLY_CANCEL, size="sm", color="secondary", outline=True, className="ms-3"),
        ],
        id=ids.SUPPLY_PROGRESS_WRAP,
        className="align-items-center mb-3",
        style=HIDDEN,
    )


def _chart_card(title: str, note: str, graph_id: str) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span(title, className="fw-semibold"),
                        html.Span(f"  {note}", className="small text-secondary"),
                    ]
                ),
                dcc.Graph(id=graph_id, figure=blank_figure(), config=GRAPH_CONFIG, style={"height": "340px"}),
            ]
        ),
        className="h-100 shadow-sm",
    )


def scenarios_card(can_save: bool) -> dbc.Card:
    save = dbc.InputGroup(
        [
            dbc.Input(
                id=ids.SUPPLY_SCENARIO_NAME,
                placeholder="Scenario name, e.g. 'Optimal, 10% overtime'",
                maxLength=120,
                disabled=not can_save,
            ),
            dbc.Button("Save this plan", id=ids.SUPPLY_SCENARIO_SAVE, color="primary", disabled=not can_save),
        ],
        size="sm",
    )
    save = html.Div(save, title=None if can_save else PLANNER_ONLY)
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Scenarios", className=SECTION_CLASS),
                dbc.Row(
                    [
                        dbc.Col([save, html.Div(id=ids.SUPPLY_SCENARIO_MESSAGE, className="small mt-1")], lg=5),
                        dbc.Col(
                            dcc.Dropdown(
                                id=ids.SUPPLY_SCENARIO_PICK,
                                multi=True,
                                placeholder="Pick up to 4 saved scenarios to compare",
                                className="small",
                            ),
                            lg=5,
                        ),
                        dbc.Col(
                            dbc.Button(
                                "Delete picked",
                                id=ids.SUPPLY_SCENARIO_DELETE,
                                size="sm",
                                color="danger",
                                outline=True,
                                disabled=not can_save,
                                title=None if can_save else PLANNER_ONLY,
                            ),
                            lg=2,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                html.Div(id=ids.SUPPLY_SCENARIO_COMPARE),
                dcc.Store(id=ids.SUPPLY_SCENARIO_VERSION, data=0),
            ]
        ),
        className="mb-4 shadow-sm",
    )


def layout(**_kwargs: object) -> html.Div:
    return html.Div(
        [
            page_header(
                "Supply plan",
                "Can the lines and suppliers deliver what demand asks for? Capacity, overtime and a feasible plan "
                "over 3-18 periods",
            ),
            controls(),
            progress_row(),
            html.Div(id=ids.SUPPLY_MESSAGE),
            html.Div(id=ids.SUPPLY_KPIS, className="mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Resource", html_for=ids.SUPPLY_RESOURCE, className="small fw-semibold mb-0"),
                            dcc.Dropdown(id=ids.SUPPLY_RESOURCE, clearable=False, placeholder="no resource yet"),
                        ],
                        lg=4,
                    ),
                    dbc.Col(html.Div(id=ids.SUPPLY_RESOURCE_NOTE, className="small text-secondary pt-4"), lg=5),
                    dbc.Col(
                        html.Div(
                            [
                                dbc.Button(
                                    "Resources CSV",
                                    id=ids.SUPPLY_EXPORT_RESOURCES,
                                    size="sm",
                                    outline=True,
                                    color="secondary",
                                    className="me-2",
                                ),
                                dbc.Button(
                                    "SKUs CSV", id=ids.SUPPLY_EXPORT_SKUS, size="sm", outline=True, color="secondary"
                                ),
                            ],
                            className="text-lg-end pt-4",
                        ),
                        lg=3,
                    ),
                ],
                className="g-2 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _chart_card(
                            "Load against capacity",
                            "required vs planned (regular + overtime) vs capacity and the overtime band",
                            ids.SUPPLY_CAPACITY_CHART,
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        _chart_card(
                            "Projected inventory",
                            "of the resource's SKUs against safety stock and target; red: unmet demand",
                            ids.SUPPLY_INVENTORY_CHART,
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mb-4",
            ),
            html.Div(
                [
                    html.Span("Unmet demand", className="fw-semibold"),
                    html.Span(id=ids.SUPPLY_UNMET_NOTE, className="small text-secondary ms-2"),
                ],
                className="mb-1",
            ),
            dag.AgGrid(
                id=ids.SUPPLY_UNMET_GRID,
                columnDefs=UNMET_COLUMNS,
                rowData=[],
                defaultColDef={"sortable": True, "resizable": True, "filter": True},
                dashGridOptions={
                    "animateRows": False,
                    "tooltipShowDelay": 300,
                    "pagination": True,
                    "paginationPageSize": 10,
                    "paginationPageSizeSelector": False,
                    "domLayout": "autoHeight",
                },
                className="ag-theme-alpine mb-4",
            ),
            scenarios_card(allowed("planner")),
            dcc.Store(id=ids.SUPPLY_PLAN),
            dcc.Download(id=ids.SUPPLY_DOWNLOAD),
        ]
    )


# --- pieces the callbacks fill in -----------------------------------------------------------------------------------


def _tile(label: str, value: str, note: str | None = None, tone: str = "") -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(label, className="small text-secondary"),
                    html.Div(value, className=f"fs-5 fw-semibold {tone}"),
                    html.Div(note, className="small text-secondary") if note else None,
                ],
                className="py-2",
            ),
            className="h-100",
        ),
        xs=6,
        md=3,
        xl=True,
    )


def kpi_tiles(view: dict[str, Any]) -> dbc.Row:
    totals = view["totals"]
    unit = "months" if view["grain"] == "monthly" else "weeks"
    shown = STRATEGY_LABELS.get(view["strategy"], view["strategy"])
    short = totals["shortage_units"]
    return dbc.Row(
        [
            _tile("Plan", shown, f"{len(view['labels'])} {unit}, {view['labels'][0]} – {view['labels'][-1]}"),
            _tile("Total cost", fmt_money(totals["total_cost"]), "regular + overtime + holding + shortage"),
            _tile("Regular time", fmt_money(totals["regular_cost"])),
            _tile(
                "Overtime", fmt_money(totals["overtime_cost"]), tone="text-warning" if totals["overtime_cost"] else ""
            ),
            _tile("Holding", fmt_money(totals["holding_cost"])),
            _tile(
                "Shortage cost",
                fmt_money(totals["shortage_cost"]),
                "lost margin + below-target penalty",
                "text-danger" if totals["shortage_cost"] else "",
            ),
            _tile(
                "Unmet demand",
                fmt_qty(short) + " units",
                f"fill rate {fmt_pct(totals['fill_rate'], 2)}",
                "text-danger" if short > 0.5 else "text-success",
            ),
        ],
        className="g-2",
    )


def message(view: dict[str, Any] | None, error: str | None = None) -> Any:
    if error:
        return dbc.Alert(error, color="warning", className="py-2")
    if not view:
        return None
    parts = []
    if view.get("message"):
        parts.append(dbc.Alert(view["message"], color="warning", className="py-2 mb-2"))
    for note in view.get("notes") or []:
        parts.append(dbc.Alert(note, color="light", className="py-2 mb-2 border small"))
    if not view["resources"]:
        parts.append(
            dbc.Alert(
                [
                    "No resource capacity is stored, so every SKU is planned unconstrained. Import a resources file "
                    "(resource, period, capacity) on the ",
                    html.A("Data page", href="/data"),
                    " and give SKUs a resource.",
                ],
                color="light",
                className="py-2 mb-2 border small",
            )
        )
    solver = view.get("solver") or {}
    if view["strategy"] == "optimal" and solver.get("variables"):
        parts.append(
            html.Div(
                f"Linear programme: {solver['variables']:,} variables, {solver['constraints']:,} constraints, "
                f"{solver.get('programmes', 1)} resource programme(s), solved by HiGHS in "
                f"{solver.get('seconds', 0):.2f} s.",
                className="small text-secondary mb-2",
            )
        )
    return html.Div(parts) if parts else None


def resource_options(view: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for series in view["resources"]:
        short = any((v or 0) > 0.5 for v in series["shortfall"])
        label = f"{series['resource']} · {series['skus']} SKUs" + (" · short" if short else "")
        out.append({"label": label, "value": series["resource"]})
    return out


def _series(view: dict[str, Any], resource: str | None) -> dict[str, Any] | None:
    return next((r for r in view["resources"] if r["resource"] == resource), None)


def resource_note(view: dict[str, Any], resource: str | None) -> str:
    series = _series(view, resource)
    if series is None:
        return f"{view['skus']:,} SKUs planned, all unconstrained." if view["skus"] else ""
    overtime = sum(v or 0 for v in series["overtime_used"])
    short = [label for label, v in zip(view["labels"], series["shortfall"], strict=True) if (v or 0) > 0.5]
    unmet = sum(v or 0 for v in series["unmet"])
    parts = [f"{series['skus']} SKUs", f"overtime used {fmt_qty(overtime)}"]
    parts.append(f"short in {len(short)} period(s) from {short[0]}" if short else "no shortfall")
    if unmet > 0.5:
        parts.append(f"{fmt_qty(unmet)} units of demand unmet")
    parts.append(f"{view['unconstrained_skus']:,} other SKUs unconstrained")
    return " · ".join(parts)


def _values(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 2) for v in values]


def capacity_figure(view: dict[str, Any], resource: str | None) -> dict[str, Any]:
    """Planned load (regular + overtime bars) against required load, regular capacity and the overtime band."""
    series = _series(view, resource)
    if series is None:
        return empty_figure("No resource: import a resources file on the Data page")
    x = view["labels"]
    capacity = series["capacity"]
    limit = [None if c is None else c + (o or 0) for c, o in zip(capacity, series["overtime_capacity"], strict=True)]
    planned = series["planned"]
    regular = [p if c is None else min(p or 0, c) for p, c in zip(planned, capacity, strict=True)]
    overtime = series["overtime_used"]
    hover = "%{x}<br>%{y:,.0f}<extra>%{fullData.name}</extra>"
    data = [
        {
            "type": "bar",
            "x": x,
            "y": _values(regular),
            "name": "Planned, regular",
            "marker": {"color": COLORS["regular"]},
            "hovertemplate": hover,
        },
        {
            "type": "bar",
            "x": x,
            "y": _values(overtime),
            "name": "Planned, overtime",
            "marker": {"color": COLORS["overtime"]},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": _values(capacity),
            "name": "Regular capacity",
            "line": {"color": COLORS["capacity"], "shape": "hv", "width": 2},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": _values(limit),
            "name": "Capacity + overtime",
            "line": {"color": COLORS["overtime_line"], "shape": "hv", "width": 1, "dash": "dot"},
            "fill": "tonexty",
            "fillcolor": COLORS["band"],
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": _values(series["required"]),
            "name": "Required (demand + target)",
            "line": {"color": COLORS["required"], "dash": "dash", "width": 2},
            "marker": {"size": 6},
            "hovertemplate": hover,
        },
    ]
    layout = base_layout(
        barmode="stack",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"title": {"text": "capacity units"}, "rangemode": "tozero", "tickformat": ",.0f"},
        xaxis={"type": "category"},
        hovermode="x unified",
    )
    return {"data": data, "layout": layout}


def inventory_figure(view: dict[str, Any], resource: str | None) -> dict[str, Any]:
    """Projected inventory of the resource's SKUs against their safety stock and target; unmet demand as bars."""
    series = _series(view, resource)
    if series is None:
        return empty_figure("No resource selected")
    x = view["labels"]
    hover = "%{x}<br>%{y:,.0f}<extra>%{fullData.name}</extra>"
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": _values(series["inventory"]),
            "name": "Projected inventory",
            "line": {"color": COLORS["inventory"], "width": 3},
            "fill": "tozeroy",
            "fillcolor": "rgba(44,127,184,0.10)",
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": _values(series["target"]),
            "name": "Target (safety stock + half lot)",
            "line": {"color": COLORS["target"], "dash": "dot"},
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": _values(series["safety_stock"]),
            "name": "Safety stock",
            "line": {"color": COLORS["safety"], "dash": "dash"},
            "hovertemplate": hover,
        },
        {
            "type": "bar",
            "x": x,
            "y": _values(series["unmet"]),
            "name": "Unmet demand",
            "marker": {"color": COLORS["unmet"]},
            "hovertemplate": hover,
        },
    ]
    layout = base_layout(
        legend={"orientation": "h", "y": -0.18, "x": 0},
        yaxis={"title": {"text": "units"}, "rangemode": "tozero", "tickformat": ",.0f"},
        xaxis={"type": "category"},
        hovermode="x unified",
    )
    return {"data": data, "layout": layout}


def unmet_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**row, "sku_link": f"[{row['sku']}](/sku/{row['sku']})"} for row in view["unmet"]]


def unmet_note(view: dict[str, Any]) -> str:
    count = view["unmet_count"]
    if not count:
        return "every SKU's demand is served in this plan"
    shown = len(view["unmet"])
    more = f" (the {shown} with the largest lost margin)" if count > shown else ""
    return f"{count:,} SKU(s) short{more}; capacity goes to the highest margin per capacity unit first"


# --- scenarios -------------------------------------------------------------------------------------------------------

COMPARE_ROWS = [
    ("strategy", "Strategy"),
    ("horizon", "Horizon"),
    ("overtime_pct", "Overtime %"),
    ("total_cost", "Total cost"),
    ("regular_cost", "Regular time"),
    ("overtime_cost", "Overtime"),
    ("holding_cost", "Holding"),
    ("shortage_cost", "Shortage cost"),
    ("shortage_units", "Unmet units"),
    ("fill_rate", "Fill rate"),
    ("saved", "Saved"),
]


def scenario_options(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {"label": f"{r.name} ({STRATEGY_LABELS.get(r.strategy, r.strategy)}, {r.horizon})", "value": r.id} for r in rows
    ]


def _cell(key: str, scenario: Any) -> str:
    totals = scenario.totals
    if key == "strategy":
        shown = STRATEGY_LABELS.get(scenario.strategy, scenario.strategy)
        asked = scenario.requested_strategy
        return shown if asked == scenario.strategy else f"{shown} (asked {STRATEGY_LABELS.get(asked, asked)})"
    if key == "horizon":
        return f"{scenario.horizon} {'months' if scenario.grain == 'monthly' else 'weeks'}"
    if key == "overtime_pct":
        return "file" if scenario.overtime_pct is None else f"{scenario.overtime_pct:g}%"
    if key == "shortage_units":
        return fmt_qty(totals.get(key))
    if key == "fill_rate":
        return fmt_pct(totals.get(key), 2)
    if key == "saved":
        return f"{scenario.created_at:%Y-%m-%d %H:%M} · {scenario.user_email or MISSING}"
    return fmt_money(totals.get(key))


def comparison(scenarios: list[Any]) -> Any:
    """The picked scenarios side by side: the table and their costs as stacked bars (built only when there are some,
    so the chart is drawn at its visible size)."""
    if not scenarios:
        return comparison_table(scenarios)
    chart = dcc.Graph(
        id=ids.SUPPLY_SCENARIO_CHART,
        figure=comparison_figure(scenarios),
        config=GRAPH_CONFIG,
        style={"height": "280px"},
    )
    return dbc.Row([dbc.Col(comparison_table(scenarios), lg=7), dbc.Col(chart, lg=5)], className="g-3")


def comparison_table(scenarios: list[Any]) -> Any:
    if not scenarios:
        return html.P(
            "Save plans as scenarios, then pick them here to compare side by side.",
            className="small text-secondary mb-0",
        )
    head = html.Thead(html.Tr([html.Th("")] + [html.Th(s.name, className="text-end") for s in scenarios]))
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(label, className="text-secondary")]
                + [html.Td(_cell(key, s), className="text-end") for s in scenarios]
            )
            for key, label in COMPARE_ROWS
        ]
    )
    return dbc.Table([head, body], size="sm", hover=True, className="small mb-0 align-middle")


def comparison_figure(scenarios: list[Any]) -> dict[str, Any]:
    """Total cost of each scenario, stacked by component."""
    if not scenarios:
        return empty_figure("No scenario picked")
    names = [s.name for s in scenarios]
    parts = [
        ("regular_cost", "Regular", COLORS["regular"]),
        ("overtime_cost", "Overtime", COLORS["overtime"]),
        ("holding_cost", "Holding", COLORS["target"]),
        ("shortage_cost", "Shortage", COLORS["safety"]),
    ]
    data = [
        {
            "type": "bar",
            "x": names,
            "y": [s.totals.get(key, 0) for s in scenarios],
            "name": label,
            "marker": {"color": color},
            "hovertemplate": "%{x}<br>$%{y:,.0f}<extra>" + label + "</extra>",
        }
        for key, label, color in parts
    ]
    layout = base_layout(
        barmode="stack",
        legend={"orientation": "h", "y": -0.25, "x": 0},
        yaxis={"tickprefix": "$", "tickformat": ",.0f"},
    )
    return {"data": data, "layout": layout}


# --- the Watchtower's mention ------------------------------------------------------------------------------------


def capacity_alert(sentences: list[str]) -> Any:
    """The Watchtower's note on resources short of capacity in the horizon (None when there is none)."""
    if not sentences:
        return None
    return dbc.Alert(
        [
            html.Strong("Capacity. "),
            " ".join(sentences[:3]),
            f" ({len(sentences) - 3} more.)" if len(sentences) > 3 else "",
            " ",
            html.A("Open the supply plan", href="/supply", className="alert-link"),
        ],
        color="warning",
        className="py-2 small mb-3",
        id=f"{ids.WATCHTOWER_CAPACITY}-alert",
    )
