"""Policy backtest panels (issue 24): "Would this policy have worked?" on the SKU page and the policy replay with the
textbook frontier on the Risk page. Both replay on demand (a button, as a background job with progress and cancel);
callbacks/backtest.py runs services/backtest and formats the result with the functions here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids
from layouts._charts import (
    CURRENCY,
    GRAPH_CONFIG,
    MISSING,
    SECTION_CLASS,
    SERIES,
    X_DATE,
    base_layout,
    fmt_date_prose,
    fmt_datetime,
    fmt_money,
    fmt_pct,
    fmt_qty,
    inset_legend,
)
from services import backtest as bt

HIDDEN = {"display": "none"}
SHOWN = {"display": "block"}
GRID = "#eef0f3"
INK = "#1f3a5f"
TEXTBOOK = "#8c9db5"
ENGINE = "#d62728"
DEMAND = "rgba(31,119,180,0.28)"
STOCKOUT = "rgba(214,39,40,0.10)"
REPLAY_HEIGHT, FRONTIER_HEIGHT = 340, 360
VERDICT_STYLE = {
    "above": ("success", "Above the textbook frontier"),
    "on": ("secondary", "On the textbook frontier"),
    "below": ("danger", "Below the textbook frontier"),
    "unknown": ("info", "Outside the textbook frontier's range"),
}
SKU_INTRO = (
    "Fits the engine on the history before the replayed periods (the last {n} {unit} unless you choose otherwise) "
    "exactly as a recompute would, then replays the reorder point and lot it would have set through the real demand "
    "that followed (orders arrive after the lead time). The textbook policy fitted on the same history (mean and "
    "standard deviation, ROP = μL + zσ√L, EOQ lots) is replayed alongside."
)
RISK_INTRO = (
    "Replays every SKU's policy through the last periods of real demand that the engine did not see ({n} {unit} "
    "unless you choose otherwise), and the textbook policy at each SKU's own target and at one target for every SKU "
    "from 50% to 99.9% (its frontier)."
)


def _controls(
    *,
    periods_id: str,
    run_id: str,
    cancel_id: str,
    wrap_id: str,
    bar_id: str,
    stage_id: str,
    grain: str | None,
    label: str,
) -> list[Any]:
    n = bt.default_periods(grain)
    return [
        html.Div(
            [
                html.Label("Periods to replay", htmlFor=periods_id, className="visually-hidden"),
                dbc.InputGroup(
                    [
                        dbc.InputGroupText("Replay the last"),
                        dbc.Input(
                            id=periods_id,
                            type="number",
                            min=1,
                            step=1,
                            placeholder=str(n),
                            style={"maxWidth": "5.5rem"},
                        ),
                        dbc.InputGroupText(bt.unit(grain, n)),
                    ],
                    size="sm",
                    style={"width": "auto"},
                ),
                dbc.Button(label, id=run_id, color="primary", size="sm"),
                dbc.Button("Cancel", id=cancel_id, color="secondary", outline=True, size="sm", disabled=True),
            ],
            className="d-flex align-items-center flex-wrap gap-2 mb-2",
        ),
        html.Div(
            [
                dbc.Progress(id=bar_id, value=0, striped=True, animated=True, style={"height": "6px"}),
                html.Div(id=stage_id, className="small text-secondary mt-1"),
            ],
            id=wrap_id,
            style=HIDDEN,
            className="mb-2",
        ),
    ]


def _title(text: str, note: str | None = None) -> html.Div:
    head: list[Any] = [html.Span(text, className=SECTION_CLASS)]
    if note:
        head.append(html.Span(note, className="small text-secondary ms-2"))
    return html.Div(head, className="mb-1")


# --------------------------------------------------------------------------------------------------------------------
# SKU page


def sku_panel(*, grain: str | None) -> dbc.Card:
    """The SKU page's "Would this policy have worked?" card (nothing is replayed until the button is pressed)."""
    n = bt.default_periods(grain)
    return dbc.Card(
        dbc.CardBody(
            [
                _title("Would this policy have worked?", "the policy replayed through real demand it did not see"),
                *_controls(
                    periods_id=ids.BACKTEST_SKU_PERIODS,
                    run_id=ids.BACKTEST_SKU_RUN,
                    cancel_id=ids.BACKTEST_SKU_CANCEL,
                    wrap_id=ids.BACKTEST_SKU_PROGRESS_WRAP,
                    bar_id=ids.BACKTEST_SKU_PROGRESS,
                    stage_id=ids.BACKTEST_SKU_STAGE,
                    grain=grain,
                    label="Replay the policy",
                ),
                html.Div(
                    html.P(SKU_INTRO.format(n=n, unit=bt.unit(grain, n)), className="small text-secondary mb-0"),
                    id=ids.BACKTEST_SKU_RESULT,
                ),
            ]
        ),
        className="shadow-sm border-0",
        id="backtest-sku-panel",
    )


