"""API route for promotions and prices (issue 20), on the /api/v1 blueprint, with its contract (:mod:`api.contract`:
the models below are the OpenAPI document's).

``GET /promotions`` (viewer): the stored promotion rows (history and plan), optionally of one SKU (``sku``) and from
a date (``since``, YYYY-MM-DD). Rows are imported with ``POST /imports/promotions`` (and events with
``POST /imports/events``).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from api.contract import BAD_PARAMETER, ApiModel, Number, QueryModel, operation
from api.routes import blueprint, requires
from db.session import session_scope
from services import promotions

MAX_ROWS = 100_000


class PromotionQuery(QueryModel):
    sku: str | None = Field(default=None, max_length=64, description="only this SKU code")
    since: dt.date | None = Field(default=None, description="only periods from this date (YYYY-MM-DD)")


class PromotionRow(ApiModel):
    """One SKU and period of the causal data (history or plan)."""

    sku: str
    date: str = Field(description="The period (history or plan)", json_schema_extra={"format": "date"})
    price: Number = Field(description="Selling price that period")
    promoted: bool
    promotion: str = Field(description="The label, or yes / no")
    features: str = Field(description="Named causal columns, e.g. 'display 1, feature 1'")


class PromotionList(ApiModel):
    promotions: list[PromotionRow]


@blueprint.get("/promotions")
@requires("viewer")
@operation(
    "listPromotions",
    "Prices and promotions per SKU and period (history and plan), by SKU then period",
    query=PromotionQuery,
    response=PromotionList,
    envelope=False,
    description="The promotion rows",
    errors={400: BAD_PARAMETER},
)
def list_promotions(query: PromotionQuery) -> PromotionList:
    """Promotion rows by SKU then period."""
    with session_scope() as session:
        rows = promotions.promotion_rows(session=session, sku_code=query.sku or None, since=query.since, limit=MAX_ROWS)
    return PromotionList(promotions=[PromotionRow.model_validate(row) for row in rows])
