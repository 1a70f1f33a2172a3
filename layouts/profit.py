"""Profit optimizer (/profit): newsvendor, profit heatmap, sensitivity, EOQ and named scenarios.

Opens on ``/profit?sku=CODE`` (from the SKU page), ``/profit?category=NAME``, ``/profit?abc=A`` or the whole
portfolio. Unit economics start from the SKU master and the latest snapshot's forecast; callbacks/profit.py
recomputes every figure through services/whatif.py as they change. The figures are layouts/_profit_figures.py,
the scope bar layouts/_scope.py (shared with /risk).
"""

from __future__ import annotations

import math
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.session import session_scope
from layouts import _ids as ids
from layouts._charts import (
    CURRENCY,
    GRAPH_CONFIG,
    MISSING,
    SECTION_CLASS,
    empty_figure,
    fmt_datetime,
    fmt_money,
    fmt_pct,
    fmt_qty,
)
from layouts._components import allowed, named_number_rows
from layouts._profit_figures import CURVE_HEIGHT, EOQ_HEIGHT, HEAT_HEIGHT, SENS_HEIGHT
from layouts._scope import (
    HIDDEN,
    graph,
    no_snapshot_page,
    page_intro,
    scope_bar,
    scoped_items,
    section,
)
from layouts._whatif_blocks import BEST_COLOR, CHOSEN_COLOR, INK, metric, vs_today
from services import whatif as svc
from services.runs import latest_run

dash.register_page(
    __name__, path="/profit", name="Profit optimizer", order=3, title="Profit optimizer · Inventory Command Center"
)

INPUT_IDS = {
    "price": ids.PROFIT_PRICE,
    "unit_cost": ids.PROFIT_COST,
    "salvage_value": ids.PROFIT_SALVAGE,
    "holding_pct": ids.PROFIT_HOLDING,
    "penalty": ids.PROFIT_PENALTY,
    "season_periods": ids.PROFIT_SEASON,
    "demand_mean": ids.PROFIT_DEMAND_MEAN,
    "demand_std": ids.PROFIT_DEMAND_STD,
    "order_cost": ids.PROFIT_ORDER_COST,
    "moq": ids.PROFIT_MOQ,
    "order_multiple": ids.PROFIT_MULTIPLE,
}
"""Profit input name (services.whatif.PROFIT_FIELDS) -> component id, in the order the callbacks use."""
HINT_IDS = {name: f"{ids.PROFIT_HINTS}-{name.replace('_', '-')}" for name in INPUT_IDS}
MONEY_INPUTS = ("price", "unit_cost", "salvage_value", "penalty", "order_cost", "underage_cost", "overage_cost")
MONEY_RESULTS = ("expected_profit", "order_value", "eoq_cost", "feasible_cost")
PCT_RESULTS = ("critical_ratio", "fill_rate")


def hints(items: svc.Items, defaults: dict[str, Any]) -> dict[str, str]:
    """The line under each input: where today's value comes from, and how a segment value applies."""
    unit = items.run.period_unit
    one = items.n == 1
    seg = "mean over the SKUs; a new value scales each SKU's own"
    return {
        "price": "from the SKU master" if one else seg,
        "unit_cost": "from the SKU master" if one else seg,
        "salvage_value": "value of a unit left over (SKU master)" if one else seg,
        "holding_pct": "of unit cost per year (SKU master)" if one else seg,
        "penalty": "lost goodwill per unit short, on top of the lost margin"
        + ("" if one else "; applied to every SKU"),
        "season_periods": f"{unit}s the order has to cover (the engine's forecast horizon)",
        "demand_mean": f"forecast per {unit} (latest snapshot)"
        if one
        else f"total forecast per {unit}; scales each SKU",
        "demand_std": f"forecast-error σ per {unit}" if one else f"total σ per {unit}; scales each SKU's",
        "order_cost": "fixed cost per order (SKU master)" if one else seg,
        "moq": "minimum order quantity" if one else "per SKU (from the master)",
        "order_multiple": "orders come in multiples of this" if one else "per SKU (from the master)",
    }


