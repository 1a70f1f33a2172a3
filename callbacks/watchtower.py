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
from layouts._charts import STATUS_COLORS, commentary_card
from layouts._components import allowed
from layouts._locations import items_panel
from layouts._watchtower_figures import (
    category_status_figure,
    clicked_segment,
    delta_line,
    risk_scatter_figure,
    tile_style,
)
from layouts.watchtower import FILTER_CONTROLS, SCATTER_LIMIT, count_text, scatter_note
from services import jobs
from services import watchtower as svc
from services.recompute import RecomputeError
from services.transfers import item_groups
from services.xlsx_export import XLSX_TYPE

FILTER_NAMES = list(FILTER_CONTROLS)
CONTROL_IDS = [FILTER_CONTROLS[name][0] for name in FILTER_NAMES]


def _run_id(run: dict[str, Any] | None) -> int:
    if not run or run.get("run_id") is None:
        raise PreventUpdate
    return int(run["run_id"])


# --------------------------------------------------------------------------------------------------------------------
# filters: one callback round from a click (reset, chart, status tile) or a control to the controls, the store (the
# grid and charts follow), the URL, the count and the tiles' pressed state (issue 23: the chain of two server
# callbacks before the count moved is gone)


def _clicked_code(click: dict[str, Any] | None) -> str | None:
    try:
        return str(click["points"][0]["customdata"][0])
    except (KeyError, IndexError, TypeError):
        return None


def _toggle(values: list[str] | None, value: str) -> list[str]:
    values = list(values or [])
    return [v for v in values if v != value] if value in values else values + [value]


def filters_from_controls(values: list[Any], search: str | None) -> svc.GridFilters:
    return svc.GridFilters.from_mapping({**dict(zip(FILTER_NAMES, values, strict=True)), "search": search or ""})


def _segment_filter(values: list[Any], click: dict[str, Any] | None) -> list[Any]:
    """A click on a category bar: its coloured (status) segment filters by that status and category (again: off);
    the grey "Other SKUs" segment toggles the category alone."""
    category, status = clicked_segment(click)
    if category is None:
        raise PreventUpdate
    index = {name: i for i, name in enumerate(FILTER_NAMES)}
    values = list(values)
    categories, statuses = list(values[index["category"]] or []), list(values[index["status"]] or [])
    if status is None:
        values[index["category"]] = _toggle(categories, category)
    elif categories == [category] and statuses == [status]:
        values[index["category"]], values[index["status"]] = [], []
    else:
        values[index["category"]], values[index["status"]] = [category], [status]
    return values


def _controls_after(trigger: Any, values: list[Any], search: str | None, clicks: dict[str, Any]) -> tuple:
    """The filter controls' values (and search) after ``trigger``; the chart click to clear (None) or no_update."""
    values = [list(v or []) for v in values]
    status_index = FILTER_NAMES.index("status")
    if trigger == ids.WATCHTOWER_RESET:
        if not clicks["reset"]:
            raise PreventUpdate
        return [[] for _ in values], "", no_update, no_update
    if trigger == ids.WATCHTOWER_CATEGORY_CHART:
        return _segment_filter(values, clicks["category"]), search, None, no_update
    if trigger == ids.WATCHTOWER_SCATTER:
        code = _clicked_code(clicks["scatter"])
        if code is None:
            raise PreventUpdate
        return values, code, no_update, None
    if isinstance(trigger, dict) and trigger.get("type") == ids.WATCHTOWER_STATUS_CARD:
        if not any(clicks["status"] or []):
            raise PreventUpdate
        values[status_index] = _toggle(values[status_index], str(trigger["status"]))
        return values, search, no_update, no_update
    return values, search, no_update, no_update  # a control or the search box itself


def tile_states(card_ids: list[dict[str, Any]], statuses: tuple[str, ...]) -> tuple[list[str], list[dict]]:
    """aria-pressed and style of each status tile for the selected ``statuses``."""
    pressed = [str(c.get("status")) in statuses for c in card_ids]
    styles = [tile_style(p, STATUS_COLORS.get(str(c.get("status")))) for p, c in zip(pressed, card_ids, strict=True)]
    return ["true" if p else "false" for p in pressed], styles


