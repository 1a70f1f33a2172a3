"""Risk engine callbacks: scope picker, the figures as the controls move, reading the frontier, the Monte Carlo check
(background, progress, cancel) and "Apply as policy" (planner, background recompute). The maths is in
services/whatif.py (through core.policy / core.montecarlo); these only parse, call and format."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email
from db.session import session_scope
from layouts import _ids as ids
from layouts import _risk_figures as figures
from layouts import _risk_simulation as simulation
from layouts import _scope as shared
from layouts import _whatif_blocks as blocks
from layouts import risk as page
from layouts._charts import fmt_money
from layouts._components import fmt_input
from services import jobs
from services import whatif as svc
from services import whatif_baseline as baseline
from services.recompute import RecomputeError
from services.runs import scope_counts

CONTROL_STATES = [
    State(ids.RISK_MEASURE, "value"),
    State(ids.RISK_TARGET, "value"),
    State(ids.RISK_LT_MEAN, "value"),
    State(ids.RISK_LT_STD, "value"),
    State(ids.RISK_SIGMA, "value"),
    State(ids.RISK_POLICY, "value"),
    State(ids.RISK_REVIEW, "value"),
    State(ids.RISK_ORDER_QTY, "value"),
    State(ids.RISK_SCOPE, "data"),
]


def controls_from(
    measure: Any,
    target: Any,
    lead_time: Any,
    lead_time_std: Any,
    sigma: Any,
    policy: Any,
    review: Any,
    order_qty: Any,
    scope_data: dict[str, Any] | None,
) -> tuple[svc.Scope, svc.RiskControls]:
    data = scope_data or {}
    scope = svc.Scope.parse(data.get("scope"))
    controls = svc.RiskControls(
        measure=measure or "csl",
        target_pct=target,
        lead_time_days=lead_time,
        lead_time_std_days=lead_time_std,
        sigma=sigma,
        order_quantity=order_qty,
        policy=policy or "sQ",
        review_period=review if review is not None else svc.DEFAULT_REVIEW_PERIOD,
        baseline=data.get("baseline") or {},
    )
    return scope, controls


# --------------------------------------------------------------------------------------------------------------------
# scope


@guarded_callback(
    "viewer",
    Output(ids.RISK_SKU_WRAP, "style"),
    Output(ids.RISK_SEGMENT_WRAP, "style"),
    Input(ids.RISK_VIEW, "value"),
)
def toggle_view(view: str | None) -> tuple[dict, dict]:
    """Show the SKU search or the segment list."""
    return (shared.SHOWN, shared.HIDDEN) if view == "sku" else (shared.HIDDEN, shared.SHOWN)


@guarded_callback(
    "viewer",
    Output(ids.RISK_ORDER_QTY_WRAP, "style"),
    Output(ids.RISK_REVIEW_WRAP, "style"),
    Input(ids.RISK_POLICY, "value"),
)
def toggle_policy(policy: str | None) -> tuple[dict, dict]:
    """(s, Q) needs the order quantity; (R, S) the review period."""
    return (shared.HIDDEN, shared.SHOWN) if policy == "RS" else (shared.SHOWN, shared.HIDDEN)


def search(text: str | None, value: str | None, current: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """Type-ahead over the latest snapshot's SKUs (the chosen one stays in the list)."""
    if not text or not text.strip():
        raise PreventUpdate
    with session_scope() as session:
        hits = svc.search_skus(session=session, text=text, limit=15)
    options = [shared.sku_option(h.code, h.name, h.category) for h in hits]
    if value and all(o["value"] != value for o in options):
        options += [o for o in current or [] if o.get("value") == value]
    return options


@guarded_callback(
    "viewer",
    Output(ids.RISK_SKU, "options"),
    Input(ids.RISK_SKU, "search_value"),
    State(ids.RISK_SKU, "value"),
    State(ids.RISK_SKU, "options"),
    prevent_initial_call=True,
)
def sku_options(text: str | None, value: str | None, current: list[dict[str, str]] | None) -> list[dict[str, str]]:
    return search(text, value, current)