def inputs_card(items: svc.Items, defaults: dict[str, Any]) -> dbc.Card:
    unit = items.run.period_unit
    row = named_number_rows(control_ids=INPUT_IDS, values=defaults, hint_ids=HINT_IDS, hints=hints(items, defaults))
    rows: list[Any] = [
        html.Div("Unit economics", className=SECTION_CLASS),
        row("Price", "price", unit=CURRENCY),
        row("Unit cost", "unit_cost", unit=CURRENCY),
        row("Salvage value", "salvage_value", unit=CURRENCY),
        row("Holding cost", "holding_pct", unit="% / yr"),
        row("Shortage penalty", "penalty", unit=f"{CURRENCY} / unit"),
        html.Div("Demand", className=SECTION_CLASS + " mt-3"),
        row("Selling season", "season_periods", unit=f"{unit}s", step=1),
        row("Demand", "demand_mean", unit=f"units / {unit}"),
        row("Demand variability (σ)", "demand_std", unit=f"units / {unit}"),
        html.Div("Ordering", className=SECTION_CLASS + " mt-3"),
        row("Order cost", "order_cost", unit=f"{CURRENCY} / order"),
        row("MOQ", "moq", unit="units", step=1, disabled=items.n > 1),
        row("Order multiple", "order_multiple", unit="units", step=1, disabled=items.n > 1),
    ]
    return dbc.Card(dbc.CardBody(rows), className="shadow-sm border-0 h-100")


def kpi_rows(nv: svc.NewsvendorView, unit: str, today: Any = None) -> list[Any]:
    """The newsvendor's figures; ``today`` (services.whatif_baseline.ProfitToday): the snapshot's newsvendor
    quantities, so the optimal quantity and its profit read "same as today" at the stored inputs."""
    avg = "" if nv.n == 1 else " (avg)"
    quantity_note: Any = f"order value {fmt_money(nv.order_value)}"
    profit_note: Any = "at the optimal quantity"
    if today is not None:
        quantity_note = [vs_today(nv.quantity, today.quantity, "qty", neutral=True), f" · {fmt_money(nv.order_value)}"]
        profit_note = vs_today(nv.expected_profit, today.expected_profit, "money", better_low=False)
    tiles = [
        metric("Underage cost Cu" + avg, fmt_money2(nv.underage_cost), "lost margin + penalty per unit short"),
        metric("Overage cost Co" + avg, fmt_money2(nv.overage_cost), "cost − salvage + holding per unit left"),
        metric("Critical ratio", fmt_pct(nv.critical_ratio), "Cu / (Cu + Co): the service level that pays"),
        metric("Optimal quantity", fmt_qty(nv.quantity), quantity_note, accent=INK),
        metric("Expected profit", fmt_money(nv.expected_profit), profit_note, accent=BEST_COLOR),
        metric("Expected leftover", fmt_qty(nv.expected_leftover), "units unsold at season end"),
        metric("Expected lost sales", fmt_qty(nv.expected_lost_sales), "units of demand not met", accent=CHOSEN_COLOR),
        metric("Expected fill rate", fmt_pct(nv.fill_rate), f"of {fmt_qty(nv.season_demand)} units demand"),
    ]
    rows: list[Any] = [dbc.Row([dbc.Col(t, xs=6, md=3) for t in tiles], className="g-2 mb-3")]
    if nv.n > 1:
        rows.append(
            html.P(
                f"The sum of {nv.n:,} per-SKU newsvendors: each SKU orders its own optimum from its own demand, "
                "margin and salvage (Cu, Co and the critical ratio above are demand-weighted averages); "
                "the curve moves every SKU from its own optimum by the same number of its own standard deviations.",
                className="small text-secondary mb-2",
            )
        )
    return rows


def fmt_money2(value: float | None) -> str:
    """Per-unit money with cents below 100."""
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{CURRENCY}{value:,.2f}" if abs(value) < 100 else fmt_money(value)


