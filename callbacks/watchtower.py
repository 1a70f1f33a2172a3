"""Watchtower callbacks: filters (URL, charts, count), the grid's row blocks, CSV export, row click, commentary and
"Recompute now" (planner, background, progress and cancel). They read the snapshot; none recomputes anything except
the recompute itself."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email as _request_email
from core import formats
from db.session import session_scope
from layouts import _ids as ids
from layouts._charts import category_status_figure, commentary_card, risk_scatter_figure
from layouts._components import allowed
from layouts.watchtower import FILTER_CONTROLS, SCATTER_LIMIT, count_text, scatter_note
from services import jobs
from services import watchtower as svc
from services.recompute import RecomputeError
from services.xlsx_export import XLSX_TYPE

FILTER_NAMES = list(FILTER_CONTROLS)
CONTROL_IDS = [FILTER_CONTROLS[name][0] for name in FILTER_NAMES]


def _run_id(run: dict[str, Any] | None) -> int:
    if not run or run.get("run_id") is None:
        raise PreventUpdate
    return int(run["run_id"])


# --------------------------------------------------------------------------------------------------------------------
# controls: reset, chart clicks and status tiles set the filter controls


def _clicked_category(click: dict[str, Any] | None) -> str | None:
    try:
        return str(click["points"][0]["y"])
    except (KeyError, IndexError, TypeError):
        return None


def _clicked_code(click: dict[str, Any] | None) -> str | None:
    try:
        return str(click["points"][0]["customdata"][0])
    except (KeyError, IndexError, TypeError):
        return None


def _toggle(values: list[str] | None, value: str) -> list[str]:
    values = list(values or [])
    return [v for v in values if v != value] if value in values else values + [value]


@guarded_callback(
    "viewer",
    output=[Output(cid, "value") for cid in CONTROL_IDS]
    + [
        Output(ids.WATCHTOWER_SEARCH, "value"),
        Output(ids.WATCHTOWER_CATEGORY_CHART, "clickData"),
        Output(ids.WATCHTOWER_SCATTER, "clickData"),
    ],
    inputs=[
        Input(ids.WATCHTOWER_RESET, "n_clicks"),
        Input(ids.WATCHTOWER_CATEGORY_CHART, "clickData"),
        Input(ids.WATCHTOWER_SCATTER, "clickData"),
        Input({"type": ids.WATCHTOWER_STATUS_CARD, "status": ALL}, "n_clicks"),
    ],
    state=[State(ids.WATCHTOWER_STATUS, "value"), State(ids.WATCHTOWER_CATEGORY, "value")],
    prevent_initial_call=True,
)
def drive_controls(
    reset: int | None,
    category_click: dict[str, Any] | None,
    scatter_click: dict[str, Any] | None,
    status_clicks: list[int | None],
    statuses: list[str] | None,
    categories: list[str] | None,
) -> list[Any]:
    """Clear filters; a category bar toggles that category; a scatter point searches its SKU; a status tile toggles
    that status."""
    trigger = ctx.triggered_id
    out: list[Any] = [no_update] * (len(CONTROL_IDS) + 3)
    index = {name: i for i, name in enumerate(FILTER_NAMES)}
    if trigger == ids.WATCHTOWER_RESET:
        if not reset:
            raise PreventUpdate
        out[: len(CONTROL_IDS)] = [[] for _ in CONTROL_IDS]
        out[len(CONTROL_IDS)] = ""
    elif trigger == ids.WATCHTOWER_CATEGORY_CHART:
        category = _clicked_category(category_click)
        if category is None:
            raise PreventUpdate
        out[index["category"]] = _toggle(categories, category)
        out[-2] = None
    elif trigger == ids.WATCHTOWER_SCATTER:
        code = _clicked_code(scatter_click)
        if code is None:
            raise PreventUpdate
        out[len(CONTROL_IDS)] = code
        out[-1] = None
    elif isinstance(trigger, dict) and trigger.get("type") == ids.WATCHTOWER_STATUS_CARD:
        if not any(status_clicks or []):
            raise PreventUpdate
        out[index["status"]] = _toggle(statuses, str(trigger["status"]))
    else:
        raise PreventUpdate
    return out


# --------------------------------------------------------------------------------------------------------------------
# filters -> URL, store (the grid refreshes from it), charts and count


def filters_from_controls(values: list[Any], search: str | None) -> svc.GridFilters:
    return svc.GridFilters.from_mapping({**dict(zip(FILTER_NAMES, values, strict=True)), "search": search or ""})


@guarded_callback(
    "viewer",
    output=[Output(ids.WATCHTOWER_FILTERS, "data"), Output(ids.WATCHTOWER_URL, "search")],
    inputs={"values": [Input(cid, "value") for cid in CONTROL_IDS], "search": Input(ids.WATCHTOWER_SEARCH, "value")},
    state={"current": State(ids.WATCHTOWER_FILTERS, "data")},
    prevent_initial_call=True,
)
def apply_filters(values: list[Any], search: str | None, current: dict[str, Any] | None) -> tuple[Any, str]:
    """New filters: keep them in the URL (a link can be shared) and in the store (the grid and charts follow)."""
    filters = filters_from_controls(values, search)
    if current is not None and svc.GridFilters.from_mapping(current) == filters:
        raise PreventUpdate
    return filters.to_dict(), filters.to_query()


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_CATEGORY_CHART, "figure"),
    Output(ids.WATCHTOWER_SCATTER, "figure"),
    Output(ids.WATCHTOWER_SCATTER_NOTE, "children"),
    Output(ids.WATCHTOWER_COUNT, "children"),
    Input(ids.WATCHTOWER_FILTERS, "data"),
    State(ids.WATCHTOWER_RUN, "data"),
)
def refresh_charts(filters_data: dict[str, Any] | None, run: dict[str, Any] | None) -> tuple[Any, ...]:
    """The charts and the count of matching SKUs for the current filters (also on the page's first load)."""
    run_id = _run_id(run)
    filters = svc.GridFilters.from_mapping(filters_data)
    with session_scope() as session:
        rows = svc.status_by_category(session=session, run_id=run_id, filters=filters)
        points = svc.risk_points(
            session=session,
            run_id=run_id,
            filters=filters,
            limit=SCATTER_LIMIT,
            total_at_risk=sum(r.at_risk for r in rows),
        )
    matched = sum(r.skus for r in rows)
    return (
        category_status_figure(rows),
        risk_scatter_figure(points),
        scatter_note(points.total_at_risk, len(points.rows)),
        count_text(matched, int(run.get("sku_count") or matched)),
    )


# AG Grid keeps the infinite model's blocks: when the filters change, drop them so the grid asks again.
dash.clientside_callback(
    """
    function(filters, gridId) {
        if (window.dash_ag_grid && window.dash_ag_grid.getApiAsync) {
            window.dash_ag_grid.getApiAsync(gridId).then(function(api) {
                api.purgeInfiniteCache();
                api.ensureIndexVisible(0, 'top');
            });
        }
        return Date.now();
    }
    """,
    Output(ids.WATCHTOWER_GRID_REFRESH, "data"),
    Input(ids.WATCHTOWER_FILTERS, "data"),
    State(ids.WATCHTOWER_GRID, "id"),
    prevent_initial_call=True,
)


# --------------------------------------------------------------------------------------------------------------------
# grid rows, row click, CSV export


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_GRID, "getRowsResponse"),
    Input(ids.WATCHTOWER_GRID, "getRowsRequest"),
    State(ids.WATCHTOWER_FILTERS, "data"),
    State(ids.WATCHTOWER_RUN, "data"),
    prevent_initial_call=True,  # the grid asks when it is ready; nothing to answer at mount
)
def grid_rows(request: dict[str, Any] | None, filters: dict[str, Any] | None, run: dict[str, Any] | None) -> dict:
    """One block of rows for the infinite row model, sorted and filtered on the server, with the total count."""
    if not request:
        raise PreventUpdate
    run_id = _run_id(run)
    start = max(0, int(request.get("startRow") or 0))
    end = int(request.get("endRow") or start + 100)
    limit = min(svc.MAX_PAGE, max(1, end - start))
    sort = svc.parse_sort(request.get("sortModel"))
    with session_scope() as session:
        page = svc.query_skus(
            session=session,
            run_id=run_id,
            filters=svc.GridFilters.from_mapping(filters),
            sort=sort,
            start=start,
            limit=limit,
        )
    return {"rowData": page.rows, "rowCount": page.total}


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_NAV, "href"),
    Input(ids.WATCHTOWER_GRID, "cellClicked"),
    prevent_initial_call=True,
)
def open_sku(cell: dict[str, Any] | None) -> str:
    """Clicking a row opens that SKU's page."""
    code = (cell or {}).get("rowId")
    if not code:
        raise PreventUpdate
    return f"/sku/{quote(str(code), safe='')}"


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_DOWNLOAD, "data"),
    Input(ids.WATCHTOWER_EXPORT, "n_clicks"),
    State(ids.WATCHTOWER_FILTERS, "data"),
    State(ids.WATCHTOWER_RUN, "data"),
    State(ids.WATCHTOWER_GRID, "getRowsRequest"),
    prevent_initial_call=True,
)
def export(
    n_clicks: int | None, filters: dict[str, Any] | None, run: dict[str, Any] | None, request: dict[str, Any] | None
) -> dict[str, Any]:
    """Every SKU that matches the filters, in the grid's sort order, as CSV (formula-injection safe)."""
    return _grid_export(n_clicks, filters, run, request, workbook=False)


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_DOWNLOAD, "data", allow_duplicate=True),
    Input(ids.WATCHTOWER_EXPORT_XLSX, "n_clicks"),
    State(ids.WATCHTOWER_FILTERS, "data"),
    State(ids.WATCHTOWER_RUN, "data"),
    State(ids.WATCHTOWER_GRID, "getRowsRequest"),
    prevent_initial_call=True,
)
def export_workbook(
    n_clicks: int | None, filters: dict[str, Any] | None, run: dict[str, Any] | None, request: dict[str, Any] | None
) -> dict[str, Any]:
    """The rows of :func:`export` (current filters, the grid's sort) as an Excel workbook (formula-injection safe)."""
    return _grid_export(n_clicks, filters, run, request, workbook=True)


