"""Data page callbacks: upload -> check (preview) -> import (background, with progress), grids, edits, exports, reset.

Roles: viewers load and export the tables; planners upload, import and edit; admins reset. Planner and viewer
callbacks write to different component ids (the guard works per output id).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask import abort, has_request_context

from auth.audit import record_denied
from auth.guard import guarded_callback
from auth.identity import current_role
from callbacks._user import request_email as _email
from core import formats
from db.session import session_scope
from layouts import _ids as ids
from layouts import data as page
from services import audit, datatables, users
from services.errors import UserFacingError
from services.ingest import ImportOptions, error_report_path, import_file, recompute_after_import, uploads
from services.reset import factory_reset
from services.xlsx_export import XLSX_TYPE

PREVIEW_ROWS = 8
SHOWN_ERRORS = 15


def _options(
    on_error: str | None,
    create_skus: bool | None,
    date_format: str | None,
    full_extract: bool | None = None,
    confirm: bool | None = None,
    sheet: str | None = None,
) -> ImportOptions:
    return ImportOptions(
        on_error=on_error or "reject",
        create_skus=bool(create_skus),
        date_format=(date_format or "").strip() or None,
        full_extract=bool(full_extract),
        confirm_new_skus=bool(confirm),
        sheet=sheet if isinstance(sheet, str) and sheet else None,
    )


def _sheet_outputs(summary: dict[str, Any] | None) -> tuple:
    """The sheet picker after a check: (options, value, row style, the sheet read); hidden for a CSV file."""
    fmt = (summary or {}).get("format") or {}
    sheets = fmt.get("sheets") or []
    if not sheets:
        return [], None, {"display": "none"}, None
    return [{"label": s, "value": s} for s in sheets], fmt.get("sheet"), {"display": "block"}, fmt.get("sheet")


def _error_dicts(result: Any) -> list[dict[str, Any]]:
    """One entry per distinct problem (count, first line numbers); the error report keeps every row."""
    return result.errors.grouped(limit=SHOWN_ERRORS)


def _preview_rows(result: Any) -> list[dict[str, Any]]:
    frame = result.preview.head(PREVIEW_ROWS)
    return [{str(k): ("" if v is None else str(v)) for k, v in row.items()} for row in frame.to_dict("records")]


def _reporter(set_progress: Any, start: float = 0.0, end: float = 1.0, stage: str = "") -> Any:
    """Progress of a stage drawn on ``start``..``end`` of the bar; ``stage`` ("Step 2 of 2 · recompute") names it,
    so an import followed by a recompute shows both stages (issue 23)."""
    last = {"t": 0.0}
    prefix = f"{stage} · " if stage else ""

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last["t"] < 0.2 and fraction < 1.0:
            return
        last["t"] = now
        value = start + (end - start) * max(0.0, min(1.0, fraction))
        set_progress((round(value * 100), f"{value:.0%} · {prefix}{message}"))

    return report


def _alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(message, color=color, className="py-2 mb-2", dismissable=True)


def _import_staged(item: Any, kind: str, options: ImportOptions, progress: Any, **extra: Any) -> Any:
    """Run ``import_file`` on a staged upload in its own transaction (``extra``: dry_run or user)."""
    with session_scope() as session:
        return import_file(
            session=session,
            path=item.path,
            kind=kind,
            file_name=item.file_name,
            options=options,
            progress=progress,
            **extra,
        )


def _report_name(result: Any) -> str | None:
    """The file name of an import result's error report, or None when there is none."""
    return result.error_report.name if result.error_report else None


# --- upload, check, import ------------------------------------------------------------------------------------------

_OPTION_STATES = (
    State(ids.DATA_KIND, "value"),
    State(ids.DATA_ON_ERROR, "value"),
    State(ids.DATA_CREATE_SKUS, "value"),
    State(ids.DATA_DATE_FORMAT, "value"),
)
_PANEL_RUNNING = (Output(ids.DATA_PROGRESS_PANEL, "style"), {"display": "flex"}, {"display": "none"})
_UPLOAD_RUNNING = (Output(ids.DATA_UPLOAD, "disabled"), True, False)
_BACKGROUND = {
    "background": True,
    "progress": [Output(ids.DATA_PROGRESS, "value"), Output(ids.DATA_PROGRESS_STAGE, "children")],
    "progress_default": [0, ""],
    "prevent_initial_call": True,
}


