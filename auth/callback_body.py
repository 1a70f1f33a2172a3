"""Check a Dash callback request against the callback it names, before Dash runs it.

Dash trusts the body's shape: ``{}``, an unknown ``output``, inputs of the wrong kind or ids that are not the
callback's make it raise (a 500). :func:`problem` says what is wrong instead, and the request guard answers 400 with
the JSON error shape. A body the browser builds (from ``/_dash-dependencies``) always passes.
"""

from __future__ import annotations

import json
from typing import Any

MAX_ITEMS = 2_000  # pattern-matching inputs may carry one entry per matching component
MAX_CHANGED = 200
MAX_KEY = 10_000
_WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")


def _spec_id(raw: Any) -> Any:
    """A registered id: a string, or a dict (stored as JSON text) whose wildcard values are ``["ALL"]`` etc."""
    if isinstance(raw, str) and raw.startswith("{"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    if hasattr(raw, "to_dict"):
        return raw.to_dict()
    return raw


def _wildcard(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 1 and value[0] in _WILDCARDS:
        return value[0]
    text = repr(value)
    for name in _WILDCARDS:
        if text == f"<{name}>" or (isinstance(value, list) and value == [name]):
            return name
    return None


def _pattern_kind(spec_id: Any) -> str | None:
    """``ALL`` / ``MATCH`` / ``ALLSMALLER`` for a pattern-matching id (the strongest wildcard), None otherwise."""
    if not isinstance(spec_id, dict):
        return None
    kinds = {_wildcard(v) for v in spec_id.values()} - {None}
    for kind in ("ALL", "ALLSMALLER", "MATCH"):
        if kind in kinds:
            return kind
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and (not isinstance(value, str) or len(value) <= 500)


def _id_matches(spec_id: Any, given: Any) -> bool:
    if not isinstance(spec_id, dict):
        return isinstance(given, str) and given == spec_id
    if not isinstance(given, dict) or set(given) != set(spec_id):
        return False
    for key, expected in spec_id.items():
        if _wildcard(expected) is not None:
            if not _scalar(given[key]):
                return False
        elif given[key] != expected:
            return False
    return True


def _property(entry: dict[str, Any]) -> Any:
    """The property an entry names; an ``allow_duplicate`` output arrives as ``children@<hash>``."""
    value = entry.get("property")
    return value.split("@", 1)[0] if isinstance(value, str) else value


def _entry_ok(entry: Any, spec_id: Any, prop: str) -> bool:
    """One ``{"id", "property", "value"}`` of the callback (a missing value is None to Dash)."""
    return isinstance(entry, dict) and _property(entry) == prop and _id_matches(spec_id, entry.get("id"))


def _item_problem(item: Any, spec: dict[str, Any], where: str) -> str | None:
    spec_id, prop = _spec_id(spec.get("id")), spec.get("property")
    kind = _pattern_kind(spec_id)
    if kind in ("ALL", "ALLSMALLER"):
        if not isinstance(item, list) or len(item) > MAX_ITEMS:
            return f"{where}: expected a list of {prop} values"
        if not all(_entry_ok(entry, spec_id, prop) for entry in item):
            return f"{where}: an id or property does not belong to this callback"
        return None
    if kind == "MATCH" and isinstance(item, list):  # one matching component arrives as a one-item list too
        item = item[0] if len(item) == 1 else None
    if not _entry_ok(item, spec_id, prop):
        return f"{where}: expected {{'id', 'property', 'value'}} of this callback"
    return None


def _list_problem(given: Any, specs: list[dict[str, Any]], name: str) -> str | None:
    if not isinstance(given, list):
        return f"'{name}' must be a list"
    if len(given) != len(specs):
        return f"'{name}' must have {len(specs)} item(s), got {len(given)}"
    for index, (item, spec) in enumerate(zip(given, specs, strict=True)):
        problem = _item_problem(item, spec, f"{name}[{index}]")
        if problem:
            return problem
    return None


def _output_specs(callback: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The callback's outputs as ``[{"id", "property"}]`` and whether it has several (a list in the body)."""
    declared = callback.get("output")
    many = isinstance(declared, list | tuple)
    items = list(declared) if many else [declared] if declared is not None else []
    specs = [
        {"id": _spec_id(getattr(o, "component_id", None)), "property": getattr(o, "component_property", None)}
        for o in items
    ]
    return specs, many


def _outputs_problem(body: dict[str, Any], callback: dict[str, Any]) -> str | None:
    if callback.get("no_output"):
        return None
    specs, many = _output_specs(callback)
    outputs = body.get("outputs")
    if many:
        if not isinstance(outputs, list) or len(outputs) != len(specs):
            return f"'outputs' must be a list of {len(specs)} item(s)"
        pairs = list(zip(outputs, specs, strict=True))
    else:
        pairs = [(outputs, specs[0])] if specs else []
    for index, (item, spec) in enumerate(pairs):
        problem = _item_problem(item, spec, f"outputs[{index}]")
        if problem:
            return problem
    return None


def problem(body: dict[str, Any], callback_map: dict[str, Any]) -> str | None:
    """Why ``body`` cannot run the callback it names (None when it matches the registered callback)."""
    output = body.get("output")
    if not isinstance(output, str) or not output or len(output) > MAX_KEY:
        return "'output' must name a callback"
    callback = callback_map.get(output)
    if callback is None:
        return "no such callback"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or len(changed) > MAX_CHANGED or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of texts"
    for name, specs in (("inputs", callback.get("inputs", [])), ("state", callback.get("state", []))):
        if name == "state" and "state" not in body and not specs:
            continue
        found = _list_problem(body.get(name), specs, name)
        if found:
            return found
    return _outputs_problem(body, callback)