def scope_key(view: str | None, sku: str | None, segment: str | None) -> str:
    """The scope the picker names; "" while "One SKU" is chosen and no SKU is picked."""
    if view == "sku":
        return f"sku:{sku}" if sku else ""
    return segment or "portfolio"


@guarded_callback(
    "viewer",
    Output(ids.RISK_SCOPE, "data"),
    Output(ids.RISK_MEASURE, "value"),
    Output(ids.RISK_TARGET, "value"),
    Output(ids.RISK_LT_MEAN, "value"),
    Output(ids.RISK_LT_STD, "value"),
    Output(ids.RISK_SIGMA, "value"),
    Output(ids.RISK_POLICY, "value"),
    Output(ids.RISK_REVIEW, "value"),
    Output(ids.RISK_ORDER_QTY, "value"),
    Output(ids.RISK_SCOPE_NOTE, "children"),
    Input(ids.RISK_VIEW, "value"),
    Input(ids.RISK_SKU, "value"),
    Input(ids.RISK_SEGMENT, "value"),
    Input(ids.RISK_RESET, "n_clicks"),
    prevent_initial_call=True,
)
def load_scope(view: str | None, sku: str | None, segment: str | None, _reset: int | None) -> tuple[Any, ...]:
    """A new scope (or "Reset to today"): today's values from the latest snapshot into the controls (formatted);
    "One SKU" with no SKU picked asks for one instead of keeping the portfolio's figures."""
    key = scope_key(view, sku, segment)
    if not key:
        return ({"scope": None, "pick": True}, *[no_update] * 8, shared.PICK_A_SKU)
    scope = svc.Scope.parse(key)
    with session_scope() as session:
        items = baseline.load_model(session=session, scope=scope)
    if items is None:
        raise PreventUpdate
    d = svc.risk_defaults(items)
    return (
        {"scope": scope.key, "baseline": d, "hints": page.hints(items, d)},
        d["measure"],
        fmt_input(d["target_pct"]),
        fmt_input(d["lead_time_days"]),
        fmt_input(d["lead_time_std_days"]),
        fmt_input(d["sigma"]),
        d["policy"],
        fmt_input(d["review_period"]),
        fmt_input(d["order_quantity"]),
        shared.scope_note(items),
    )


@guarded_callback(
    "viewer",
    *[Output(h, "children") for h in page.HINT_IDS],
    *[Input(page.CONTROL_IDS[name], "value") for name in page.HINT_ID],
    Input(ids.RISK_SCOPE, "data"),
)
def hints(*args: Any) -> list[Any]:
    """Today's hint under each control, or "edited · today X" once its value was changed."""
    *values, data = args
    if not data or not data.get("hints"):
        raise PreventUpdate
    return shared.edited_hints(values, list(page.HINT_ID), data, keys=page.DEFAULT_KEYS)


# --------------------------------------------------------------------------------------------------------------------
# figures


def compute_view(*args: Any) -> tuple[Any, ...]:
    """Parse the controls, ask the service, format the page's figures (the function the callback wraps)."""
    if shared.picking(args[-1]):
        return shared.pick_outputs(["children", "figure", "children", "children", "figure", "data"])
    scope, controls = controls_from(*args)
    with session_scope() as session:
        items = baseline.load_model(session=session, scope=scope)
        if items is None:
            return (shared.message([], error="This scope is no longer in the latest snapshot: reload the page."),) + (
                no_update,
            ) * 6
        history = svc.demand_history(session=session, items=items) if items.n == 1 else None
    try:  # "today" is the stored snapshot; the setting is measured from it (services/whatif_baseline.py)
        result = baseline.risk_setting(items, controls, history=history)
        today = baseline.risk_today(items)
        front = baseline.risk_frontier(items, controls, setting=result)
        own = baseline.uses_own_targets(items, controls)
    except svc.WhatIfError as exc:
        return (shared.message([], error=str(exc)),) + (no_update,) * 6
    return (
        shared.message([*baseline.model_notes(items), *result.notes]),
        blocks.kpi_row(result, today, items),
        figures.decomposition_figure(result),
        blocks.detail_table(result, today, items, own_targets=own),
        blocks.method_note(result, items),
        figures.frontier_figure(front),
        front.to_dict(),
    )


