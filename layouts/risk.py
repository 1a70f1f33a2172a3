"""Risk engine (/risk): service level, lead time and variability in money, for one SKU or a segment.

Opens on ``/risk?sku=CODE`` (from the SKU page), ``/risk?category=NAME``, ``/risk?abc=A`` or the whole portfolio.
The controls start at today's values from the latest snapshot; callbacks/risk.py recomputes the figures through
services/whatif.py as they move. The scope bar is layouts/_scope.py (shared with /profit); the figures are
layouts/_risk_figures.py, the Monte Carlo blocks layouts/_risk_simulation.py.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.session import session_scope
from layouts import _ids as ids
from layouts._backtest import risk_panel as backtest_panel
from layouts._charts import (
    CURRENCY,
    SECTION_CLASS,
    empty_figure,
    fmt_qty,
)
from layouts._components import allowed, named_number_rows, number_row
from layouts._risk_figures import DECOMP_HEIGHT, FRONTIER_HEIGHT
from layouts._scope import CARD, HIDDEN, graph, no_snapshot_page, page_intro, scope_bar, scoped_items, section
from layouts._whatif_blocks import (
    INK,
)
from services import whatif as svc
from services.runs import latest_run

dash.register_page(__name__, path="/risk", name="Risk engine", order=2, title="Risk engine · Inventory Command Center")

POLICY_LABEL = {"sQ": "Continuous review (s, Q)", "RS": "Periodic review (R, S)"}


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


def page(items: svc.Items, options: svc.ScopeOptions, warning: Any = None) -> html.Div:
    defaults = svc.risk_defaults(items)
    return html.Div(
        [
            dcc.Store(
                id=ids.RISK_SCOPE,
                data={"scope": items.scope.key, "baseline": defaults, "hints": hints(items, defaults)},
            ),
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
