"""API route of the supply plan (``GET /supply-plan``: chase, level or optimal against resource capacities) with its
contract (:mod:`api.contract`): the knobs and the plan document as pydantic models. Registered on the /api/v1
blueprint when :mod:`api` is imported."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from api.contract import BAD_PARAMETER, NO_SNAPSHOT, ApiModel, IsoText, Number, QueryModel, operation
from api.errors import ApiError, invalid
from api.routes import blueprint, requires
from db.session import session_scope
from services import supply

Strategy = Literal["chase", "level", "optimal"]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class SupplyQuery(QueryModel):
    """The plan's knobs (the Supply page's and the CLI's)."""

    horizon: Annotated[int, Field(ge=3, le=18)] = 12
    strategy: Annotated[Strategy, BeforeValidator(_lower)] = "chase"
    overtime_pct: Annotated[float, Field(ge=0, le=200)] | None = Field(
        default=None, description="Overtime capacity as a % of regular capacity (default: the resources file's)"
    )
    skus: bool = Field(default=True, description="false: leave out the per-SKU rows")


class ResourcePeriod(ApiModel):
    period: str = Field(description="Start of the plan period", json_schema_extra={"format": "date"})
    capacity: Number = Field(description="Regular capacity (capacity units); null: no capacity known (no limit)")
    overtime_capacity: Number
    required: Number = Field(description="Load of the net requirements (demand + target - projected stock)")
    planned: Number = Field(description="Load the plan supplies (feasible: <= capacity + overtime capacity)")
    overtime_used: Number
    shortfall: Number = Field(description="Load left short of demand and target inventory")


class ResourcePlan(ApiModel):
    resource: str
    periods: list[ResourcePeriod]


class SkuPeriod(ApiModel):
    period: str = Field(json_schema_extra={"format": "date"})
    demand: float
    supply: float
    projected_inventory: float
    target_inventory: float = Field(description="Safety stock + half the lot")
    unmet_demand: float


class SkuPlan(ApiModel):
    sku: str
    name: str | None
    resource: str | None
    unmet_demand: float
    reason: str | None = Field(description="Why the SKU is short, quoting its resource's numbers")
    periods: list[SkuPeriod]


class SupplyTotals(ApiModel):
    regular_cost: float
    overtime_cost: float
    holding_cost: float
    shortage_cost: float
    total_cost: float
    shortage_units: float
    fill_rate: float


class SupplyPlan(ApiModel):
    """The plan (the CLI's ``supply-plan --json`` document)."""

    strategy: Strategy = Field(description="The plan shown")
    requested_strategy: Strategy
    grain: Literal["weekly", "monthly"] = Field(description="The resources file's grain")
    horizon: int
    overtime_pct: Number
    run_id: int | None
    data_as_of: IsoText = Field(json_schema_extra={"format": "date"})
    message: str | None = Field(description="Why the optimum fell back to chase, periods without capacity")
    periods: list[str]
    resources: list[ResourcePlan]
    skus: list[SkuPlan]
    totals: SupplyTotals
    solver: dict[str, Any] = Field(description="LP size (variables, constraints, nonzeros) and seconds")


@blueprint.get("/supply-plan")
@requires("viewer")
@operation(
    "supplyPlan",
    "Supply plan against resource capacities: chase, level or optimal (LP), 3-18 periods",
    query=SupplyQuery,
    response=SupplyPlan,
    description="The plan",
    errors={400: BAD_PARAMETER, 409: NO_SNAPSHOT},
)
def supply_plan(query: SupplyQuery) -> SupplyPlan:
    """The supply plan against resource capacities (chase, level or optimal), the CLI's JSON document."""
    try:
        request = supply.PlanRequest.parse(
            horizon=query.horizon, strategy=query.strategy, overtime_pct=query.overtime_pct
        )
    except supply.SupplyPlanError as exc:
        raise invalid("overtime_pct", str(exc)) from None
    with session_scope() as session:
        try:
            result = supply.make_plan(session=session, request=request)
        except supply.SupplyPlanError as exc:
            raise ApiError(409, "no_snapshot", str(exc)) from None
    return SupplyPlan.model_validate(supply.document(result, include_skus=query.skus))
