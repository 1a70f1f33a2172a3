"""Service results -> JSON-ready dicts (ISO dates, finite numbers or null)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


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