def eoq_table(eq: svc.EoqView, unit: str) -> Any:
    pct = eq.penalty / eq.cost_at_eoq if eq.cost_at_eoq > 0 else float("nan")
    rows: list[tuple[str, str, str | None]] = [
        ("Annual demand", fmt_qty(eq.annual_demand), "units a year from the forecast"),
        ("EOQ (unconstrained)", fmt_qty(eq.eoq), "√(2 K D / h)" + (", summed over the SKUs" if eq.n > 1 else "")),
        ("Feasible lot", fmt_qty(eq.feasible), "rounded to MOQ and multiple at the cheaper neighbour"),
    ]
    if eq.n == 1:
        rows.append(("MOQ / multiple", f"{fmt_qty(eq.moq)} / {fmt_qty(eq.order_multiple)}", None))
    else:
        rows.append(("SKUs whose MOQ exceeds the EOQ", f"{eq.moq_bound:,}", "they order more than the EOQ"))
    rows += [
        ("Orders a year", f"{eq.orders_per_year:,.1f}", None),
        ("Cost at EOQ", fmt_money(eq.cost_at_eoq) + " / yr", "ordering + holding"),
        ("Cost at feasible lot", fmt_money(eq.cost_at_feasible) + " / yr", None),
        (
            "Cost of the constraint",
            fmt_money(eq.penalty) + (f" (+{pct:.1%})" if math.isfinite(pct) else ""),
            "what MOQ and multiples add each year",
        ),
    ]
    return dbc.Table(
        html.Tbody(
            [
                html.Tr(
                    [
                        html.Th(
                            [label, html.Div(note, className="small text-secondary fw-normal") if note else None],
                            className="fw-normal text-secondary small",
                        ),
                        html.Td(value, className="text-end fw-semibold"),
                    ]
                )
                for label, value, note in rows
            ]
        ),
        size="sm",
        className="small mb-0 align-middle",
    )


def _fmt_field(key: str, value: Any) -> str:
    if value is None:
        return MISSING
    if not isinstance(value, int | float):
        return str(value)
    if key in MONEY_INPUTS:
        return fmt_money2(value)
    if key in MONEY_RESULTS:
        return fmt_money(value)
    if key in PCT_RESULTS:
        return fmt_pct(value)
    if key == "holding_pct":
        return f"{value:g}%"
    return fmt_qty(value)


def _fmt_diff(key: str, diff: float | None) -> str:
    if diff is None or not math.isfinite(diff):
        return ""
    if abs(diff) < 1e-9:
        return "="
    sign = "+" if diff > 0 else "\u2212"
    if key in PCT_RESULTS:
        return f"{sign}{abs(diff) * 100:.1f} pp"
    if key == "holding_pct":
        return f"{sign}{abs(diff):g} pp"
    return sign + _fmt_field(key, abs(diff))


def comparison_table(a: svc.ScenarioRow, b: svc.ScenarioRow) -> Any:
    rows = svc.compare_scenarios(a, b)
    body = []
    last_kind = None
    for r in rows:
        if r.kind != last_kind:
            body.append(
                html.Tr(
                    html.Th("Inputs" if r.kind == "input" else "Results", colSpan=4, className=SECTION_CLASS + " pt-2")
                )
            )
            last_kind = r.kind
        body.append(
            html.Tr(
                [
                    html.Td(r.label, className="text-secondary"),
                    html.Td(_fmt_field(r.key, r.a), className="text-end"),
                    html.Td(_fmt_field(r.key, r.b), className="text-end"),
                    html.Td(_fmt_diff(r.key, r.difference), className="text-end fw-semibold"),
                ]
            )
        )
    return dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(html.Span("Measure", className="visually-hidden")),
                        html.Th(a.name, className="text-end"),
                        html.Th(b.name, className="text-end"),
                        html.Th("B − A", className="text-end"),
                    ]
                )
            ),
            html.Tbody(body),
        ],
        size="sm",
        hover=True,
        className="small mb-0 align-middle",
    )