@guarded_callback(
    "viewer",
    Output(ids.RISK_MESSAGE, "children"),
    Output(ids.RISK_KPIS, "children"),
    Output(ids.RISK_DECOMP_CHART, "figure"),
    Output(ids.RISK_DETAIL, "children"),
    Output(ids.RISK_METHOD_NOTE, "children"),
    Output(ids.RISK_FRONTIER_CHART, "figure"),
    Output(ids.RISK_FRONTIER_DATA, "data"),
    Input(ids.RISK_MEASURE, "value"),
    Input(ids.RISK_TARGET, "value"),
    Input(ids.RISK_LT_MEAN, "value"),
    Input(ids.RISK_LT_STD, "value"),
    Input(ids.RISK_SIGMA, "value"),
    Input(ids.RISK_POLICY, "value"),
    Input(ids.RISK_REVIEW, "value"),
    Input(ids.RISK_ORDER_QTY, "value"),
    Input(ids.RISK_SCOPE, "data"),
)
def update(*args: Any) -> tuple[Any, ...]:
    """Safety stock, level, money, stockouts, the variability split and the frontier at the controls' values."""
    return compute_view(*args)


def lookup_text(budget: Any, service_pct: Any, data: dict[str, Any] | None, trigger: str | None) -> Any:
    if not data:
        raise PreventUpdate
    front = svc.Frontier.from_dict(data)
    main = front.curves[0] if front.curves else None
    best = next((c for c in front.curves if c.kind == "best"), None)
    if main is None:
        return html.Span("No frontier for this scope.", className="text-secondary small")
    what = simulation.MEASURE_LABEL[front.measure]
    use_service = trigger == ids.RISK_SERVICE_READ or (budget is None and service_pct is not None)
    if use_service and service_pct is not None:
        try:
            pct = float(svc.number_text(service_pct))
        except (TypeError, ValueError):
            return dbc.Alert("Enter the service level as a number of percent.", color="danger", className="py-1 small")
        if not 0 < pct < 100:
            return dbc.Alert(
                "The service level must be above 0% and below 100%.", color="danger", className="py-1 small"
            )
        same = svc.read_frontier(main, service=pct / 100)
        spread = svc.read_frontier(best, service=pct / 100) if best else None
        lo, hi = min(main.service), max(main.service)
        if same is None:
            return html.Div(
                f"{pct:.1f}% {what} is outside this frontier ({lo:.1%} to {hi:.1%}).", className="small text-secondary"
            )
        lines = [html.Div([html.B(fmt_money(same)), f" buys {pct:.1f}% {what} with one target for every SKU."])]
        if spread is not None:
            lines.append(
                html.Div(
                    [html.B(fmt_money(spread)), " with the best allocation (saves ", fmt_money(same - spread), ")."]
                )
            )
        return html.Div(lines, className="small")
    if budget is None:
        return html.Div(
            f"Today: {fmt_money(front.today[0].capital)} in safety stock for {front.today[0].service:.1%} {what}.",
            className="small text-secondary",
        )
    try:
        money = float(svc.number_text(budget))
    except (TypeError, ValueError):
        return dbc.Alert("Enter the budget as an amount of money.", color="danger", className="py-1 small")
    if money < 0 or not math.isfinite(money):
        return dbc.Alert("A budget cannot be negative.", color="danger", className="py-1 small")
    same = svc.read_frontier(main, capital=money)
    top = max(main.capital)
    if same is None:
        return html.Div("Below the frontier's first point.", className="small text-secondary")
    above = money >= top
    lines = [
        html.Div(
            [
                html.B(fmt_money(money)),
                " buys ",
                html.B(("at least " if above else "") + f"{same:.1%}"),
                f" {what} with one target for every SKU.",
            ]
        )
    ]
    if best is not None:
        spread = svc.read_frontier(best, capital=money)
        if spread is not None:
            lines.append(html.Div(["With the best allocation: ", html.B(f"{spread:.1%}"), "."]))
    return html.Div(lines, className="small")


