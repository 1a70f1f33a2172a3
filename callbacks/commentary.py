"""The commentary panel's Regenerate button (layouts/_commentary.py), on every page that shows the panel.

Planner only (the server refuses a viewer's request with 403 and audit-logs it); a background job, because the model
may take seconds; the button is disabled while it runs. The body whose ``scope`` matches the clicked button is
replaced with the newly written commentary.
"""

from __future__ import annotations

from typing import Any

from dash import MATCH, Input, Output, State
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from db.session import session_scope
from layouts._commentary import (
    BODY_TYPE,
    REGENERATE_LABEL,
    REGENERATE_TYPE,
    REGENERATING_LABEL,
    commentary_body,
)
from services import narrative


@guarded_callback(
    "planner",
    Output({"type": BODY_TYPE, "scope": MATCH}, "children"),
    Input({"type": REGENERATE_TYPE, "scope": MATCH}, "n_clicks"),
    State({"type": REGENERATE_TYPE, "scope": MATCH}, "id"),
    background=True,
    running=[
        (Output({"type": REGENERATE_TYPE, "scope": MATCH}, "disabled"), True, False),
        (Output({"type": REGENERATE_TYPE, "scope": MATCH}, "children"), REGENERATING_LABEL, REGENERATE_LABEL),
    ],
    prevent_initial_call=True,
)
def regenerate(n_clicks: int | None, component_id: dict[str, Any] | None) -> list[Any]:
    """Write the commentary of the clicked panel's scope again (``regenerate=True``) and return the new body."""
    scope = (component_id or {}).get("scope")
    if not n_clicks or not isinstance(scope, str):
        raise PreventUpdate
    try:
        with session_scope() as session:
            view = narrative.commentary_for_scope(session=session, scope=scope, regenerate=True)
    except ValueError:  # a scope the panel never renders
        raise PreventUpdate from None
    return commentary_body(view)
