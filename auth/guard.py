"""Role guards for Dash callbacks, pages and Flask routes (checked on the server, never only in the UI).

State-changing callbacks are declared with :func:`guarded_callback`, which registers the ids of their outputs
with the role they need. A ``before_request`` hook (see :mod:`auth.web`) refuses any callback request whose
outputs include a registered id when the user's role is too low, and logs the attempt. That covers background
callbacks too, because their start and polling requests go through the same endpoint.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import dash
from flask import abort, g, request
from flask_login import current_user

from services.users import has_role

# component id (string form) -> minimum role. Filled at import time by guarded_callback; never data.
CALLBACK_ROLES: dict[str, str] = {}


def _id_key(component_id: Any) -> str:
    if isinstance(component_id, dict):
        return json.dumps(
            {k: component_id[k] for k in sorted(component_id) if not _is_wildcard(component_id[k])}, sort_keys=True
        )
    return str(component_id)


def _is_wildcard(value: Any) -> bool:
    return isinstance(value, type(dash.MATCH)) or repr(value) in ("<MATCH>", "<ALL>", "<ALLSMALLER>")


def _outputs_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    outputs: list[Any] = []
    candidates = list(args) + [kwargs.get("output")]
    for item in candidates:
        if isinstance(item, dash.Output):
            outputs.append(item)
        elif isinstance(item, list | tuple):
            outputs.extend(x for x in item if isinstance(x, dash.Output))
    return outputs


def guarded_callback(role: str, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """``dash.callback`` that also requires ``role`` for every request reaching it."""
    for output in _outputs_of(args, kwargs):
        CALLBACK_ROLES[_id_key(output.component_id)] = role

    def decorator(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def wrapper(*f_args: Any, **f_kwargs: Any) -> Any:
            if request and not has_role(current_role(), role):  # belt and braces (hook already refused)
                raise dash.exceptions.PreventUpdate
            return func(*f_args, **f_kwargs)

        return dash.callback(*args, **kwargs)(wrapper)

    return decorator


def current_role() -> str | None:
    api_user = getattr(g, "api_user", None)
    if api_user is not None:
        return api_user.role
    if current_user and current_user.is_authenticated:
        return current_user.role
    return None


def current_email() -> str | None:
    api_user = getattr(g, "api_user", None)
    if api_user is not None:
        return api_user.email
    if current_user and current_user.is_authenticated:
        return current_user.email
    return None


def required_role_for_callback(body: dict[str, Any]) -> str | None:
    """The strongest role any output of this callback request needs (None when unguarded)."""
    outputs = body.get("outputs")
    items = outputs if isinstance(outputs, list) else [outputs]
    needed: str | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        role = CALLBACK_ROLES.get(_id_key(item.get("id")))
        if role and (needed is None or has_role(role, needed)):
            needed = role
    return needed


def require_role_route(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for plain Flask routes (downloads): 401 when anonymous, 403 when the role is too low."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user_role = current_role()
            if user_role is None:
                abort(401)
            if not has_role(user_role, role):
                abort(403)
            return func(*args, **kwargs)

        return wrapper

    return decorator