def _level(value: float | None) -> str:
    return MISSING if value is None else fmt_qty(value)


def _policy_text(f: bt.ReplayFigures) -> str:
    if f.reorder_point is None:
        return "never orders"
    parts = [f"reorder at {_level(f.reorder_point)}"]
    if f.order_up_to is not None:
        parts.append(f"up to {_level(f.order_up_to)}")
    if f.order_quantity:
        parts.append(f"lot {_level(f.order_quantity)}")
    return ", ".join(parts)


def replay_figure(view: bt.SkuReplay) -> dict[str, Any]:
    """Demand, stock on hand under the engine's and the textbook's policy, orders placed and stockout periods."""
    x = [d.isoformat() for d in view.dates]
    e, t = view.engine.paths, view.textbook.paths
    short = [i for i, (d, s) in enumerate(zip(e["demand"], e["served"], strict=True)) if d - s > 1e-9]
    ordered = [i for i, q in enumerate(e["ordered"]) if q > 0]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": "Demand",
            "x": x,
            "y": e["demand"],
            "marker": {"color": DEMAND},
            "hovertemplate": X_DATE + ": %{y:,.1f}<extra>demand</extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Textbook: stock on hand",
            "x": x,
            "y": t["on_hand"],
            "line": {"color": TEXTBOOK, "width": 1.6, "dash": "dot", "shape": "hv"},
            "hovertemplate": X_DATE + ": %{y:,.1f}<extra>textbook</extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Engine: stock on hand",
            "x": x,
            "y": e["on_hand"],
            "line": {"color": SERIES["stock"], "width": 2.6, "shape": "hv"},
            "hovertemplate": X_DATE + ": %{y:,.1f}<extra>engine (below 0: backorders)</extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Engine: order placed",
            "x": [x[i] for i in ordered],
            "y": [e["on_hand"][i] for i in ordered],
            "customdata": [[e["ordered"][i]] for i in ordered],
            "marker": {
                "symbol": "triangle-up",
                "size": 11,
                "color": SERIES["order"],
                "line": {"color": "#fff", "width": 1},
            },
            "hovertemplate": X_DATE + ": ordered %{customdata[0]:,.0f}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Engine: stockout",
            "x": [x[i] for i in short],
            "y": [0.0 for _ in short],
            "customdata": [[e["demand"][i] - e["served"][i]] for i in short],
            "marker": {"symbol": "x", "size": 10, "color": ENGINE},
            "hovertemplate": X_DATE + ": %{customdata[0]:,.1f} short<extra></extra>",
        },
    ]
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": x[i],
            "x1": x[i],
            "y0": 0,
            "y1": 1,
            "line": {"color": STOCKOUT, "width": 6},
            "layer": "below",
        }
        for i in short
    ]
    annotations: list[dict[str, Any]] = []
    if view.engine.reorder_point is not None:
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "y": view.engine.reorder_point,
                "yanchor": "bottom",
                "showarrow": False,
                "text": f"Engine's reorder point {fmt_qty(view.engine.reorder_point)}",
                "font": {"size": 11, "color": SERIES["reorder_point"]},
            }
        )
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": view.engine.reorder_point,
                "y1": view.engine.reorder_point,
                "line": {"color": SERIES["reorder_point"], "width": 1.4, "dash": "dash"},
            }
        )
    return {
        "data": data,
        "layout": base_layout(
            height=REPLAY_HEIGHT,
            margin={"l": 10, "r": 10, "t": 30, "b": 10},
            barmode="overlay",
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
            hovermode="x unified",
            shapes=shapes,
            annotations=annotations,
            xaxis={"gridcolor": GRID},
            yaxis={
                "title": {"text": "Units"},
                "gridcolor": GRID,
                "zeroline": True,
                "zerolinecolor": "#adb5bd",
                "automargin": True,
            },
        ),
    }


