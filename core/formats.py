"""How dates, order quantities and "overdue" read everywhere: pages, callbacks, exports, the API and the PDF.

One module so a date never appears as 12/06/2026 on one page, 2026-12-06 on another and "06 Dec" on a third
(issue 15 item 7). It lives in ``core`` because every layer may import core (docs/architecture.md, Who may import
whom); it is pure (no I/O, no clock: "today" is passed in).

Rules:

- tables, grids, exports, API values, key-value rows: ISO 8601, ``2026-12-06`` (:func:`fmt_date`); date and time
  ``2026-12-06 05:59 UTC`` (:func:`fmt_datetime`);
- prose (sentences, headers, notes): ``6 Dec 2026`` (:func:`fmt_date_prose`), no leading zero, always the year;
- chart hovers use :data:`PLOTLY_DATE` (ISO, d3 syntax); file names :func:`file_stamp` (``20261206-055948``);
- an order-by date before the reference date ("today" of the view: the date the page, API answer or PDF is made,
  never before the snapshot) is overdue by the difference in days (:func:`overdue_days`, :func:`overdue_text`);
- an order quantity is a whole number where the SKU's order multiple is whole (:func:`order_quantity`,
  :func:`fmt_order_qty`): the engine rounds up to whole packs, so 348.0 is 348 in a grid, a CSV and JSON.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

DATE_FORMAT = "%Y-%m-%d"
"""strftime pattern of a date in tables, exports and the API (ISO 8601)."""
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
"""strftime pattern of a date and time (UTC; :func:`fmt_datetime` appends " UTC")."""
PLOTLY_DATE = "%Y-%m-%d"
"""d3-time-format pattern for chart hovers (``%{x|...}``), the same ISO date as the tables."""
FILE_STAMP = "%Y%m%d-%H%M%S"
"""strftime pattern of the time stamp in a download's file name."""
MISSING = "\u2013"
"""What a missing date reads as (an en dash)."""


def _as_date(value: Any) -> dt.date | None:
    """A date from a date, datetime, pandas Timestamp, numpy datetime64 or ISO text (None for None / NaT / '')."""
    if value is None:
        return None
    try:
        if value != value:  # NaT (pandas' NaT is a datetime that equals nothing)
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT has it too)
        try:
            return value.to_pydatetime().date()
        except (ValueError, AttributeError):
            return None
    text = str(value).strip()
    if not text or text.lower() in ("nat", "nan", "none"):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise ValueError(f"value must be a date or an ISO date text, got {value!r}") from exc


def fmt_date(value: Any, *, missing: str = MISSING) -> str:
    """A date for tables, exports and the API: ISO ``2026-12-06`` (``missing`` when there is none)."""
    day = _as_date(value)
    return missing if day is None else day.strftime(DATE_FORMAT)


def fmt_date_prose(value: Any, *, missing: str = MISSING) -> str:
    """A date in a sentence: ``6 Dec 2026`` (day without a leading zero, English month abbreviation, year)."""
    day = _as_date(value)
    return missing if day is None else f"{day.day} {day.strftime('%b')} {day.year}"


def fmt_month(value: Any, *, missing: str = MISSING) -> str:
    """A month: ``Dec 2026`` (English month abbreviation and year), as in a monthly plan's column heads."""
    day = _as_date(value)
    return missing if day is None else f"{day.strftime('%b')} {day.year}"


def fmt_datetime(value: dt.datetime | None, *, missing: str = MISSING, seconds: bool = False) -> str:
    """A time stamp: ``2026-12-06 05:59 UTC`` (``seconds``: ``05:59:48``; naive datetimes are UTC, as the database
    stores them)."""
    if value is None:
        return missing
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return f"{value.strftime(DATETIME_FORMAT + (':%S' if seconds else ''))} UTC"


def file_stamp(value: dt.datetime | dt.date) -> str:
    """The stamp in a download's file name: ``20261206-055948`` (a date alone: ``20261206``)."""
    if isinstance(value, dt.datetime):
        return value.strftime(FILE_STAMP)
    return value.strftime(FILE_STAMP.split("-")[0])


def overdue_days(order_by: Any, as_of: Any) -> int | None:
    """Days by which an order-by date is past: (as_of - order_by) in days when order_by is before as_of, else None.

    Parameters
    ----------
    order_by
        The date the order must be placed by (None: no order-by date, never overdue).
    as_of
        The reference date ("today" of the page, API answer or PDF).

    Raises
    ------
    ValueError
        ``as_of`` missing or not a date.
    """
    ref = _as_date(as_of)
    if ref is None:
        raise ValueError(f"as_of must be a date, got {as_of!r}")
    due = _as_date(order_by)
    if due is None or due >= ref:
        return None
    return (ref - due).days


def overdue_text(days: int | None) -> str:
    """``overdue by 6 days`` / ``overdue by 1 day`` ('' when not overdue)."""
    if not days or days <= 0:
        return ""
    return f"overdue by {days:,} day{'s' if days != 1 else ''}"


def _whole_multiple(order_multiple: Any) -> bool:
    try:
        multiple = float(order_multiple)
    except (TypeError, ValueError):
        return True  # no multiple: whole units
    if not math.isfinite(multiple) or multiple <= 0:
        return True
    return abs(multiple - round(multiple)) < 1e-9


def order_quantity(qty: Any, order_multiple: Any = 1.0) -> int | float | None:
    """An order quantity as stored and sent: an ``int`` where the order multiple is whole (or not given) and the
    quantity is whole (to 1e-6), else the float (a pack of 0.5 kg, or a planner's fractional edit, stays as is).
    None for a missing or non-finite quantity."""
    if qty is None or isinstance(qty, bool):
        return None
    try:
        number = float(qty)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    if _whole_multiple(order_multiple) and abs(number - round(number)) < 1e-6:
        return int(round(number))
    return number


def fmt_order_qty(qty: Any, order_multiple: Any = 1.0, *, missing: str = MISSING) -> str:
    """An order quantity for display: ``1,348`` where the multiple is whole, else up to 3 decimals (``12.5``)."""
    value = order_quantity(qty, order_multiple)
    if value is None:
        return missing
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "FILE_STAMP",
    "MISSING",
    "PLOTLY_DATE",
    "file_stamp",
    "fmt_date",
    "fmt_date_prose",
    "fmt_datetime",
    "fmt_order_qty",
    "order_quantity",
    "overdue_days",
    "overdue_text",
]
