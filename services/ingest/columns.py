"""The columns of each import kind: names, accepted aliases, rules and defaults (docs/csv-formats.md lists them).

Headers are matched after normalisation: case-insensitive, surrounding spaces and a byte-order mark removed,
runs of spaces / punctuation turned into ``_`` (``"Unit Cost (EUR)"`` -> ``unit_cost_eur``); a trailing currency
code is ignored when nothing else matches (``unit_cost_eur`` -> ``unit_cost``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.ingest.report import FileRejectedError
from services.ingest.validate import Field

KINDS = ("demand", "skus", "stock", "receipts", "resources", "lanes", "promotions", "events", "adjustments")
_CURRENCIES = ("eur", "usd", "gbp", "chf", "sek", "nok", "dkk", "pln", "jpy", "cny", "inr", "aud", "cad")

SKU = Field(
    "sku",
    "code",
    required=True,
    max_length=64,
    aliases=(
        "sku",
        "sku_code",
        "sku_id",
        "code",
        "item",
        "item_id",
        "item_code",
        "product",
        "product_id",
        "product_code",
        "product_name",
        "part_id",
        "part",
        "part_number",
        "material",
        "material_id",
        "article",
        "unique_id",
    ),
    help="the SKU code (at most 64 characters)",
)
LOCATION = Field(
    "location",
    "text",
    blank="null",
    max_length=100,
    aliases=("location", "store", "store_id", "site", "warehouse", "dc", "branch"),
    help="stock point; see 'Locations'",
)

DEMAND = (
    Field(
        "date",
        "date",
        required=True,
        aliases=("date", "period", "day", "week", "month", "ds", "period_start", "sales_date"),
        help="period start date",
    ),
    SKU,
    Field(
        "quantity",
        "number",
        required=True,
        aliases=("quantity", "qty", "demand", "sales", "units", "unit_sales", "units_sold", "sold", "volume", "y"),
        help="units demanded in the period (>= 0, decimals allowed)",
    ),
    LOCATION,
)

SKU_MASTER = (
    SKU,
    Field(
        "name",
        "text",
        blank="null",
        max_length=255,
        aliases=("name", "product_name", "description", "title"),
        default=None,
        help="defaults to the SKU code",
    ),
    Field(
        "category",
        "text",
        blank="null",
        max_length=100,
        aliases=("category", "cat", "cat_id", "family", "product_group", "group", "department", "dept_id"),
        default="Uncategorised",
    ),
    Field("location", "text", blank="null", max_length=100, aliases=LOCATION.aliases, default="Main"),
    Field(
        "unit_cost",
        "number",
        blank="null",
        aliases=("unit_cost", "cost", "cost_price", "purchase_price", "unit_cost_price", "buy_price"),
        default=0.0,
        help="purchase cost per unit",
    ),
    Field(
        "unit_price",
        "number",
        blank="null",
        aliases=("unit_price", "price", "sell_price", "selling_price", "sales_price", "retail_price"),
        default=0.0,
        help="selling price per unit",
    ),
    Field(
        "salvage_value",
        "number",
        blank="null",
        aliases=("salvage_value", "salvage", "salvage_price", "residual_value"),
        default=0.0,
        help="value per unsold unit",
    ),
    Field(
        "holding_cost_rate",
        "number",
        blank="null",
        maximum=10.0,
        percent_ok=True,
        aliases=("holding_cost_rate", "holding_rate", "carrying_cost_rate"),
        default=0.25,
        help="yearly holding cost as a fraction of unit cost (0.25 or 25%)",
    ),
    Field(
        "order_cost",
        "number",
        blank="null",
        aliases=("order_cost", "ordering_cost", "fixed_order_cost", "setup_cost", "cost_per_order"),
        default=50.0,
        help="fixed cost per purchase order",
    ),
    Field(
        "lead_time_days",
        "number",
        blank="null",
        maximum=3650.0,
        aliases=("lead_time_days", "lead_time", "lt_days", "delivery_time_days", "lead_time_mean", "lead_time_weeks"),
        scales={"lead_time_weeks": 7.0},
        default=14.0,
        help="mean supplier lead time in days",
    ),
    Field(
        "lead_time_std_days",
        "number",
        blank="null",
        maximum=3650.0,
        aliases=(
            "lead_time_std_days",
            "lead_time_std",
            "lead_time_sd",
            "lead_time_stdev",
            "lt_std_days",
            "lead_time_std_weeks",
        ),
        scales={"lead_time_std_weeks": 7.0},
        default=0.0,
        help="standard deviation of the lead time in days",
    ),
    Field(
        "moq",
        "number",
        blank="null",
        aliases=("moq", "min_order_qty", "min_order_quantity", "minimum_order_quantity", "min_order_qty_units"),
        default=0.0,
        help="minimum order quantity",
    ),
    Field(
        "order_multiple",
        "number",
        blank="null",
        minimum=0.0,
        min_exclusive=True,
        aliases=("order_multiple", "case_size", "pack_size", "lot_size", "units_per_case"),
        default=1.0,
        help="orders are rounded up to a multiple of this (> 0)",
    ),
    Field(
        "service_level",
        "number",
        blank="null",
        minimum=0.0,
        min_exclusive=True,
        maximum=1.0,
        max_exclusive=True,
        percent_ok=True,
        aliases=("service_level", "service_level_target", "csl", "target_service_level", "cycle_service_level"),
        default=0.95,
        help="target cycle service level, between 0 and 1 (0.95 or 95%)",
    ),
    Field(
        "supplier",
        "text",
        blank="null",
        max_length=100,
        aliases=("supplier", "vendor", "supplier_name"),
        default="Unassigned",
    ),
    Field(
        "one_shot",
        "bool",
        blank="null",
        aliases=("one_shot", "oneshot", "one_time_buy", "seasonal_buy"),
        default=False,
        help="a seasonal / one-shot buy ordered with the newsvendor quantity: true/false, yes/no, 1/0 or y/n",
    ),
    # supply side (issue 18): the resource the SKU loads and the capacity one unit uses
    Field(
        "resource",
        "text",
        blank="null",
        max_length=100,
        aliases=("resource", "resource_name", "production_line", "work_center", "work_centre", "workcenter"),
        default=None,
        help="production line or supplier capacity the SKU loads (a name from the resources file; blank: none)",
    ),
    Field(
        "capacity_per_unit",
        "number",
        blank="null",
        minimum=0.0,
        min_exclusive=True,
        aliases=("capacity_per_unit", "capacity_use", "load_per_unit", "hours_per_unit"),
        default=1.0,
        help="capacity units one unit of the SKU uses on its resource (> 0)",
    ),
    # issue 24: the planner's minimum stock (insurance spares), a floor on the reorder point and order-up-to level
    Field(
        "min_stock",
        "number",
        blank="null",
        minimum=0.0,
        aliases=("min_stock", "minimum_stock", "min_stock_level", "insurance_stock"),
        default=None,
        help="units the policy keeps at least: a floor on the reorder point and order-up-to (blank: none; 0 clears)",
    ),
    # multi-location (issue 21): the product shared across locations; last, so the SKU column claims its aliases first
    Field(
        "item",
        "text",
        max_length=64,
        aliases=("item", "item_code", "item_id", "item_number", "article_code"),
        default=None,
        help="the product shared across locations (absent: the SKU's own code; a blank cell is an error)",
    ),
)
# holding cost given as money per unit and year: converted to a rate with the unit cost
HOLDING_PER_UNIT = Field(
    "holding_cost_per_unit_year",
    "number",
    blank="null",
    aliases=(
        "holding_cost_per_unit_year",
        "holding_cost_per_unit",
        "holding_cost_eur_per_unit_year",
        "holding_cost_usd_per_unit_year",
        "holding_cost",
    ),
)

STOCK = (
    SKU,
    Field(
        "on_hand",
        "number",
        required=True,
        aliases=(
            "on_hand",
            "onhand",
            "stock",
            "stock_on_hand",
            "qty_on_hand",
            "inventory",
            "current_stock",
            "soh",
            "available",
        ),
        help="units on hand",
    ),
    Field(
        "on_order",
        "number",
        blank="zero",
        aliases=("on_order", "onorder", "open_orders", "in_transit", "pipeline", "qty_on_order"),
        default=0.0,
        help="units ordered, not yet received (blank = 0)",
    ),
    Field(
        "as_of",
        "date",
        blank="null",
        aliases=("as_of", "as_of_date", "date", "snapshot_date", "stock_date"),
        help="date of the count (blank or absent = the import date)",
    ),
)

RECEIPTS = (
    SKU,
    Field("order_date", "date", required=True, aliases=("order_date", "ordered", "ordered_on", "po_date")),
    Field(
        "promised_date", "date", blank="null", aliases=("promised_date", "promised", "due_date", "expected_date", "eta")
    ),
    Field(
        "received_date",
        "date",
        required=True,
        aliases=("received_date", "received", "received_on", "receipt_date", "delivery_date", "delivered"),
    ),
    Field(
        "quantity", "number", required=True, aliases=("quantity", "qty", "received_qty", "quantity_received", "units")
    ),
    Field(
        "supplier",
        "text",
        blank="null",
        max_length=100,
        aliases=("supplier", "vendor", "supplier_name"),
        help="defaults to the SKU's supplier",
    ),
)

RESOURCES = (
    Field(
        "resource",
        "code",
        required=True,
        max_length=100,
        aliases=("resource", "resource_name", "production_line", "line", "work_center", "work_centre", "machine"),
        help="production line or supplier capacity (created when new)",
    ),
    Field(
        "period",
        "date",
        required=True,
        aliases=("period", "date", "month", "week", "period_start", "start_date"),
        help="start of the month (monthly) or week (weekly) the capacity is for",
    ),
    Field(
        "capacity",
        "number",
        required=True,
        aliases=("capacity", "regular_capacity", "capacity_units", "available_capacity"),
        help="regular capacity in the period (>= 0), in capacity units",
    ),
    Field(
        "overtime_capacity",
        "number",
        blank="zero",
        aliases=("overtime_capacity", "overtime", "ot_capacity", "flex_capacity", "max_overtime"),
        default=0.0,
        help="extra capacity on overtime (blank = 0)",
    ),
    Field(
        "overtime_cost",
        "number",
        blank="zero",
        aliases=("overtime_cost", "ot_cost", "overtime_cost_per_unit", "overtime_rate"),
        default=0.0,
        help="cost per capacity unit on overtime (blank = 0; never below the regular cost)",
    ),
    Field(
        "regular_cost",
        "number",
        blank="zero",
        aliases=("regular_cost", "regular_cost_per_unit", "cost_per_unit", "regular_rate"),
        default=0.0,
        help="cost per capacity unit on regular time (blank = 0)",
    ),
)

LOCATION_NAME = ("location", "site", "warehouse", "store", "dc")
LANES = (
    Field(
        "from_location",
        "text",
        required=True,
        max_length=100,
        aliases=("from_location", "from", "source", "source_location", *(f"from_{a}" for a in LOCATION_NAME[1:])),
        help="the giving location (a location of the SKU master)",
    ),
    Field(
        "to_location",
        "text",
        required=True,
        max_length=100,
        aliases=("to_location", "to", "destination", "destination_location", *(f"to_{a}" for a in LOCATION_NAME[1:])),
        help="the receiving location (a location of the SKU master)",
    ),
    Field(
        "lead_time_days",
        "number",
        required=True,
        maximum=3650.0,
        aliases=("lead_time_days", "lead_time", "transit_days", "transit_time_days", "lead_time_weeks"),
        scales={"lead_time_weeks": 7.0},
        help="days from shipping to arrival (>= 0)",
    ),
    Field(
        "cost_per_unit",
        "number",
        required=True,
        aliases=("cost_per_unit", "transfer_cost", "cost", "freight_per_unit", "unit_cost"),
        help="cost of moving one unit over the lane (>= 0)",
    ),
    Field(
        "min_qty",
        "number",
        blank="null",
        minimum=1.0,
        aliases=("min_qty", "minimum_qty", "min_quantity", "minimum_quantity", "lot", "min_transfer_qty"),
        default=1.0,
        help="transfers move multiples of this many units (>= 1; blank or absent: 1)",
    ),
)

PROMOTIONS = (  # issue 20, services.ingest.promotions
    Field(
        "date",
        "date",
        required=True,
        aliases=("date", "period", "week", "day", "month", "ds", "period_start"),
        help="the period the price and promotion apply to (history or plan)",
    ),
    SKU,
    Field(
        "price",
        "number",
        blank="null",
        aliases=("price", "sell_price", "selling_price", "unit_price", "shelf_price"),
        help="the selling price that period (>= 0; blank: unknown)",
    ),
    Field(
        "promotion",
        "text",
        blank="null",
        max_length=100,
        aliases=("promotion", "promo", "on_promotion", "promotion_flag", "promo_flag", "promotion_type"),
        help="0/1, yes/no, or a label (blank: no promotion)",
    ),
)
EVENTS = (  # issue 20, services.ingest.events
    Field(
        "date",
        "date",
        required=True,
        aliases=("date", "period", "day", "week", "ds"),
        help="the day (or period) of the event",
    ),
    Field(
        "event",
        "text",
        required=True,
        max_length=100,
        aliases=("event", "event_name", "name", "holiday", "event_type"),
        help="the event's name (events of one name are learned together)",
    ),
    Field(
        "location",
        "text",
        blank="null",
        max_length=100,
        aliases=LOCATION.aliases + ("state", "region"),
        help="blank: every location; else only the SKUs of this location",
    ),
)
ADJUSTMENTS = (  # issue 19: commercial adjustments; the rules are services.consensus's (numbers checked there)
    Field(
        "scope",
        "text",
        required=True,
        max_length=110,
        aliases=("scope", "sku_or_category", "sku", "category", "code", "item"),
        help="a SKU code, category:NAME, or a category name (a SKU code wins over a category of the same name)",
    ),
    Field(
        "period",
        "text",
        required=True,
        max_length=32,
        aliases=("period", "month", "date", "period_start"),
        help="a month (2027-01) or a date within it; inside the latest run's forecast",
    ),
    Field(
        "change_pct",
        "text",
        blank="null",
        max_length=32,
        aliases=("change_pct", "pct", "percent", "change_percent", "uplift_pct"),
        help="percent change of the forecast after overrides (-100 to 1000); or change_units",
    ),
    Field(
        "change_units",
        "text",
        blank="null",
        max_length=32,
        aliases=("change_units", "units", "change_qty", "qty", "quantity"),
        help="units added over the month for the whole scope (negative: fewer); or change_pct",
    ),
    Field(
        "reason",
        "text",
        required=True,
        max_length=500,
        aliases=("reason", "why", "comment", "note", "notes"),
        help="why (at most 500 characters)",
    ),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "demand": DEMAND,
    "skus": SKU_MASTER,
    "stock": STOCK,
    "receipts": RECEIPTS,
    "resources": RESOURCES,
    "lanes": LANES,
    "promotions": PROMOTIONS,
    "events": EVENTS,
    "adjustments": ADJUSTMENTS,
}
KEYS: dict[str, tuple[str, ...]] = {
    "demand": ("sku", "date"),
    "skus": ("sku",),
    "stock": ("sku", "as_of"),
    "receipts": ("sku", "order_date", "received_date"),
    "resources": ("resource", "period"),
    "lanes": ("from_location", "to_location"),
    "promotions": ("sku", "date"),
    "events": ("date", "event", "location"),
    "adjustments": ("scope", "period"),
}


def normalise_header(name: object) -> str:
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[^0-9a-z\u00c0-\uffff]+", "_", text).strip("_")


@dataclass(frozen=True)
class Resolved:
    """Which file column (position and original header) feeds each field."""

    columns: dict[str, int]  # field name -> column position
    headers: list[str]  # original headers
    scales: dict[str, float]  # field name -> factor applied to the values
    ignored: list[str]

    def header(self, field_name: str) -> str:
        return self.headers[self.columns[field_name]]


def resolve(headers: list[str], fields: tuple[Field, ...], *, kind: str, extra: tuple[Field, ...] = ()) -> Resolved:
    """Map file headers to fields; raises :class:`FileRejectedError` for missing required or repeated columns."""
    normal = [normalise_header(h) for h in headers]
    seen: dict[str, int] = {}
    for i, name in enumerate(normal):
        if not name:
            continue
        if name in seen:
            raise FileRejectedError(f"column '{headers[i]}' appears twice (columns {seen[name] + 1} and {i + 1})")
        seen[name] = i
    stripped = {}
    for name, i in seen.items():
        parts = name.rsplit("_", 1)
        if len(parts) == 2 and parts[1] in _CURRENCIES and parts[0] not in seen:
            stripped.setdefault(parts[0], i)
    columns: dict[str, int] = {}
    scales: dict[str, float] = {}
    used: set[int] = set()
    for spec in fields + extra:
        for alias in spec.aliases:
            position = seen.get(alias, stripped.get(alias))
            if position is not None and position not in used:
                columns[spec.name] = position
                used.add(position)
                if alias in spec.scales:
                    scales[spec.name] = spec.scales[alias]
                break
    missing = [spec for spec in fields if spec.required and spec.name not in columns]
    if missing:
        parts = [f"'{spec.name}' (also accepted: {', '.join(spec.aliases[1:6])})" for spec in missing]
        found = ", ".join(f"'{h}'" for h in headers[:12]) + (" ..." if len(headers) > 12 else "")
        raise FileRejectedError(f"the {kind} file has no {' or '.join(parts)} column; its columns are {found}")
    ignored = [headers[i] for i in range(len(headers)) if i not in used and normal[i]]
    return Resolved(columns=columns, headers=list(headers), scales=scales, ignored=ignored)