def _head() -> html.Thead:
    return html.Thead(
        html.Tr(
            [
                html.Th(html.Span("Measure", className="visually-hidden")),
                html.Th("Engine", className="text-end"),
                html.Th("Textbook", className="text-end"),
            ]
        )
    )


def _row(label: str, engine: str, textbook: str, *, note: str | None = None) -> html.Tr:
    cells: list[Any] = [html.Th(label, scope="row", className="fw-normal text-secondary")]
    cells += [html.Td(engine, className="text-end fw-semibold"), html.Td(textbook, className="text-end")]
    row = html.Tr(cells)
    return row if note is None else html.Tr(cells, title=note)


def _against_target(fill: float | None, target: float | None) -> tuple[str, str]:
    if fill is None:
        return "secondary", "No demand in the replayed periods: nothing to fill."
    if target is None:
        return "secondary", f"Fill rate {fmt_pct(fill)}."
    gap = fill - target
    if gap >= -1e-9:
        return "success", f"Fill rate {fmt_pct(fill)}: met the {fmt_pct(target)} target."
    return "danger", f"Fill rate {fmt_pct(fill)}: {100 * -gap:.1f} pp short of the {fmt_pct(target)} target."


def sku_result(view: bt.SkuReplay) -> list[Any]:
    """The replay chart and its numbers beside the target and the textbook's."""
    e, t = view.engine, view.textbook
    unit = bt.unit(view.grain, view.periods)
    color, verdict = _against_target(e.fill_rate, view.target_service_level)
    target = fmt_pct(view.target_service_level)
    rows = [
        ("Fill rate", fmt_pct(e.fill_rate), fmt_pct(t.fill_rate)),
        ("Target service level", target, target),
        ("Cycle service", fmt_pct(e.cycle_service_level), fmt_pct(t.cycle_service_level)),
        (
            f"Stockout {bt.unit(view.grain, 2)}",
            f"{e.stockout_periods} of {view.periods}",
            f"{t.stockout_periods} of {view.periods}",
        ),
        ("Average stock (units)", fmt_qty(e.average_inventory_units), fmt_qty(t.average_inventory_units)),
        ("Average stock (value)", fmt_money(e.average_inventory_value), fmt_money(t.average_inventory_value)),
        ("Orders placed", str(e.orders), str(t.orders)),
        ("Policy replayed", _policy_text(e), _policy_text(t)),
    ]
    table = dbc.Table(
        [_head(), html.Tbody([_row(*r) for r in rows])], size="sm", className="mb-2 small", id="backtest-sku-table"
    )
    return [
        dbc.Alert(verdict, color=color, className="py-2 mb-2 small", id="backtest-sku-verdict"),
        dbc.Row(
            [
                dbc.Col(
                    dcc.Graph(
                        figure=replay_figure(view),
                        config=GRAPH_CONFIG,
                        style={"height": f"{REPLAY_HEIGHT}px"},
                        id="backtest-sku-chart",
                    ),
                    lg=7,
                ),
                dbc.Col(
                    [
                        table,
                        html.P(
                            f"{view.periods} {unit} from {fmt_date_prose(view.dates[0])} "
                            f"to {fmt_date_prose(view.dates[-1])} "
                            f"replayed ({fmt_qty(view.demand)} units demanded) after fitting on the {view.fit_periods} "
                            f"before; {view.seconds:.1f} s.",
                            className="small text-secondary mb-0",
                        ),
                    ],
                    lg=5,
                ),
            ],
            className="g-3",
        ),
    ]