@guarded_callback(
    "viewer",
    output=[Output(cid, "value") for cid in CONTROL_IDS]
    + [
        Output(ids.WATCHTOWER_SEARCH, "value"),
        Output(ids.WATCHTOWER_CATEGORY_CHART, "clickData"),
        Output(ids.WATCHTOWER_SCATTER, "clickData"),
        Output(ids.WATCHTOWER_FILTERS, "data"),
        Output(ids.WATCHTOWER_URL, "search"),
        Output(ids.WATCHTOWER_COUNT, "children"),
        Output({"type": ids.WATCHTOWER_STATUS_CARD, "status": ALL}, "aria-pressed"),
        Output({"type": ids.WATCHTOWER_STATUS_CARD, "status": ALL}, "style"),
    ],
    inputs=[
        Input(ids.WATCHTOWER_RESET, "n_clicks"),
        Input(ids.WATCHTOWER_CATEGORY_CHART, "clickData"),
        Input(ids.WATCHTOWER_SCATTER, "clickData"),
        Input({"type": ids.WATCHTOWER_STATUS_CARD, "status": ALL}, "n_clicks"),
        Input(ids.WATCHTOWER_SEARCH, "value"),
        *[Input(cid, "value") for cid in CONTROL_IDS],
    ],
    state=[
        State(ids.WATCHTOWER_FILTERS, "data"),
        State(ids.WATCHTOWER_RUN, "data"),
        State({"type": ids.WATCHTOWER_STATUS_CARD, "status": ALL}, "id"),
    ],
    prevent_initial_call=True,
)
def drive_filters(
    reset: int | None,
    category_click: dict[str, Any] | None,
    scatter_click: dict[str, Any] | None,
    status_clicks: list[int | None],
    search: str | None,
    *rest: Any,
) -> list[Any]:
    """Clear filters; a category bar segment filters by its status and category; a scatter point searches its SKU;
    a status tile toggles its status; a control or the search box sets its filter. Then, in the same round: the
    store (the grid and charts follow), the URL (a link can be shared), the count and the tiles' pressed state."""
    *values, current, run, card_ids = rest
    clicks = {"reset": reset, "category": category_click, "scatter": scatter_click, "status": status_clicks}
    new_values, new_search, category_reset, scatter_reset = _controls_after(ctx.triggered_id, values, search, clicks)
    filters = filters_from_controls(new_values, new_search)
    if current is not None and svc.GridFilters.from_mapping(current) == filters and category_reset is no_update:
        raise PreventUpdate
    run_id = _run_id(run)
    with session_scope() as session:
        matched = svc.count_skus(session=session, run_id=run_id, filters=filters)
    pressed, styles = tile_states(list(card_ids or []), filters.status)
    controls = [v if v != list(old or []) else no_update for v, old in zip(new_values, values, strict=True)]
    return [
        *controls,
        new_search if new_search != search else no_update,
        category_reset,
        scatter_reset,
        filters.to_dict(),
        filters.to_query(),
        count_text(matched, int((run or {}).get("sku_count") or matched)),
        pressed,
        styles,
    ]


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_CATEGORY_CHART, "figure"),
    Output(ids.WATCHTOWER_SCATTER, "figure"),
    Output(ids.WATCHTOWER_SCATTER_NOTE, "children"),
    Input(ids.WATCHTOWER_FILTERS, "data"),
    State(ids.WATCHTOWER_RUN, "data"),
)
def refresh_charts(filters_data: dict[str, Any] | None, run: dict[str, Any] | None) -> tuple[Any, ...]:
    """The charts for the current filters (also on the page's first load); with a filter on, the category chart
    keeps every category (:func:`layouts._watchtower_figures.category_status_figure`)."""
    run_id = _run_id(run)
    filters = svc.GridFilters.from_mapping(filters_data)
    with session_scope() as session:
        rows = svc.status_by_category(session=session, run_id=run_id, filters=filters)
        overall = None if filters.is_empty else svc.status_by_category(session=session, run_id=run_id)
        points = svc.risk_points(
            session=session,
            run_id=run_id,
            filters=filters,
            limit=SCATTER_LIMIT,
            total_at_risk=sum(r.at_risk for r in rows),
        )
    return (
        category_status_figure(rows, overall),
        risk_scatter_figure(points),
        scatter_note(points.total_at_risk, len(points.rows)),
    )


@guarded_callback(
    "viewer",
    Output({"type": ids.WATCHTOWER_KPI_DELTA, "key": ALL}, "children"),
    Input(ids.WATCHTOWER_COMPARE, "value"),
    State({"type": ids.WATCHTOWER_KPI_DELTA, "key": ALL}, "id"),
    State(ids.WATCHTOWER_RUN, "data"),
    prevent_initial_call=True,
)
def compare_kpis(base: str | None, line_ids: list[dict[str, Any]], run: dict[str, Any] | None) -> list[Any]:
    """The tiles' change lines against the chosen base (previous run, last week, a closed cycle)."""
    run_id = _run_id(run)
    with session_scope() as session:
        summary = svc.kpi_summary(session=session, run_id=run_id, base=base)
    if summary is None:
        raise PreventUpdate
    kpis = {k.key: k for k in (*summary.status_counts, *summary.portfolio)}
    has_previous = summary.previous is not None
    return [
        delta_line(kpis[i["key"]], has_previous=has_previous, caption=summary.caption).children
        if i.get("key") in kpis
        else []
        for i in line_ids or []
    ]


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


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_ITEMS_SLOT, "children"),
    Input(ids.WATCHTOWER_SCATTER_NOTE, "children"),
    State(ids.WATCHTOWER_FILTERS, "data"),
    prevent_initial_call=True,
)
def items(_charts_done: Any, filters: dict[str, Any] | None) -> Any:
    """The items held at several locations (issue 21), once the charts are drawn: off the path of the first grid
    rows (issue 23); it follows the location filter."""
    with session_scope() as session:
        groups = item_groups(session=session, locations=svc.GridFilters.from_mapping(filters).location)
    return items_panel(groups)


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
