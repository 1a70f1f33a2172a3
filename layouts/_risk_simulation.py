"""Risk engine (/risk) Monte Carlo blocks: one SKU's simulation (achieved service against its target, paths,
stockouts, the quantile comparison) and a segment's (the SKUs' achieved service against their targets)."""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from layouts._charts import (
    MISSING,
    SECTION_CLASS,
    base_layout,
    empty_figure,
    fmt_number,
    fmt_pct,
    fmt_qty,
)
from layouts._risk_figures import SIM_HEIGHT, paths_figure, stockouts_figure
from layouts._scope import GRID, graph
from layouts._whatif_blocks import (
    BEST_COLOR,
    CHOSEN_COLOR,
    INK,
    level_name,
)
from services import whatif as svc

MEASURE_LABEL = {"csl": "cycle service level", "fill_rate": "fill rate"}

# --------------------------------------------------------------------------------------------------------------------
# result blocks (built by callbacks/risk.py)


def simulation_block(view: svc.SimulationView) -> list[Any]:
    """Verdict, sample paths, the distribution of stockouts and achieved vs target service."""
    color = "danger" if view.overpromises else "success" if "meets" in view.verdict else "warning"
    target_label = f"{view.target:.1%} {MEASURE_LABEL[view.measure]}"
    rows = []
    for run in view.runs:
        mean_out = float(np.mean(run.stockouts_per_year)) if run.stockouts_per_year else float("nan")
        achieved = run.achieved(view.measure)[0]
        gap = achieved - view.target if math.isfinite(achieved) else float("nan")
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [html.Div(run.label, className="fw-semibold"), html.Div(run.demand, className="text-secondary")]
                    ),
                    html.Td(fmt_qty(run.level), className="text-end"),
                    html.Td(_pm(run.cycle_service_level, run.cycle_service_level_ci), className="text-end"),
                    html.Td(_pm(run.fill_rate, run.fill_rate_ci), className="text-end"),
                    html.Td(
                        MISSING if not math.isfinite(gap) else f"{gap * 100:+.1f} pp",
                        className="text-end fw-semibold " + ("text-danger" if gap < -0.01 else "text-success"),
                    ),
                    html.Td(fmt_number(mean_out, 1), className="text-end"),
                    html.Td(fmt_qty(run.average_on_hand), className="text-end"),
                ]
            )
        )
    unit = view.unit
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th("Policy and demand"),
                        html.Th(level_name(view.policy), className="text-end"),
                        html.Th("Cycle service", className="text-end"),
                        html.Th("Fill rate", className="text-end"),
                        html.Th("vs target", className="text-end"),
                        html.Th(f"Stockout {unit}s / year", className="text-end"),
                        html.Th("Avg on hand", className="text-end"),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        size="sm",
        hover=True,
        className="small mb-1 align-middle",
    )
    return [
        dbc.Alert([html.B(f"Target {target_label}. "), view.verdict], color=color, className="py-2 mb-3"),
        dbc.Row(
            [
                dbc.Col(
                    [
                        html.Div("Sample inventory paths", className=SECTION_CLASS),
                        graph(paths_figure(view), SIM_HEIGHT),
                    ],
                    lg=7,
                ),
                dbc.Col(
                    [
                        html.Div("Stockouts per year, across runs", className=SECTION_CLASS),
                        graph(stockouts_figure(view), SIM_HEIGHT),
                    ],
                    lg=5,
                ),
            ],
            className="g-3 mb-2",
        ),
        html.Div("Achieved vs target", className=SECTION_CLASS),
        table,
        html.Div(
            f"{view.replications} runs of {view.years:g} years each (after warm-up); ± is the 95% confidence "
            "half-width. Continuous review is simulated with a check every day; lead times are drawn around their "
            "mean with the given spread.",
            className="small text-secondary",
        ),
    ]