def error_alert(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="warning", className="py-2 mb-0 small", id="backtest-error")


# --------------------------------------------------------------------------------------------------------------------
# Risk page


def risk_panel(*, grain: str | None) -> dbc.Card:
    """The Risk page's policy replay: the latest stored result of the page's scope, and a button to replay again."""
    n = bt.default_periods(grain)
    return dbc.Card(
        dbc.CardBody(
            [
                _title("Would the policies have worked?", "policy replay against the textbook frontier"),
                html.P(RISK_INTRO.format(n=n, unit=bt.unit(grain, n)), className="small text-secondary mb-2"),
                *_controls(
                    periods_id=ids.BACKTEST_RISK_PERIODS,
                    run_id=ids.BACKTEST_RISK_RUN,
                    cancel_id=ids.BACKTEST_RISK_CANCEL,
                    wrap_id=ids.BACKTEST_RISK_PROGRESS_WRAP,
                    bar_id=ids.BACKTEST_RISK_PROGRESS,
                    stage_id=ids.BACKTEST_RISK_STAGE,
                    grain=grain,
                    label="Replay the policies",
                ),
                dcc.Store(id=ids.BACKTEST_RISK_DONE),
                html.Div(id=ids.BACKTEST_RISK_MESSAGE),
                dcc.Loading(html.Div(id=ids.BACKTEST_RISK_RESULT), type="dot", color=INK, delay_show=400),
            ]
        ),
        className="shadow-sm border-0 mb-3",
        id="backtest-risk-panel",
    )


def frontier_figure(document: dict[str, Any]) -> dict[str, Any]:
    """Fill rate against average inventory value: the textbook's frontier, its point at the SKUs' own targets and
    the engine's point."""
    frontier = [f for f in document["frontier"] if f["fill_rate"] is not None]
    p, b = document["portfolio"], document["baseline"]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Textbook, one target for every SKU",
            "x": [f["average_inventory_value"] for f in frontier],
            "y": [f["fill_rate"] for f in frontier],
            "customdata": [[f["service_target"]] for f in frontier],
            "line": {"color": INK, "width": 2.5},
            "marker": {"size": 5, "color": INK},
            "hovertemplate": "target %{customdata[0]:.1%}: fill %{y:.2%} for " + CURRENCY + "%{x:,.0f}<extra></extra>",
        }
    ]
    for point, name, symbol, color, size in (
        (b, "Textbook at each SKU's own target", "diamond", TEXTBOOK, 13),
        (p, "Engine's policies", "star", ENGINE, 18),
    ):
        if point["fill_rate"] is None:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [point["average_inventory_value"]],
                "y": [point["fill_rate"]],
                "marker": {"symbol": symbol, "size": size, "color": color, "line": {"color": "#fff", "width": 1}},
                "hovertemplate": f"{name}: fill %{{y:.2%}} for {CURRENCY}%{{x:,.0f}}<extra></extra>",
            }
        )
    fills = [f["fill_rate"] for f in frontier] + [v["fill_rate"] for v in (p, b) if v["fill_rate"] is not None]
    low = max(0.0, min(fills) - 0.01) if fills else 0.0
    return {
        "data": data,
        "layout": base_layout(
            height=FRONTIER_HEIGHT,
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            legend=inset_legend(),
            hovermode="closest",
            xaxis={
                "title": {"text": "Average inventory value over the replay"},
                "tickprefix": CURRENCY,
                "tickformat": "~s",
                "gridcolor": GRID,
            },
            yaxis={
                "title": {"text": "Fill rate (units served from stock)"},
                "tickformat": ".1%",
                "gridcolor": GRID,
                "range": [low, 1.002],
                "automargin": True,
            },
        ),
    }


