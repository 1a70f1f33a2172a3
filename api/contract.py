"""The API contract in types (issue 17 item 3): pydantic models for query parameters and responses, and the
``@operation`` decorator that validates the query, serialises the answer and describes the route for the generated
OpenAPI document (:mod:`api.openapi`, built with apispec).

A route with a contract (the pattern, CONTRIBUTING.md "Adding an API route")::

    @blueprint.get("/skus")
    @requires("viewer")
    @operation("listSkus", "SKUs of the latest snapshot", query=SkuQuery, response=SkuPage, envelope=False,
               errors={400: "A parameter is not valid", 409: NO_SNAPSHOT})
    def list_skus(query: SkuQuery) -> SkuPage: ...

* the query string is parsed into ``query`` (repeated parameters and comma-separated values fill list fields;
  an empty value is the default); a bad value is a 400 ``invalid_parameter`` naming the parameter, in the one error
  shape of :mod:`api.errors`;
* a returned model is dumped to JSON (in ``{"data": ...}`` unless ``envelope=False``); a returned ``Response`` or
  ``(Response, status)`` passes through (PDF, 202);
* the role (``requires``), the path parameters (from the Flask rule), the query parameters, the answer and the
  errors are what ``GET /api/v1/openapi.json`` shows: nothing is written twice.

No import of :mod:`api.routes` here (docs/architecture.md, "Who may import whom").
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from flask import Response, jsonify, request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from api.constants import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from api.errors import invalid
from api.serialize import iso, number

#: a finite number or null (NaN and infinities become null)
Number = Annotated[float | None, BeforeValidator(number)]
#: ISO 8601 text of a date or datetime (seconds), or null
IsoText = Annotated[str | None, BeforeValidator(iso)]

AUTH_ERRORS = {
    401: "No token, or the token is not valid / revoked",
    403: "The token's user lacks the role this route needs",
    500: "Unexpected server error (no details are exposed)",
}
BAD_PARAMETER = "A parameter is not valid (code invalid_parameter; details name it)"
NO_SNAPSHOT = "No recompute has finished yet (code no_snapshot)"


class ApiModel(BaseModel):
    """A response body part: fields in the order they are answered, every field required in the document."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class ErrorBody(ApiModel):
    code: str = Field(examples=["invalid_parameter"])
    message: str
    details: list[dict[str, Any]]


class Error(ApiModel):
    """The one error shape of the API (:func:`api.errors.error_response`)."""

    error: ErrorBody


class QueryModel(BaseModel):
    """The query parameters of one route (unknown parameters are ignored, as before)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class PageQuery(QueryModel):
    """``page`` and ``per_page`` of a paged list."""

    page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE


# --------------------------------------------------------------------------------------------------------------------
# query parsing


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_list(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return origin is list


def _split(raws: list[str]) -> list[str]:
    """Repeated parameters and/or comma-separated values (``?status=surge,normal&status=dead_stock``), de-duplicated."""
    out: list[str] = []
    for raw in raws:
        for part in raw.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _bounds(model: type[QueryModel], name: str) -> tuple[Any, Any]:
    low = high = None
    info = model.model_fields.get(name)
    for rule in info.metadata if info else ():
        low, high = getattr(rule, "ge", low), getattr(rule, "le", high)
    return low, high


def _message(model: type[QueryModel], name: str, error: dict[str, Any], raw: Any) -> str:
    """A short reason for one pydantic error, quoting the value (cut to 40 characters)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    shown = repr(str(raw)[:40]) if raw is not None else "nothing"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"must be a whole number, got {shown}"
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = _bounds(model, name)
        return f"must be between {low} and {high}, got {raw}"
    if kind == "literal_error":
        return f"unknown value {str(error.get('input'))[:40]!r}; {error['msg'].lower()}"
    if kind == "bool_parsing":
        return f"must be true or false, got {shown}"
    if kind == "missing":
        return "required"
    if kind.startswith("date_"):
        return f"must be a date YYYY-MM-DD, got {shown}"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    return error["msg"]


def parse_query(model: type[QueryModel], source: Any = None) -> QueryModel:
    """``request.args`` (or ``source``, e.g. ``request.form``) as ``model``; a bad value ->
    :func:`api.errors.invalid` (400) naming the parameter."""
    args = request.args if source is None else source
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if _is_list(info.annotation):
            values = _split(args.getlist(key))
            if values:
                data[key] = values
        else:
            given = args.getlist(key)
            if len(given) > 1:
                raise invalid(key, "give one value")
            if given and given[0].strip() != "":
                data[key] = given[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "query"
        raise invalid(name, _message(model, name, error, data.get(name))) from None


# --------------------------------------------------------------------------------------------------------------------
# the decorator


@dataclass(frozen=True)
class Operation:
    """What the document says about one route (read by :func:`api.openapi.document`)."""

    operation_id: str
    summary: str
    query: type[QueryModel] | None = None
    response: Any = None  # a model or list[model]
    envelope: bool = True
    errors: dict[int, str] = field(default_factory=dict)
    path: dict[str, dict[str, Any]] = field(default_factory=dict)
    content: dict[str, Any] | None = None  # a non-JSON answer: {media type: schema}
    status: int = 200
    description: str = "OK"
    public: bool = False
    #: other answers: status -> (model, description, headers)
    also: dict[int, tuple[Any, str, dict[str, Any]]] = field(default_factory=dict)
    #: a multipart form (documented only: the route parses it with ``parse_query(model, request.form)`` once it may
    #: read the body)
    form: type[QueryModel] | None = None
    #: a JSON body (documented only: the route reads ``request.get_json`` itself and answers 400 naming the field)
    body: type[BaseModel] | None = None


def operation(
    operation_id: str,
    summary: str,
    *,
    query: type[QueryModel] | None = None,
    response: Any = None,
    envelope: bool = True,
    errors: dict[int, str] | None = None,
    path: dict[str, dict[str, Any]] | None = None,
    content: dict[str, Any] | None = None,
    description: str = "OK",
    public: bool = False,
    also: dict[int, tuple[Any, str, dict[str, Any]]] | None = None,
    form: type[QueryModel] | None = None,
    body: type[BaseModel] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a route its contract (see the module docstring); put it below ``@requires`` so auth runs first."""
    spec = Operation(
        operation_id=operation_id,
        summary=summary,
        query=query,
        response=response,
        envelope=envelope,
        errors=errors or {},
        path=path or {},
        content=content,
        description=description,
        public=public,
        also=also or {},
        form=form,
        body=body,
    )

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if query is not None:
                kwargs["query"] = parse_query(query)
            return answer(func(*args, **kwargs), envelope=envelope)

        wrapper.api_operation = spec  # type: ignore[attr-defined]  # read by api.openapi
        return wrapper

    return decorate


def dump(value: Any) -> Any:
    """A model (or a list of models) as JSON-ready data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [dump(item) for item in value]
    return value


def answer(result: Any, *, envelope: bool = True) -> Any:
    """A route's return value as the response: models dumped (in ``{"data": ...}``), responses unchanged."""
    if isinstance(result, Response | tuple):
        return result
    body = dump(result)
    return jsonify({"data": body} if envelope else body)