@guarded_callback(
    "viewer",
    Output(ids.RISK_LOOKUP_RESULT, "children"),
    Input(ids.RISK_BUDGET, "value"),
    Input(ids.RISK_SERVICE_READ, "value"),
    Input(ids.RISK_FRONTIER_DATA, "data"),
)
def lookup(budget: Any, service_pct: Any, data: dict[str, Any] | None) -> Any:
    """Read the frontier: the service a budget buys, or the budget a service level needs."""
    return lookup_text(budget, service_pct, data, ctx.triggered_id if ctx.triggered else None)


# --------------------------------------------------------------------------------------------------------------------
# Monte Carlo (background)


def run_simulation(set_progress: Any, *args: Any) -> Any:
    if shared.picking(args[-1]):
        return dbc.Alert(shared.PICK_A_SKU, color="info", className="py-2 mb-0")
    scope, controls = controls_from(*args)
    if scope.kind != "sku":
        return run_segment_simulation(set_progress, scope, controls)
    with session_scope() as session:
        items = baseline.load_model(session=session, scope=scope)
        if items is None:
            return dbc.Alert("This SKU is not in the latest snapshot.", color="warning", className="py-2 mb-0")
        history = svc.demand_history(session=session, items=items)
        errors = svc.forecast_errors(session=session, items=items)
    if items.one_shot[0]:
        return dbc.Alert(
            "A one-shot buy has one season, not a replenishment cycle to simulate: its expected leftover and lost "
            "sales are exact on the Profit optimizer.",
            color="info",
            className="py-2 mb-0",
        )
    try:
        result = baseline.risk_setting(items, controls, history=history)
        view = svc.simulate(
            items=items,
            result=result,
            errors=errors,
            history=history,
            rng=np.random.default_rng(svc.MC_SEED),
            progress=lambda f, msg: set_progress((round(100 * f), msg)),
        )
    except svc.WhatIfError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0")
    return simulation.simulation_block(view)


SEGMENT_SIMULATED = 10


def run_segment_simulation(set_progress: Any, scope: svc.Scope, controls: svc.RiskControls) -> Any:
    """The segment's largest SKUs, each simulated under its own demand pattern."""
    with session_scope() as session:
        items = baseline.load_model(session=session, scope=scope)
        if items is None:
            return dbc.Alert("This scope is not in the latest snapshot.", color="warning", className="py-2 mb-0")
        demand: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        replenished = [i for i in svc.top_skus(items, items.n) if not items.one_shot[i]]  # one-shot: no cycles
        for i in replenished[:SEGMENT_SIMULATED]:
            one = svc.sku_slice(items, i)
            demand[i] = (
                svc.forecast_errors(session=session, items=one),
                svc.demand_history(session=session, items=one),
            )
    try:
        result = baseline.risk_setting(items, controls)
        view = svc.simulate_segment(
            items=items,
            result=result,
            demand_data=demand,
            rng=np.random.default_rng(svc.MC_SEED),
            progress=lambda f, msg: set_progress((round(100 * f), msg)),
        )
    except svc.WhatIfError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0")
    return simulation.segment_simulation_block(view)


@guarded_callback(
    "viewer",
    Output(ids.RISK_SIM_RESULT, "children"),
    Input(ids.RISK_SIM_RUN, "n_clicks"),
    *CONTROL_STATES,
    background=True,
    running=[
        (Output(ids.RISK_SIM_RUN, "disabled"), True, False),
        (Output(ids.RISK_SIM_CANCEL, "disabled"), False, True),
        (Output(ids.RISK_SIM_PROGRESS_WRAP, "style"), shared.SHOWN, shared.HIDDEN),
    ],
    progress=[Output(ids.RISK_SIM_PROGRESS, "value"), Output(ids.RISK_SIM_STAGE, "children")],
    progress_default=[0, "starting"],
    cancel=[Input(ids.RISK_SIM_CANCEL, "n_clicks")],
    prevent_initial_call=True,
)
def simulate(set_progress: Any, n_clicks: int | None, *states: Any) -> Any:
    """Simulate the chosen policy for the SKU (formula vs this SKU's demand, and the quantile level for slow movers)."""
    if not n_clicks:
        raise PreventUpdate
    return run_simulation(set_progress, *states)


