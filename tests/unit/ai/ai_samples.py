"""Sample snapshot rows and KPIs for the ai/ tests (engine-contract columns plus code, name, category)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

BASE_ROW: dict[str, Any] = {
    "code": "SKU-0001",
    "name": "Steel bracket 40mm",
    "category": "Hardware",
    "status": "normal",
    "status_reason": "cover 41.3 days within target; position 512 above ROP 300",
    "demand_class": "smooth",
    "adi": 1.0,
    "cv2": 0.12,
    "abc": "A",
    "xyz": "X",
    "forecast_model": "ets",
    "mase": 0.81,
    "wape": 0.18,
    "bias": 0.02,
    "model_scores": {"ets": 0.81, "seasonal_naive": 1.02},
    "demand_recent": 86.5,
    "demand_baseline": 84.2,
    "forecast_per_period": 85.0,
    "sigma": 21.3,
    "lead_time_periods": 2.0,
    "lead_time_std_periods": 0.4,
    "service_level": 0.95,
    "safety_stock": 64.4,
    "reorder_point": 234.4,
    "order_up_to": 320.0,
    "eoq": 410.0,
    "newsvendor_qty": 300.0,
    "rop_method": "normal",
    "rop_method_reason": "lead-time demand is large and smooth",
    "on_hand": 512.0,
    "on_order": 0.0,
    "inventory_position": 512.0,
    "recommended_qty": 0.0,
    "order_by_periods": 3.0,
    "days_of_cover": 41.3,
    "annual_demand": 4420.0,
    "inventory_value": 6144.0,
    "value_at_risk": 0.0,
    "excess_value": 0.0,
    "surge_z": 0.3,
    "periods_since_last_sale": 0,
}

STATUS_OVERRIDES: dict[str, dict[str, Any]] = {
    "stockout_risk": {
        "code": "SKU-0002",
        "name": "Hydraulic pump HP-200",
        "status": "stockout_risk",
        "status_reason": "cover 6.2 days < lead time 14 days",
        "demand_recent": 140.0,
        "demand_baseline": 118.0,
        "forecast_per_period": 131.0,
        "sigma": 58.0,
        "safety_stock": 152.6,
        "reorder_point": 414.6,
        "on_hand": 116.0,
        "inventory_position": 116.0,
        "recommended_qty": 600.0,
        "days_of_cover": 6.2,
        "value_at_risk": 18234.6,
        "inventory_value": 5220.0,
    },
    "surge": {
        "code": "SKU-0003",
        "name": "Cooling fan CF-12",
        "status": "surge",
        "status_reason": "recent demand 212 vs forecast 90 (z 4.1)",
        "demand_recent": 212.0,
        "demand_baseline": 88.0,
        "forecast_per_period": 90.0,
        "sigma": 29.5,
        "surge_z": 4.13,
        "recommended_qty": 450.0,
        "days_of_cover": 12.0,
        "value_at_risk": 2310.0,
    },
    "low_velocity": {
        "code": "SKU-0004",
        "name": "Brass valve BV-9",
        "status": "low_velocity",
        "status_reason": "recent demand 2.3 is 0.21 of baseline 11",
        "demand_recent": 2.25,
        "demand_baseline": 11.0,
        "forecast_per_period": 3.0,
        "sigma": 2.8,
        "safety_stock": 4.6,
        "reorder_point": 10.6,
        "on_hand": 140.0,
        "days_of_cover": 435.6,
        "value_at_risk": 3120.0,
        "demand_class": "intermittent",
        "forecast_model": "croston_sba",
    },
    "dead_stock": {
        "code": "SKU-0005",
        "name": "Legacy gasket LG-1",
        "status": "dead_stock",
        "status_reason": "no sales for 19 periods",
        "demand_recent": 0.0,
        "demand_baseline": 0.4,
        "forecast_per_period": 0.0,
        "sigma": 0.5,
        "safety_stock": 0.0,
        "reorder_point": 0.0,
        "on_hand": 75.0,
        "days_of_cover": math.inf,
        "value_at_risk": 1875.0,
        "periods_since_last_sale": 19,
        "demand_class": "lumpy",
        "forecast_model": "tsb",
    },
    "overstock": {
        "code": "SKU-0006",
        "name": "Copper wire CW-3",
        "status": "overstock",
        "status_reason": "cover 182 days > 3 x target 35 days",
        "demand_recent": 31.0,
        "demand_baseline": 36.0,
        "forecast_per_period": 32.0,
        "sigma": 19.0,
        "on_hand": 830.0,
        "days_of_cover": 181.6,
        "value_at_risk": 9412.0,
        "excess_value": 9412.0,
    },
    "normal": {},
}

PREVIOUS_OVERRIDES: dict[str, Any] = {"status": "normal", "safety_stock": 140.2, "reorder_point": 380.0, "sigma": 50.0}


def make_row(status: str = "normal", **changes: Any) -> dict[str, Any]:
    """A complete snapshot row for ``status`` (engine-contract columns plus code, name, category)."""
    return {**BASE_ROW, **STATUS_OVERRIDES[status], **changes}


def snapshot_frame(extra_normal: int = 14) -> pd.DataFrame:
    """A snapshot of the six status rows plus ``extra_normal`` normal SKUs, indexed by code."""
    records = [make_row(status) for status in STATUS_OVERRIDES]
    for i in range(extra_normal):
        records.append(make_row("normal", code=f"SKU-1{i:03d}", name=f"Normal part {i}", demand_recent=80.0 + i))
    frame = pd.DataFrame.from_records(records).set_index("code")
    return frame


KPIS = {
    "fill_rate": 0.9734,
    "inventory_value": 412345.4,
    "value_at_risk": 34951.6,
    "excess_value": 11287.0,
    "sku_count": 20,
}
PREVIOUS_KPIS = {
    "fill_rate": 0.9691,
    "inventory_value": 398000.0,
    "value_at_risk": 30110.0,
    "count_stockout_risk": 0,
    "count_surge": 1,
    "count_low_velocity": 1,
    "count_dead_stock": 1,
    "count_overstock": 1,
    "count_normal": 16,
}