@guarded_callback(
    "viewer",
    Output(ids.DATA_FORMATS, "is_open"),
    Input(ids.DATA_FORMATS_TOGGLE, "n_clicks"),
    State(ids.DATA_FORMATS, "is_open"),
    prevent_initial_call=True,
)
def toggle_formats(n_clicks: int | None, is_open: bool | None) -> bool:
    if not n_clicks:
        raise PreventUpdate
    return not is_open


@guarded_callback(
    "planner",
    Output(ids.DATA_STAGED, "data"),
    Output(ids.DATA_STAGE_MESSAGE, "children"),
    Output(ids.DATA_UPLOAD, "contents"),
    Input(ids.DATA_UPLOAD, "contents"),
    State(ids.DATA_UPLOAD, "filename"),
    State(ids.DATA_KIND, "value"),
    State(ids.DATA_STAGED, "data"),
    prevent_initial_call=True,
)
def stage_upload(contents: str | None, filename: str | None, kind: str | None, previous: dict | None) -> tuple:
    """Keep the dropped file on the server (the preview and the import read it from there)."""
    if not contents:
        raise PreventUpdate
    try:
        data = uploads.decode_data_url(contents)
        staged = uploads.save_upload(
            data=data, file_name=filename or "upload.csv", kind=kind or "demand", user=_email()
        )
    except UserFacingError as exc:
        return None, _alert(f"{filename}: {exc}"), None
    if previous and previous.get("token"):
        uploads.discard(previous["token"])
    message = html.Div(
        f"Received {staged.file_name} ({staged.size / 1e6:,.2f} MB); checking it…", className="small text-muted"
    )
    return {"token": staged.token, "file_name": staged.file_name}, message, None


@guarded_callback(
    "planner",
    Output(ids.DATA_STAGED, "data", allow_duplicate=True),
    Input(ids.DATA_KIND, "value"),
    Input(ids.DATA_ON_ERROR, "value"),
    Input(ids.DATA_CREATE_SKUS, "value"),
    Input(ids.DATA_DATE_FORMAT, "value"),
    Input(ids.DATA_FULL_EXTRACT, "value"),
    State(ids.DATA_STAGED, "data"),
    prevent_initial_call=True,
)
def options_changed(
    _kind: str, _on_error: str, _create: bool, _date_format: str | None, _full: bool, staged: dict | None
) -> dict:
    """Check the staged file again when an option changes (nothing to do without a file)."""
    if not staged or not staged.get("token"):
        raise PreventUpdate
    return {**staged, "checked_at": time.time()}