def segment_simulation_figure(view: svc.SegmentSimulation) -> dict[str, Any]:
    """Achieved service per simulated SKU (with its 95% interval) against the target line."""
    rows = [r for r in view.rows if math.isfinite(r.achieved)]
    if not rows:
        return empty_figure("No replenishment cycle finished in the simulation")
    colors = [CHOSEN_COLOR if r.gap < -0.01 else BEST_COLOR for r in rows]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "x": [r.achieved for r in rows],
            "y": [r.code for r in rows],
            "error_x": {
                "type": "data",
                "array": [r.ci if math.isfinite(r.ci) else 0 for r in rows],
                "color": "#6c757d",
            },
            "marker": {"color": colors, "size": 11, "line": {"color": "#fff", "width": 1}},
            "customdata": [[r.demand_class.replace("_", " "), r.abc] for r in rows],
            "hovertemplate": "%{y}: %{x:.1%} (class %{customdata[1]}, %{customdata[0]})<extra></extra>",
        }
    ]
    low = min(min(r.achieved for r in rows), view.target) - 0.03
    return {
        "data": data,
        "layout": base_layout(
            height=SIM_HEIGHT,
            margin={"l": 10, "r": 10, "t": 28, "b": 40},
            showlegend=False,
            shapes=[
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": view.target,
                    "x1": view.target,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": INK, "width": 1.5, "dash": "dash"},
                }
            ],
            annotations=[
                {
                    "xref": "x",
                    "yref": "paper",
                    "x": view.target,
                    "y": 1,
                    "yanchor": "bottom",
                    "showarrow": False,
                    "text": f"target {view.target:.1%}",
                    "font": {"size": 11, "color": INK},
                }
            ],
            xaxis={
                "title": {"text": "Achieved " + MEASURE_LABEL[view.measure]},
                "tickformat": ".0%",
                "gridcolor": GRID,
                "range": [max(0.0, low), 1.0],
            },
            yaxis={"autorange": "reversed", "automargin": True, "ticksuffix": "  "},
        ),
    }


def segment_simulation_block(view: svc.SegmentSimulation) -> list[Any]:
    """The segment's largest SKUs simulated under their own demand: verdict, chart and table."""
    short = any(math.isfinite(r.gap) and r.gap < -0.01 for r in view.rows)
    rows = [
        html.Tr(
            [
                html.Td([html.Div(r.code, className="fw-semibold"), html.Div(r.name, className="text-secondary")]),
                html.Td(f"{r.abc} · {r.demand_class.replace('_', ' ')}"),
                html.Td(fmt_qty(r.level), className="text-end"),
                html.Td(
                    _pm(r.cycle_service_level, r.ci if view.measure == "csl" else float("nan")), className="text-end"
                ),
                html.Td(fmt_pct(r.fill_rate), className="text-end"),
                html.Td(
                    MISSING if not math.isfinite(r.gap) else f"{r.gap * 100:+.1f} pp",
                    className="text-end fw-semibold " + ("text-danger" if r.gap < -0.01 else "text-success"),
                ),
            ]
        )
        for r in view.rows
    ]
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th("SKU"),
                        html.Th("Class · pattern"),
                        html.Th(level_name(view.policy), className="text-end"),
                        html.Th("Cycle service", className="text-end"),
                        html.Th("Fill rate", className="text-end"),
                        html.Th("vs target", className="text-end"),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        size="sm",
        hover=True,
        className="small mb-1 align-middle",
    )
    return [
        dbc.Alert(
            [html.B(f"Target {view.target:.1%} {MEASURE_LABEL[view.measure]}. "), view.verdict],
            color="warning" if short else "success",
            className="py-2 mb-3",
        ),
        dbc.Row(
            [
                dbc.Col(
                    [
                        html.Div("Achieved vs target, largest SKUs", className=SECTION_CLASS),
                        graph(segment_simulation_figure(view), SIM_HEIGHT),
                    ],
                    lg=5,
                ),
                dbc.Col([html.Div("Per SKU, under its own demand", className=SECTION_CLASS), table], lg=7),
            ],
            className="g-3",
        ),
        html.Div(
            f"The {len(view.rows)} SKUs with the largest annual demand value of {view.skus_in_scope:,} in the scope, "
            f"{view.replications} runs of {view.years:g} years each; pick one SKU for paths, stockouts and the "
            "quantile comparison.",
            className="small text-secondary",
        ),
    ]


def _pm(value: float, half: float) -> str:
    if not math.isfinite(value):
        return MISSING
    return f"{value:.1%}" + (f" ±{half:.1%}" if math.isfinite(half) else "")
