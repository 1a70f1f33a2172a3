"""API routes of the S&OP cycles (services/cycles.py): the list and the comparison of two cycles, with their
contract (:mod:`api.contract`). Registered on the /api/v1 blueprint when :mod:`api` is imported."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, create_model

from api.contract import ApiModel, Number, QueryModel, operation
from api.errors import ApiError
from api.routes import blueprint, requires
from db.session import session_scope
from services import cycles

MAX_LIMIT = 100_000
SKU_CHANGE_FIELDS = ("supply", "ending_inventory", "revenue", "margin", "inventory_value")


def _words(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


CycleRef = Annotated[str, BeforeValidator(_words), StringConstraints(min_length=1, max_length=cycles.NAME_MAX)]


class CompareQuery(QueryModel):
    a: CycleRef = Field(description="The earlier cycle (its name, or its id)")
    b: CycleRef = Field(description="The later cycle (its name, or its id)")
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] | None = Field(
        default=None, description="keep the N SKUs with the largest changes (default: all)"
    )


class Cycle(ApiModel):
    """A closed cycle (:class:`services.cycles.CycleSummary`)."""

    id: int
    name: str
    closed_at: str = Field(description="ISO date and time (UTC)")
    closed_by: str | None
    run_id: int | None
    data_as_of: str | None = Field(json_schema_extra={"format": "date"})
    grain: str | None
    supply_source: str
    totals: dict[str, Any] = Field(
        description="demand, supply, unmet, ending_inventory (units over the horizon); revenue, margin, "
        "inventory_value, ending_inventory_value, open_orders_value, recommended_orders_value (money); "
        "sku_count, horizon, plan_grain, first_period, last_period"
    )


class Pair(ApiModel):
    a: Number
    b: Number
    change: Number
    change_pct: Number


SkuChange = create_model(
    "SkuChange",
    __base__=ApiModel,
    __doc__="One SKU in both cycles: demand, then supply, ending inventory, revenue, margin and inventory value "
    "(a, b, change = b - a, change_pct = change / a x 100, null where a is 0).",
    code=(str, ...),
    name=(str | None, ...),
    category=(str, ...),
    demand_a=(Number, ...),
    demand_b=(Number, ...),
    change=(Number, Field(description="demand_b - demand_a (units over the horizon)")),
    change_pct=(Number, Field(description="change / demand_a x 100; null where demand_a is 0")),
    **{
        f"{field}_{suffix}": (Number, ...)
        for field in SKU_CHANGE_FIELDS
        for suffix in ("a", "b", "change", "change_pct")
    },
    in_a=(bool, ...),
    in_b=(bool, ...),
)


class Comparison(ApiModel):
    """Two cycles side by side (the CLI's ``cycle compare A B --json``; ``change`` = B - A)."""

    a: Cycle
    b: Cycle
    totals: dict[str, Pair]
    by_category: list[dict[str, Any]]
    skus: list[SkuChange] = Field(description="sorted by the absolute demand change")  # type: ignore[valid-type]
    sku_count: int
    periods: list[dict[str, Any]]


@blueprint.get("/cycles")
@requires("viewer")
@operation("listCycles", "The closed S&OP cycles, newest first (as `cycle list --json`)", response=list[Cycle])
def list_cycles() -> list[Cycle]:
    """The closed cycles, newest first (as ``python cli.py cycle list --json``)."""
    with session_scope() as session:
        found = cycles.list_cycles(session=session)
    return [Cycle.model_validate(c.as_dict()) for c in found]


@blueprint.get("/cycles/compare")
@requires("viewer")
@operation(
    "compareCycles",
    "Two cycles side by side: totals, by category, per SKU sorted by absolute demand change",
    query=CompareQuery,
    response=Comparison,
    description="The comparison",
    errors={
        400: "a or b missing or too long, or limit not a whole number from 1 to 100,000",
        404: "No cycle with that name or id",
    },
)
def compare_cycles(query: CompareQuery) -> Comparison:
    """Cycles ``a`` and ``b`` side by side (as ``python cli.py cycle compare A B --json``); 404 for an unknown one."""
    with session_scope() as session:
        try:
            document = cycles.compare(session=session, a=query.a, b=query.b, limit=query.limit)
        except cycles.CycleError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
    return Comparison.model_validate(document)
