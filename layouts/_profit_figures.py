"""Profit optimizer (/profit) figures: the newsvendor's expected profit against the order quantity, the profit
heatmap, the sensitivity of the optimal quantity, and the EOQ cost curve. Plain Plotly dicts, built from
:mod:`services.whatif` results; callbacks/profit.py fills the page's graphs with them."""

from __future__ import annotations

from typing import Any

from layouts._charts import (
    CURRENCY,
    base_layout,
    empty_figure,
    fmt_money,
    fmt_qty,
)
from layouts._scope import (
    GRID,
)
from layouts._whatif_blocks import BEST_COLOR, CHOSEN_COLOR, INK, LEAD_COLOR
from services import whatif as svc

CURVE_HEIGHT, HEAT_HEIGHT, SENS_HEIGHT, EOQ_HEIGHT = 420, 360, 360, 340


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
            # no fixed height: the graph fills its card down to the inputs card's height (layouts/profit.py)
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
                "textfont": {"size": 12},  # readable (issue 23: was 10 px)
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
