"""Profit optimizer (/profit): newsvendor, profit heatmap, sensitivity, EOQ and named scenarios.

Opens on ``/profit?sku=CODE`` (from the SKU page), ``/profit?category=NAME``, ``/profit?abc=A`` or the whole
portfolio. Unit economics start from the SKU master and the latest snapshot's forecast; callbacks/profit.py
recomputes every figure through services/whatif.py as they change.
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
    MISSING,
    SECTION_CLASS,
    base_layout,
    empty_figure,
    fmt_datetime,
    fmt_money,
    fmt_pct,
    fmt_qty,
)
from layouts._components import allowed, named_number_rows
from layouts._whatif_blocks import BEST_COLOR, CHOSEN_COLOR, INK, LEAD_COLOR, metric, vs_today
from layouts.risk import (
    GRID,
    HIDDEN,
    graph,
    no_snapshot_page,
    page_intro,
    scope_bar,
    scoped_items,
    section,
)
from services import whatif as svc
from services.runs import latest_run

dash.register_page(
    __name__, path="/profit", name="Profit optimizer", order=3, title="Profit optimizer · Inventory Command Center"
)

CURVE_HEIGHT, HEAT_HEIGHT, SENS_HEIGHT, EOQ_HEIGHT = 420, 360, 360, 340
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


# --------------------------------------------------------------------------------------------------------------------
# figures


def curve_figure(nv: svc.NewsvendorView, unit: str) -> dict[str, Any]:
    """Expected profit against the order quantity, the optimum marked."""
    if not nv.curve_quantity or nv.season_demand <= 0:
        return empty_figure("No demand forecast: no order to optimise")
    custom = [[fmt_qty(left), fmt_qty(lost)] for left, lost in zip(nv.curve_leftover, nv.curve_lost, strict=True)]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Expected profit",
            "x": nv.curve_quantity,
            "y": nv.curve_profit,
            "customdata": custom,
            "line": {"color": INK, "width": 3},
            "fill": "tozeroy",
            "fillcolor": "rgba(31,58,95,0.07)",
            "hovertemplate": "order %{x:,.0f}: profit " + CURRENCY + "%{y:,.0f}<br>leftover %{customdata[0]}, lost "
            "sales %{customdata[1]}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers+text",
            "name": "Optimum",
            "x": [nv.quantity],
            "y": [nv.expected_profit],
            "text": [f"Q* {fmt_qty(nv.quantity)} · {fmt_money(nv.expected_profit)}"],
            "textposition": "top center",
            "textfont": {"color": CHOSEN_COLOR, "size": 12},
            "marker": {"symbol": "star", "size": 16, "color": CHOSEN_COLOR, "line": {"color": "#fff", "width": 1}},
            "hovertemplate": "optimum %{x:,.0f}: " + CURRENCY + "%{y:,.0f}<extra></extra>",
        },
    ]
    shapes = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": nv.season_demand,
            "x1": nv.season_demand,
            "y0": 0,
            "y1": 1,
            "line": {"color": "#adb5bd", "width": 1, "dash": "dot"},
        }
    ]
    annotations = [
        {
            "xref": "x",
            "yref": "paper",
            "x": nv.season_demand,
            "y": 0.02,
            "xanchor": "left",
            "showarrow": False,
            "text": f" mean demand {fmt_qty(nv.season_demand)}",
            "font": {"size": 10, "color": "#6c757d"},
        }
    ]
    lo, hi = min(nv.curve_profit), max(nv.curve_profit)
    pad = 0.12 * (hi - lo if hi > lo else abs(hi) or 1.0)
    return {
        "data": data,
        "layout": base_layout(
            height=CURVE_HEIGHT,
            margin={"l": 10, "r": 10, "t": 10, "b": 40},
            showlegend=False,
            shapes=shapes,
            annotations=annotations,
            xaxis={"title": {"text": "Order quantity for the season (units)"}, "gridcolor": GRID, "tickformat": "~s"},
            yaxis={
                "title": {"text": "Expected profit"},
                "tickprefix": CURRENCY,
                "tickformat": "~s",
                "gridcolor": GRID,
                "range": [lo - pad, hi + pad * 1.8],
                "automargin": True,
            },
        ),
    }


def heatmap_figure(heat: svc.Heatmap) -> dict[str, Any]:
    """Realised profit by order quantity (columns) and how demand turns out (rows): the sweet spot."""
    if not heat.quantities or max(heat.demands) <= 0:
        return empty_figure("No demand forecast: nothing to map")
    x = [("Q* " if i == heat.optimum_column else "") + fmt_qty(q) for i, q in enumerate(heat.quantities)]
    y = [f"p{round(p * 100)} · {fmt_qty(d)}" for p, d in zip(heat.demand_levels, heat.demands, strict=True)]
    text = [[fmt_money(v) for v in row] for row in heat.profit]
    flat = [v for row in heat.profit for v in row]
    low, high = min(flat), max(flat)
    if high - low < 1e-9:
        high = low + 1.0
    shapes = []
    if heat.optimum_column is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": heat.optimum_column - 0.5,
                "x1": heat.optimum_column + 0.5,
                "y0": 0,
                "y1": 1,
                "line": {"color": INK, "width": 2.5},
            }
        )
    return {
        "data": [
            {
                "type": "heatmap",
                "x": x,
                "y": y,
                "z": heat.profit,
                "text": text,
                "texttemplate": "%{text}",
                "textfont": {"size": 10},
                "zmin": low,
                "zmax": high,
                "colorscale": HEAT_SCALE,
                "colorbar": {"title": {"text": "Profit"}, "tickprefix": CURRENCY, "tickformat": "~s", "thickness": 12},
                "hovertemplate": "order %{x}<br>demand %{y}<br>profit %{text}<extra></extra>",
                "xgap": 1,
                "ygap": 1,
            }
        ],
        "layout": base_layout(
            height=HEAT_HEIGHT,
            margin={"l": 10, "r": 10, "t": 10, "b": 40},
            shapes=shapes,
            xaxis={"title": {"text": "Order quantity (units)"}, "type": "category", "tickangle": -35},
            yaxis={"title": {"text": "Demand turns out at (quantile · units)"}, "type": "category", "automargin": True},
        ),
    }


HEAT_SCALE = [[0, "#b2182b"], [0.3, "#f4a582"], [0.55, "#f7f7f7"], [0.8, "#a6dba0"], [1, "#1b7837"]]
SENS_COLORS = {"price": BEST_COLOR, "unit_cost": CHOSEN_COLOR, "demand_std": LEAD_COLOR}


def sensitivity_figure(sens: svc.Sensitivity) -> dict[str, Any]:
    """How the optimal quantity (left) and its expected profit (right) move when one input changes."""
    if sens.base_quantity <= 0 and all(max(v) <= 0 for v in sens.quantity.values()):
        return empty_figure("No demand or no margin: the optimum stays at 0")
    x = [c * 100 for c in sens.changes]
    data = []
    for name, label in svc.SENSITIVITY_PARAMS.items():
        color = SENS_COLORS[name]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "legendgroup": name,
                "x": x,
                "y": sens.quantity[name],
                "line": {"color": color, "width": 2},
                "marker": {"size": 5},
                "hovertemplate": label + " %{x:+.0f}%: Q* %{y:,.0f}<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "legendgroup": name,
                "showlegend": False,
                "xaxis": "x2",
                "yaxis": "y2",
                "x": x,
                "y": sens.profit[name],
                "line": {"color": color, "width": 2},
                "marker": {"size": 5},
                "hovertemplate": label + " %{x:+.0f}%: profit " + CURRENCY + "%{y:,.0f}<extra></extra>",
            }
        )
    axis = {"gridcolor": GRID, "ticksuffix": "%", "zeroline": True, "zerolinecolor": "#adb5bd"}
    return {
        "data": data,
        "layout": base_layout(
            height=SENS_HEIGHT,
            margin={"l": 10, "r": 10, "t": 40, "b": 40},
            legend={"orientation": "h", "y": -0.2, "x": 0, "font": {"size": 11}},
            hovermode="x unified",
            xaxis={**axis, "domain": [0, 0.42], "title": {"text": "Change in the input"}},
            xaxis2={**axis, "domain": [0.6, 1], "anchor": "y2", "title": {"text": "Change in the input"}},
            yaxis={"title": {"text": "Optimal quantity"}, "gridcolor": GRID, "tickformat": "~s", "automargin": True},
            yaxis2={
                "anchor": "x2",
                "title": {"text": "Expected profit"},
                "gridcolor": GRID,
                "tickprefix": CURRENCY,
                "tickformat": "~s",
                "automargin": True,
            },
            annotations=[
                {
                    "text": "Optimal order quantity",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0,
                    "y": 1.1,
                    "showarrow": False,
                    "xanchor": "left",
                    "font": {"size": 12},
                },
                {
                    "text": "Expected profit at the optimum",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.6,
                    "y": 1.1,
                    "showarrow": False,
                    "xanchor": "left",
                    "font": {"size": 12},
                },
            ],
        ),
    }


def eoq_figure(eq: svc.EoqView) -> dict[str, Any]:
    """Ordering, holding and total cost against the lot size; EOQ, feasible lot and MOQ marked."""
    if not eq.curve_x:
        if eq.unbounded:
            return empty_figure("Holding cost is 0: the EOQ is unbounded")
        return empty_figure("No demand or no costs: no EOQ to draw")
    segment = eq.n > 1
    fmt_x = "%{x:.2f}× EOQ" if segment else "lot %{x:,.0f}"
    traces = [
        ("Total cost", eq.curve_total, INK, 3, "solid"),
        ("Ordering cost", eq.curve_ordering, "#5b84b1", 1.6, "dot"),
        ("Holding cost", eq.curve_holding, LEAD_COLOR, 1.6, "dot"),
    ]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": eq.curve_x,
            "y": y,
            "line": {"color": color, "width": width, "dash": dash_},
            "hovertemplate": fmt_x + ": " + CURRENCY + "%{y:,.0f} / year<extra>" + name + "</extra>",
        }
        for name, y, color, width, dash_ in traces
    ]
    marks: list[tuple[float, str, str, str]] = []
    if segment:
        marks.append((1.0, f"EOQ · {fmt_money(eq.cost_at_eoq)}/yr", BEST_COLOR, "dash"))
    else:
        marks.append((eq.eoq, f"EOQ {fmt_qty(eq.eoq)} · {fmt_money(eq.cost_at_eoq)}/yr", BEST_COLOR, "dash"))
        if abs(eq.feasible - eq.eoq) > 1e-6:
            marks.append(
                (
                    eq.feasible,
                    f"Feasible {fmt_qty(eq.feasible)} · {fmt_money(eq.cost_at_feasible)}/yr",
                    CHOSEN_COLOR,
                    "solid",
                )
            )
        if eq.moq and eq.moq > 0:
            marks.append((eq.moq, f"MOQ {fmt_qty(eq.moq)}", "#6c757d", "dot"))
    shapes, annotations = [], []
    for i, (x, label, color, dash_) in enumerate(marks):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": {"color": color, "width": 1.6, "dash": dash_},
            }
        )
        annotations.append(
            {
                "xref": "x",
                "yref": "paper",
                "x": x,
                "y": 1 - 0.08 * i,
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
                "text": " " + label,
                "font": {"size": 11, "color": color},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    top = max(eq.curve_total)
    return {
        "data": data,
        "layout": base_layout(
            height=EOQ_HEIGHT,
            margin={"l": 10, "r": 10, "t": 10, "b": 40},
            legend={"orientation": "h", "y": -0.2, "x": 0, "font": {"size": 11}},
            shapes=shapes,
            annotations=annotations,
            xaxis={
                "title": {"text": "Lot size (× each SKU's EOQ)" if segment else "Lot size (units)"},
                "gridcolor": GRID,
            },
            yaxis={
                "title": {"text": "Cost per year"},
                "tickprefix": CURRENCY,
                "tickformat": "~s",
                "gridcolor": GRID,
                "range": [0, top * 1.05],
                "automargin": True,
            },
        ),
    }


# --------------------------------------------------------------------------------------------------------------------
# result blocks


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
            dcc.Store(id=ids.PROFIT_SCOPE, data={"scope": items.scope.key, "baseline": defaults}),
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
                            section(
                                "Newsvendor: expected profit by order quantity",
                                graph(empty_figure(""), CURVE_HEIGHT, graph_id=ids.PROFIT_CURVE),
                                note=f"one order for the selling season; demand normal around the forecast per {unit}",
                                fill=False,
                            ),
                        ],
                        lg=9,
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
                        lg=7,
                    ),
                    dbc.Col(
                        section(
                            "Sensitivity",
                            graph(empty_figure(""), SENS_HEIGHT, graph_id=ids.PROFIT_SENSITIVITY),
                            note="one input at a time, −30% to +30%",
                        ),
                        lg=5,
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