# --------------------------------------------------------------------------------------------------------------------
# apply as policy (planner, background recompute)


def scope_href(scope: svc.Scope) -> str:
    if scope.kind == "portfolio":
        return "/risk"
    return f"/risk?{scope.kind}={quote(scope.value or '', safe='')}"


def recompute_message(summary: Any) -> str:
    """ "Recomputed N SKUs in S s." (partial runs: how many were recomputed, how many of them because their master
    data was edited since the previous run, and how many were carried forward unchanged)."""
    counts = scope_counts(getattr(summary, "scope", None))
    if counts is not None:
        edited = (
            f" (with {counts.edited:,} {'SKU' if counts.edited == 1 else 'SKUs'} edited since the previous run)"
            if counts.edited
            else ""
        )
        kept = f"; the other {counts.carried:,} SKUs are unchanged" if counts.carried else ""
        return f"Recomputed {counts.recomputed:,} SKUs{edited} in {summary.seconds:.0f} s{kept}."
    return f"Recomputed {summary.sku_count:,} SKUs in {summary.seconds:.0f} s."


def run_apply(set_progress: Any, *args: Any) -> Any:
    if shared.picking(args[-1]):  # never the portfolio when "One SKU" is chosen without a SKU
        return dbc.Alert(shared.PICK_A_SKU, color="info", className="py-1")
    scope, controls = controls_from(*args)
    email = request_email()
    set_progress("writing the policy to the SKU master")
    try:
        with session_scope() as session:
            items = svc.load_items(session=session, scope=scope)
            if items is None:
                return dbc.Alert("This scope is not in the latest snapshot.", color="warning", className="py-1")
            applied = svc.apply_policy(session=session, items=items, controls=controls, user=email)
    except svc.WhatIfError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-1")
    # only the scope's SKUs changed: recompute them (the rest of the run is carried forward); ABC and the KPIs are
    # still redone over the whole portfolio (services.recompute, "Partial runs")
    codes = None if scope.kind == "portfolio" else list(items.codes)
    try:
        with session_scope() as session:
            summary = jobs.recompute_portfolio(
                session=session,
                triggered_by=email,
                progress=lambda f, msg: set_progress(f"recompute {f:.0%} · {msg}"),
                sku_codes=codes,
            )
    except RecomputeError as exc:
        return dbc.Alert(
            [applied.message, " The recompute failed: ", str(exc)], color="warning", className="py-1 small"
        )
    set_progress("")
    return dbc.Alert(
        [
            html.Div(applied.message),
            html.Div(recompute_message(summary)),
            dbc.Button(
                "Show the new snapshot",
                href=scope_href(scope),
                external_link=True,
                size="sm",
                color="success",
                className="mt-1",
            ),
        ],
        color="success",
        className="py-2 small mb-0",
    )


@guarded_callback(
    "planner",
    Output(ids.RISK_APPLY_RESULT, "children"),
    Input(ids.RISK_APPLY_CONFIRM, "submit_n_clicks"),
    *CONTROL_STATES,
    background=True,
    running=[(Output(ids.RISK_APPLY, "disabled"), True, False)],
    progress=[Output(ids.RISK_APPLY_PROGRESS, "children")],
    progress_default=[""],
    prevent_initial_call=True,
)
def apply_policy(set_progress: Any, submitted: int | None, *states: Any) -> Any:
    """Write the chosen service level (and changed lead times) to the scope's SKUs, audit-log it, recompute.

    The recompute covers the scope's SKUs (the whole portfolio for the portfolio scope); a partial run carries the
    other SKUs forward, so the new run is still complete."""
    if not submitted:
        raise PreventUpdate
    return run_apply(set_progress, *states)
