"""Consensus demand callbacks on the Cycles page (layouts/_consensus.py): save an adjustment and recompute its SKUs
(planner, in the background), delete the selected one (planner). Each is guarded on the server
(auth.guard.guarded_callback); the services check the input (services/consensus.py)."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email
from db.session import session_scope
from layouts import _consensus as ui
from services import consensus
from services.errors import UserFacingError


def _refresh(message: Any) -> tuple[Any, Any, Any, Any]:
    """(message, grid rows, layers, FVA) after a change."""
    with session_scope() as session:
        rows = ui.adjustment_rows(consensus.list_adjustments(session=session))
        layers = ui.layers_table(consensus.layer_table(session=session))
        fva = [
            ui.fva_table(consensus.fva_report(session=session, by="layer"), by="layer"),
            ui.fva_table(consensus.fva_report(session=session, by="who"), by="who"),
        ]
    return message, rows, layers, fva


def _recompute(scopes: list[tuple[str, str]], user: str) -> str:
    try:
        with session_scope() as session:
            summary = consensus.recompute_after_adjustments(session=session, scopes=scopes, user=user)
    except UserFacingError as exc:
        return f" The recompute failed ({exc}); the next recompute uses it."
    return f" Recomputed (run {summary.run_id})." if summary is not None else ""


def save(*, scope: Any, period: Any, kind: Any, value: Any, reason: Any, user: str) -> tuple[Any, ...]:
    """Save one adjustment from the form, then recompute the SKUs of its scope."""
    pct, units = (value, None) if kind != "units" else (None, value)
    try:
        with session_scope() as session:
            made = consensus.add_adjustment(
                session=session,
                scope=scope or "",
                period=period or "",
                change_pct=pct,
                change_units=units,
                reason=reason or "",
                user=user,
            )
    except UserFacingError as exc:
        return html.Span(str(exc), className="text-danger"), no_update, no_update, no_update
    note = _recompute([(made.scope_kind, made.scope)], user)
    text = f"Saved: {made.scope} {made.period.isoformat()[:7]} {made.change}.{note}"
    return _refresh(html.Span(text, className="text-success"))


@guarded_callback(
    "planner",
    Output(ui.MESSAGE, "children"),
    Output(ui.GRID, "rowData"),
    Output(ui.LAYERS, "children"),
    Output(ui.FVA, "children"),
    Input(ui.SAVE, "n_clicks"),
    State(ui.SCOPE, "value"),
    State(ui.PERIOD, "value"),
    State(ui.KIND, "value"),
    State(ui.VALUE, "value"),
    State(ui.REASON, "value"),
    background=True,
    running=[
        (Output(ui.SAVE, "disabled"), True, False),
        (Output(ui.SAVE, "children"), ui.SAVING_LABEL, ui.SAVE_LABEL),
    ],
    prevent_initial_call=True,
)
def save_adjustment(n_clicks: int | None, scope: Any, period: Any, kind: Any, value: Any, reason: Any) -> tuple:
    """A planner's commercial adjustment (a background job: the partial recompute takes seconds)."""
    if not n_clicks:
        raise PreventUpdate
    user = request_email() or "unknown"  # the job runs outside the request: the e-mail captured with it
    return save(scope=scope, period=period, kind=kind, value=value, reason=reason, user=user)


def delete(*, selected: list[dict[str, Any]] | None, user: str) -> tuple[Any, ...]:
    """Delete the selected adjustment, then recompute its SKUs."""
    if not selected:
        return html.Span("Select an adjustment in the list first.", className="text-danger"), *(no_update,) * 3
    try:
        with session_scope() as session:
            gone = consensus.delete_adjustment(session=session, adjustment_id=int(selected[0]["id"]), user=user)
    except (UserFacingError, KeyError, TypeError, ValueError) as exc:
        return html.Span(str(exc), className="text-danger"), *(no_update,) * 3
    note = _recompute([(gone.scope_kind, gone.scope)], user)
    return _refresh(html.Span(f"Deleted adjustment {gone.id}.{note}", className="text-success"))


@guarded_callback(
    "planner",
    Output(ui.MESSAGE, "children", allow_duplicate=True),
    Output(ui.GRID, "rowData", allow_duplicate=True),
    Output(ui.LAYERS, "children", allow_duplicate=True),
    Output(ui.FVA, "children", allow_duplicate=True),
    Input(ui.DELETE, "n_clicks"),
    State(ui.GRID, "selectedRows"),
    prevent_initial_call=True,
)
def delete_adjustment(n_clicks: int | None, selected: list[dict[str, Any]] | None) -> tuple:
    if not n_clicks:
        raise PreventUpdate
    return delete(selected=selected, user=request_email() or "unknown")
