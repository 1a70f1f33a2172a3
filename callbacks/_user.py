"""The signed-in user's e-mail inside any callback, background jobs included."""

from __future__ import annotations

from typing import Any

import dash
from dash import ctx

from auth.identity import current_email

USER_DATA = "icc_user"


@dash.hooks.custom_data(USER_DATA)
def _user_data(_context: Any) -> dict[str, str | None]:
    """The signed-in user's e-mail, captured in the request so a background job (another process) knows it."""
    return {"email": current_email()}


def request_email() -> str | None:
    """The signed-in user's e-mail: from the request, else from the data captured for a background job."""
    email = current_email()
    if email:
        return email
    try:
        return (ctx.custom_data or {}).get(USER_DATA, {}).get("email")
    except Exception:  # noqa: BLE001 - outside any callback context (unit tests)
        return None
