"""API routes of the consensus demand (services/consensus.py), with their contract (:mod:`api.contract`: the models
below are the OpenAPI document's): list, add and delete commercial adjustments, and the forecast value added per
layer. Registered on the /api/v1 blueprint when :mod:`api` is imported."""

from __future__ import annotations

from typing import Any, Literal

from flask import request
from pydantic import BaseModel, ConfigDict, Field

from api.contract import BAD_PARAMETER, ApiModel, Number, QueryModel, operation
from api.errors import ApiError, invalid
from api.routes import MAX_ID, blueprint, requires
from auth.identity import current_email
from db.session import session_scope
from services import consensus
from services.consensus import FVA_BY, MAX_REASON, PCT_RANGE

FIELDS = ("scope", "period", "change_pct", "change_units", "reason")
FvaBy = Literal[FVA_BY]  # type: ignore[valid-type]


class AdjustmentQuery(QueryModel):
    every: bool = Field(default=False, alias="all", description="true: with the superseded and deleted ones")


class Adjustment(ApiModel):
    """One commercial adjustment (as ``python cli.py consensus list --json``)."""

    id: int
    scope_kind: Literal["sku", "category"]
    scope: str = Field(description="the SKU code or the category name")
    period: str = Field(description="the month, YYYY-MM")
    change_pct: Number = Field(description="percent (10 = +10 %)")
    change_units: Number = Field(description="units over the month for the scope")
    change: str = Field(description="the change as shown")
    reason: str
    user_email: str
    created_at: str = Field(description="ISO date and time (UTC)")
    active: bool = Field(description="false: superseded or deleted")

    @classmethod
    def of(cls, view: consensus.AdjustmentView) -> Adjustment:
        return cls.model_validate(view.as_dict())


class SavedAdjustment(Adjustment):
    run_id: int | None = Field(description="the recompute that applied it (null: none ran)")


class NewAdjustment(BaseModel):
    """The body of ``POST /adjustments``: exactly one of change_pct and change_units."""

    model_config = ConfigDict(extra="forbid")
    scope: str = Field(description="a SKU code, category:NAME, or a category name")
    period: str = Field(description="a month (2027-01) or a date within it, in the forecast")
    change_pct: float | None = Field(default=None, ge=PCT_RANGE[0], le=PCT_RANGE[1])
    change_units: float | None = None
    reason: str = Field(max_length=MAX_REASON)


class FvaQuery(QueryModel):
    by: FvaBy = Field(default="layer", description="one row per layer, per layer and person, category or SKU")


class FvaRow(ApiModel):
    """Error before the layer and after it on the periods with actuals; fva = before - after."""

    layer: Literal["overrides", "commercial", "consensus"]
    key: str
    periods: int
    actual_sum: Number
    mae_before: Number
    mae_after: Number
    fva_mae: Number
    wape_before: Number
    wape_after: Number
    fva_wape: Number
    bias_before: Number
    bias_after: Number
    improved_share: Number


class FvaReport(ApiModel):
    data: list[FvaRow]
    by: FvaBy


@blueprint.get("/adjustments")
@requires("viewer")
@operation(
    "listAdjustments",
    "Commercial adjustments in force, newest first (as `consensus list --json`)",
    query=AdjustmentQuery,
    response=list[Adjustment],
    description="The adjustments",
    errors={400: BAD_PARAMETER},
)
def list_adjustments(query: AdjustmentQuery) -> list[Adjustment]:
    """The commercial adjustments in force, newest first (``all=1``: with the superseded and deleted ones)."""
    with session_scope() as session:
        found = consensus.list_adjustments(session=session, include_deleted=query.every)
    return [Adjustment.of(a) for a in found]


@blueprint.post("/adjustments")
@requires("planner")
@operation(
    "addAdjustment",
    "Save a commercial adjustment (supersedes the one for its scope and month); recomputes its SKUs",
    body=NewAdjustment,
    response=SavedAdjustment,
    description="The adjustment saved, with the recompute's run_id",
    errors={400: "A bad field: unknown scope, month outside the forecast, both or no change, no reason"},
)
def add_adjustment() -> SavedAdjustment:
    """Save one adjustment (JSON: scope, period, change_pct or change_units, reason) and recompute its SKUs; 400 naming
    the field for bad input."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid("body", "send a JSON object with scope, period, change_pct or change_units, and reason")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise invalid(unknown[0], f"unknown field; fields are {', '.join(FIELDS)}")
    user = current_email() or "api"
    with session_scope() as session:
        try:
            made = consensus.add_adjustment(
                session=session, user=user, source="api", **{k: body.get(k) for k in FIELDS}
            )
        except consensus.AdjustmentError as exc:
            raise invalid(exc.column or "body", str(exc)) from None
    with session_scope() as session:
        run = consensus.recompute_after_adjustments(session=session, scopes=[(made.scope_kind, made.scope)], user=user)
    return SavedAdjustment.model_validate({**made.as_dict(), "run_id": getattr(run, "run_id", None)})


@blueprint.get("/adjustments/fva")
@requires("viewer")
@operation(
    "adjustmentsFva",
    "Forecast value added of each demand layer (as `consensus fva --json`)",
    query=FvaQuery,
    response=FvaReport,
    envelope=False,
    description="One row per layer and key",
    errors={400: BAD_PARAMETER},
)
def adjustments_fva(query: FvaQuery) -> FvaReport:
    """Forecast value added per layer (``by``: layer, who, category or sku), as ``python cli.py consensus fva``."""
    with session_scope() as session:
        rows = consensus.fva_report(session=session, by=query.by)
    return FvaReport(data=[FvaRow.model_validate(row) for row in rows], by=query.by)


@blueprint.delete("/adjustments/<int:adjustment_id>")
@requires("planner")
@operation(
    "deleteAdjustment",
    "Delete an adjustment in force; recomputes its SKUs",
    response=Adjustment,
    description="The adjustment deleted",
    errors={404: "No such adjustment"},
)
def delete_adjustment(adjustment_id: int) -> Adjustment:
    """Delete an adjustment in force (404 when there is none) and recompute its SKUs."""
    if adjustment_id > MAX_ID:
        raise ApiError(404, "not_found", f"no adjustment {adjustment_id}")
    user = current_email() or "api"
    with session_scope() as session:
        try:
            gone = consensus.delete_adjustment(session=session, adjustment_id=adjustment_id, user=user)
        except consensus.AdjustmentError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
    with session_scope() as session:
        consensus.recompute_after_adjustments(session=session, scopes=[(gone.scope_kind, gone.scope)], user=user)
    return Adjustment.of(gone)
