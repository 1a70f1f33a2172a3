"""Briefing callbacks: the Briefings page (scope picker, make + preview, download, recent list) and the "Download
briefing" buttons of the Watchtower and the SKU page.

Every callback is guarded ("viewer"): the server checks the role of each request, downloads included. PDFs are built
in background jobs with a progress label; the user's e-mail travels to the job through a custom-data hook.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email as _request_email
from db.session import session_scope
from layouts import _ids as ids
from layouts.briefings import HIDDEN, PLACEHOLDERS, RECENT, SHOWN, grid_rows, preview_view, result_view
from services import briefing as svc
from services.errors import UserFacingError
from services.sku_detail import search_skus
from services.watchtower import status_label

SEARCH_LIMIT = 15
PREVIEW_DPI = 80
PDF_TYPE = "application/pdf"
BUTTON_LABEL = "Download briefing"
MISSING_VALUE = {
    "category": "Choose a category first.",
    "location": "Choose a location first.",
    "abc": "Choose an ABC class first.",
    "sku": "Choose a SKU first.",
}


def _send(briefing: svc.BriefingFile) -> dict[str, Any]:
    return dcc.send_bytes(briefing.pdf, filename=briefing.file_name, type=PDF_TYPE)


def scope_for(kind: str | None, value: str | None) -> svc.BriefingScope:
    """The scope the picker describes.

    Raises
    ------
    UserFacingError
        A segment or SKU kind without a value, or an unknown kind.
    """
    kind = kind or "portfolio"
    if kind == "portfolio":
        return svc.BriefingScope()
    if kind not in ("category", "location", "abc", "sku"):
        raise UserFacingError(f"Unknown briefing scope {kind!r}.")
    if not value or not str(value).strip():
        raise UserFacingError(MISSING_VALUE[kind])
    return svc.BriefingScope.make(**{kind: str(value)})


def sku_option(hit: Any) -> dict[str, str]:
    status = f" · {status_label(hit.status)}" if hit.status else ""
    return {"label": f"{hit.code} · {hit.name} ({hit.category}{status})", "value": hit.code}


# --------------------------------------------------------------------------------------------------------------------
# scope picker


@guarded_callback(
    "viewer",
    Output(ids.BRIEFINGS_VALUE, "options"),
    Output(ids.BRIEFINGS_VALUE, "placeholder"),
    Output(ids.BRIEFINGS_VALUE_WRAP, "style"),
    Output(ids.BRIEFINGS_VALUE, "value"),
    Input(ids.BRIEFINGS_KIND, "value"),
    Input(ids.BRIEFINGS_VALUE, "search_value"),
    State(ids.BRIEFINGS_OPTIONS, "data"),
    State(ids.BRIEFINGS_VALUE, "value"),
    State(ids.BRIEFINGS_VALUE, "options"),
    prevent_initial_call=True,
)
def pick_scope(
    kind: str | None,
    search: str | None,
    options: dict[str, list[dict[str, str]]] | None,
    value: str | None,
    current: list[dict[str, str]] | None,
) -> tuple[Any, Any, Any, Any]:
    """A new kind shows its values (categories, locations, ABC classes; SKUs by type-ahead); typing searches SKUs."""
    kind = kind or "portfolio"
    if ctx.triggered_id == ids.BRIEFINGS_VALUE:
        if kind != "sku" or not search or not search.strip():
            raise PreventUpdate
        with session_scope() as session:
            hits = search_skus(session=session, text=search, limit=SEARCH_LIMIT)
        found = [sku_option(h) for h in hits]
        if value and all(o["value"] != value for o in found):
            found += [o for o in current or [] if o.get("value") == value]
        return found, no_update, no_update, no_update
    if kind == "portfolio":
        return [], "", HIDDEN, None
    return (options or {}).get(kind, []), PLACEHOLDERS.get(kind, ""), SHOWN, None


# --------------------------------------------------------------------------------------------------------------------
# make, preview, download


def _since_date(value: str | None) -> dt.date | None:
    """The date picker's ISO date (None when cleared)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserFacingError(f"the date to compare with must be a date YYYY-MM-DD, got {str(value)[:20]!r}") from None


