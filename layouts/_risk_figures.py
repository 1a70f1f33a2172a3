"""Risk engine (/risk) figures: where the safety stock comes from, the efficient frontier (capital against
service), and one SKU's simulated inventory paths and stockouts. Plain Plotly dicts, built from
:mod:`services.whatif` results; callbacks/risk.py fills the page's graphs with them."""

from __future__ import annotations

from typing import Any

from layouts._charts import (
    CURRENCY,
    base_layout,
    empty_figure,
    fmt_qty,
    inset_legend,
)
from layouts._scope import GRID
from layouts._whatif_blocks import (
    BEST_COLOR,
    CHOSEN_COLOR,
    DEMAND_COLOR,
    INK,
    LEAD_COLOR,
)
from services import whatif as svc

CLASS_COLORS = {"A": "#1f3a5f", "B": "#5b84b1", "C": "#a7bed8"}
DECOMP_HEIGHT, FRONTIER_HEIGHT, SIM_HEIGHT = 250, 430, 300

# --------------------------------------------------------------------------------------------------------------------
# figures


def decomposition_figure(result: svc.RiskResult) -> dict[str, Any]:
    """Safety stock split into the demand-variability and lead-time-variability terms of
    SS = k sqrt(P sigma_D^2 + D^2 sigma_L^2) (by their share of the variance), and each term on its own."""
    if result.safety_stock <= 0:
        return empty_figure("No safety stock at this setting: nothing to split")
    total = result.safety_stock
    d_part, l_part = max(result.demand_part, 0.0), max(result.lead_time_part, 0.0)
    rows = ["Safety stock", "Demand variability alone", "Lead-time variability alone"]
    demand_x = [d_part, result.demand_only, 0.0]
    lead_x = [l_part, 0.0, result.lead_time_only]

    def text(values: list[float], color_share: bool) -> list[str]:
        out = []
        for i, v in enumerate(values):
            if v <= 0:
                out.append("")
            elif i == 0 and color_share:
                out.append(f"{fmt_qty(v)} ({v / total:.0%})")
            else:
                out.append(fmt_qty(v))
        return out

    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Demand variability (forecast error)",
            "y": rows,
            "x": demand_x,
            "text": text(demand_x, True),
            "textposition": "inside",
            "insidetextanchor": "middle",
            "textangle": 0,
            "marker": {"color": DEMAND_COLOR},
            "hovertemplate": "%{y}: %{x:,.0f} units from demand variability<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "name": "Lead-time variability",
            "y": rows,
            "x": lead_x,
            "text": text(lead_x, True),
            "textposition": "inside",
            "insidetextanchor": "middle",
            "textangle": 0,
            "marker": {"color": LEAD_COLOR},
            "hovertemplate": "%{y}: %{x:,.0f} units from lead-time variability<extra></extra>",
        },
    ]
    return {
        "data": data,
        "layout": base_layout(
            barmode="stack",
            height=DECOMP_HEIGHT,
            bargap=0.35,
            margin={"l": 10, "r": 10, "t": 30, "b": 10},
            legend={
                "orientation": "h",
                "y": 1.02,
                "yanchor": "bottom",
                "x": 0,
                "font": {"size": 11},
                "traceorder": "normal",
            },
            xaxis={"title": {"text": "Units"}, "gridcolor": GRID, "zeroline": False},
            yaxis={"autorange": "reversed", "automargin": True, "ticksuffix": "  "},
            uniformtext={"minsize": 10, "mode": "hide"},
        ),
    }


def _pct_axis(measure: str) -> str:
    return "Cycle service level" if measure == "csl" else "Expected fill rate"


def frontier_figure(frontier: svc.Frontier) -> dict[str, Any]:
    """Safety-stock capital against service level: one line per segment (same target everywhere), the best
    allocation (dashed), today's setting (diamonds) and the page's setting (star)."""
    if not frontier.curves:
        return empty_figure("No demand in this scope: no frontier to draw")
    data: list[dict[str, Any]] = []
    main = frontier.curves[0].name
    for curve in frontier.curves:
        if curve.kind == "best":
            color, width, dash_, name = BEST_COLOR, 2.5, "dash", "Best allocation (level set per SKU)"
        elif curve.name == main:
            color, width, dash_, name = INK, 3, "solid", f"{curve.name} (same target for every SKU)"
        else:
            color = CLASS_COLORS.get(curve.name[-1], "#8c9db5")
            width, dash_, name = 1.8, "solid", curve.name
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": curve.capital,
            "y": curve.service,
            "line": {"color": color, "width": width, "dash": dash_, "shape": "spline", "smoothing": 0.6},
        }
        if curve.targets:
            trace["customdata"] = [[t] for t in curve.targets]
            trace["hovertemplate"] = (
                "target %{customdata[0]:.1%}: %{y:.2%} for " + CURRENCY + "%{x:,.0f}<extra>" + curve.name + "</extra>"
            )
        else:
            trace["hovertemplate"] = "%{y:.2%} for " + CURRENCY + "%{x:,.0f}<extra>best allocation</extra>"
        data.append(trace)
    for point in frontier.today:
        color = INK if point.name == main else CLASS_COLORS.get(point.name[-1], "#8c9db5")
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Today" if point.name == main else f"Today · {point.name}",
                "showlegend": point.name == main,
                "x": [point.capital],
                "y": [point.service],
                "marker": {"symbol": "diamond", "size": 12, "color": "#fff", "line": {"color": color, "width": 2.5}},
                "hovertemplate": f"Today · {point.name}: %{{y:.2%}} for {CURRENCY}%{{x:,.0f}}<extra></extra>",
            }
        )
    chosen = frontier.chosen
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "This setting",
            "x": [chosen.capital],
            "y": [chosen.service],
            "marker": {"symbol": "star", "size": 17, "color": CHOSEN_COLOR, "line": {"color": "#fff", "width": 1}},
            "hovertemplate": f"This setting: %{{y:.2%}} for {CURRENCY}%{{x:,.0f}}<extra></extra>",
        }
    )
    lows = [min(c.service) for c in frontier.curves if c.service]
    low = max(0.0, min(lows + [p.service for p in frontier.today] + [chosen.service]) - 0.01)
    return {
        "data": data,
        "layout": base_layout(
            height=FRONTIER_HEIGHT,
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            legend=inset_legend(),
            hovermode="closest",
            xaxis={
                "title": {"text": "Capital tied in safety stock"},
                "tickprefix": CURRENCY,
                "tickformat": "~s",
                "gridcolor": GRID,
                "rangemode": "tozero",
            },
            yaxis={
                "title": {"text": _pct_axis(frontier.measure)},
                "tickformat": ".0%",
                "gridcolor": GRID,
                "range": [low, 1.0],
                "automargin": True,
            },
        ),
    }


