"""Orders page callbacks (approve / reject / edit / receive / cancel, refresh, export), the SKU page's override form
and the Watchtower's forecast-value-added panel. Thin: parse inputs -> call services.orders / services.overrides ->
format the output."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from auth.identity import current_email
from callbacks._user import request_email
from db.session import session_scope
from layouts import _fva_panel as fva
from layouts import _ids as ids
from layouts import _sku_panels as sku_panels
from layouts import orders as view
from layouts._charts import fmt_money, fmt_qty
from services import orders as svc
from services import overrides as ovr
from services.errors import UserFacingError
from services.runs import scope_counts

ACTIONS = {
    ids.ORDERS_APPROVE: "approve",
    ids.ORDERS_REJECT: "reject",
    ids.ORDERS_EDIT_SAVE: "edit",
    ids.ORDERS_RECEIVE: "receive",
    ids.ORDERS_CANCEL: "cancel",
}


def _user() -> str:
    return current_email() or "unknown"


def alert(message: str, color: str) -> dbc.Alert:
    return dbc.Alert(message, color=color, dismissable=True, className="py-2 small mb-2")


def _ids_of(rows: list[dict[str, Any]] | None) -> list[int]:
    return [int(r["id"]) for r in rows or [] if isinstance(r, dict) and r.get("id") is not None]


def _number(value: Any, name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserFacingError(f"{name} must be a number") from None


def run_action(
    action: str,
    *,
    selected: list[dict[str, Any]] | None,
    approved_selected: list[dict[str, Any]] | None,
    qty: Any = None,
    reason: str | None = None,
    reject_reason: str | None = None,
    receive_date: str | None = None,
    receive_qty: Any = None,
    cancel_reason: str | None = None,
    user: str,
) -> tuple[dbc.Alert, bool]:
    """Carry out one planner action on the selected orders; returns (message, whether anything changed)."""
    try:
        with session_scope() as session:
            message = _apply(
                session,
                action,
                recommended=_ids_of(selected),
                approved=_ids_of(approved_selected),
                qty=qty,
                reason=reason,
                reject_reason=reject_reason,
                receive_date=receive_date,
                receive_qty=receive_qty,
                cancel_reason=cancel_reason,
                user=user,
            )
    except UserFacingError as exc:
        return alert(str(exc), "danger"), False
    return alert(message, "success"), True


def _apply(
    session: Any,
    action: str,
    *,
    recommended: list[int],
    approved: list[int],
    qty: Any,
    reason: str | None,
    reject_reason: str | None,
    receive_date: str | None,
    receive_qty: Any,
    user: str,
    cancel_reason: str | None = None,
) -> str:
    if action == "approve":
        done = svc.approve_orders(session=session, order_ids=recommended, user=user)
        value = sum(o.value for o in done)
        return (
            f"Approved {len(done):,} order(s) worth {fmt_money(value)}; they count as on order in the next "
            "recompute. Export them for the suppliers on the Approved tab."
        )
    if action == "reject":
        done = svc.reject_orders(session=session, order_ids=recommended, user=user, reason=reject_reason)
        kept = f" Reason kept: {done[0].status_reason}" if done and done[0].status_reason else ""
        return f"Rejected {len(done):,} order(s).{kept}"
    if action == "edit":
        if len(recommended) != 1:
            raise UserFacingError("tick exactly one order to change its quantity")
        new_qty = _number(qty, "the new quantity")
        if new_qty is None:
            raise UserFacingError("enter the new quantity")
        result = svc.edit_quantity(
            session=session, order_id=recommended[0], qty=new_qty, reason=reason or "", user=user
        )
        note = f" Note: {'; '.join(result.warnings)}." if result.warnings else ""
        return (
            f"{result.order.sku}: quantity {fmt_qty(result.previous_qty)} -> {fmt_qty(result.order.qty)} "
            f"(reason kept; the next recompute keeps this order).{note}"
        )
    if action == "receive":
        if not approved:
            raise UserFacingError("tick the approved order(s) that arrived")
        when = receive_date or svc.today().isoformat()
        amount = _number(receive_qty, "the received quantity")
        if amount is not None and len(approved) != 1:
            raise UserFacingError("enter a received quantity only when one order is ticked (blank = as ordered)")
        received = []
        for order_id in approved:
            ordered = svc.get_order(session=session, order_id=order_id)
            received.append(
                svc.receive_order(
                    session=session,
                    order_id=order_id,
                    received_date=when,
                    received_qty=ordered.qty if amount is None else amount,
                    user=user,
                )
            )
        return f"Received {len(received):,} order(s) on {when}; receipts recorded, so the lead times learn from them."
    if action == "cancel":
        if not approved:
            raise UserFacingError("tick the approved order(s) to cancel")
        cancelled = [
            svc.cancel_order(session=session, order_id=order_id, user=user, reason=cancel_reason)
            for order_id in approved
        ]
        kept = f" Reason kept: {cancelled[0].status_reason}" if cancelled[0].status_reason else ""
        return f"Cancelled {len(approved):,} order(s); they no longer count as on order.{kept}"
    raise UserFacingError(f"unknown action {action!r}")


@guarded_callback(
    "planner",
    Output(ids.ORDERS_MESSAGE, "children"),
    Output(ids.ORDERS_REFRESH, "data"),
    Output(ids.ORDERS_EDIT_REASON, "value"),
    Output(ids.ORDERS_REJECT_REASON, "value"),
    Output(ids.ORDERS_CANCEL_REASON, "value"),
    Input(ids.ORDERS_APPROVE, "n_clicks"),
    Input(ids.ORDERS_REJECT, "n_clicks"),
    Input(ids.ORDERS_EDIT_SAVE, "n_clicks"),
    Input(ids.ORDERS_RECEIVE, "n_clicks"),
    Input(ids.ORDERS_CANCEL, "n_clicks"),
    State(ids.ORDERS_GRID, "selectedRows"),
    State(ids.ORDERS_APPROVED_GRID, "selectedRows"),
    State(ids.ORDERS_EDIT_QTY, "value"),
    State(ids.ORDERS_EDIT_REASON, "value"),
    State(ids.ORDERS_REJECT_REASON, "value"),
    State(ids.ORDERS_RECEIVE_DATE, "date"),
    State(ids.ORDERS_RECEIVE_QTY, "value"),
    State(ids.ORDERS_REFRESH, "data"),
    State(ids.ORDERS_CANCEL_REASON, "value"),
    prevent_initial_call=True,
)
def act(
    _approve: int | None,
    _reject: int | None,
    _edit: int | None,
    _receive: int | None,
    _cancel: int | None,
    selected: list[dict[str, Any]] | None,
    approved_selected: list[dict[str, Any]] | None,
    qty: Any,
    reason: str | None,
    reject_reason: str | None,
    receive_date: str | None,
    receive_qty: Any,
    counter: int | None,
    cancel_reason: str | None = None,
) -> tuple[Any, Any, Any, Any, Any]:
    """A planner action button: run it, say what happened, and refresh the grids when something changed."""
    action = ACTIONS.get(str(ctx.triggered_id))
    if action is None or not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    message, changed = run_action(
        action,
        selected=selected,
        approved_selected=approved_selected,
        qty=qty,
        reason=reason,
        reject_reason=reject_reason,
        receive_date=receive_date,
        receive_qty=receive_qty,
        cancel_reason=cancel_reason,
        user=_user(),
    )
    if not changed:
        return message, no_update, no_update, no_update, no_update
    cleared = {name: "" if action == name else no_update for name in ("edit", "reject", "cancel")}
    return message, (counter or 0) + 1, cleared["edit"], cleared["reject"], cleared["cancel"]


@guarded_callback(
    "viewer",
    Output(ids.ORDERS_GRID, "rowData"),
    Output(ids.ORDERS_APPROVED_GRID, "rowData"),
    Output(ids.ORDERS_HISTORY_GRID, "rowData"),
    Output(ids.ORDERS_SUPPLIER_GRID, "rowData"),
    Output(ids.ORDERS_TOTALS, "children"),
    Output(ids.ORDERS_SUPPLIER, "options"),
    Output(ids.ORDERS_EXPORT_CSV, "disabled"),
    Output(ids.ORDERS_EXPORT_ZIP, "disabled"),
    Output(ids.ORDERS_GRID, "selectedRows"),
    Output(ids.ORDERS_APPROVED_GRID, "selectedRows"),
    Output(ids.ORDERS_EXPORT_XLSX, "disabled"),
    Input(ids.ORDERS_REFRESH, "data"),
    Input(ids.ORDERS_SUPPLIER, "value"),
    prevent_initial_call=True,
)
def refresh(_counter: int | None, supplier: str | None) -> tuple[Any, ...]:
    """Reload the grids and the headline (after an action, or for another supplier)."""
    with session_scope() as session:
        data = view.page_data(session=session, supplier=supplier)
    none_approved = data["totals"].counts["approved"] == 0
    return (
        data["recommended"],
        data["approved"],
        data["history"],
        data["suppliers"],
        view.totals_row(data["totals"]),
        [{"label": s, "value": s} for s in data["supplier_options"]],
        none_approved,
        none_approved,
        [],  # the grids changed: nothing stays ticked
        [],
        none_approved,
    )


@guarded_callback(
    "viewer",
    Output(ids.ORDERS_SELECTION, "children"),
    Output(ids.ORDERS_EDIT_QTY, "value"),
    Input(ids.ORDERS_GRID, "selectedRows"),
    prevent_initial_call=True,
)
def selection(rows: list[dict[str, Any]] | None) -> tuple[str, Any]:
    """Count and value of the ticked orders; one ticked order puts its quantity in the edit box."""
    rows = rows or []
    qty = rows[0].get("qty") if len(rows) == 1 else (None if not rows else no_update)
    return view.selection_text(rows), qty


@guarded_callback(
    "viewer",
    Output(ids.ORDERS_SUPPLIER, "value"),
    Input(ids.ORDERS_SUPPLIER_GRID, "cellClicked"),
    prevent_initial_call=True,
)
def pick_supplier(cell: dict[str, Any] | None) -> str:
    """Clicking a supplier in the summary shows only its orders."""
    data = (cell or {}).get("data") or {}
    supplier = data.get("supplier") if isinstance(data, dict) else None
    if not supplier:
        raise PreventUpdate
    return str(supplier)


def export_file(*, per_supplier_zip: bool, workbook: bool = False) -> dict[str, Any] | None:
    """The approved orders as a dcc.Download payload (None when there is none): one CSV, a zip of one CSV per
    supplier, or (``workbook``) one Excel workbook with a sheet per supplier."""
    try:
        with session_scope() as session:
            if workbook:
                name, content = svc.export_approved_workbook(session=session)
            else:
                name, content = svc.export_approved(session=session, per_supplier_zip=per_supplier_zip)
    except UserFacingError:
        return None
    return dcc.send_bytes(content, name)


@guarded_callback(
    "viewer",
    Output(ids.ORDERS_DOWNLOAD, "data"),
    Input(ids.ORDERS_EXPORT_CSV, "n_clicks"),
    Input(ids.ORDERS_EXPORT_ZIP, "n_clicks"),
    Input(ids.ORDERS_EXPORT_XLSX, "n_clicks"),
    prevent_initial_call=True,
)
def export(_csv: int | None, _zip: int | None, _xlsx: int | None = None) -> Any:
    """Download the approved orders: one CSV, a zip with one CSV per supplier, or a workbook with a sheet per
    supplier (formula-safe cells)."""
    if ctx.triggered_id not in (ids.ORDERS_EXPORT_CSV, ids.ORDERS_EXPORT_ZIP, ids.ORDERS_EXPORT_XLSX):
        raise PreventUpdate
    payload = export_file(
        per_supplier_zip=ctx.triggered_id == ids.ORDERS_EXPORT_ZIP, workbook=ctx.triggered_id == ids.ORDERS_EXPORT_XLSX
    )
    if payload is None:
        raise PreventUpdate
    return payload


# --- SKU page: forecast overrides -------------------------------------------------------------------------------------

OVERRIDE_SAVE_LABEL = "Save override"  # the button's label in layouts._sku_panels.override_card
OVERRIDE_RUNNING_LABEL = "Saving and recomputing SKU…"


def _also_recomputed(summary: Any) -> str:
    """ ", with 2 other SKUs edited since the previous run; the other 120 SKUs are unchanged" for a partial run."""
    counts = scope_counts(getattr(summary, "scope", None))
    if counts is None:
        return ""
    parts = []
    if counts.edited:
        parts.append(
            f"with {counts.edited:,} other {'SKU' if counts.edited == 1 else 'SKUs'} edited since the previous run"
        )
    if counts.carried:
        parts.append(f"the other {counts.carried:,} SKUs are unchanged")
    return (" (" + "; ".join(parts) + ")") if parts else ""


def save_override(
    *, code: str, periods: list[str] | None, qty: Any, reason: str | None, user: str
) -> tuple[Any, Any, Any, Any, Any]:
    """Store the override; returns (message, override trail, period options, chosen periods, reason box)."""
    try:
        amount = _number(qty, "the override quantity")
        if amount is None:
            raise UserFacingError("enter the units per period")
        with session_scope() as session:
            created = ovr.add_override(
                session=session, code=code, periods=periods or [], qty=amount, reason=reason or "", user=user
            )
        recomputed = ""
        try:  # this SKU (and any SKU edited since the last run) alone: a partial run carries the others forward
            with session_scope() as session:
                summary = ovr.recompute_after_override(session=session, code=code, user=user)
            recomputed = " The SKU was recomputed with it" + _also_recomputed(summary)
            recomputed += ": reload the page to see the new forecast and order."
        except UserFacingError as exc:
            recomputed = f" The recompute failed ({exc}); the next recompute uses the override."
        with session_scope() as session:
            history = ovr.override_history(session=session, code=code)
            options = sku_panels.override_options(ovr.override_periods(session=session, code=code))
    except UserFacingError as exc:
        return alert(str(exc), "danger"), no_update, no_update, no_update, no_update
    message = f"Saved {len(created):,} override(s) of {fmt_qty(created[0].qty)} units.{recomputed}"
    return alert(message, "success"), sku_panels.override_history_table(history), options, [], ""


@guarded_callback(
    "planner",
    Output(ids.SKU_OVERRIDE_RESULT, "children"),
    Output(ids.SKU_OVERRIDE_HISTORY, "children"),
    Output(ids.SKU_OVERRIDE_PERIODS, "options"),
    Output(ids.SKU_OVERRIDE_PERIODS, "value"),
    Output(ids.SKU_OVERRIDE_REASON, "value"),
    Input(ids.SKU_OVERRIDE_SAVE, "n_clicks"),
    State(ids.SKU_CODE, "data"),
    State(ids.SKU_OVERRIDE_PERIODS, "value"),
    State(ids.SKU_OVERRIDE_QTY, "value"),
    State(ids.SKU_OVERRIDE_REASON, "value"),
    background=True,
    running=[
        (Output(ids.SKU_OVERRIDE_SAVE, "disabled"), True, False),
        (Output(ids.SKU_OVERRIDE_SAVE, "children"), OVERRIDE_RUNNING_LABEL, OVERRIDE_SAVE_LABEL),
    ],
    prevent_initial_call=True,
)
def override(
    n_clicks: int | None, data: dict[str, Any] | None, periods: list[str] | None, qty: Any, reason: str | None
) -> tuple[Any, ...]:
    """Save a planner's forecast override for the chosen future periods, then recompute the SKU.

    A background job (the partial recompute takes seconds at 10,000 SKUs): the Save button is disabled and reads
    "Saving and recomputing SKU…" while it runs, and the server stays free for other requests."""
    code = (data or {}).get("code")
    if not n_clicks or not code:
        raise PreventUpdate
    user = request_email() or "unknown"  # the job runs outside the request: the e-mail captured with it
    return save_override(code=code, periods=periods, qty=qty, reason=reason, user=user)


# --- Watchtower: forecast value added ---------------------------------------------------------------------------------


@guarded_callback(
    "viewer",
    Output(ids.WATCHTOWER_FVA, "children"),
    Input(ids.WATCHTOWER_FVA_BY, "value"),
)
def fva_by(by: str | None) -> Any:
    """The accuracy panel: backtest accuracy and forecast value added by planner, category or SKU."""
    if by not in ("planner", "category", "sku"):
        raise PreventUpdate
    with session_scope() as session:
        return fva.fva_content(session=session, by=by)
