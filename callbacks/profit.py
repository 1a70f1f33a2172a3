"""Profit optimizer callbacks: scope picker, every figure as the inputs change, and named scenarios (save and delete:
planner; list and compare: viewer). The maths is in services/whatif.py (through core.policy); these only parse, call
and format."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks.risk import request_email, search
from db.session import session_scope
from layouts import _ids as ids
from layouts import _profit_figures as figures
from layouts import _scope as shared
from layouts import profit as page
from layouts._components import fmt_input
from services import whatif as svc
from services import whatif_baseline as baseline

FIELDS = list(page.INPUT_IDS)
INPUTS = [Input(page.INPUT_IDS[name], "value") for name in FIELDS]
STATES = [State(page.INPUT_IDS[name], "value") for name in FIELDS]


def controls_from(values: tuple[Any, ...], scope_data: dict[str, Any] | None) -> tuple[svc.Scope, svc.ProfitControls]:
    data = scope_data or {}
    scope = svc.Scope.parse(data.get("scope"))
    kwargs = dict(zip(FIELDS, values, strict=True))
    return scope, svc.ProfitControls(**kwargs, baseline=data.get("baseline") or {})


# --------------------------------------------------------------------------------------------------------------------
# scope


@guarded_callback(
    "viewer",
    Output(ids.PROFIT_SKU_WRAP, "style"),
    Output(ids.PROFIT_SEGMENT_WRAP, "style"),
    Input(ids.PROFIT_VIEW, "value"),
)
def toggle_view(view: str | None) -> tuple[dict, dict]:
    """Show the SKU search or the segment list."""
    return (shared.SHOWN, shared.HIDDEN) if view == "sku" else (shared.HIDDEN, shared.SHOWN)


@guarded_callback(
    "viewer",
    Output(ids.PROFIT_SKU, "options"),
    Input(ids.PROFIT_SKU, "search_value"),
    State(ids.PROFIT_SKU, "value"),
    State(ids.PROFIT_SKU, "options"),
    prevent_initial_call=True,
)
def sku_options(text: str | None, value: str | None, current: list[dict[str, str]] | None) -> list[dict[str, str]]:
    """Type-ahead over the latest snapshot's SKUs."""
    return search(text, value, current)


@guarded_callback(
    "viewer",
    Output(ids.PROFIT_SCOPE, "data"),
    *[Output(page.INPUT_IDS[name], "value") for name in FIELDS],
    Output(ids.PROFIT_MOQ, "disabled"),
    Output(ids.PROFIT_MULTIPLE, "disabled"),
    Output(ids.PROFIT_SCOPE_NOTE, "children"),
    Input(ids.PROFIT_VIEW, "value"),
    Input(ids.PROFIT_SKU, "value"),
    Input(ids.PROFIT_SEGMENT, "value"),
    Input(ids.PROFIT_RESET, "n_clicks"),
    prevent_initial_call=True,
)
def load_scope(view: str | None, sku: str | None, segment: str | None, _reset: int | None) -> tuple[Any, ...]:
    """A new scope (or "Reset to today"): the unit economics and forecast from the master and the snapshot
    (formatted); "One SKU" with no SKU picked asks for one instead of keeping the portfolio's figures."""
    if view == "sku" and not sku:
        return ({"scope": None, "pick": True}, *[no_update] * (len(FIELDS) + 2), shared.PICK_A_SKU)
    scope = svc.Scope.parse(f"sku:{sku}" if view == "sku" else (segment or "portfolio"))
    with session_scope() as session:
        items = baseline.load_model(session=session, scope=scope)
    if items is None:
        raise PreventUpdate
    d = svc.profit_defaults(items)
    return (
        {"scope": scope.key, "baseline": d, "hints": page.hints(items, d)},
        *[fmt_input(d[name]) for name in FIELDS],
        items.n > 1,
        items.n > 1,
        shared.scope_note(items),
    )


@guarded_callback(
    "viewer",
    *[Output(page.HINT_IDS[name], "children") for name in FIELDS],
    *INPUTS,
    Input(ids.PROFIT_SCOPE, "data"),
)
def hints(*args: Any) -> list[Any]:
    """Where each input's value comes from ("from the SKU master" ...), or "edited · today X" once it was changed."""
    *values, data = args
    if not data or not data.get("hints"):
        raise PreventUpdate
    return shared.edited_hints(values, FIELDS, data)