SCENARIO_COLUMNS = [
    {"field": "name", "headerName": "Scenario", "flex": 2, "minWidth": 150},
    {"field": "scope", "headerName": "Scope", "flex": 2, "minWidth": 130},
    {"field": "quantity", "headerName": "Q*", "type": "rightAligned", "flex": 1, "minWidth": 80},
    {"field": "profit", "headerName": "Profit", "type": "rightAligned", "flex": 1, "minWidth": 90},
    {"field": "by", "headerName": "Saved by", "flex": 2, "minWidth": 170},
    {"field": "when", "headerName": "UTC", "flex": 1, "minWidth": 120},
]


def scenario_rows(rows: list[svc.ScenarioRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "scope": svc.Scope.parse(r.scope).label if _valid_scope(r.scope) else r.scope,
            "quantity": fmt_qty(r.results.get("quantity")),
            "profit": fmt_money(r.results.get("expected_profit")),
            "by": r.user_email or MISSING,
            "when": fmt_datetime(r.created_at),
        }
        for r in rows
    ]


def _valid_scope(key: str) -> bool:
    try:
        svc.Scope.parse(key)
    except svc.WhatIfError:
        return False
    return True


def scenario_options(rows: list[svc.ScenarioRow]) -> list[dict[str, Any]]:
    return [{"label": f"{r.name} · {fmt_datetime(r.created_at)}", "value": r.id} for r in rows]


def scenarios_card(rows: list[svc.ScenarioRow]) -> dbc.Card:
    save: Any
    if allowed("planner"):
        save = dbc.InputGroup(
            [
                dbc.Input(
                    id=ids.PROFIT_SCENARIO_NAME, placeholder="Name this scenario", maxLength=svc.SCENARIO_NAME_MAX
                ),
                dbc.Button("Save scenario", id=ids.PROFIT_SCENARIO_SAVE, color="primary"),
            ],
            size="sm",
        )
    else:
        save = html.Div("Planners can save scenarios; you can list and compare them.", className="small text-secondary")
    options = scenario_options(rows)
    a = options[1]["value"] if len(options) > 1 else (options[0]["value"] if options else None)
    b = options[0]["value"] if options else None
    delete = (
        dbc.Button("Delete A", id=ids.PROFIT_SCENARIO_DELETE, color="danger", outline=True, size="sm")
        if allowed("planner")
        else None
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span("Named scenarios", className=SECTION_CLASS),
                        html.Span(
                            " save the inputs and results, compare two side by side", className="small text-secondary"
                        ),
                    ],
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                save,
                                html.Div(id=ids.PROFIT_SCENARIO_RESULT, className="small mt-1"),
                                dag.AgGrid(
                                    id=ids.PROFIT_SCENARIO_GRID,
                                    columnDefs=SCENARIO_COLUMNS,
                                    rowData=scenario_rows(rows),
                                    getRowId="params.data.id",
                                    defaultColDef={"sortable": True, "resizable": True},
                                    dashGridOptions={
                                        "domLayout": "autoHeight",
                                        "localeText": {"noRowsToShow": "No scenarios saved yet"},
                                    },
                                    className="ag-theme-alpine mt-2",
                                    style={"width": "100%"},
                                ),
                            ],
                            lg=7,
                        ),
                        dbc.Col(
                            [
                                dbc.Row(
                                    [
                                        dbc.Col(
                                            dcc.Dropdown(
                                                id=ids.PROFIT_SCENARIO_A,
                                                options=options,
                                                value=a,
                                                placeholder="Scenario A",
                                                clearable=False,
                                            ),
                                            md=5,
                                        ),
                                        dbc.Col(
                                            dcc.Dropdown(
                                                id=ids.PROFIT_SCENARIO_B,
                                                options=options,
                                                value=b,
                                                placeholder="Scenario B",
                                                clearable=False,
                                            ),
                                            md=5,
                                        ),
                                        dbc.Col(delete, md=2, className="text-end"),
                                    ],
                                    className="g-2 mb-2 align-items-center",
                                ),
                                html.Div(id=ids.PROFIT_SCENARIO_COMPARE),
                            ],
                            lg=5,
                        ),
                    ],
                    className="g-3",
                ),
            ]
        ),
        className="shadow-sm border-0",
    )


