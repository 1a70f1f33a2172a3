"""The words for the numbers: one table of bands that turns a forecast-error CV, an ADI and days of cover into words,
used by the commentary (``ai.facts``, the offline writer, the prompt), the SKU page and the PDF briefing (issue 15
item 9), so a SKU is never "moderately predictable" in one place and "volatile" in another.

Bands (lower limit inclusive, upper limit exclusive; the value is compared as it is quoted, i.e. rounded to the
decimals the text shows, so "a CV of 1" is always "volatile"):

- forecast-error CV (sigma / demand per period; the engine's XYZ limits, ``core.portfolio.EngineSettings``):
  below 0.5 "stable" (X), 0.5 to below 1 "variable" (Y), 1 or more "volatile" (Z);
- ADI, the mean interval between periods with demand (Syntetos & Boylan 2005 cut-off 1.32, ``core.classify``):
  below 1.32 "regular" (sells in most periods), from 1.32 "intermittent";
- days of cover against the lead time in days (cover / lead time, compared exactly like the engine's stockout
  rule): below 1 "short" (the stock runs out before a new order can arrive), 1 to below 3 "adequate", 3 or more
  "long".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any


@dataclass(frozen=True)
class Band:
    """One band: values from the previous band's ``below`` up to (not including) ``below``."""

    below: float
    key: str
    word: str
    meaning: str


CV_BANDS: tuple[Band, ...] = (
    Band(0.5, "low", "stable", "forecast errors under half of the demand level"),
    Band(1.0, "moderate", "variable", "forecast errors of half to all of the demand level"),
    Band(math.inf, "high", "volatile", "forecast errors as large as the demand level or larger"),
)
ADI_BANDS: tuple[Band, ...] = (
    Band(1.32, "regular", "regular", "sells in most periods"),
    Band(math.inf, "intermittent", "intermittent", "many periods without a sale"),
)
COVER_BANDS: tuple[Band, ...] = (
    Band(1.0, "short", "short", "shorter than the lead time: the stock runs out before a new order can arrive"),
    Band(3.0, "adequate", "adequate", "outlasts the lead time"),
    Band(math.inf, "long", "long", "three lead times or more"),
)
CV_DECIMALS = 2
"""The CV is quoted (and banded) with 2 decimals."""


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def band(bands: Sequence[Band], value: Any, *, decimals: int | None = None) -> Band | None:
    """The band ``value`` falls in (None for a missing value); ``decimals``: compare the value as quoted.

    Raises
    ------
    ValueError
        ``bands`` empty or not in increasing order.
    """
    if not bands or any(a.below >= b.below for a, b in pairwise(bands)):
        raise ValueError("bands must be a non-empty sequence with increasing limits")
    x = _number(value)
    if x is None:
        return None
    if decimals is not None:
        x = round(x, decimals)
    return next((b for b in bands if x < b.below), bands[-1])


def cv_band(cv: Any) -> Band | None:
    """The forecast-error CV's band, compared at the 2 decimals it is quoted with."""
    return band(CV_BANDS, cv, decimals=CV_DECIMALS)


def adi_band(adi: Any) -> Band | None:
    """The demand pattern's band by its ADI (mean interval between periods with demand)."""
    return band(ADI_BANDS, adi, decimals=2)


def cover_band(days_of_cover: Any, lead_time_days: Any) -> Band | None:
    """Days of cover against the lead time (None when either is missing or the lead time is 0). Compared exactly,
    as the engine's stockout rule compares them (``core.health``), so "short" and a short-cover status agree."""
    cover, lead = _number(days_of_cover), _number(lead_time_days)
    if cover is None or lead is None or lead <= 0:
        return None
    return band(COVER_BANDS, cover / lead)


def forecast_cv(sigma: Any, *levels: Any) -> float | None:
    """Forecast-error CV = sigma / level, level = the first of ``levels`` above 0 (the forecast per period, then the
    baseline / recent demand); None without sigma or a level. One definition for the commentary and the pages."""
    s = _number(sigma)
    if s is None:
        return None
    for level in levels:
        x = _number(level)
        if x is not None and x > 0:
            return s / x
    return None


def cv_text(cv: Any) -> str:
    """ "CV 0.62: variable" ('' without a CV), the CV quoted at the decimals its band is compared at."""
    b = cv_band(cv)
    return "" if b is None else f"CV {float(cv):.{CV_DECIMALS}f}: {b.word}"


def cover_text(days_of_cover: Any, lead_time_days: Any) -> str:
    """ "short: below the 28-day lead time" / "adequate: outlasts the 28-day lead time" ('' when unknown)."""
    b = cover_band(days_of_cover, lead_time_days)
    if b is None:
        return ""
    lead = f"{float(lead_time_days):,.0f}-day lead time"
    return {
        "short": f"short: below the {lead}",
        "adequate": f"adequate: outlasts the {lead}",
        "long": f"long: three or more times the {lead}",
    }[b.key]


def word(b: Band | None, missing: str = "") -> str:
    return missing if b is None else b.word


def _limits(bands: Sequence[Band], fmt: str) -> str:
    parts, low = [], None
    for b in bands:
        if low is None:
            parts.append(f'below {b.below:{fmt}} "{b.word}"')
        elif math.isinf(b.below):
            parts.append(f'{low:{fmt}} or more "{b.word}"')
        else:
            parts.append(f'{low:{fmt}} to below {b.below:{fmt}} "{b.word}"')
        low = b.below
    return ", ".join(parts)


def prompt_text() -> str:
    """The bands as the prompt states them (the same table the offline writer and the pages use)."""
    return (
        f"Forecast-error CV: {_limits(CV_BANDS, 'g')}. "
        f"Demand interval ADI: {_limits(ADI_BANDS, 'g')}. "
        f"Days of cover divided by the lead time in days: {_limits(COVER_BANDS, 'g')}."
    )


__all__ = [
    "ADI_BANDS",
    "COVER_BANDS",
    "CV_BANDS",
    "Band",
    "adi_band",
    "band",
    "cover_band",
    "cover_text",
    "cv_band",
    "cv_text",
    "forecast_cv",
    "prompt_text",
    "word",
]