@guarded_callback(
    "viewer",
    Output(ids.BRIEFINGS_CURRENT, "data"),
    Output(ids.BRIEFINGS_PREVIEW, "children"),
    Output(ids.BRIEFINGS_RESULT, "children"),
    Output(ids.BRIEFINGS_DOWNLOAD, "disabled"),
    Output(ids.BRIEFINGS_GRID, "rowData"),
    Input(ids.BRIEFINGS_MAKE, "n_clicks"),
    State(ids.BRIEFINGS_KIND, "value"),
    State(ids.BRIEFINGS_VALUE, "value"),
    State(ids.BRIEFINGS_SINCE_CYCLE, "value"),
    State(ids.BRIEFINGS_SINCE_RUN, "value"),
    State(ids.BRIEFINGS_SINCE_DATE, "value"),
    background=True,
    running=[(Output(ids.BRIEFINGS_MAKE, "disabled"), True, False)],
    progress=[Output(ids.BRIEFINGS_PROGRESS, "children")],
    progress_default=[""],
    prevent_initial_call=True,
)
def make(
    set_progress: Any,
    n_clicks: int | None,
    kind: str | None,
    value: str | None,
    since_cycle: str | None = None,
    since_run: int | None = None,
    since_date: str | None = None,
) -> tuple[Any, ...]:
    """Build and store the briefing of the chosen scope; show page 1, what was made, and refresh the recent list."""
    if not n_clicks:
        raise PreventUpdate
    email = _request_email()

    def progress(fraction: float, message: str) -> None:
        set_progress([f"{fraction:.0%} · {message}"])

    try:
        scope = scope_for(kind, value)
        since = _since_date(since_date)
        with session_scope() as session:
            made = svc.make_briefing(
                session=session,
                scope=scope,
                user=email,
                progress=progress,
                source="briefings",
                since_cycle=since_cycle or None,
                since_run=int(since_run) if since_run not in (None, "") else None,
                since_date=since,
            )
    except UserFacingError as exc:
        return no_update, no_update, html.Div(str(exc), className="small text-danger"), no_update, no_update
    progress(0.95, "rendering the preview")
    preview = svc.render_preview(pdf=made.pdf, cover_lines=made.cover_lines, dpi=PREVIEW_DPI)
    with session_scope() as session:
        rows = grid_rows(svc.list_briefings(session=session, limit=RECENT))
    result = result_view(
        file_name=made.file_name,
        pages=made.page_count,
        size_bytes=len(made.pdf),
        seconds=made.timings.get("total", 0.0),
    )
    current = {"id": made.id, "file_name": made.file_name}
    return current, preview_view(preview, file_name=made.file_name), result, False, rows


@guarded_callback(
    "viewer",
    Output(ids.BRIEFINGS_FILE, "data"),
    Input(ids.BRIEFINGS_DOWNLOAD, "n_clicks"),
    Input(ids.BRIEFINGS_GRID, "cellClicked"),
    State(ids.BRIEFINGS_CURRENT, "data"),
    prevent_initial_call=True,
)
def download(n_clicks: int | None, cell: dict[str, Any] | None, current: dict[str, Any] | None) -> Any:
    """Send a stored briefing: the one just made (Download PDF) or a row's of the recent list (its Download cell)."""
    if ctx.triggered_id == ids.BRIEFINGS_GRID:
        if not cell or cell.get("colId") != "download":
            raise PreventUpdate
        briefing_id = cell.get("rowId")
    else:
        if not n_clicks or not current:
            raise PreventUpdate
        briefing_id = current.get("id")
    if briefing_id is None:
        raise PreventUpdate
    try:
        with session_scope() as session:
            briefing = svc.get_briefing(session=session, briefing_id=briefing_id, user=_request_email())
    except UserFacingError:
        raise PreventUpdate from None
    return _send(briefing)


# --------------------------------------------------------------------------------------------------------------------
# "Download briefing" on the Watchtower and on each SKU page


def _quick_briefing(set_progress: Any, scope: svc.BriefingScope, source: str) -> tuple[Any, Any]:
    email = _request_email()

    def progress(fraction: float, message: str) -> None:
        set_progress([f"{fraction:.0%} · {message}"])

    try:
        with session_scope() as session:
            made = svc.make_briefing(session=session, scope=scope, user=email, progress=progress, source=source)
    except UserFacingError as exc:
        return no_update, html.Span(str(exc), className="text-danger")
    return _send(made), f"{made.file_name} · {made.page_count} pages"


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_BRIEFING_FILE, "data"),
    Output(ids.WATCHTOWER_BRIEFING_STATUS, "children"),
    Input(ids.WATCHTOWER_BRIEFING, "n_clicks"),
    background=True,
    running=[(Output(ids.WATCHTOWER_BRIEFING, "disabled"), True, False)],
    progress=[Output(ids.WATCHTOWER_BRIEFING, "children")],
    progress_default=[BUTTON_LABEL],
    prevent_initial_call=True,
)
def watchtower_briefing(set_progress: Any, n_clicks: int | None) -> tuple[Any, Any]:
    """The whole portfolio's briefing as a PDF download (built in the background; the button shows the progress)."""
    if not n_clicks:
        raise PreventUpdate
    return _quick_briefing(set_progress, svc.BriefingScope(), "watchtower")


@guarded_callback(
    "viewer",
    Output(ids.SKU_BRIEFING_FILE, "data"),
    Output(ids.SKU_BRIEFING_STATUS, "children"),
    Input(ids.SKU_BRIEFING, "n_clicks"),
    State(ids.SKU_CODE, "data"),
    background=True,
    running=[(Output(ids.SKU_BRIEFING, "disabled"), True, False)],
    progress=[Output(ids.SKU_BRIEFING, "children")],
    progress_default=[BUTTON_LABEL],
    prevent_initial_call=True,
)
def sku_briefing(set_progress: Any, n_clicks: int | None, data: dict[str, Any] | None) -> tuple[Any, Any]:
    """This SKU's briefing as a PDF download (built in the background; the button shows the progress)."""
    code = (data or {}).get("code")
    if not n_clicks or not code:
        raise PreventUpdate
    try:
        scope = svc.BriefingScope.make(sku=code)
    except UserFacingError as exc:
        return no_update, html.Span(str(exc), className="text-danger")
    return _quick_briefing(set_progress, scope, "sku page")
