"""Role guards for Dash callbacks, pages and Flask routes (checked on the server, never only in the UI).

State-changing callbacks are declared with :func:`guarded_callback`, which records the role they need twice:

- by Dash callback id (the ``output`` key of a ``/_dash-update-component`` request, the one thing Dash uses to pick
  the function it runs) in :data:`CALLBACK_KEY_ROLES`;
- by output component id in :data:`CALLBACK_ROLES` (the strongest role of any callback writing to that id).

A ``before_request`` hook (see :mod:`auth.web`) refuses any callback request whose callback needs a role the user
lacks and logs the attempt. That covers background callbacks too, because their start and polling requests go
through the same endpoint with the same ``output`` key. The wrapper around each guarded function checks again
(a request that reached it without the hook is refused with 403 and logged as well).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import dash
from dash import _callback as dash_callback_module
from flask import abort, has_request_context

from auth.audit import record_denied
from auth.identity import current_role
from services.users import ROLE_RANK, has_role

# component id (string form) -> strongest role any guarded callback writing to it needs. Filled at import time.
CALLBACK_ROLES: dict[str, str] = {}
# Dash callback id (the "output" key of a callback request, as listed by /_dash-dependencies) -> role.
CALLBACK_KEY_ROLES: dict[str, str] = {}
# pattern-matching output ids: key of the non-wildcard items (as in CALLBACK_ROLES) -> sets of wildcard key names.
PATTERN_KEYS: dict[str, set[frozenset[str]]] = {}


def _id_key(component_id: Any) -> str:
    if isinstance(component_id, dict):
        return json.dumps(
            {k: component_id[k] for k in sorted(component_id) if not _is_wildcard(component_id[k])}, sort_keys=True
        )
    return str(component_id)


def _register_pattern(component_id: Any) -> None:
    """Remember which keys of a pattern-matching id are wildcards, so a concrete id can be matched to it."""
    if isinstance(component_id, dict):
        wildcards = frozenset(k for k, v in component_id.items() if _is_wildcard(v))
        if wildcards:
            PATTERN_KEYS.setdefault(_id_key(component_id), set()).add(wildcards)


def _role_for_id(component_id: Any) -> str | None:
    """The role registered for an output id as a request names it: exact, or a concrete id of a registered pattern.

    ``{"type": "x", "scope": "portfolio"}`` matches ``{"type": "x", "scope": MATCH}``: the same keys, the same values
    for the non-wildcard keys.
    """
    role = CALLBACK_ROLES.get(_id_key(component_id))
    if role is not None or not isinstance(component_id, dict):
        return role
    for key, variants in PATTERN_KEYS.items():
        for wildcards in variants:
            fixed = {k: v for k, v in component_id.items() if k not in wildcards}
            if wildcards <= set(component_id) and json.dumps(fixed, sort_keys=True) == key:
                role = _stronger(role, CALLBACK_ROLES[key])
    return role


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


def _stronger(first: str | None, second: str) -> str:
    if first is None:
        return second
    return first if ROLE_RANK[first] >= ROLE_RANK[second] else second


def guarded_callback(role: str, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """``dash.callback`` that also requires ``role`` (viewer / planner / admin) for every request reaching it.

    Parameters
    ----------
    role
        The minimum role; ``"viewer"`` for read-only callbacks, ``"planner"`` for changes, ``"admin"`` for users,
        tokens and resets.
    *args, **kwargs
        Passed to :func:`dash.callback` unchanged.
    """
    if role not in ROLE_RANK:
        raise ValueError(f"role must be one of {', '.join(ROLE_RANK)}, got {role!r}")
    if kwargs.get("api_endpoint") and role != "viewer":
        raise ValueError("api_endpoint: callbacks exposed as plain routes bypass the callback guard; use api/ instead")
    for output in _outputs_of(args, kwargs):
        key = _id_key(output.component_id)
        CALLBACK_ROLES[key] = _stronger(CALLBACK_ROLES.get(key), role)
        _register_pattern(output.component_id)

    registrar = dash.callback(*args, **kwargs)  # inserts the callback spec now; the function comes next
    callback_key = dash_callback_module.GLOBAL_CALLBACK_LIST[-1]["output"]
    CALLBACK_KEY_ROLES[callback_key] = role
    _guard_cancel_callbacks(role, kwargs.get("cancel"))

    def decorator(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def wrapper(*f_args: Any, **f_kwargs: Any) -> Any:
            # Outside a request (unit tests, background job processes) there is no user to check; the request
            # that started the job already went through the hook in auth.web.
            if has_request_context() and not has_role(current_role(), role):
                _deny(callback_key, role)
            return func(*f_args, **f_kwargs)

        return registrar(wrapper)

    return decorator


def _guard_cancel_callbacks(role: str, cancel: Any) -> None:
    """Dash adds one internal callback per cancel input of a background callback (output ``<id>.id``): it needs
    the role of the weakest background callback using that input (each user can only cancel their own jobs)."""
    items = cancel if isinstance(cancel, list | tuple) else [cancel] if cancel is not None else []
    for item in items:
        if isinstance(item, dash.Input) and isinstance(item.component_id, str):
            key = f"{item.component_id}.id"
            known = CALLBACK_KEY_ROLES.get(key)
            CALLBACK_KEY_ROLES[key] = role if known is None or ROLE_RANK[role] < ROLE_RANK[known] else known


def _deny(callback_key: str, role: str) -> None:
    record_denied(action="callback.denied", target=callback_key, required=role)
    abort(403)


def required_role_for_callback(body: dict[str, Any]) -> str | None:
    """The role a callback request needs (None when its callback is not guarded).

    Dash runs ``callback_map[body["output"]]``, so that key decides. For a key no guarded callback has, the
    strongest role of the ids in ``outputs`` applies (such a request cannot run a function anyway; refusing it
    keeps crafted bodies out).
    """
    key = str(body.get("output"))
    if key in CALLBACK_KEY_ROLES:
        return CALLBACK_KEY_ROLES[key]
    needed: str | None = None
    outputs = body.get("outputs")
    items = outputs if isinstance(outputs, list) else [outputs]
    for item in items:
        for entry in item if isinstance(item, list) else [item]:  # pattern-matching outputs arrive as lists
            if not isinstance(entry, dict):
                continue
            role = _role_for_id(entry.get("id"))
            if role:
                needed = _stronger(needed, role)
    return needed