@guarded_callback(
    "planner",
    Output(ids.DATA_PREVIEW, "children"),
    Output(ids.DATA_IMPORT, "disabled"),
    Output(ids.DATA_IMPORT, "children"),
    Output(ids.DATA_REPORT, "data"),
    Output(ids.DATA_STAGE_MESSAGE, "children", allow_duplicate=True),
    Output(ids.DATA_CONFIRM_ROW, "style"),
    Output(ids.DATA_CONFIRM_NEW, "value"),
    Output(ids.DATA_NEEDS_CONFIRM, "data"),
    Output(ids.DATA_SHEET, "options"),
    Output(ids.DATA_SHEET, "value"),
    Output(ids.DATA_SHEET_ROW, "style"),
    Output(ids.DATA_SHEET_READ, "data"),
    Input(ids.DATA_STAGED, "data"),
    *_OPTION_STATES,
    State(ids.DATA_FULL_EXTRACT, "value"),
    running=[_PANEL_RUNNING, _UPLOAD_RUNNING],
    **_BACKGROUND,
)
def check_upload(
    set_progress: Any,
    staged: dict | None,
    kind: str,
    on_error: str,
    create_skus: bool,
    date_format: str | None,
    full_extract: bool | None = None,
) -> tuple:
    """Validate the whole file without writing (dry run) and show what was detected, what it changes, the first rows
    and the problems. New SKUs whose names are close to existing ones need the confirmation tick before importing."""
    hidden = {"display": "none"}
    item = uploads.staged((staged or {}).get("token"))
    if item is None:
        return None, True, "Import", no_update, no_update, hidden, False, None, *_sheet_outputs(None)
    sheet = (staged or {}).get("sheet")
    try:
        options = _options(on_error, create_skus, date_format, full_extract if kind == "demand" else False, None, sheet)
    except ValueError as exc:
        return _alert(str(exc)), True, "Import", None, None, hidden, False, None, *_sheet_outputs(None)
    result = _import_staged(item, kind, options, _reporter(set_progress), dry_run=True)
    summary = result.as_dict()
    preview = page.preview_panel(summary, _error_dicts(result), _preview_rows(result))
    report = _report_name(result)
    can_import = result.status == "checked"
    needs = can_import and bool(result.near_duplicates) and bool(create_skus)
    label = f"Import {result.rows_accepted:,} rows" if can_import else "Import"
    state = {"can_import": can_import, "needs_confirm": needs}
    style = {"display": "block"} if needs else hidden
    return preview, not can_import or needs, label, report, None, style, False, state, *_sheet_outputs(summary)


@guarded_callback(
    "planner",
    Output(ids.DATA_STAGED, "data", allow_duplicate=True),
    Input(ids.DATA_SHEET, "value"),
    State(ids.DATA_SHEET_READ, "data"),
    State(ids.DATA_STAGED, "data"),
    prevent_initial_call=True,
)
def sheet_changed(sheet: str | None, read: str | None, staged: dict | None) -> dict:
    """Picking another sheet of the workbook checks the file again with that sheet (the import then reads it)."""
    if not staged or not staged.get("token") or not sheet or sheet == read:
        raise PreventUpdate
    return {**staged, "sheet": str(sheet)[:100], "checked_at": time.time()}


@guarded_callback(
    "planner",
    Output(ids.DATA_IMPORT, "disabled", allow_duplicate=True),
    Input(ids.DATA_CONFIRM_NEW, "value"),
    State(ids.DATA_NEEDS_CONFIRM, "data"),
    prevent_initial_call=True,
)
def confirm_changed(confirmed: bool | None, state: dict | None) -> bool:
    """The import button of a file that creates near-duplicate SKUs waits for the explicit confirmation tick."""
    if not state:
        raise PreventUpdate
    return not state.get("can_import") or (bool(state.get("needs_confirm")) and not confirmed)


@guarded_callback(
    "planner",
    Output(ids.DATA_RESULT, "children"),
    Output(ids.DATA_VERSION, "data"),
    Output(ids.DATA_STAGED, "data", allow_duplicate=True),
    Output(ids.DATA_REPORT, "data", allow_duplicate=True),
    Input(ids.DATA_IMPORT, "n_clicks"),
    State(ids.DATA_STAGED, "data"),
    *_OPTION_STATES,
    State(ids.DATA_VERSION, "data"),
    State(ids.DATA_FULL_EXTRACT, "value"),
    State(ids.DATA_CONFIRM_NEW, "value"),
    running=[_PANEL_RUNNING, (Output(ids.DATA_IMPORT, "disabled"), True, True), _UPLOAD_RUNNING],
    **_BACKGROUND,
)
def run_import(
    set_progress: Any,
    n_clicks: int | None,
    staged: dict | None,
    kind: str,
    on_error: str,
    create_skus: bool,
    date_format: str | None,
    version: int | None,
    full_extract: bool | None = None,
    confirm: bool | None = None,
) -> tuple:
    """Import the checked file in one transaction, then recompute the portfolio; show the summary."""
    if not n_clicks:
        raise PreventUpdate
    item = uploads.staged((staged or {}).get("token"))
    email = _email()
    if item is None or (item.user and email and item.user != email):
        return _alert("The uploaded file is no longer available; drop it again."), no_update, None, None
    options = _options(
        on_error,
        create_skus,
        date_format,
        full_extract if kind == "demand" else False,
        confirm,
        (staged or {}).get("sheet"),
    )
    import_stage = "Step 1 of 2 · import" if kind != "resources" else ""  # capacities do not recompute
    result = _import_staged(item, kind, options, _reporter(set_progress, 0.0, 0.7, import_stage), user=email)
    if result.status == "committed" and kind == "resources":  # capacities change the supply plan, not the snapshot
        uploads.discard(item.token)
    elif result.status == "committed":
        uploads.discard(item.token)
        recompute_stage = "Step 2 of 2 · recompute"
        set_progress((70, f"70% · {recompute_stage} · starting"))
        try:
            result.recompute = recompute_after_import(
                triggered_by=email, progress=_reporter(set_progress, 0.7, 1.0, recompute_stage)
            )
        except UserFacingError as exc:
            result.recompute = f"The portfolio was not recomputed: {exc}"
    summary = page.summary_alert(result.as_dict(), _error_dicts(result))
    report = _report_name(result)
    next_staged = None if result.status == "committed" else staged
    return summary, (version or 0) + 1, next_staged, report


