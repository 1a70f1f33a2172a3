"""The OpenAPI 3.1 document of /api/v1, generated (issue 17 item 3): apispec assembles it from the blueprint's rules
and each route's contract (:mod:`api.contract`: the pydantic models of its query and answer, its role, its errors).

Nothing is written by hand: a route without a contract (one merged from an older branch) still appears, with its
role, path parameters and a generic answer, and ``tests/unit/test_api_contract.py`` fails until it gets one. Nothing
here imports a route module: the routes are read from the running app (docs/architecture.md, "Who may import whom").
"""

from __future__ import annotations

import copy
import re
import typing
from typing import Any

from apispec import APISpec
from flask import current_app
from pydantic.json_schema import models_json_schema

from api.constants import PREFIX
from api.contract import AUTH_ERRORS, Error, Operation

REF = "#/components/schemas/{model}"

DESCRIPTION = (
    "Read the latest snapshot (SKUs, KPIs, forecasts), approve purchase orders, import CSV files, recompute and "
    "download briefings. Send 'Authorization: Bearer <token>' (tokens: Admin page or `python cli.py create-token "
    "--user EMAIL`). The token acts with its user's role: viewer < planner < admin. "
    'Errors: {"error": {"code", "message", "details": [...]}}.'
)


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": REF.format(model="Error")}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_path(rule: str) -> str:
    """``/api/v1/skus/<code>`` -> ``/skus/{code}``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix(PREFIX))


def _path_parameters(rule: Any, spec: Operation) -> list[dict[str, Any]]:
    out = []
    for name in sorted(rule.arguments):
        converter = type(rule._converters[name]).__name__
        default = {"type": "integer", "minimum": 0} if converter == "IntegerConverter" else {"type": "string"}
        out.append({"name": name, "in": "path", "required": True, "schema": spec.path.get(name, default)})
    return out


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without its ``null`` branch (a query string has no null: absent is the default)."""
    out = {key: value for key, value in prop.items() if key != "title" and not (key == "default" and value is None)}
    options = [option for option in out.pop("anyOf", []) if option != {"type": "null"}]
    if len(options) == 1:
        out = {**options[0], **out}
    elif options:
        out["anyOf"] = options
    return out


def _query_parameters(spec: Operation) -> list[dict[str, Any]]:
    if spec.query is None:
        return []
    schema = spec.query.model_json_schema(mode="validation", ref_template=REF)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        prop = _not_null(prop)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        if prop.get("type") == "array":
            parameter.update(style="form", explode=True)
            parameter["description"] = (
                parameter.get("description", name) + " (repeat the parameter or separate values with commas)"
            )
        out.append(parameter)
    return out


def _model_of(response: Any) -> Any:
    """The model of a response type (``Model`` or ``list[Model]``)."""
    return typing.get_args(response)[0] if typing.get_origin(response) is list else response


def _schema_of(response: Any, refs: dict[type, dict[str, Any]]) -> dict[str, Any]:
    if response is None:
        return {"type": "object"}
    if typing.get_origin(response) is list:
        return {"type": "array", "items": refs[_model_of(response)]}
    return refs[response]


def _json(response: Any, description: str, envelope: bool, refs: dict[type, dict[str, Any]]) -> dict[str, Any]:
    schema = _schema_of(response, refs)
    if envelope:
        schema = {"type": "object", "required": ["data"], "properties": {"data": schema}}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(spec: Operation, refs: dict[type, dict[str, Any]]) -> dict[str, Any]:
    if spec.content is not None:
        ok: dict[str, Any] = {"description": spec.description, "content": spec.content}
    else:
        ok = _json(spec.response, spec.description, spec.envelope, refs)
    out = {str(spec.status): ok}
    for status, (response, description, headers) in spec.also.items():
        out[str(status)] = {
            **_json(response, description, spec.envelope, refs),
            **({"headers": headers} if headers else {}),
        }
    errors = {**spec.errors, **({} if spec.public else AUTH_ERRORS)}
    return {**out, **{str(status): _error(text) for status, text in sorted(errors.items())}}


def _operation(rule: Any, spec: Operation, role: str | None, refs: dict[type, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary}
    if role is not None:
        out["x-required-role"] = role
    if spec.public:
        out["security"] = []
    parameters = _path_parameters(rule, spec) + _query_parameters(spec)
    if parameters:
        out["parameters"] = parameters
    if spec.form is not None:
        out["requestBody"] = _form_body(spec.form)
    if spec.body is not None:
        schema = spec.body.model_json_schema(mode="validation", ref_template=REF)
        schema["properties"] = {name: _not_null(prop) for name, prop in schema["properties"].items()}
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    out["responses"] = _responses(spec, refs)
    return out


def _form_body(form: Any) -> dict[str, Any]:
    """A multipart body: the form model's fields and the uploaded ``file``."""
    schema = form.model_json_schema(mode="validation", ref_template=REF)
    properties = {"file": {"type": "string", "format": "binary"}}
    properties.update({name: _not_null(prop) for name, prop in schema["properties"].items()})
    body = {"type": "object", "required": ["file"], "properties": properties}
    return {"required": True, "content": {"multipart/form-data": {"schema": body}}}


def _api_views() -> list[tuple[Any, str, Any]]:
    """(rule, method, view) of every /api/v1 route of the running app, in rule order."""
    out = []
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api_v1."):
            continue
        view = current_app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule, method, view))
    return out


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the running app's /api/v1 routes (a fresh copy each call)."""
    views = _api_views()
    specs = [getattr(view, "api_operation", None) for _, _, view in views]
    responses = {_model_of(r) for s in specs if s is not None for r in (s.response, *(a[0] for a in s.also.values()))}
    responses.discard(None)
    models = sorted(responses | {Error}, key=lambda m: m.__name__)
    refs_by_key, defs = models_json_schema([(m, "serialization") for m in models], ref_template=REF)
    refs = {model: refs_by_key[(model, "serialization")] for model in models}
    spec = APISpec(
        title="Inventory Command Center API",
        version="1.0.0",
        openapi_version="3.1.0",
        info={"description": DESCRIPTION},
        servers=[{"url": PREFIX}],
        security=[{"bearerAuth": []}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for name, schema in defs.get("$defs", {}).items():
        spec.components.schema(name, copy.deepcopy(schema))
    paths: dict[str, dict[str, Any]] = {}
    for (rule, method, view), contract in zip(views, specs, strict=True):
        path = openapi_path(rule.rule)
        fallback = Operation(operation_id=rule.endpoint.split(".")[-1], summary=view.__doc__ or rule.endpoint)
        item = _operation(rule, contract or fallback, getattr(view, "required_role", None), refs)
        paths.setdefault(path, {})[method.lower()] = item
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
