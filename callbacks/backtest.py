"""Policy backtest callbacks: the SKU page's "Would this policy have worked?" and the Risk page's policy replay.

Both replay on demand as background jobs (progress, cancel) through services/backtest; the Risk panel shows the
latest stored result of the page's scope and redraws it when a replay finishes or the scope changes.
"""

from __future__ import annotations

import logging
from typing import Any

from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from callbacks._user import request_email
from db.session import session_scope
from layouts import _backtest as panel
from layouts import _ids as ids
from services import backtest as bt

log = logging.getLogger(__name__)

UNEXPECTED = "The replay failed unexpectedly; the details are in the server log."


def _periods(value: Any) -> int | None:
    """The periods box: blank = the default for the grain; anything else goes to the service (which says what is
    wrong with it)."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bt.BacktestError(f"periods must be a whole number, got {value!r}", field="periods") from None
    return int(number) if number.is_integer() else number  # type: ignore[return-value]


def _progress(set_progress: Any) -> Any:
    return lambda fraction, message: set_progress((round(100 * fraction), message))


# --------------------------------------------------------------------------------------------------------------------
# SKU page


def replay_sku(set_progress: Any, code: str | None, periods: Any) -> Any:
    """Replay one SKU's policy (not stored: the SKU page draws it at once)."""
    if not code:
        raise PreventUpdate
    try:
        with session_scope() as session:
            result = bt.run_backtest(
                session=session,
                scope=bt.BacktestScope.make(sku=code),
                periods=_periods(periods),
                triggered_by=request_email(),
                progress=_progress(set_progress),
                store=False,
                keep_paths=True,
            )
    except bt.BacktestError as exc:
        return panel.error_alert(str(exc))
    except Exception:
        log.exception("SKU backtest of %s failed", code)
        return panel.error_alert(UNEXPECTED)
    return panel.sku_result(bt.sku_replay(result))


@guarded_callback(
    "viewer",
    Output(ids.BACKTEST_SKU_RESULT, "children"),
    Input(ids.BACKTEST_SKU_RUN, "n_clicks"),
    State(ids.SKU_CODE, "data"),
    State(ids.BACKTEST_SKU_PERIODS, "value"),
    background=True,
    running=[
        (Output(ids.BACKTEST_SKU_RUN, "disabled"), True, False),
        (Output(ids.BACKTEST_SKU_CANCEL, "disabled"), False, True),
        (Output(ids.BACKTEST_SKU_PROGRESS_WRAP, "style"), panel.SHOWN, panel.HIDDEN),
    ],
    progress=[Output(ids.BACKTEST_SKU_PROGRESS, "value"), Output(ids.BACKTEST_SKU_STAGE, "children")],
    progress_default=[0, "starting"],
    cancel=[Input(ids.BACKTEST_SKU_CANCEL, "n_clicks")],
    prevent_initial_call=True,
)
def sku_backtest(set_progress: Any, n_clicks: int | None, data: dict[str, Any] | None, periods: Any) -> Any:
    """Would this SKU's policy have worked? Fit on the history before the last N periods, replay through them."""
    if not n_clicks:
        raise PreventUpdate
    return replay_sku(set_progress, (data or {}).get("code"), periods)


# --------------------------------------------------------------------------------------------------------------------
# Risk page


def _scope_key(data: dict[str, Any] | None) -> str:
    return str((data or {}).get("scope") or "portfolio")


def replay_scope(set_progress: Any, scope_key: str, periods: Any) -> tuple[Any, Any]:
    """Replay the scope's policies and store the result; (message, the stored id for the result panel)."""
    try:
        with session_scope() as session:
            result = bt.run_backtest(
                session=session,
                scope=bt.BacktestScope.parse(scope_key),
                periods=_periods(periods),
                triggered_by=request_email(),
                progress=_progress(set_progress),
            )
    except bt.BacktestError as exc:
        return panel.error_alert(str(exc)), None
    except Exception:
        log.exception("backtest of %s failed", scope_key)
        return panel.error_alert(UNEXPECTED), None
    return None, {"id": result.stored_id, "scope": scope_key}


@guarded_callback(
    "viewer",
    Output(ids.BACKTEST_RISK_MESSAGE, "children"),
    Output(ids.BACKTEST_RISK_DONE, "data"),
    Input(ids.BACKTEST_RISK_RUN, "n_clicks"),
    State(ids.RISK_SCOPE, "data"),
    State(ids.BACKTEST_RISK_PERIODS, "value"),
    background=True,
    running=[
        (Output(ids.BACKTEST_RISK_RUN, "disabled"), True, False),
        (Output(ids.BACKTEST_RISK_CANCEL, "disabled"), False, True),
        (Output(ids.BACKTEST_RISK_PROGRESS_WRAP, "style"), panel.SHOWN, panel.HIDDEN),
    ],
    progress=[Output(ids.BACKTEST_RISK_PROGRESS, "value"), Output(ids.BACKTEST_RISK_STAGE, "children")],
    progress_default=[0, "starting"],
    cancel=[Input(ids.BACKTEST_RISK_CANCEL, "n_clicks")],
    prevent_initial_call=True,
)
def risk_backtest(set_progress: Any, n_clicks: int | None, data: dict[str, Any] | None, periods: Any) -> Any:
    """Replay the policies of the Risk page's scope (portfolio, segment or SKU) and store the result."""
    if not n_clicks:
        raise PreventUpdate
    return replay_scope(set_progress, _scope_key(data), periods)


@guarded_callback(
    "viewer",
    Output(ids.BACKTEST_RISK_RESULT, "children"),
    Input(ids.RISK_SCOPE, "data"),
    Input(ids.BACKTEST_RISK_DONE, "data"),
)
def risk_stored(data: dict[str, Any] | None, _done: Any) -> Any:
    """The latest stored replay of the page's scope (on page load, a scope change, or when a replay finished)."""
    try:
        with session_scope() as session:
            view = bt.stored_view(session=session, scope_key=_scope_key(data))
    except bt.BacktestError as exc:
        return panel.error_alert(str(exc))
    return panel.risk_result(view)
