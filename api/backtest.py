"""API route of the policy backtest (``GET /backtest``, issue 24) with its contract (:mod:`api.contract`): the scope
and the backtest document as pydantic models. Registered on the /api/v1 blueprint when :mod:`api` is imported."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from api.contract import ApiModel, IsoText, Number, QueryModel, operation
from api.errors import ApiError, invalid
from api.models_skus import Text100
from api.routes import blueprint, requires
from auth.identity import current_email
from db.session import session_scope
from services import backtest as backtest_service

MAX_BACKTEST_PERIODS = 1200


class BacktestQuery(QueryModel):
    """The replay's length and scope (``sku``, or ``category`` / ``abc``)."""

    periods: Annotated[int, Field(ge=1, le=MAX_BACKTEST_PERIODS)] | None = Field(
        default=None,
        description="N, periods replayed (default 26 weekly / 12 monthly / 90 daily; at most the history less 8)",
    )
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="Only this SKU"
    )
    category: Text100 | None = Field(default=None, description="Only the SKUs of this category")
    abc: Text100 | None = Field(
        default=None,
        description="Only the SKUs of this ABC class (latest recompute)",
        json_schema_extra={"enum": ["A", "B", "C"]},
    )


class BacktestPoint(ApiModel):
    fill_rate: Number = Field(description="Units served from stock / units demanded over every SKU replayed")
    cycle_service_level: Number = Field(description="Mean over SKUs of the share of periods without a stockout")
    average_inventory_value: Number = Field(description="Sum over SKUs of the average on-hand value")
    target_service_level: Number = Field(description="The SKUs' own service targets, weighted by demand")


class FrontierPoint(ApiModel):
    service_target: Number
    fill_rate: Number
    average_inventory_value: Number


class SkuReplay(ApiModel):
    code: str
    demand: Number
    fill_rate: Number
    cycle_service_level: Number
    stockout_periods: int
    average_inventory_units: Number
    average_inventory_value: Number
    orders: int


class Excluded(ApiModel):
    code: str
    reason: str


class FrontierComparison(ApiModel):
    """The engine's point against the textbook frontier (null outside its range)."""

    fill_gap_at_equal_inventory: Number
    inventory_ratio_at_equal_fill: Number
    baseline_fill_at_equal_inventory: Number
    baseline_inventory_at_equal_fill: Number
    verdict: Literal["above", "on", "below", "unknown"]


class Backtest(ApiModel):
    """The backtest document (services/backtest/document.py)."""

    periods: int = Field(description="Periods replayed (the last N of the history)")
    portfolio: BacktestPoint = Field(description="The engine's policies")
    baseline: BacktestPoint = Field(description="The textbook policy at each SKU's own target")
    frontier: list[FrontierPoint] = Field(
        description="The textbook policy at one service target for every SKU, 0.50 to 0.999"
    )
    skus: list[SkuReplay] = Field(description="The engine's replay per SKU, in code order")
    excluded: list[Excluded] = Field(description="SKUs left out: history shorter than N + 8 periods (or none)")
    comparison: FrontierComparison
    scope: dict[str, Any]
    grain: str | None
    data_as_of: IsoText
    replay_start: IsoText
    replay_end: IsoText
    fit_periods: int
    sku_count: int
    computed_at: IsoText
    seconds: Number


@blueprint.get("/backtest")
@requires("viewer")
@operation(
    "policyBacktest",
    "Would the policies have worked? Replay the engine's and the textbook's through the last N periods",
    query=BacktestQuery,
    response=Backtest,
    description="The backtest document",
    errors={
        400: "periods, sku, category or abc is not valid, or N is longer than the history allows",
        404: "No active SKU in the scope (unknown SKU, empty category or class)",
        422: "Nothing to replay: no demand, or no SKU with N + 8 periods of history (code validation_failed)",
    },
)
def policy_backtest(query: BacktestQuery) -> Backtest:
    """Replay the engine's policies and the textbook's through the last ``periods`` periods of real demand (``sku`` or
    ``category`` / ``abc`` narrow the scope); answers the backtest document when done (runs in the request)."""
    try:
        scope = backtest_service.BacktestScope.make(**query.model_dump(exclude={"periods"}))
        with session_scope() as session:
            result = backtest_service.run_backtest(
                session=session, scope=scope, periods=query.periods, triggered_by=current_email() or "api"
            )
    except backtest_service.BacktestError as exc:
        if exc.kind == "not_found":
            raise ApiError(404, "not_found", str(exc)) from None
        if exc.kind == "invalid" and exc.field:
            raise invalid(exc.field, str(exc)) from None
        raise ApiError(422, "validation_failed", str(exc)) from None
    return Backtest.model_validate(result.document)
