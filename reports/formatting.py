"""Number and date formatting used by the briefings (and reusable by the dashboard).

Missing values (None / NaN) print as an en dash; infinite cover prints as the infinity sign.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from core import formats

MISSING = "\u2013"  # en dash
INFINITY = "\u221e"
NO_CHANGE = "no change"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: float | None) -> str:
    """``1234.4`` -> ``"1,234"``."""
    if _missing(value):
        return MISSING
    if math.isinf(value):  # type: ignore[arg-type]
        return INFINITY if value > 0 else "-" + INFINITY  # type: ignore[operator]
    return f"{round(value):,}"  # type: ignore[arg-type]


def fmt_num(value: float | None, digits: int = 1) -> str:
    """``3.456`` -> ``"3.5"`` (thousands separated)."""
    if _missing(value):
        return MISSING
    if math.isinf(value):  # type: ignore[arg-type]
        return INFINITY if value > 0 else "-" + INFINITY  # type: ignore[operator]
    return f"{value:,.{digits}f}"


def fmt_qty(value: float | None) -> str:
    """Quantity: whole numbers without decimals (``120``), others with one (``12.5``)."""
    if _missing(value):
        return MISSING
    if math.isinf(value):  # type: ignore[arg-type]
        return INFINITY
    if abs(value - round(value)) < 0.05:  # type: ignore[operator,arg-type]
        return fmt_int(value)
    return fmt_num(value, 1)


def fmt_money(value: float | None, symbol: str = "$") -> str:
    """``1234567.8`` -> ``"$1,234,568"``; ``-50`` -> ``"-$50"``."""
    if _missing(value):
        return MISSING
    sign = "-" if value < 0 else ""  # type: ignore[operator]
    return f"{sign}{symbol}{abs(round(value)):,}"  # type: ignore[arg-type]


def fmt_money_compact(value: float | None, symbol: str = "$") -> str:
    """``1234567`` -> ``"$1.23M"``, ``45600`` -> ``"$45.6k"``, ``950`` -> ``"$950"``."""
    if _missing(value):
        return MISSING
    sign = "-" if value < 0 else ""  # type: ignore[operator]
    v = abs(value)  # type: ignore[arg-type]
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= threshold:
            scaled = v / threshold
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{sign}{symbol}{scaled:.{digits}f}{suffix}"
    return f"{sign}{symbol}{round(v):,}"


def fmt_pct(fraction: float | None, digits: int = 1) -> str:
    """Fraction as percent: ``0.9534`` -> ``"95.3%"``."""
    if _missing(fraction):
        return MISSING
    return f"{fraction * 100:.{digits}f}%"  # type: ignore[operator]


def fmt_signed_pct(percent: float | None, digits: int = 0) -> str:
    """Already-percent change with a sign: ``45.2`` -> ``"+45%"``."""
    if _missing(percent):
        return MISSING
    if math.isinf(percent):  # type: ignore[arg-type]
        return "new"
    return f"{percent:+.{digits}f}%"


def fmt_days(value: float | None) -> str:
    """Days of cover: ``3.24`` -> ``"3.2"``, ``inf`` -> ``"∞"``, >= 100 without decimals, >= 10,000 as ``">9,999"``."""
    if _missing(value):
        return MISSING
    if math.isinf(value):  # type: ignore[arg-type]
        return INFINITY
    if value >= 10_000:  # type: ignore[operator]
        return ">9,999"
    return fmt_num(value, 0 if abs(value) >= 100 else 1)  # type: ignore[arg-type]


def fmt_date(value: date | None) -> str:
    """ISO date ``2026-03-14`` (tables and key-value rows; :func:`core.formats.fmt_date`)."""
    return formats.fmt_date(value, missing=MISSING)


def fmt_date_prose(value: date | None) -> str:
    """A date in a sentence, ``14 Mar 2026`` (:func:`core.formats.fmt_date_prose`)."""
    return formats.fmt_date_prose(value, missing=MISSING)


def fmt_datetime(value: datetime | None) -> str:
    """``2026-03-14 09:30 UTC`` (naive values are UTC, as stored; :func:`core.formats.fmt_datetime`)."""
    return formats.fmt_datetime(value, missing=MISSING)


def rounds_to_zero(text: str) -> bool:
    """True when a formatted number shows no non-zero digit (``"0.0 pp"``, ``"$0"``, ``"+0%"``): the value is below
    display precision, so it must not read as a rise or a fall (no sign, arrow or red / green)."""
    return not any(ch in "123456789" for ch in text)


def signed_change(delta: float, magnitude: str) -> str:
    """A change as shown next to a KPI: ``magnitude`` (the formatted ``abs(delta)``, e.g. ``"1.2 pp"``) with the sign
    of ``delta``, or :data:`NO_CHANGE` when the magnitude rounds to zero at display precision (``-0.0 pp`` is not a
    fall). One rule for the Watchtower tiles and the PDF briefings."""
    if rounds_to_zero(magnitude):
        return NO_CHANGE
    return ("+" if delta > 0 else "-") + magnitude


def fmt_change(current: float | None, previous: float | None, *, kind: str, symbol: str = "$") -> str:
    """Change of a KPI against the previous run.

    Parameters
    ----------
    kind
        ``"count"`` (``+12``), ``"money"`` (``+$1,234 (+4.5%)``; compact from a million: ``+$8.84M (+310.6%)``),
        ``"fraction"`` (percentage points, ``+1.2 pp``)
        or ``"number"`` (``+0.3``).

    Returns
    -------
    str
        The signed change, :data:`NO_CHANGE` when it rounds to zero at display precision (see :func:`signed_change`),
        or an en dash when a value is missing.
    """
    if _missing(current) or _missing(previous):
        return MISSING
    delta = current - previous  # type: ignore[operator]
    if kind == "count":
        return signed_change(delta, f"{abs(round(delta)):,}")
    if kind == "money":
        amount = fmt_money_compact(abs(delta), symbol) if abs(delta) >= 1e6 else f"{symbol}{abs(round(delta)):,}"
        text = signed_change(delta, amount)
        if previous and text != NO_CHANGE:
            text += f" ({delta / abs(previous) * 100:+.1f}%)"  # type: ignore[arg-type]
        return text
    if kind == "fraction":
        return signed_change(delta, f"{abs(delta) * 100:.1f} pp")
    if kind == "number":
        return signed_change(delta, f"{abs(delta):,.1f}")
    raise ValueError(f"kind must be count, money, fraction or number, got {kind!r}")