# --------------------------------------------------------------------------------------------------------------------
# figures


def evaluate(
    session: Any, values: tuple[Any, ...], scope_data: dict[str, Any] | None
) -> tuple[svc.Items, svc.Economics, list[str]] | None:
    scope, controls = controls_from(values, scope_data)
    items = baseline.load_model(session=session, scope=scope)  # today = the snapshot (stopped sellers: no demand)
    if items is None:
        return None
    econ, notes = svc.economics(items, controls)
    return items, econ, notes


def compute_view(*args: Any) -> tuple[Any, ...]:
    """Parse the inputs, ask the service, format every figure (the function the callback wraps)."""
    values, scope_data = args[:-1], args[-1]
    if shared.picking(scope_data):
        return shared.pick_outputs(["children", "figure", "figure", "figure", "figure", "children"])
    try:
        with session_scope() as session:
            found = evaluate(session, values, scope_data)
        if found is None:
            return (shared.message([], error="This scope is no longer in the latest snapshot: reload the page."),) + (
                no_update,
            ) * 6
        items, econ, notes = found
        nv = baseline.newsvendor_view(items, econ)  # a segment: the sum of per-SKU newsvendors
        today = baseline.profit_today(items)
        heat = svc.profit_heatmap(econ)
        sens = svc.sensitivity(econ)
        eq = svc.eoq_view(items, econ)
    except svc.WhatIfError as exc:
        return (shared.message([], error=str(exc)),) + (no_update,) * 6
    unit = items.run.period_unit
    return (
        shared.message([*baseline.model_notes(items, one_shot=False), *notes]),
        page.kpi_rows(nv, unit, today),
        figures.curve_figure(nv, unit),
        figures.heatmap_figure(heat),
        figures.sensitivity_figure(sens),
        figures.eoq_figure(eq),
        page.eoq_table(eq, unit),
    )


@guarded_callback(
    "viewer",
    Output(ids.PROFIT_MESSAGE, "children"),
    Output(ids.PROFIT_KPIS, "children"),
    Output(ids.PROFIT_CURVE, "figure"),
    Output(ids.PROFIT_HEATMAP, "figure"),
    Output(ids.PROFIT_SENSITIVITY, "figure"),
    Output(ids.PROFIT_EOQ_CHART, "figure"),
    Output(ids.PROFIT_EOQ_TABLE, "children"),
    *INPUTS,
    Input(ids.PROFIT_SCOPE, "data"),
)
def update(*args: Any) -> tuple[Any, ...]:
    """Newsvendor, heatmap, sensitivity and EOQ at the inputs' values."""
    return compute_view(*args)


# --------------------------------------------------------------------------------------------------------------------
# scenarios


def _stored(value: Any) -> Any:
    """An input's value as a scenario keeps it: a number where it reads as one ("8,696.3" -> 8696.3)."""
    try:
        return float(svc.number_text(value))
    except (TypeError, ValueError):
        return value


def save(
    name: str | None, values: tuple[Any, ...], scope_data: dict[str, Any] | None, user: str | None
) -> tuple[Any, bool]:
    """Recompute the figures from the inputs (never trust figures sent by the browser) and store them."""
    if shared.picking(scope_data):
        return html.Span(shared.PICK_A_SKU, className="text-warning"), False
    try:
        with session_scope() as session:
            found = evaluate(session, values, scope_data)
            if found is None:
                return html.Span("This scope is no longer in the latest snapshot.", className="text-warning"), False
            items, econ, _notes = found
            results = svc.scenario_results(baseline.newsvendor_view(items, econ), svc.eoq_view(items, econ))
            inputs = {k: _stored(v) for k, v in zip(FIELDS, values, strict=True)}
            inputs["scope"] = items.scope.key
            row = svc.save_scenario(
                session=session, name=name or "", scope=items.scope, inputs=inputs, results=results, user=user
            )
    except svc.WhatIfError as exc:
        return html.Span(str(exc), className="text-danger"), False
    return html.Span(f"Saved \u201c{row.name}\u201d.", className="text-success"), True