def _grid_export(
    n_clicks: int | None,
    filters: dict[str, Any] | None,
    run: dict[str, Any] | None,
    request: dict[str, Any] | None,
    *,
    workbook: bool,
) -> dict[str, Any]:
    if not n_clicks:
        raise PreventUpdate
    run_id = _run_id(run)
    sort = svc.parse_sort((request or {}).get("sortModel"))
    grid_filters = svc.GridFilters.from_mapping(filters)
    name = f"watchtower-run{run_id}-{formats.file_stamp(dt.datetime.now(dt.UTC))}"
    with session_scope() as session:
        if workbook:
            content = svc.export_xlsx(session=session, run_id=run_id, filters=grid_filters, sort=sort)
            return dcc.send_bytes(content, filename=f"{name}.xlsx", type=XLSX_TYPE)
        text = svc.export_csv(session=session, run_id=run_id, filters=grid_filters, sort=sort)
    return dcc.send_string(text, filename=f"{name}.csv", type="text/csv")


# --------------------------------------------------------------------------------------------------------------------
# commentary


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_COMMENTARY, "children"),
    Input(ids.WATCHTOWER_SCATTER_NOTE, "children"),
    State(ids.WATCHTOWER_RUN, "data"),
    State(ids.WATCHTOWER_COMMENTARY, "children"),
    prevent_initial_call=True,
)
def commentary(_charts_done: Any, run: dict[str, Any] | None, shown: Any = None) -> Any:
    """The portfolio commentary (narrative service when present, else the top risks' reasons).

    It starts once the charts are drawn (their note changes) and only once per page, so writing it never competes
    with the numbers for the server on the first load.
    """
    if shown:
        raise PreventUpdate
    run_id = _run_id(run)
    with session_scope() as session:
        result = svc.portfolio_commentary(session=session, run_id=run_id)
    return commentary_card(
        result,
        scope="portfolio",
        title="Portfolio commentary",
        fallback_title="Top risks by value at risk",
        empty="No SKU has value at risk in this snapshot.",
        can_regenerate=allowed("planner"),
    )


