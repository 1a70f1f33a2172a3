"""The contract of the purchase-order routes (``GET /purchase-orders``, ``POST /purchase-orders/<id>/approve``):
the list's query and the order as pydantic models (:mod:`api.contract`), read from
:class:`services.orders.OrderView`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from api.constants import ORDER_STATUSES
from api.contract import ApiModel, IsoText, Number, PageQuery

Quantity = Annotated[int | float, Field(description="A whole number (integer) where the order multiple is whole")]


class OrderQuery(PageQuery):
    """The filters and page of ``GET /purchase-orders``."""

    status: list[Literal[ORDER_STATUSES]] = Field(  # type: ignore[valid-type]
        default=[], description="Order status (default: recommended,approved)"
    )
    supplier: Annotated[str, StringConstraints(max_length=100)] = ""
    sku: Annotated[str, StringConstraints(max_length=64)] = Field(default="", description="SKU code")


class PurchaseOrder(ApiModel):
    """One purchase order (:class:`services.orders.OrderView`): dates ISO, numbers finite or null."""

    id: int
    sku: str
    sku_name: str
    category: str
    supplier: str
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]
    qty: Quantity
    recommended_qty: int | float | None
    unit_cost: Number
    value: Number = Field(description="qty x unit cost; null when the SKU has no unit cost (unit_cost_missing)")
    reason: str
    edit_reason: str | None
    order_by: IsoText = Field(json_schema_extra={"format": "date"})
    created_at: IsoText
    run_id: int | None
    approved_by: str | None
    approved_at: IsoText
    order_date: IsoText = Field(json_schema_extra={"format": "date"})
    promised_date: IsoText = Field(json_schema_extra={"format": "date"})
    received_by: str | None
    received_at: IsoText
    received_date: IsoText = Field(json_schema_extra={"format": "date"})
    received_qty: int | float | None
    closed_by: str | None
    closed_at: IsoText
    moq: Number
    order_multiple: Number
    status_reason: str | None = Field(description="The planner's reason for rejecting or cancelling the order")
    overdue_days: int | None = Field(
        description="Recommended orders: days the order-by date is before today (UTC), null when it is not"
    )
    unit_cost_missing: bool = Field(
        description="The SKU's unit cost is 0 or still at its default: the order's value is unknown"
    )

    @classmethod
    def of(cls, view: Any) -> PurchaseOrder:
        data = view.as_dict()
        if data.get("unit_cost_missing"):
            data["value"] = None
        return cls.model_validate(data)


class ListMeta(ApiModel):
    page: int
    per_page: int
    total: int
    pages: int


class OrderPage(ApiModel):
    """One page of orders."""

    data: list[PurchaseOrder]
    meta: ListMeta
