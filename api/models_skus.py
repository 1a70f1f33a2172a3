"""The contract of the SKU routes (``GET /skus``, ``GET /skus/<code>``, ``GET /summary``): the query of the SKU list
and the answers, as pydantic models (:mod:`api.contract`). The SKU's fields are listed here once; the models read
them from the service objects (:class:`services.sku_detail.SkuDetail`, :class:`services.watchtower.KpiSummary`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from api.constants import ENUM_FILTERS
from api.contract import ApiModel, IsoText, Number, PageQuery
from api.serialize import number
from core import formats
from services import watchtower
from services.master_data import TRACKED as MASTER_FIELDS

Text100 = Annotated[str, StringConstraints(max_length=100)]
Status = Literal[tuple(ENUM_FILTERS["status"])]  # type: ignore[valid-type]
SORT_KEYS = (*watchtower.SORT_COLUMNS, *(f"-{c}" for c in watchtower.SORT_COLUMNS))
SortKey = Literal[SORT_KEYS]  # type: ignore[valid-type]


def _enum(name: str) -> Any:
    return Literal[tuple(ENUM_FILTERS[name])]  # type: ignore[valid-type]


class SkuQuery(PageQuery):
    """The filters, sort and page of ``GET /skus`` (the Watchtower grid's)."""

    status: list[Status] = Field(default=[], description="Health status")
    category: list[Text100] = Field(default=[], description="Category")
    location: list[Text100] = Field(default=[], description="Location")
    supplier: list[Text100] = Field(default=[], description="Supplier")
    abc: list[_enum("abc")] = Field(default=[], description="ABC class (by annual value)")
    xyz: list[_enum("xyz")] = Field(default=[], description="XYZ class (by demand variability)")
    demand_class: list[_enum("demand_class")] = Field(default=[], description="Demand pattern (Syntetos-Boylan)")
    master_data: list[_enum("master_data")] = Field(
        default=[], description="Master data: incomplete (some fields at their defaults) or complete"
    )
    q: Annotated[str, StringConstraints(max_length=watchtower.MAX_SEARCH)] = Field(
        default="", description="Text in the SKU code or name"
    )
    sort: list[SortKey] = Field(default=[], description="Columns to sort by, '-' for descending")

    def filters(self) -> watchtower.GridFilters:
        data = self.model_dump(include=set(ENUM_FILTERS) | {"category", "location", "supplier"})
        return watchtower.GridFilters.from_mapping({**data, "search": self.q})

    def sort_order(self) -> list[tuple[str, str]] | None:
        return [(s[1:], "desc") if s.startswith("-") else (s, "asc") for s in self.sort] or None


#: snapshot keys whose API name differs (API name -> snapshot key); the other snapshot fields share their name
SNAPSHOT_KEYS = {"demand_per_period": "demand_baseline", "newsvendor_quantity": "newsvendor_qty"}


class SkuSnapshotFields(ApiModel):
    """The fields of one SKU that come from the latest snapshot, in the order they are answered."""

    status: Status | None
    status_reason: str | None = Field(description="Why the SKU has its status, quoting its numbers")
    on_hand: Number
    on_order: Number
    demand_per_period: Number = Field(description="Mean demand per period over the baseline window")
    forecast_per_period: Number = Field(description="Mean forecast demand per period")
    safety_stock: Number
    reorder_point: Number
    eoq: Number = Field(description="Economic order quantity, rounded to MOQ and order multiples")
    newsvendor_quantity: Number
    days_of_cover: Number
    abc: str | None
    xyz: str | None
    demand_class: str | None
    value_at_risk: Number
    recommended_qty: int | float | None = Field(description="Whole where the order multiple is whole")
    inventory_value: Number
    service_level: Number
    lead_time_periods: Number
    forecast_model: str | None


class SkuMasterFields(ApiModel):
    """The master data of one SKU."""

    code: str
    name: str
    category: str
    location: str
    item: str = Field(description="The product shared across locations (the SKU's own code when not given)")
    supplier: str
    incomplete_master_data: bool = Field(
        description="Some master data is still at its default (nobody provided it): values that use it are unknown"
    )
    defaulted_fields: list[Literal[tuple(MASTER_FIELDS)]] = Field(  # type: ignore[valid-type]
        description="The fields at their defaults: unit_cost (0 or missing: money values are unknown), category "
        "(Uncategorised), lead_time_days (the default 14 days), supplier (Unassigned)"
    )
    last_reported: IsoText = Field(
        description="The SKU's last reported demand period where it is before the snapshot's data through "
        "(its numbers end there; periods after it are not reported, not zero); null when it is up to date",
        json_schema_extra={"format": "date"},
    )


class Sku(SkuSnapshotFields, SkuMasterFields):
    """One SKU of the list: master data, then the snapshot's numbers."""

    @classmethod
    def fields_of(cls, detail: Any) -> dict[str, Any]:
        """The list fields of a :class:`services.sku_detail.SkuDetail` (or its summary)."""
        defaulted = list(getattr(detail, "defaulted_fields", ()))
        out: dict[str, Any] = {
            "code": detail.code,
            "name": detail.name,
            "category": detail.category,
            "location": detail.location,
            "item": getattr(detail, "item", "") or detail.code,
            "supplier": detail.supplier,
            "incomplete_master_data": bool(defaulted),
            "defaulted_fields": defaulted,
            # its last reported demand period where it is before the run's data through (issue 15), else None
            "last_reported": detail.last_reported if getattr(detail, "reported_behind", False) else None,
        }
        snapshot = detail.snapshot or {}
        for name in SkuSnapshotFields.model_fields:
            raw = snapshot.get(SNAPSHOT_KEYS.get(name, name))
            out[name] = raw if isinstance(raw, str) or raw is None else number(raw)
        # an order quantity is a whole number where the order multiple is whole (348, not 348.0)
        out["recommended_qty"] = formats.order_quantity(out["recommended_qty"], getattr(detail, "order_multiple", 1.0))
        return out

    @classmethod
    def of(cls, detail: Any) -> Sku:
        return cls.model_validate(cls.fields_of(detail))


class ForecastPoint(ApiModel):
    period: IsoText = Field(json_schema_extra={"format": "date"})
    mean: Number
    p10: Number
    p50: Number
    p90: Number


class HistoryPoint(ApiModel):
    period: IsoText = Field(json_schema_extra={"format": "date"})
    quantity: Number


class SkuDetail(Sku):
    """One SKU with its master data, forecast (mean, p10, p50, p90 per period) and demand history."""

    unit_cost: Number
    unit_price: Number
    moq: Number
    order_multiple: Number
    lead_time_days: Number
    one_shot: bool = Field(description="Seasonal / one-shot buy: ordered with the newsvendor quantity, not replenished")
    order_by_date: IsoText = Field(json_schema_extra={"format": "date"})
    overdue_days: int | None = Field(description="Days the order-by date is before today (UTC), null when it is not")
    order_policy: Literal["reorder_point", "newsvendor", "phase_out"] | None = Field(
        description="How the order is sized: replenishment, a one-shot newsvendor buy, or the phase-out of a stopped "
        "seller (no order)"
    )
    run_id: int | None
    forecast: list[ForecastPoint]
    history: list[HistoryPoint]

    @classmethod
    def of(cls, detail: Any) -> SkuDetail:
        return cls.model_validate(
            {
                **cls.fields_of(detail),
                "unit_cost": detail.unit_cost,
                "unit_price": detail.unit_price,
                "moq": detail.moq,
                "order_multiple": detail.order_multiple,
                "lead_time_days": detail.lead_time_master_days,
                "one_shot": bool(getattr(detail, "one_shot", False)),
                "order_by_date": detail.order_by_date,
                "overdue_days": getattr(detail, "overdue_days", None),
                "order_policy": getattr(detail, "order_policy", None),
                "run_id": detail.run.id if detail.run else None,
                "forecast": [{key: f[key] for key in ForecastPoint.model_fields} for f in detail.forecast],
                "history": [{"period": period, "quantity": qty} for period, qty in detail.history],
            }
        )


class PageMeta(ApiModel):
    page: int
    per_page: int
    total: int
    pages: int
    run_id: int
    data_as_of: IsoText = Field(json_schema_extra={"format": "date"})


class SkuPage(ApiModel):
    """One page of SKUs."""

    data: list[Sku]
    meta: PageMeta


class RunInfo(ApiModel):
    """A finished recompute run (:class:`services.runs.RunInfo`)."""

    id: int
    started_at: IsoText
    finished_at: IsoText
    grain: str | None
    data_as_of: IsoText
    sku_count: int
    triggered_by: str | None

    @classmethod
    def of(cls, run: Any) -> RunInfo | None:
        if run is None:
            return None
        return cls.model_validate({name: getattr(run, name) for name in cls.model_fields})


class Kpi(ApiModel):
    """A :class:`services.watchtower.Kpi`: its value, the previous run's and the change."""

    label: str
    value: Number
    previous: Number
    delta: Number
    kind: str

    @classmethod
    def of(cls, item: Any) -> Kpi:
        return cls.model_validate({name: getattr(item, name) for name in cls.model_fields})


class Summary(ApiModel):
    """The Watchtower KPIs: SKUs per status and portfolio KPIs, with the previous run's values."""

    run: RunInfo | None
    previous_run: RunInfo | None
    sku_count: int
    status_counts: dict[str, Kpi]
    kpis: dict[str, Kpi]

    @classmethod
    def of(cls, result: Any) -> Summary:
        return cls(
            run=RunInfo.of(result.run),
            previous_run=RunInfo.of(result.previous),
            sku_count=result.sku_count,
            status_counts={item.key: Kpi.of(item) for item in result.status_counts},
            kpis={item.key: Kpi.of(item) for item in result.portfolio},
        )