def _points_table(document: dict[str, Any]) -> dbc.Table:
    p, b = document["portfolio"], document["baseline"]
    return dbc.Table(
        [
            _head(),
            html.Tbody(
                [
                    _row("Fill rate", fmt_pct(p["fill_rate"]), fmt_pct(b["fill_rate"])),
                    _row(
                        "Target (demand-weighted)",
                        fmt_pct(p["target_service_level"]),
                        fmt_pct(b["target_service_level"]),
                    ),
                    _row("Cycle service", fmt_pct(p["cycle_service_level"]), fmt_pct(b["cycle_service_level"])),
                    _row(
                        "Average inventory",
                        fmt_money(p["average_inventory_value"]),
                        fmt_money(b["average_inventory_value"]),
                    ),
                ]
            ),
        ],
        size="sm",
        className="small mb-2",
        id="backtest-risk-table",
    )


def _lowest(document: dict[str, Any]) -> Any:
    rows = bt.lowest_fill_rows(document, 5)
    if not rows:
        return None
    items = [
        html.Li(
            [
                html.A(r["code"], href=f"/sku/{quote(r['code'], safe='')}"),
                f" {fmt_pct(r['fill_rate'])} fill, {r['stockout_periods']} stockout "
                f"{bt.unit(document.get('grain'), r['stockout_periods'])}",
            ]
        )
        for r in rows
    ]
    return html.Div(
        [html.Div("Lowest fill rates", className="small fw-semibold mt-2"), html.Ul(items, className="small mb-0 ps-3")]
    )


def risk_result(view: bt.StoredView) -> list[Any]:
    """The latest stored backtest of the scope: the frontier chart and the comparison in words, or how to get one."""
    if view.stored is None:
        return [
            dbc.Alert(
                f"No policy replay of {bt.describe(view.scope)} yet: press “Replay the policies”.",
                color="light",
                className="border py-2 mb-0 small",
                id="backtest-risk-none",
            )
        ]
    doc, stored = view.stored.document, view.stored
    color, label = VERDICT_STYLE.get((doc.get("comparison") or {}).get("verdict", "unknown"), VERDICT_STYLE["unknown"])
    words = [
        bt.headline(doc, money=fmt_money, pct=fmt_pct),
        *bt.comparison_sentences(doc, money=fmt_money, pct=fmt_pct),
    ]
    notes = [bt.excluded_sentence(doc)]
    who = f" by {stored.triggered_by}" if stored.triggered_by else ""
    notes.append(
        f"Replayed {fmt_datetime(stored.created_at)}{who}: {doc['sku_count']:,} SKUs, {doc['replay_start']} to "
        f"{doc['replay_end']}, in {(stored.seconds or 0):.1f} s."
    )
    if view.stale:
        notes.append(f"The data now runs to {view.data_as_of}: replay again to include the latest periods.")
    return [
        dbc.Row(
            [
                dbc.Col(
                    dcc.Graph(
                        figure=frontier_figure(doc),
                        config=GRAPH_CONFIG,
                        style={"height": f"{FRONTIER_HEIGHT}px"},
                        id="backtest-risk-chart",
                    ),
                    lg=7,
                ),
                dbc.Col(
                    [
                        dbc.Badge(label, color=color, className="mb-2", id="backtest-risk-verdict"),
                        html.Div([html.P(w, className="small mb-1") for w in words], id="backtest-risk-words"),
                        _points_table(doc),
                        html.Div([html.P(n, className="small text-secondary mb-1") for n in notes if n]),
                        _lowest(doc),
                    ],
                    lg=5,
                ),
            ],
            className="g-3",
        )
    ]


__all__ = ["error_alert", "frontier_figure", "replay_figure", "risk_panel", "risk_result", "sku_panel", "sku_result"]
