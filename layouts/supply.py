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
    SECTION_CLASS,
    blank_figure,
    fmt_money,
    fmt_pct,
    fmt_qty,
)
from layouts._components import allowed, page_header
from layouts._supply_charts import (  # noqa: F401  (the callbacks read them from here)
    COLORS,
    STRATEGY_HELP,
    STRATEGY_LABELS,
    _series,
    capacity_figure,
    comparison,
    comparison_figure,
    comparison_table,
    inventory_figure,
    scenario_options,
)

dash.register_page(__name__, path="/supply", name="Supply", order=4, title="Supply · Inventory Command Center")

SHOWN = {"display": "flex"}
HIDDEN = {"display": "none"}
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


def unmet_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**row, "sku_link": f"[{row['sku']}](/sku/{row['sku']})"} for row in view["unmet"]]


def unmet_note(view: dict[str, Any]) -> str:
    count = view["unmet_count"]
    if not count:
        return "every SKU's demand is served in this plan"
    shown = len(view["unmet"])
    more = f" (the {shown} with the largest lost margin)" if count > shown else ""
    return f"{count:,} SKU(s) short{more}; capacity goes to the highest margin per capacity unit first"


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
