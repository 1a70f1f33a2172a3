"""Risk engine (/risk): service level, lead time and variability in money, for one SKU or a segment.

Opens on ``/risk?sku=CODE`` (from the SKU page), ``/risk?category=NAME``, ``/risk?abc=A`` or the whole portfolio.
The controls start at today's values from the latest snapshot; callbacks/risk.py recomputes the figures through
services/whatif.py as they move. The scope picker, metric tiles and input rows here are shared with /profit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from db.session import session_scope
from layouts import _ids as ids
from layouts._backtest import risk_panel as backtest_panel
from layouts._charts import (
    CURRENCY,
    GRAPH_CONFIG,
    MISSING,
    SECTION_CLASS,
    base_layout,
    empty_figure,
    fmt_date_prose,
    fmt_datetime,
    fmt_number,
    fmt_pct,
    fmt_qty,
)
from layouts._components import allowed, empty_state, named_number_rows, number_row
from layouts._whatif_blocks import (
    BEST_COLOR,
    CHOSEN_COLOR,
    DEMAND_COLOR,
    INK,
    LEAD_COLOR,
    level_name,
)
from services import whatif as svc
from services import whatif_baseline
from services.runs import latest_run

dash.register_page(__name__, path="/risk", name="Risk engine", order=2, title="Risk engine · Inventory Command Center")

CLASS_COLORS = {"A": "#1f3a5f", "B": "#5b84b1", "C": "#a7bed8"}
GRID = "#eef0f3"
CARD = "shadow-sm border-0 h-100"
VIEW_OPTIONS = [{"label": "One SKU", "value": "sku"}, {"label": "Segment", "value": "segment"}]
MEASURE_LABEL = {"csl": "cycle service level", "fill_rate": "fill rate"}
POLICY_LABEL = {"sQ": "Continuous review (s, Q)", "RS": "Periodic review (R, S)"}
HIDDEN = {"display": "none"}
SHOWN: dict[str, str] = {}
DECOMP_HEIGHT, FRONTIER_HEIGHT, SIM_HEIGHT = 250, 430, 300


# --------------------------------------------------------------------------------------------------------------------
# shared pieces (also used by layouts/profit.py)


def scope_from_query(query: dict[str, Any]) -> svc.Scope:
    """The scope a URL asks for (?sku=, ?category=, ?abc=), else the portfolio."""
    for key, kind in (("sku", "sku"), ("category", "category"), ("abc", "abc")):
        value = query.get(key)
        if isinstance(value, str) and value.strip():
            return svc.Scope(kind=kind, value=value.strip()[:100])
    return svc.Scope(kind="portfolio")


def segment_options(options: svc.ScopeOptions) -> list[dict[str, str]]:
    out = [{"label": f"Whole portfolio ({options.sku_count:,} SKUs)", "value": "portfolio"}]
    out += [{"label": f"ABC class {a}", "value": f"abc:{a}"} for a in options.abc_classes]
    out += [{"label": f"Category · {c}", "value": f"category:{c}"} for c in options.categories]
    return out


def sku_option(code: str, name: str, category: str) -> dict[str, str]:
    return {"label": f"{code} · {name} ({category})", "value": code}


def scope_bar(
    *,
    scope: svc.Scope,
    items: svc.Items | None,
    options: svc.ScopeOptions,
    view_id: str,
    sku_id: str,
    sku_wrap: str,
    segment_id: str,
    segment_wrap: str,
    note_id: str,
    reset_id: str,
) -> dbc.Card:
    """View (one SKU / segment), the SKU type-ahead or the segment list, what the scope holds, reset to today."""
    is_sku = scope.kind == "sku"
    sku_options = []
    if is_sku and items is not None:
        sku_options = [sku_option(items.codes[0], items.names[0], items.categories[0])]
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        dbc.RadioItems(
                            id=view_id,
                            options=VIEW_OPTIONS,
                            value="sku" if is_sku else "segment",
                            inline=True,
                            className="fw-semibold",
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        [
                            html.Div(
                                dcc.Dropdown(
                                    id=sku_id,
                                    options=sku_options,
                                    value=items.codes[0] if is_sku and items is not None else None,
                                    placeholder="Type a SKU code or name…",
                                    searchable=True,
                                    clearable=False,
                                ),
                                id=sku_wrap,
                                style=SHOWN if is_sku else HIDDEN,
                            ),
                            html.Div(
                                dcc.Dropdown(
                                    id=segment_id,
                                    options=segment_options(options),
                                    value=scope.key if not is_sku else "portfolio",
                                    clearable=False,
                                    searchable=True,
                                ),
                                id=segment_wrap,
                                style=HIDDEN if is_sku else SHOWN,
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(html.Div(scope_note(items), id=note_id, className="small text-secondary"), md=True),
                    dbc.Col(
                        dbc.Button("Reset to today", id=reset_id, color="secondary", outline=True, size="sm"),
                        width="auto",
                    ),
                ],
                className="g-3 align-items-center",
            ),
            className="py-2",
        ),
        className="shadow-sm border-0 mb-3",
    )


def scope_note(items: svc.Items | None) -> list[Any]:
    """What the page is looking at, from the snapshot."""
    if items is None:
        return [MISSING]
    run = items.run
    head: list[Any]
    if items.n == 1:
        cls = str(items.demand_class[0]).replace("_", " ")
        head = [
            html.B(items.names[0] or items.codes[0]),
            f" · {items.categories[0]} · class {items.abc[0]} · {cls} demand",
        ]
    else:
        head = [html.B(items.scope.label), f" · {items.n:,} SKUs"]
    return [
        *head,
        html.Br(),
        f"Snapshot {fmt_datetime(run.finished_at)} · data through {fmt_date_prose(run.data_as_of)} · "
        f"one period = one {run.period_unit}",
    ]


def graph(figure: dict[str, Any], height: int, *, graph_id: str | None = None) -> dcc.Graph:
    """A chart with a fixed height (a responsive graph inside a new container would collapse to its minimum)."""
    props: dict[str, Any] = {"id": graph_id} if graph_id else {}
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG, style={"height": f"{height}px"}, **props)


def section(title: str, *children: Any, note: Any = None, class_name: str = "", fill: bool = True) -> dbc.Card:
    """A titled card; ``fill`` stretches it to the height of its row."""
    head: list[Any] = [html.Span(title, className=SECTION_CLASS)]
    if note:
        head.append(html.Span(note, className="small text-secondary ms-2"))
    card_class = CARD if fill else "shadow-sm border-0"
    return dbc.Card(dbc.CardBody([html.Div(head, className="mb-1"), *children]), className=f"{card_class} {class_name}")


def message(notes: Sequence[str], *, error: str | None = None) -> list[Any]:
    """The page's message area: an input error (red) and notes about the scope (grey)."""
    out: list[Any] = []
    if error:
        out.append(
            dbc.Alert(
                [html.B("Check the inputs: "), error, html.Span(" The figures show the last valid inputs.")],
                color="danger",
                className="py-2 mb-2",
            )
        )
    out += [dbc.Alert(n, color="light", className="border py-2 mb-2 small") for n in notes]
    return out


