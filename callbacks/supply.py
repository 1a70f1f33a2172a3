"""Supply page callbacks: plan (background, with progress and cancel), draw the chosen resource, export CSV, and named
scenarios (save and delete: planner; list and compare: viewer). Thin: parse the knobs -> services.supply -> format.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dash import Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email
from core import formats
from db.session import session_scope
from layouts import _ids as ids
from layouts import supply as page
from services.supply import PlanRequest, SupplyPlanError, capacity_alerts, make_plan, scenarios
from services.supply import plan as plans

MAX_COMPARED = 4
KNOBS = (State(ids.SUPPLY_HORIZON, "value"), State(ids.SUPPLY_STRATEGY, "value"), State(ids.SUPPLY_OVERTIME, "value"))


def _request(horizon: Any, strategy: Any, overtime: Any) -> PlanRequest:
    return PlanRequest.parse(horizon=horizon, strategy=strategy, overtime_pct=overtime)


def _stored_request(view: dict | None) -> PlanRequest:
    """The knobs of the plan on screen (recomputed on the server for exports and scenarios: never trust figures)."""
    if not view or "request" not in view:
        raise PreventUpdate
    knobs = view["request"]
    return _request(knobs.get("horizon"), knobs.get("strategy"), knobs.get("overtime_pct"))


def _progress(set_progress: Any) -> Any:
    def report(fraction: float, message: str) -> None:
        set_progress((round(100 * fraction), message))

    return report


@guarded_callback(
    "viewer",
    Output(f"{ids.SUPPLY_STRATEGY}-help", "children"),
    Input(ids.SUPPLY_STRATEGY, "value"),
)
def strategy_help(strategy: str | None) -> str:
    return page.STRATEGY_HELP.get(strategy or "chase", "")


@guarded_callback(
    "viewer",
    Output(ids.SUPPLY_PLAN, "data"),
    Output(ids.SUPPLY_MESSAGE, "children"),
    Input(ids.SUPPLY_RUN, "n_clicks"),
    *KNOBS,
    background=True,
    running=[
        (Output(ids.SUPPLY_RUN, "disabled"), True, False),
        (Output(ids.SUPPLY_PROGRESS_WRAP, "style"), page.SHOWN, page.HIDDEN),
    ],
    progress=[Output(ids.SUPPLY_PROGRESS, "value"), Output(ids.SUPPLY_PROGRESS_LABEL, "children")],
    progress_default=[0, "starting"],
    cancel=[Input(ids.SUPPLY_CANCEL, "n_clicks")],
)
def compute(set_progress: Any, _n_clicks: int | None, horizon: Any, strategy: Any, overtime: Any) -> tuple:
    """Compute the plan for the knobs (on load and on "Plan"); the optimal LP can take seconds at 10,000 SKUs."""
    return plan_view(horizon, strategy, overtime, _progress(set_progress))


def plan_view(horizon: Any, strategy: Any, overtime: Any, progress: Any = None) -> tuple:
    """(the page's view of the plan or None, the message above it) for raw knob values."""
    try:
        request = _request(horizon, strategy, overtime)
        with session_scope() as session:
            result = make_plan(
                session=session, request=request, progress=progress, time_limit_s=plans.BACKGROUND_TIME_LIMIT_S
            )
    except SupplyPlanError as exc:
        return None, page.message(None, error=str(exc))
    view = plans.page_view(result)
    return view, page.message(view)


@guarded_callback(
    "viewer",
    Output(ids.SUPPLY_KPIS, "children"),
    Output(ids.SUPPLY_RESOURCE, "options"),
    Output(ids.SUPPLY_RESOURCE, "value"),
    Output(ids.SUPPLY_UNMET_GRID, "rowData"),
    Output(ids.SUPPLY_UNMET_NOTE, "children"),
    Input(ids.SUPPLY_PLAN, "data"),
    State(ids.SUPPLY_RESOURCE, "value"),
)
def show_plan(view: dict | None, current: str | None) -> tuple:
    """Totals, the resource picker (kept on the same resource when it still exists) and the unmet-demand table."""
    if not view:
        return None, [], None, [], ""
    options = page.resource_options(view)
    values = [o["value"] for o in options]
    shortest = max(view["resources"], key=lambda r: sum(v or 0 for v in r["shortfall"]), default=None)
    chosen = current if current in values else (shortest["resource"] if shortest else None)
    return page.kpi_tiles(view), options, chosen, page.unmet_rows(view), page.unmet_note(view)


@guarded_callback(
    "viewer",
    Output(ids.SUPPLY_CAPACITY_CHART, "figure"),
    Output(ids.SUPPLY_INVENTORY_CHART, "figure"),
    Output(ids.SUPPLY_RESOURCE_NOTE, "children"),
    Input(ids.SUPPLY_RESOURCE, "value"),
    State(ids.SUPPLY_PLAN, "data"),
    Input(ids.SUPPLY_PLAN, "modified_timestamp"),
)
def draw_resource(resource: str | None, view: dict | None, _stamp: Any) -> tuple:
    """The chosen resource's load against capacity and its SKUs' projected inventory (from the stored plan)."""
    if not view:
        raise PreventUpdate
    return (
        page.capacity_figure(view, resource),
        page.inventory_figure(view, resource),
        page.resource_note(view, resource),
    )


@guarded_callback(
    "viewer",
    Output(ids.SUPPLY_DOWNLOAD, "data"),
    Input(ids.SUPPLY_EXPORT_RESOURCES, "n_clicks"),
    Input(ids.SUPPLY_EXPORT_SKUS, "n_clicks"),
    State(ids.SUPPLY_PLAN, "data"),
    background=True,
    running=[
        (Output(ids.SUPPLY_EXPORT_RESOURCES, "disabled"), True, False),
        (Output(ids.SUPPLY_EXPORT_SKUS, "disabled"), True, False),
    ],
    prevent_initial_call=True,
)
def export(resources_clicks: int | None, skus_clicks: int | None, view: dict | None) -> dict:
    """The plan on screen as CSV: one row per resource and period, or per SKU and period (recomputed)."""
    which = ctx.triggered_id
    if which not in (ids.SUPPLY_EXPORT_RESOURCES, ids.SUPPLY_EXPORT_SKUS) or not (resources_clicks or skus_clicks):
        raise PreventUpdate
    return export_file("resources" if which == ids.SUPPLY_EXPORT_RESOURCES else "skus", view)


def export_file(kind: str, view: dict | None) -> dict:
    """The plan on screen (its knobs, recomputed) as a CSV download: ``kind`` resources or skus."""
    request = _stored_request(view)
    with session_scope() as session:
        try:
            result = make_plan(session=session, request=request, time_limit_s=plans.BACKGROUND_TIME_LIMIT_S)
        except SupplyPlanError:
            raise PreventUpdate from None
    content = plans.resources_csv(result) if kind == "resources" else plans.skus_csv(result)
    name = f"supply-plan-{result.plan.strategy}-{kind}-{formats.file_stamp(dt.datetime.now(dt.UTC))}.csv"
    return {"content": content, "filename": name, "type": "text/csv"}


# --- scenarios -------------------------------------------------------------------------------------------------------


@guarded_callback(
    "planner",
    Output(ids.SUPPLY_SCENARIO_MESSAGE, "children"),
    Output(ids.SUPPLY_SCENARIO_VERSION, "data"),
    Input(ids.SUPPLY_SCENARIO_SAVE, "n_clicks"),
    State(ids.SUPPLY_SCENARIO_NAME, "value"),
    State(ids.SUPPLY_PLAN, "data"),
    State(ids.SUPPLY_SCENARIO_VERSION, "data"),
    background=True,
    running=[(Output(ids.SUPPLY_SCENARIO_SAVE, "disabled"), True, False)],
    prevent_initial_call=True,
)
def save_scenario(n_clicks: int | None, name: str | None, view: dict | None, version: int | None) -> tuple:
    """Save the plan on screen under a name (its knobs are recomputed on the server)."""
    if not n_clicks:
        raise PreventUpdate
    message, saved = save(name, view, request_email())
    return message, ((version or 0) + 1) if saved else no_update


def save(name: str | None, view: dict | None, user: str | None) -> tuple[Any, bool]:
    """Recompute the plan on screen from its knobs (never trust figures sent by the browser) and store it."""
    if not view:
        return html.Span("Compute a plan first.", className="text-warning"), False
    try:
        request = _stored_request(view)
        with session_scope() as session:
            result = make_plan(session=session, request=request, time_limit_s=plans.BACKGROUND_TIME_LIMIT_S)
            row = scenarios.save_scenario(session=session, name=name or "", result=result, user=user)
    except SupplyPlanError as exc:
        return html.Span(str(exc), className="text-danger"), False
    return html.Span(f"Saved \u201c{row.name}\u201d.", className="text-success"), True


@guarded_callback(
    "planner",
    Output(ids.SUPPLY_SCENARIO_MESSAGE, "children", allow_duplicate=True),
    Output(ids.SUPPLY_SCENARIO_VERSION, "data", allow_duplicate=True),
    Input(ids.SUPPLY_SCENARIO_DELETE, "n_clicks"),
    State(ids.SUPPLY_SCENARIO_PICK, "value"),
    State(ids.SUPPLY_SCENARIO_VERSION, "data"),
    prevent_initial_call=True,
)
def delete_scenarios(n_clicks: int | None, picked: list | None, version: int | None) -> tuple:
    """Delete the picked scenarios."""
    if not n_clicks:
        raise PreventUpdate
    if not picked:
        return html.Span("Pick the scenarios to delete first.", className="text-warning"), no_update
    with session_scope() as session:
        done = sum(scenarios.delete_scenario(session=session, scenario_id=int(i), user=request_email()) for i in picked)
    return html.Span(f"Deleted {done} scenario(s).", className="text-secondary"), (version or 0) + 1


@guarded_callback(
    "viewer",
    Output(ids.SUPPLY_SCENARIO_PICK, "options"),
    Output(ids.SUPPLY_SCENARIO_PICK, "value"),
    Input(ids.SUPPLY_SCENARIO_VERSION, "data"),
    State(ids.SUPPLY_SCENARIO_PICK, "value"),
)
def list_scenarios(_version: int | None, picked: list | None) -> tuple:
    """The saved scenarios, newest first; a newly saved one joins the comparison."""
    with session_scope() as session:
        rows = scenarios.list_scenarios(session=session)
    options = page.scenario_options(rows)
    known = [o["value"] for o in options]
    keep = [i for i in (picked or []) if i in known]
    if rows and rows[0].id not in keep and _version:
        keep = [rows[0].id, *keep]
    if not keep:
        keep = known[:2]
    return options, keep[:MAX_COMPARED]


@guarded_callback(
    "viewer",
    Output(ids.SUPPLY_SCENARIO_COMPARE, "children"),
    Input(ids.SUPPLY_SCENARIO_PICK, "value"),
)
def compare(picked: list | None) -> Any:
    """The picked scenarios side by side (at most four)."""
    ids_ = [int(i) for i in (picked or [])][:MAX_COMPARED]
    with session_scope() as session:
        rows = scenarios.get_scenarios(session=session, ids=ids_) if ids_ else []
    return page.comparison(rows)


# --- the Watchtower's mention ------------------------------------------------------------------------------------


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_CAPACITY, "children"),
    Input(ids.WATCHTOWER_COMMENTARY, "children"),
    prevent_initial_call=True,
)
def watchtower_capacity(_commentary: Any) -> Any:
    """Resources short of capacity + overtime in the next 12 periods of the chase plan, once per page after the
    commentary (itself after the charts): the chase plan takes most of a second of CPU at 2,000 SKUs, and on the
    page's first load it competed with the grid's first rows (issue 23)."""
    with session_scope() as session:
        alerts, unit = capacity_alerts(session=session, horizon=12)
    return page.capacity_alert([alert.sentence(unit) + "." for alert in alerts])
