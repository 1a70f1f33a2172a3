"""Figures and the scenario comparison of the Supply page (kept apart so layouts/supply.py stays small)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.formats import fmt_datetime
from layouts import _ids as ids
from layouts._charts import GRAPH_CONFIG, MISSING, base_layout, empty_figure, fmt_money, fmt_pct, fmt_qty

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


def _series(view: dict[str, Any], resource: str | None) -> dict[str, Any] | None:
    return next((r for r in view["resources"] if r["resource"] == resource), None)


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
        return f"{fmt_datetime(scenario.created_at)} · {scenario.user_email or MISSING}"
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
    head = html.Thead(
        html.Tr(
            [html.Th(html.Span("Measure", className="visually-hidden"))]
            + [html.Th(s.name, className="text-end") for s in scenarios]
        )
    )
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