def no_snapshot() -> html.Div:
    return empty_state(
        "There is no snapshot yet: import data and run a recompute on the Watchtower first.", "/", "Open the Watchtower"
    )


def unknown_scope(scope: svc.Scope) -> dbc.Alert:
    what = f"No SKU \u201c{scope.value}\u201d" if scope.kind == "sku" else f"Nothing in {scope.label.lower()}"
    return dbc.Alert(f"{what} in the latest snapshot: showing the whole portfolio.", color="warning", className="py-2")


def page_intro(title: str, blurb: str) -> html.Div:
    """The page title with a line on what the page answers."""
    return html.Div([html.H1(title, className="h4 mb-0"), html.P(blurb, className="text-secondary small mb-2")])


def no_snapshot_page(title: str) -> html.Div:
    """The whole page when there is no snapshot yet: its title and a pointer to the Watchtower."""
    return html.Div([html.H1(title, className="h4"), no_snapshot()])


def scoped_items(*, session: Any, query: dict[str, Any]) -> tuple[svc.Items | None, dbc.Alert | None]:
    """The latest snapshot's items for the URL's scope as today's model (:func:`services.whatif_baseline.load_model`:
    stored levels, one-shot SKUs as their season's newsvendor, stopped sellers without demand), or the whole
    portfolio and a warning when nothing matches."""
    scope = scope_from_query(query)
    items = whatif_baseline.load_model(session=session, scope=scope)
    if items is not None:
        return items, None
    return whatif_baseline.load_model(session=session, scope=svc.Scope(kind="portfolio")), unknown_scope(scope)


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
            legend={
                "orientation": "v",
                "y": 0.02,
                "yanchor": "bottom",
                "x": 0.99,
                "xanchor": "right",
                "font": {"size": 11},
                "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "#dee2e6",
                "borderwidth": 1,
            },
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


