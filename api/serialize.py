"""Service results -> JSON-ready dicts (ISO dates, finite numbers or null)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from core import formats

#: list fields of a SKU, in order: (API name, snapshot key). Names follow the issue; values come from the snapshot.
SNAPSHOT_FIELDS: tuple[tuple[str, str], ...] = (
    ("status", "status"),
    ("status_reason", "status_reason"),
    ("on_hand", "on_hand"),
    ("on_order", "on_order"),
    ("demand_per_period", "demand_baseline"),
    ("forecast_per_period", "forecast_per_period"),
    ("safety_stock", "safety_stock"),
    ("reorder_point", "reorder_point"),
    ("eoq", "eoq"),
    ("newsvendor_quantity", "newsvendor_qty"),
    ("days_of_cover", "days_of_cover"),
    ("abc", "abc"),
    ("xyz", "xyz"),
    ("demand_class", "demand_class"),
    ("value_at_risk", "value_at_risk"),
    ("recommended_qty", "recommended_qty"),
    ("inventory_value", "inventory_value"),
    ("service_level", "service_level"),
    ("lead_time_periods", "lead_time_periods"),
    ("forecast_model", "forecast_model"),
)


def number(value: Any) -> float | None:
    """A finite float or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def iso(value: Any) -> str | None:
    """ISO 8601 text of a date or datetime (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def plain(value: Any) -> Any:
    """Any service value -> JSON-safe (numbers finite or None, dates ISO, containers recursively)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dt.date):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return str(value)


def run_info(run: Any) -> dict[str, Any] | None:
    """A :class:`services.runs.RunInfo` as JSON."""
    if run is None:
        return None
    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "grain": run.grain,
        "data_as_of": iso(run.data_as_of),
        "sku_count": run.sku_count,
        "triggered_by": run.triggered_by,
    }


def sku(detail: Any) -> dict[str, Any]:
    """The list fields of one SKU from a :class:`services.sku_detail.SkuDetail`."""
    out: dict[str, Any] = {
        "code": detail.code,
        "name": detail.name,
        "category": detail.category,
        "location": detail.location,
        "item": getattr(detail, "item", "") or detail.code,
        "supplier": detail.supplier,
        "incomplete_master_data": bool(getattr(detail, "defaulted_fields", ())),
        "defaulted_fields": list(getattr(detail, "defaulted_fields", ())),
        # its last reported demand period where it is before the run's data through (issue 15), else None
        "last_reported": iso(detail.last_reported) if getattr(detail, "reported_behind", False) else None,
    }
    snapshot = detail.snapshot or {}
    for name, key in SNAPSHOT_FIELDS:
        raw = snapshot.get(key)
        out[name] = raw if isinstance(raw, str) or raw is None else number(raw)
    # an order quantity is a whole number where the order multiple is whole (348, not 348.0)
    out["recommended_qty"] = formats.order_quantity(out["recommended_qty"], getattr(detail, "order_multiple", 1.0))
    return out


def sku_full(detail: Any) -> dict[str, Any]:
    """One SKU with its forecast (mean, p10, p50, p90 per period), demand history and master data."""
    out = sku(detail)
    out.update(
        {
            "unit_cost": number(detail.unit_cost),
            "unit_price": number(detail.unit_price),
            "moq": number(detail.moq),
            "order_multiple": number(detail.order_multiple),
            "lead_time_days": number(detail.lead_time_master_days),
            "one_shot": bool(getattr(detail, "one_shot", False)),
            "order_by_date": iso(detail.order_by_date),
            "overdue_days": getattr(detail, "overdue_days", None),
            "order_policy": getattr(detail, "order_policy", None),
            "run_id": detail.run.id if detail.run else None,
            "forecast": [
                {
                    "period": iso(f["period"]),
                    "mean": number(f["mean"]),
                    "p10": number(f["p10"]),
                    "p50": number(f["p50"]),
                    "p90": number(f["p90"]),
                }
                for f in detail.forecast
            ],
            "history": [{"period": iso(period), "quantity": number(qty)} for period, qty in detail.history],
        }
    )
    return out


def kpi(item: Any) -> dict[str, Any]:
    """A :class:`services.watchtower.Kpi` as JSON."""
    return {
        "label": item.label,
        "value": number(item.value),
        "previous": number(item.previous),
        "delta": number(item.delta),
        "kind": item.kind,
    }


def summary(result: Any) -> dict[str, Any]:
    """A :class:`services.watchtower.KpiSummary` as JSON."""
    return {
        "run": run_info(result.run),
        "previous_run": run_info(result.previous),
        "sku_count": result.sku_count,
        "status_counts": {item.key: kpi(item) for item in result.status_counts},
        "kpis": {item.key: kpi(item) for item in result.portfolio},
    }


def run_summary(result: Any) -> dict[str, Any]:
    """A :class:`services.recompute.RunSummary` as JSON."""
    return {
        "run_id": result.run_id,
        "status": result.status,
        "sku_count": result.sku_count,
        "seconds": number(result.seconds),
        "grain": result.grain,
        "data_as_of": iso(result.data_as_of),
        "kpis": plain(result.kpis),
    }


def order(view: Any) -> dict[str, Any]:
    """A :class:`services.orders.OrderView` as JSON (dates ISO, numbers finite or null; ``value`` null when the SKU has
    no unit cost: ``unit_cost_missing``)."""
    out = {key: plain(value) for key, value in view.as_dict().items()}
    if out.get("unit_cost_missing"):
        out["value"] = None
    return out