@guarded_callback(
    "planner",
    Output(ids.DATA_REPORT_BUTTON, "disabled"),
    Input(ids.DATA_REPORT, "data"),
)
def enable_report(report: str | None) -> bool:
    return not report


@guarded_callback(
    "planner",
    Output(ids.DATA_REPORT_DOWNLOAD, "data"),
    Input(ids.DATA_REPORT_BUTTON, "n_clicks"),
    State(ids.DATA_REPORT, "data"),
    prevent_initial_call=True,
)
def download_report(n_clicks: int | None, report: str | None) -> dict | None:
    path = uploads.report_file(report)
    if not n_clicks or path is None:
        raise PreventUpdate
    return dcc.send_file(str(path), filename=path.name)


# --- tables (everyone) ------------------------------------------------------------------------------------------------


@guarded_callback(
    "viewer",
    Output(ids.DATA_SKU_GRID, "rowData"),
    Output(ids.DATA_STOCK_GRID, "rowData"),
    Output(ids.DATA_IMPORTS_GRID, "rowData"),
    Output(ids.DATA_COUNTS, "children"),
    Input(ids.DATA_VERSION, "data"),
)
def load_tables(_version: int | None) -> tuple:
    with session_scope() as session:
        skus = datatables.sku_rows(session=session)
        stock = datatables.stock_rows(session=session)
        imports = datatables.import_rows(session=session)
        counts = datatables.counts(session=session)
    return skus, stock, imports, page._counts_badges(counts).children


@guarded_callback(
    "viewer",
    Output(ids.DATA_DEMAND_GRID, "rowData"),
    Input(ids.DATA_DEMAND_SKU, "value"),
    Input(ids.DATA_VERSION, "data"),
)
def load_demand(sku: str | None, _version: int | None) -> list[dict[str, Any]]:
    if not sku:
        return []
    with session_scope() as session:
        return datatables.demand_rows(session=session, sku=sku)


def _search_options(search: str | None, value: str | None) -> list[dict[str, str]]:
    with session_scope() as session:
        codes = datatables.sku_codes(session=session, search=search or None)
    if value and value not in codes:
        codes = [value, *codes]
    return [{"label": c, "value": c} for c in codes]


@guarded_callback(
    "viewer",
    Output(ids.DATA_DEMAND_SKU, "options"),
    Input(ids.DATA_DEMAND_SKU, "search_value"),
    State(ids.DATA_DEMAND_SKU, "value"),
)
def demand_sku_options(search: str | None, value: str | None) -> list[dict[str, str]]:
    return _search_options(search, value)


@guarded_callback(
    "planner",
    Output(ids.DATA_ADD_STOCK_SKU, "options"),
    Input(ids.DATA_ADD_STOCK_SKU, "search_value"),
    State(ids.DATA_ADD_STOCK_SKU, "value"),
)
def stock_sku_options(search: str | None, value: str | None) -> list[dict[str, str]]:
    return _search_options(search, value)