# --------------------------------------------------------------------------------------------------------------------
# recompute (planner)


@guarded_callback(
    "planner",
    Output(ids.WATCHTOWER_RELOAD, "href"),
    Output(ids.WATCHTOWER_RECOMPUTE_RESULT, "children"),
    Input(ids.WATCHTOWER_RECOMPUTE, "n_clicks"),
    State(ids.WATCHTOWER_URL, "search"),
    background=True,
    running=[
        (Output(ids.WATCHTOWER_RECOMPUTE, "disabled"), True, False),
        (Output(ids.WATCHTOWER_RECOMPUTE_PANEL, "style"), {"display": "flex"}, {"display": "none"}),
        (Output(ids.WATCHTOWER_RECOMPUTE_CANCEL, "children"), "Cancel", "Cancel"),
    ],
    progress=[
        Output(ids.WATCHTOWER_RECOMPUTE_PROGRESS, "value"),
        Output(ids.WATCHTOWER_RECOMPUTE_STAGE, "children"),
    ],
    progress_default=[0, "starting"],
    prevent_initial_call=True,
)
def run_recompute(set_progress: Any, n_clicks: int | None, search: str | None) -> tuple[Any, Any]:
    """Recompute the portfolio in a background job with progress; reload the page when it finishes."""
    if not n_clicks:
        raise PreventUpdate
    email = _request_email()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def progress(fraction: float, message: str) -> None:
        set_progress((round(fraction * 100), f"{fraction:.0%} · {message}"))

    def cancelled() -> bool:
        with session_scope() as check:
            return svc.recompute_cancel_requested(session=check, since=started)

    try:
        with session_scope() as session:
            summary = jobs.recompute_portfolio(session=session, triggered_by=email, progress=progress, cancel=cancelled)
    except RecomputeError as exc:
        return no_update, html.Span(str(exc), className="text-danger")
    if summary.status != "finished":
        return no_update, html.Span(
            "Recompute cancelled; the previous snapshot stays current.", className="text-warning"
        )
    return "/" + (search or ""), f"Finished: {summary.sku_count:,} SKUs in {summary.seconds:.0f} s"


@guarded_callback(
    "planner",
    Output(ids.WATCHTOWER_RECOMPUTE_CANCEL, "children"),
    Input(ids.WATCHTOWER_RECOMPUTE_CANCEL, "n_clicks"),
    prevent_initial_call=True,
)
def cancel_recompute(n_clicks: int | None) -> str:
    """Ask the running recompute to stop (it checks between batches); the request is audit-logged."""
    if not n_clicks:
        raise PreventUpdate
    with session_scope() as session:
        svc.request_recompute_cancel(session=session, user=_request_email())
    return "Cancelling…"