def hints(items: svc.Items, defaults: dict[str, Any]) -> dict[str, str]:
    """The line under each control: what today's value is and how a segment value applies."""
    unit = items.run.period_unit
    if items.n == 1 and bool(getattr(items, "one_shot", [False])[0]):
        season = getattr(items, "season_periods", svc.DEFAULT_SEASON_PERIODS)
        return {
            "target": f"today {defaults['target_pct']:.1f}%: its critical ratio Cu / (Cu + Co)",
            "lt": f"the {season}-{unit} season stands in for it (a one-shot buy is not replenished)",
            "lt_std": "0: the season has a fixed length",
            "sigma": f"per {unit}: spread of the forecast errors (today {defaults['sigma']:g})",
            "q": "the season's expected demand (one buy per season)",
        }
    if items.n == 1:
        return {
            "target": f"today {defaults['target_pct']:.1f}% cycle service level",
            "lt": f"today {defaults['lead_time_days']:g} d ({items.lead_time_source[0]})",
            "lt_std": "standard deviation of the lead time",
            "sigma": f"per {unit}: spread of the forecast errors (today {defaults['sigma']:g})",
            "q": f"today's lot {fmt_qty(defaults['order_quantity'])} (EOQ, rounded to MOQ / multiple)",
        }
    return {
        "target": f"today each SKU's own (value-weighted mean {defaults['target_pct']:.1f}%); a new value is one "
        f"target for all {items.n:,} SKUs",
        "lt": "mean over the SKUs; a new value scales each SKU's lead time",
        "lt_std": "mean over the SKUs; scales each SKU's spread",
        "sigma": f"total per {unit} over the SKUs; scales each SKU's forecast error",
        "q": "total of the SKUs' lots; scales each SKU's lot",
    }


CONTROL_IDS = {
    "target": ids.RISK_TARGET,
    "lt": ids.RISK_LT_MEAN,
    "lt_std": ids.RISK_LT_STD,
    "sigma": ids.RISK_SIGMA,
    "q": ids.RISK_ORDER_QTY,
}
"""Control (key of :func:`hints`) -> number input id."""
DEFAULT_KEYS = {
    "target": "target_pct",
    "lt": "lead_time_days",
    "lt_std": "lead_time_std_days",
    "sigma": "sigma",
    "q": "order_quantity",
}
"""Control -> its key in services.whatif.risk_defaults."""
HINT_ID = {name: f"{ids.RISK_HINTS}-{name.replace('_', '-')}" for name in CONTROL_IDS}
HINT_IDS = list(HINT_ID.values())


# --------------------------------------------------------------------------------------------------------------------
# page


def controls_card(items: svc.Items, defaults: dict[str, Any]) -> dbc.Card:
    unit = items.run.period_unit
    row = named_number_rows(
        control_ids=CONTROL_IDS,
        values={name: defaults[key] for name, key in DEFAULT_KEYS.items()},
        hint_ids=HINT_ID,
        hints=hints(items, defaults),
    )
    apply_block: Any = None
    if allowed("planner"):
        apply_block = html.Div(
            [
                html.Hr(className="my-3"),
                dcc.ConfirmDialogProvider(
                    dbc.Button(
                        "Apply as policy",
                        id=ids.RISK_APPLY,
                        color="primary",
                        className="w-100",
                        title="Write this service level (and changed lead times) to the SKU master and recompute",
                    ),
                    id=ids.RISK_APPLY_CONFIRM,
                    message=(
                        "Write this service level (and any changed lead time) to every SKU in the selected scope, "
                        "then recompute those SKUs (the others keep their results)?"
                    ),
                ),
                html.Div(id=ids.RISK_APPLY_PROGRESS, className="small text-secondary mt-1"),
                html.Div(id=ids.RISK_APPLY_RESULT, className="small mt-1"),
            ]
        )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Controls", className=SECTION_CLASS),
                dbc.Label("Service measure", className="small fw-semibold mb-1"),
                dbc.RadioItems(
                    id=ids.RISK_MEASURE,
                    options=[
                        {"label": "Cycle service level", "value": "csl"},
                        {"label": "Fill rate", "value": "fill_rate"},
                    ],
                    value=defaults["measure"],
                    className="small mb-2",
                ),
                row("Target", "target", unit="%", step=0.1),
                row("Lead time", "lt", unit="days"),
                row("Lead-time spread (std)", "lt_std", unit="days"),
                row("Demand variability (σ)", "sigma", unit=f"units/{unit}"),
                dbc.Label("Review policy", className="small fw-semibold mb-1 mt-1"),
                dbc.RadioItems(
                    id=ids.RISK_POLICY,
                    options=[{"label": label, "value": key} for key, label in POLICY_LABEL.items()],
                    value=defaults["policy"],
                    className="small mb-2",
                ),
                html.Div(row("Order quantity Q", "q", unit="units"), id=ids.RISK_ORDER_QTY_WRAP),
                html.Div(
                    number_row(
                        "Review period R",
                        ids.RISK_REVIEW,
                        defaults["review_period"],
                        unit=f"{unit}s",
                        step=1,
                        hint_id=None,
                    ),
                    id=ids.RISK_REVIEW_WRAP,
                    style=HIDDEN,
                ),
                apply_block,
            ]
        ),
        className=CARD,
    )