def paths_figure(view: svc.SimulationView) -> dict[str, Any]:
    """Sample paths of net inventory (the last two simulated years) with the reorder / order-up-to level."""
    run = view.run("formula") or view.run("formula_normal")
    if run is None or not run.paths:
        return empty_figure("No paths to show")
    data = []
    palette = ["#1f3a5f", "#4f7cac", "#8fb0d6", "#b9cbe3"]
    for i, path in enumerate(run.paths[:3]):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Run {i + 1}",
                "x": list(range(1, len(path) + 1)),
                "y": path,
                "line": {"color": palette[i % len(palette)], "width": 1.6 if i == 0 else 1.1, "shape": "hv"},
                "hovertemplate": f"{view.unit} %{{x}}: %{{y:,.0f}} units<extra>run {i + 1}</extra>",
            }
        )
    level_name = "Reorder point" if view.policy == "sQ" else "Order-up-to level"
    shapes = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": run.level,
            "y1": run.level,
            "line": {"color": LEAD_COLOR, "width": 1.5, "dash": "dash"},
        },
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": 0,
            "y1": 0,
            "line": {"color": CHOSEN_COLOR, "width": 1},
        },
    ]
    annotations = [
        {
            "xref": "paper",
            "x": 1,
            "xanchor": "right",
            "y": run.level,
            "yanchor": "bottom",
            "showarrow": False,
            "text": f"{level_name} {fmt_qty(run.level)}",
            "font": {"size": 11, "color": LEAD_COLOR},
        },
        {
            "xref": "paper",
            "x": 0,
            "xanchor": "left",
            "y": 0,
            "yanchor": "top",
            "showarrow": False,
            "text": "below 0 = backorders",
            "font": {"size": 10, "color": CHOSEN_COLOR},
        },
    ]
    return {
        "data": data,
        "layout": base_layout(
            height=SIM_HEIGHT,
            margin={"l": 10, "r": 10, "t": 10, "b": 40},
            showlegend=False,
            shapes=shapes,
            annotations=annotations,
            xaxis={"title": {"text": f"Simulated {view.unit}s (last two years)"}, "gridcolor": GRID},
            yaxis={"title": {"text": "Net inventory (units)"}, "gridcolor": GRID, "automargin": True},
        ),
    }


def stockouts_figure(view: svc.SimulationView) -> dict[str, Any]:
    """Distribution over replications of the periods with unmet demand per year (shared bins)."""
    colors = {"formula_normal": "#9aa5b1", "formula": INK, "quantile": BEST_COLOR}
    runs = [r for r in view.runs if not (r.key == "formula_normal" and len(view.runs) > 1)]
    top = max((max(r.stockouts_per_year) for r in runs if r.stockouts_per_year), default=0.0)
    size = max(top / 20.0, 0.05)
    data = [
        {
            "type": "histogram",
            "name": run.label,
            "x": run.stockouts_per_year,
            "opacity": 0.7,
            "histnorm": "percent",
            "xbins": {"start": 0, "end": top + size, "size": size},
            "marker": {"color": colors.get(run.key, INK), "line": {"color": "#fff", "width": 0.5}},
            "hovertemplate": "%{x} stockout "
            + view.unit
            + "s a year: %{y:.0f}% of runs<extra>"
            + run.label
            + "</extra>",
        }
        for run in runs
    ]
    return {
        "data": data,
        "layout": base_layout(
            height=SIM_HEIGHT,
            barmode="overlay",
            margin={"l": 10, "r": 10, "t": 30, "b": 40},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 10}},
            xaxis={"title": {"text": f"Stockout {view.unit}s per year"}, "gridcolor": GRID, "rangemode": "tozero"},
            yaxis={"title": {"text": "Share of runs"}, "ticksuffix": "%", "gridcolor": GRID, "automargin": True},
        ),
    }