# The role each exportable table needs, decided here on the server (the client only names a table): the audit log
# (e-mails, roles, addresses, token names, failed logins) is for admins; a name not listed is refused with 400.
EXPORT_ROLES = {
    "skus": "viewer",
    "demand": "viewer",
    "stock": "viewer",
    "receipts": "viewer",
    "imports": "viewer",
    "audit": "admin",
}


def _audit_export(target: str, rows: int | None, **details: Any) -> None:
    """Every export is audited: who (and from where, see services.audit), what, how many rows."""
    with session_scope() as session:
        audit.record(
            session=session,
            action="data.export",
            user_email=_email(),
            target=target[:255],
            details={"rows": rows, **details},
        )


def _history_report(selected: list[dict] | None) -> dict:
    """The error report of the import selected in the history grid."""
    if not selected:
        raise PreventUpdate
    raw = selected[0].get("id") if isinstance(selected[0], dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit() or len(str(raw)) > 18:
        abort(400, description="The selected import has no valid id.")
    path = error_report_path(int(raw))
    if not path.is_file():
        raise PreventUpdate
    _audit_export(f"import-errors:batch-{int(raw)}", None, file=path.name)
    return dcc.send_file(str(path), filename=path.name)


def _table_export(table: Any, *, workbook: bool = False) -> dict:
    """A table as CSV (or ``workbook``: .xlsx) for a role allowed to export it (400 for an unknown table, 403 and
    audited below its role)."""
    needed = EXPORT_ROLES.get(table) if isinstance(table, str) else None
    if needed is None:
        abort(400, description=f"No table {str(table)[:40]!r} can be exported.")
    if has_request_context() and not users.has_role(current_role(), needed):
        record_denied(action="export.denied", target=f"export:{table}", required=needed)
        abort(403, description=f"Exporting {table} needs the {needed} role.")
    stamp = formats.file_stamp(dt.datetime.now(dt.UTC))
    if workbook:
        binary = io.BytesIO()
        with session_scope() as session:
            rows = datatables.export_workbook(session=session, table=table, target=binary)
        _audit_export(f"export:{table}", rows, format="xlsx")
        return dcc.send_bytes(binary.getvalue(), filename=f"{table}-{stamp}.xlsx", type=XLSX_TYPE)
    buffer = io.StringIO()
    with session_scope() as session:
        rows = datatables.export_table(session=session, table=table, target=buffer)
    _audit_export(f"export:{table}", rows)
    return {"content": buffer.getvalue(), "filename": f"{table}-{stamp}.csv", "type": "text/csv"}


@guarded_callback(
    "viewer",
    Output(ids.DATA_DOWNLOAD, "data"),
    Input({"type": ids.DATA_EXPORT, "table": ALL}, "n_clicks"),
    Input(ids.DATA_HISTORY_REPORT, "n_clicks"),
    State(ids.DATA_IMPORTS_GRID, "selectedRows"),
    prevent_initial_call=True,
)
def export(_clicks: list[int | None], _history: int | None, selected: list[dict] | None) -> dict:
    """A table as CSV in the import format (spreadsheet-safe), or the error report of the selected import.

    The table's role is checked here (:data:`EXPORT_ROLES`), and every export is audited.
    """
    trigger = ctx.triggered_id
    if not ctx.triggered or not any(isinstance(t, dict) and t.get("value") for t in ctx.triggered):
        raise PreventUpdate
    if trigger == ids.DATA_HISTORY_REPORT:
        return _history_report(selected)
    if not isinstance(trigger, dict):
        raise PreventUpdate
    return _table_export(trigger.get("table"))


@guarded_callback(
    "viewer",
    Output(ids.DATA_DOWNLOAD, "data", allow_duplicate=True),
    Input({"type": ids.DATA_EXPORT_XLSX, "table": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def export_workbook(_clicks: list[int | None]) -> dict:
    """A table as an Excel workbook (same columns, role check and audit as :func:`export`)."""
    trigger = ctx.triggered_id
    if not ctx.triggered or not any(isinstance(t, dict) and t.get("value") for t in ctx.triggered):
        raise PreventUpdate
    if not isinstance(trigger, dict):
        raise PreventUpdate
    return _table_export(trigger.get("table"), workbook=True)


# --- edits (planner) ------------------------------------------------------------------------------------------------

_EDIT_OUTPUTS = (
    Output(ids.DATA_EDIT_MESSAGE, "children", allow_duplicate=True),
    Output(ids.DATA_VERSION, "data", allow_duplicate=True),
)


def _edited(version: int | None, action: Any) -> tuple:
    """Run ``action`` in a transaction; a message, and a new version so the grids reload (and revert on error)."""
    try:
        with session_scope() as session:
            message = action(session)
    except UserFacingError as exc:
        return _alert(str(exc)), (version or 0) + 1
    return _alert(message, "success"), (version or 0) + 1


def _new_value(change: dict) -> Any:
    return change.get("newValue", change.get("value"))


def _changes(changes: list[dict] | None) -> list[dict]:
    if not changes:
        raise PreventUpdate
    return [c for c in changes if c.get("colId") and c.get("data")]


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_SKU_GRID, "cellValueChanged"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def edit_sku(changes: list[dict] | None, version: int | None) -> tuple:
    edits = _changes(changes)

    def action(session: Any) -> str:
        for change in edits:
            datatables.save_sku(
                session=session,
                values={change["colId"]: _new_value(change)},
                user=_email(),
                sku_id=int(change["data"]["id"]),
            )
        return f"Saved {', '.join(sorted({c['data']['sku'] for c in edits}))}."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_STOCK_GRID, "cellValueChanged"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def edit_stock(changes: list[dict] | None, version: int | None) -> tuple:
    edits = _changes(changes)

    def action(session: Any) -> str:
        for change in edits:
            datatables.save_stock(
                session=session,
                values={change["colId"]: _new_value(change)},
                user=_email(),
                row_id=int(change["data"]["id"]),
            )
        return "Stock position saved."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_DEMAND_GRID, "cellValueChanged"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def edit_demand(changes: list[dict] | None, version: int | None) -> tuple:
    edits = _changes(changes)

    def action(session: Any) -> str:
        for change in edits:
            datatables.save_demand(
                session=session,
                values={change["colId"]: _new_value(change)},
                user=_email(),
                key=(change["data"]["sku"], change["data"]["date"]),
            )
        return "Demand saved."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_ADD_SKU, "n_clicks"),
    State(ids.DATA_ADD_SKU_CODE, "value"),
    State(ids.DATA_ADD_SKU_NAME, "value"),
    State(ids.DATA_ADD_SKU_CATEGORY, "value"),
    State(ids.DATA_ADD_SKU_COST, "value"),
    State(ids.DATA_ADD_SKU_PRICE, "value"),
    State(ids.DATA_ADD_SKU_LEAD, "value"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def add_sku(
    n_clicks: int | None,
    code: str | None,
    name: str | None,
    category: str | None,
    cost: Any,
    price: Any,
    lead: Any,
    version: int | None,
) -> tuple:
    if not n_clicks:
        raise PreventUpdate
    values = {
        "sku": code or "",
        "name": name,
        "category": category,
        "unit_cost": cost,
        "unit_price": price,
        "lead_time_days": lead,
    }
    values = {k: v for k, v in values.items() if k == "sku" or v not in (None, "")}

    def action(session: Any) -> str:
        sku = datatables.save_sku(session=session, values=values, user=_email())
        return f"Added SKU {sku.code}."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_ADD_STOCK, "n_clicks"),
    State(ids.DATA_ADD_STOCK_SKU, "value"),
    State(ids.DATA_ADD_STOCK_ON_HAND, "value"),
    State(ids.DATA_ADD_STOCK_ON_ORDER, "value"),
    State(ids.DATA_ADD_STOCK_AS_OF, "value"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def add_stock(
    n_clicks: int | None, sku: str | None, on_hand: Any, on_order: Any, as_of: str | None, version: int | None
) -> tuple:
    if not n_clicks:
        raise PreventUpdate
    values = {"sku": sku or "", "on_hand": "" if on_hand is None else on_hand}
    if on_order not in (None, ""):
        values["on_order"] = on_order
    if as_of:
        values["as_of"] = as_of

    def action(session: Any) -> str:
        datatables.save_stock(session=session, values=values, user=_email())
        return f"Added a stock position for {sku}."

    return _edited(version, action)


@guarded_callback(
    "planner",
    *_EDIT_OUTPUTS,
    Input(ids.DATA_ADD_DEMAND, "n_clicks"),
    State(ids.DATA_DEMAND_SKU, "value"),
    State(ids.DATA_ADD_DEMAND_DATE, "value"),
    State(ids.DATA_ADD_DEMAND_QTY, "value"),
    State(ids.DATA_VERSION, "data"),
    prevent_initial_call=True,
)
def add_demand(n_clicks: int | None, sku: str | None, period: str | None, quantity: Any, version: int | None) -> tuple:
    if not n_clicks:
        raise PreventUpdate
    values = {"sku": sku or "", "date": period or "", "quantity": "" if quantity is None else quantity}

    def action(session: Any) -> str:
        datatables.save_demand(session=session, values=values, user=_email())
        return f"Added demand for {sku} on {period}."

    return _edited(version, action)


def _delete_callback(name: str, button: str, grid: str, remove: Callable[[Any, list[dict]], int]) -> Callable:
    """Register the planner callback ``name`` deleting ``grid``'s selected rows with ``remove(session, rows)``."""

    def delete(n_clicks: int | None, selected: list[dict] | None, version: int | None) -> tuple:
        if not n_clicks:
            raise PreventUpdate
        if not selected:
            return _alert("Select rows first (the boxes on the left).", "warning"), no_update

        def action(session: Any) -> str:
            return f"Deleted {remove(session, selected):,} row(s)."

        return _edited(version, action)

    delete.__name__ = delete.__qualname__ = name
    return guarded_callback(
        "planner",
        *_EDIT_OUTPUTS,
        Input(button, "n_clicks"),
        State(grid, "selectedRows"),
        State(ids.DATA_VERSION, "data"),
        prevent_initial_call=True,
    )(delete)


def _delete_by_id(table: str) -> Callable[[Any, list[dict]], int]:
    """A ``remove`` for ``_delete_callback``: delete ``table``'s selected rows by their ``id``."""
    return lambda session, rows: datatables.delete_rows(
        session=session, table=table, ids=[int(r["id"]) for r in rows], user=_email()
    )


delete_skus = _delete_callback("delete_skus", ids.DATA_DELETE_SKUS, ids.DATA_SKU_GRID, _delete_by_id("skus"))
delete_stock = _delete_callback("delete_stock", ids.DATA_DELETE_STOCK, ids.DATA_STOCK_GRID, _delete_by_id("stock"))
# demand rows have no id: they are keyed by (sku, date)
delete_demand = _delete_callback(
    "delete_demand",
    ids.DATA_DELETE_DEMAND,
    ids.DATA_DEMAND_GRID,
    lambda session, rows: datatables.delete_demand(
        session=session, keys=[(str(r["sku"]), str(r["date"])) for r in rows], user=_email()
    ),
)


# --- danger zone (admin) --------------------------------------------------------------------------------------------


@guarded_callback(
    "admin",
    Output(ids.DATA_RESET_RESULT, "children"),
    Output(ids.DATA_RESET_RELOAD, "href"),
    Input(ids.DATA_RESET, "n_clicks"),
    State(ids.DATA_RESET_CONFIRM, "value"),
    prevent_initial_call=True,
)
def reset(n_clicks: int | None, confirm: str | None) -> tuple:
    """Factory reset after the word RESET was typed; reloads the page when done."""
    if not n_clicks:
        raise PreventUpdate
    try:
        with session_scope() as session:
            counts = factory_reset(session=session, user=_email(), confirm=confirm or "")
    except UserFacingError as exc:
        return _alert(str(exc)), no_update
    return _alert(f"Factory reset done: {sum(counts.values()):,} rows removed.", "success"), "/data"