def set_hints(items: svc.Items, defaults: dict[str, Any]) -> list[str]:
    h = hints(items, defaults)
    return [h[name] for name in HINT_ID]


def page(items: svc.Items, options: svc.ScopeOptions, warning: Any = None) -> html.Div:
    defaults = svc.risk_defaults(items)
    return html.Div(
        [
            dcc.Store(id=ids.RISK_SCOPE, data={"scope": items.scope.key, "baseline": defaults}),
            dcc.Store(id=ids.RISK_FRONTIER_DATA),
            page_intro(
                "Risk engine",
                "What each point of service costs in safety stock, where the risk comes from, and whether the policy "
                "delivers its promise.",
            ),
            scope_bar(
                scope=items.scope,
                items=items,
                options=options,
                view_id=ids.RISK_VIEW,
                sku_id=ids.RISK_SKU,
                sku_wrap=ids.RISK_SKU_WRAP,
                segment_id=ids.RISK_SEGMENT,
                segment_wrap=ids.RISK_SEGMENT_WRAP,
                note_id=ids.RISK_SCOPE_NOTE,
                reset_id=ids.RISK_RESET,
            ),
            warning,
            dbc.Row(
                [
                    dbc.Col(controls_card(items, defaults), lg=3),
                    dbc.Col(
                        [
                            html.Div(id=ids.RISK_MESSAGE),
                            html.Div(id=ids.RISK_METHOD_NOTE, className="mb-2"),
                            dcc.Loading(html.Div(id=ids.RISK_KPIS), type="dot", color=INK, delay_show=400),
                            dbc.Row(
                                [
                                    dbc.Col(
                                        section(
                                            "Where the safety stock comes from",
                                            graph(empty_figure(""), DECOMP_HEIGHT, graph_id=ids.RISK_DECOMP_CHART),
                                            note="the two terms of √(L·σ²_D + D²·σ²_L)",
                                        ),
                                        lg=6,
                                    ),
                                    dbc.Col(section("This setting vs today", html.Div(id=ids.RISK_DETAIL)), lg=6),
                                ],
                                className="g-3",
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
                            "Efficient frontier",
                            graph(empty_figure(""), FRONTIER_HEIGHT, graph_id=ids.RISK_FRONTIER_CHART),
                            note="capital in safety stock against the service it buys; the curves are the normal "
                            "formula's, the points today's snapshot (the engine's method) and this setting",
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        section(
                            "Read the frontier",
                            html.P(
                                "Enter a budget to read the service it buys, or a service level to read its cost.",
                                className="small text-secondary mb-2",
                            ),
                            number_row("Safety-stock budget", ids.RISK_BUDGET, None, unit=CURRENCY, hint_id=None),
                            number_row("Service level", ids.RISK_SERVICE_READ, None, unit="%", step=0.1, hint_id=None),
                            html.Div(id=ids.RISK_LOOKUP_RESULT, className="mt-2"),
                        ),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            section(
                "Monte Carlo check",
                html.Div(
                    [
                        html.Span(
                            "Simulate the chosen policy over several years of random demand and lead times, and "
                            "compare the service it achieves with its target.",
                            className="small text-secondary me-3",
                        ),
                        dbc.Button("Run simulation", id=ids.RISK_SIM_RUN, color="primary", size="sm", className="me-2"),
                        dbc.Button(
                            "Cancel", id=ids.RISK_SIM_CANCEL, color="secondary", outline=True, size="sm", disabled=True
                        ),
                    ],
                    className="d-flex align-items-center flex-wrap gap-1 mb-2",
                ),
                html.Div(
                    [
                        dbc.Progress(
                            id=ids.RISK_SIM_PROGRESS, value=0, striped=True, animated=True, style={"height": "6px"}
                        ),
                        html.Div(id=ids.RISK_SIM_STAGE, className="small text-secondary mt-1"),
                    ],
                    id=ids.RISK_SIM_PROGRESS_WRAP,
                    style=HIDDEN,
                    className="mb-2",
                ),
                html.Div(id=ids.RISK_SIM_RESULT),
                class_name="mb-3",
            ),
            backtest_panel(grain=items.run.grain),
        ]
    )


def layout(**query: Any) -> html.Div:
    with session_scope() as session:
        if latest_run(session=session) is None:
            return no_snapshot_page("Risk engine")
        items, warning = scoped_items(session=session, query=query)
        options = svc.scope_options(session=session)
    if items is None:
        return no_snapshot_page("Risk engine")
    return page(items, options, warning)