# --------------------------------------------------------------------------------------------------------------------
# page


def page(
    items: svc.Items, options: svc.ScopeOptions, scenarios: list[svc.ScenarioRow], warning: Any = None
) -> html.Div:
    defaults = svc.profit_defaults(items)
    unit = items.run.period_unit
    return html.Div(
        [
            dcc.Store(
                id=ids.PROFIT_SCOPE,
                data={"scope": items.scope.key, "baseline": defaults, "hints": hints(items, defaults)},
            ),
            dcc.Store(id=ids.PROFIT_SCENARIO_VERSION, data=0),
            page_intro(
                "Profit optimizer",
                "How much to buy when unsold stock and lost sales both cost money: the order that maximises expected "
                "profit, how robust it is, and what lot sizes cost.",
            ),
            scope_bar(
                scope=items.scope,
                items=items,
                options=options,
                view_id=ids.PROFIT_VIEW,
                sku_id=ids.PROFIT_SKU,
                sku_wrap=ids.PROFIT_SKU_WRAP,
                segment_id=ids.PROFIT_SEGMENT,
                segment_wrap=ids.PROFIT_SEGMENT_WRAP,
                note_id=ids.PROFIT_SCOPE_NOTE,
                reset_id=ids.PROFIT_RESET,
            ),
            warning,
            dbc.Row(
                [
                    dbc.Col(inputs_card(items, defaults), lg=3),
                    dbc.Col(
                        [
                            html.Div(id=ids.PROFIT_MESSAGE),
                            html.Div(id=ids.PROFIT_KPIS),
                            curve_card(unit),
                        ],
                        lg=9,
                        className="d-flex flex-column",  # the curve's card takes the height the inputs card gives
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        section(
                            "Sweet spot",
                            graph(empty_figure(""), HEAT_HEIGHT, graph_id=ids.PROFIT_HEATMAP),
                            note="realised profit by order quantity and how demand turns out; the frame marks Q*",
                        ),
                        lg=12,  # the whole row: 15 columns of 12 px money labels need the width (issue 23)
                    ),
                    dbc.Col(
                        section(
                            "Sensitivity",
                            graph(empty_figure(""), SENS_HEIGHT, graph_id=ids.PROFIT_SENSITIVITY),
                            note="one input at a time, −30% to +30%",
                        ),
                        lg=12,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        section(
                            "Economic order quantity",
                            graph(empty_figure(""), EOQ_HEIGHT, graph_id=ids.PROFIT_EOQ_CHART),
                            note="annual ordering + holding cost by lot size",
                        ),
                        lg=8,
                    ),
                    dbc.Col(section("Lot size in money", html.Div(id=ids.PROFIT_EOQ_TABLE)), lg=4),
                ],
                className="g-3 mb-3",
            ),
            scenarios_card(scenarios),
            html.Div(style=HIDDEN),
        ]
    )


def curve_card(unit: str) -> dbc.Card:
    """The newsvendor curve, growing to the bottom of the inputs card beside it (no tall empty column under it)."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span("Newsvendor: expected profit by order quantity", className=SECTION_CLASS),
                        html.Span(
                            f"one order for the selling season; demand normal around the forecast per {unit}",
                            className="small text-secondary ms-2",
                        ),
                    ],
                    className="mb-1",
                ),
                dcc.Graph(
                    id=ids.PROFIT_CURVE,
                    figure=empty_figure(""),
                    config=GRAPH_CONFIG,
                    style={"minHeight": f"{CURVE_HEIGHT}px", "flex": "1 1 auto"},
                ),
            ],
            className="d-flex flex-column",
        ),
        className="shadow-sm border-0 flex-grow-1",
    )


def layout(**query: Any) -> html.Div:
    with session_scope() as session:
        if latest_run(session=session) is None:
            return no_snapshot_page("Profit optimizer")
        items, warning = scoped_items(session=session, query=query)
        options = svc.scope_options(session=session)
        scenarios = svc.list_scenarios(session=session)
    if items is None:
        return no_snapshot_page("Profit optimizer")
    return page(items, options, scenarios, warning)