@guarded_callback(
    "planner",
    Output(ids.PROFIT_SCENARIO_RESULT, "children"),
    Output(ids.PROFIT_SCENARIO_VERSION, "data"),
    Input(ids.PROFIT_SCENARIO_SAVE, "n_clicks"),
    State(ids.PROFIT_SCENARIO_NAME, "value"),
    *STATES,
    State(ids.PROFIT_SCOPE, "data"),
    State(ids.PROFIT_SCENARIO_VERSION, "data"),
    prevent_initial_call=True,
)
def save_scenario(n_clicks: int | None, name: str | None, *rest: Any) -> tuple[Any, Any]:
    """Save the current inputs and results under a name."""
    if not n_clicks:
        raise PreventUpdate
    values, scope_data, version = rest[:-2], rest[-2], rest[-1]
    message, ok = save(name, values, scope_data, request_email())
    return message, ((version or 0) + 1) if ok else no_update


@guarded_callback(
    "planner",
    Output(ids.PROFIT_SCENARIO_RESULT, "children", allow_duplicate=True),
    Output(ids.PROFIT_SCENARIO_VERSION, "data", allow_duplicate=True),
    Input(ids.PROFIT_SCENARIO_DELETE, "n_clicks"),
    State(ids.PROFIT_SCENARIO_A, "value"),
    State(ids.PROFIT_SCENARIO_VERSION, "data"),
    prevent_initial_call=True,
)
def delete_scenario(n_clicks: int | None, scenario_id: Any, version: int | None) -> tuple[Any, Any]:
    """Delete scenario A."""
    if not n_clicks or scenario_id is None:
        raise PreventUpdate
    with session_scope() as session:
        done = svc.delete_scenario(session=session, scenario_id=int(scenario_id), user=request_email())
    if not done:
        return html.Span("That scenario no longer exists.", className="text-secondary"), (version or 0) + 1
    return html.Span("Scenario deleted.", className="text-secondary"), (version or 0) + 1


@guarded_callback(
    "viewer",
    Output(ids.PROFIT_SCENARIO_GRID, "rowData"),
    Output(ids.PROFIT_SCENARIO_A, "options"),
    Output(ids.PROFIT_SCENARIO_B, "options"),
    Output(ids.PROFIT_SCENARIO_A, "value"),
    Output(ids.PROFIT_SCENARIO_B, "value"),
    Input(ids.PROFIT_SCENARIO_VERSION, "data"),
    State(ids.PROFIT_SCENARIO_A, "value"),
    State(ids.PROFIT_SCENARIO_B, "value"),
    prevent_initial_call=True,
)
def list_scenarios(_version: int | None, a: Any, b: Any) -> tuple[Any, ...]:
    """The saved scenarios (after a save or delete); the newest becomes B, the previous B becomes A."""
    with session_scope() as session:
        rows = svc.list_scenarios(session=session)
    options = page.scenario_options(rows)
    known = {o["value"] for o in options}
    newest = options[0]["value"] if options else None
    new_b = newest
    new_a = b if b in known and b != newest else (a if a in known and a != newest else None)
    if new_a is None and len(options) > 1:
        new_a = options[1]["value"]
    return page.scenario_rows(rows), options, options, new_a, new_b


@guarded_callback(
    "viewer",
    Output(ids.PROFIT_SCENARIO_COMPARE, "children"),
    Input(ids.PROFIT_SCENARIO_A, "value"),
    Input(ids.PROFIT_SCENARIO_B, "value"),
)
def compare(a: Any, b: Any) -> Any:
    """Two scenarios side by side."""
    if a is None or b is None:
        return html.P(
            "Save two scenarios to compare them side by side." if a is None and b is None else "Pick two scenarios.",
            className="small text-secondary mb-0",
        )
    with session_scope() as session:
        first = svc.get_scenario(session=session, scenario_id=int(a))
        second = svc.get_scenario(session=session, scenario_id=int(b))
    if first is None or second is None:
        return html.P("That scenario no longer exists.", className="small text-secondary mb-0")
    return page.comparison_table(first, second)
