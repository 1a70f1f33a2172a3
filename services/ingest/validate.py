"""Vectorised cell validators shared by the importer and the Data page's record editor.

Each check works on the distinct values of a column (pandas categories), so a million rows with a few thousand
distinct values cost a few thousand checks; the result is mapped back to every row. A check returns the parsed
values and, per row, ``None`` or the reason the cell was rejected (the reasons of the issue: missing value,
not a number, negative, NaN/inf, unparseable or impossible date, value out of range, invalid text).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from services.csv_safety import restore

MISSING = "missing value"
NOT_A_NUMBER = "not a number"
NEGATIVE = "negative value"
NOT_FINITE = "NaN or infinite value"
OUT_OF_RANGE = "value out of range"
BAD_DATE = "unparseable date"
IMPOSSIBLE_DATE = "impossible date"
FUTURE_DATE = "date in the future"
BAD_TEXT = "invalid text"
UNKNOWN_SKU = "unknown SKU"
DUPLICATE = "duplicate key within the file"
BAD_LINE = "malformed line"
NOT_A_BOOLEAN = "not a yes/no value: use true/false, yes/no, 1/0 or y/n"

MAX_NUMBER = 1e12
# Dates are accepted from MIN_DATE to today + MAX_FUTURE_DAYS (three years: beyond any forecast horizon or promised
# delivery); anything else is a typo or a spreadsheet's day 0 (1900-01-01), not a period of real demand.
MIN_DATE = dt.date(1990, 1, 1)
MAX_FUTURE_DAYS = 3 * 366
# SKU codes appear in URLs (/sku/<code>, /api/v1/skus/<code>): letters and digits of any script, spaces and these.
SKU_CODE_PUNCTUATION = "-_.:+()&"
_SKU_CODE = re.compile(r"^[\w .:+()&-]+$")
# Invisible format characters (Unicode category Cf: bidi controls such as U+202E, zero-width spaces, soft hyphen,
# word joiners, BOM, tags) and line/paragraph separators. Names keep ZWNJ / ZWJ (U+200C/U+200D; Persian, Indic
# scripts, emoji); codes refuse them too.
_INVISIBLE_RANGES = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_RANGES}]")
_INVISIBLE_IN_CODE = re.compile(f"[{_INVISIBLE_RANGES}\u200c\u200d]")
_NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_NUMBER_LIKE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ISO_DAY = r"\d{4}-\d{1,2}-\d{1,2}"
_ISO_DATETIME = _ISO_DAY + r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
_ISO_MONTH = r"\d{4}-\d{1,2}"
_ISO_WEEK = r"(\d{4})-?W(\d{1,2})"
_AMBIGUOUS = r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"

FieldType = Literal["code", "text", "number", "date", "bool"]
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n"})
Blank = Literal["error", "null", "zero"]


@dataclass(frozen=True)
class Field:
    """One column of an import kind: its type, rules and accepted header names (normalised, best first)."""

    name: str
    type: FieldType
    required: bool = False
    blank: Blank = "error"
    minimum: float | None = 0.0
    maximum: float | None = MAX_NUMBER
    min_exclusive: bool = False
    max_exclusive: bool = False
    percent_ok: bool = False
    max_length: int | None = None
    aliases: tuple[str, ...] = ()
    default: object = None
    help: str = ""
    scales: dict[str, float] = field(default_factory=dict)  # alias -> factor (lead_time_weeks -> 7)


@dataclass
class Checked:
    """Parsed values of a column (float64, datetime64[D] or object) and per-row reasons (None = valid)."""

    values: np.ndarray
    reasons: np.ndarray | None

    def ok(self) -> np.ndarray:
        if self.reasons is None:
            return np.ones(len(self.values), dtype=bool)
        return pd.isna(self.reasons)


def as_categorical(series: pd.Series) -> pd.Series:
    """``series`` as a categorical of strings (missing cells become the empty string)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        if (series.cat.codes.to_numpy() < 0).any():
            if "" not in series.cat.categories:
                series = series.cat.add_categories([""])
            series = series.fillna("")
        return series
    return series.astype(object).where(series.notna(), "").astype(str).astype("category")


def _expand(series: pd.Series, uniq_values: np.ndarray, uniq_reasons: np.ndarray) -> Checked:
    codes = series.cat.codes.to_numpy()
    values = uniq_values[codes]
    has_reason = ~pd.isna(uniq_reasons)
    reasons = uniq_reasons[codes] if has_reason.any() else None
    return Checked(values, reasons)


def _stripped(series: pd.Series) -> pd.Series:
    categories = pd.Series(series.cat.categories.astype(str), dtype=object)
    return categories.str.strip()


def check_numbers(series: pd.Series, spec: Field) -> Checked:
    """Numbers: blank per ``spec.blank``; rejects text, NaN/inf, negatives and values outside the range."""
    series = as_categorical(series)
    raw = _stripped(series)
    text = raw.map(restore)
    percent = text.str.endswith("%") if spec.percent_ok else pd.Series(False, index=text.index)
    body = text.where(~percent, text.str[:-1].str.strip())
    parsed = pd.to_numeric(body, errors="coerce").to_numpy(dtype=float)
    parsed = np.where(percent.to_numpy(), parsed / 100.0, parsed)
    lower = body.str.lower()
    blank = (body == "").to_numpy()
    reasons = np.full(len(body), None, dtype=object)
    nan = np.isnan(parsed)
    non_finite_text = lower.isin(_NON_FINITE).to_numpy()
    number_like = body.str.match(_NUMBER_LIKE.pattern).to_numpy()
    reasons[nan & ~blank] = NOT_A_NUMBER
    reasons[(nan | np.isinf(parsed)) & non_finite_text] = NOT_FINITE
    reasons[(nan | np.isinf(parsed)) & number_like & ~non_finite_text] = f"{OUT_OF_RANGE}: too large"
    finite = np.isfinite(parsed)
    if spec.minimum is not None:
        low = (parsed <= spec.minimum) if spec.min_exclusive else (parsed < spec.minimum)
        low &= finite
        if spec.minimum == 0 and not spec.min_exclusive:
            reasons[low] = NEGATIVE
        else:
            bound = "greater than" if spec.min_exclusive else "at least"
            reasons[low] = f"{OUT_OF_RANGE}: must be {bound} {spec.minimum:g}"
    if spec.maximum is not None:
        high = (parsed >= spec.maximum) if spec.max_exclusive else (parsed > spec.maximum)
        high &= finite
        bound = "less than" if spec.max_exclusive else "at most"
        reasons[high] = f"{OUT_OF_RANGE}: must be {bound} {spec.maximum:g}"
    values = parsed + 0.0  # -0.0 -> 0.0
    if spec.blank == "error":
        reasons[blank] = MISSING
    elif spec.blank == "zero":
        values[blank] = 0.0
    else:
        values[blank] = np.nan
    values[~pd.isna(reasons)] = np.nan
    return _expand(series, values, reasons)


def _parse_week(text: str) -> dt.date | None:
    match = re.fullmatch(_ISO_WEEK, text)
    if not match:
        return None
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None


def parse_date_labels(labels: pd.Series, *, date_format: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Parse distinct date strings -> (datetime64[D] with NaT, reasons). ISO forms always; ``date_format`` too.

    Accepted without an option: ``YYYY-MM-DD`` (also with a time part, which is dropped), ``YYYY-MM`` (the first
    day of the month) and ISO weeks ``YYYY-Www`` (the Monday). Day-first or month-first dates (``03/04/2024``)
    are never guessed: they need ``date_format`` (e.g. ``%d/%m/%Y``).
    """
    text = labels.astype(str).str.strip().map(restore)
    n = len(text)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    reasons = np.full(n, None, dtype=object)
    done = np.zeros(n, dtype=bool)
    if date_format:
        custom = pd.to_datetime(text, format=date_format, errors="coerce").to_numpy().astype("datetime64[D]")
        ok = ~np.isnat(custom)
        out[ok] = custom[ok]
        done |= ok
    day = text.str.fullmatch(_ISO_DAY).to_numpy() & ~done
    stamp = text.str.fullmatch(_ISO_DATETIME).to_numpy() & ~done
    month = text.str.fullmatch(_ISO_MONTH).to_numpy() & ~done
    week = text.str.fullmatch(_ISO_WEEK).to_numpy() & ~done
    if day.any() or stamp.any():
        first = text.where(~stamp, text.str.split(r"[T ]", n=1, regex=True).str[0])
        idx = day | stamp
        parsed = pd.to_datetime(first[idx], format="%Y-%m-%d", errors="coerce").to_numpy().astype("datetime64[D]")
        out[idx] = parsed
        reasons[np.flatnonzero(idx)[np.isnat(parsed)]] = IMPOSSIBLE_DATE
    if month.any():
        parsed = pd.to_datetime(text[month], format="%Y-%m", errors="coerce").to_numpy().astype("datetime64[D]")
        out[month] = parsed
        reasons[np.flatnonzero(month)[np.isnat(parsed)]] = IMPOSSIBLE_DATE
    for i in np.flatnonzero(week):
        monday = _parse_week(text.iloc[i])
        if monday is None:
            reasons[i] = f"{IMPOSSIBLE_DATE}: no such ISO week"
        else:
            out[i] = np.datetime64(monday, "D")
    blank = (text == "").to_numpy()
    rest = ~(done | day | stamp | month | week | blank)
    ambiguous = text.str.fullmatch(_AMBIGUOUS).to_numpy() & rest
    reasons[rest] = f"{BAD_DATE}: expected YYYY-MM-DD"
    if date_format:
        reasons[rest] = f"{BAD_DATE}: expected {date_format} or YYYY-MM-DD"
    elif ambiguous.any():
        reasons[ambiguous] = f"{BAD_DATE}: day/month order is ambiguous; give the date format (e.g. %d/%m/%Y)"
    low, high = date_window()
    valid = ~np.isnat(out)
    outside = valid & ((out < np.datetime64(low, "D")) | (out > np.datetime64(high, "D")))
    reasons[outside] = f"{OUT_OF_RANGE}: dates must be between {low} and {high} (today + 3 years)"
    out[outside] = np.datetime64("NaT")
    reasons[blank] = MISSING
    return out, reasons


def date_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The accepted dates, inclusive: :data:`MIN_DATE` to ``today`` + :data:`MAX_FUTURE_DAYS`."""
    return MIN_DATE, (today or dt.date.today()) + dt.timedelta(days=MAX_FUTURE_DAYS)


def check_dates(series: pd.Series, spec: Field, *, date_format: str | None = None) -> Checked:
    series = as_categorical(series)
    labels = pd.Series(series.cat.categories.astype(str), dtype=object)
    values, reasons = parse_date_labels(labels, date_format=date_format)
    blank = (labels.str.strip() == "").to_numpy()
    if spec.blank != "error":
        reasons[blank] = None
    return _expand(series, values, reasons)


def clean_text(value: str) -> str:
    return unicodedata.normalize("NFC", str(restore(value.strip())))


def _code_reason(code: str) -> str | None:
    """Why a (cleaned, non-empty) SKU code is refused, or None."""
    if _SKU_CODE.match(code) and code.strip("."):
        return None
    if not code.strip("."):
        return f"{BAD_TEXT}: a SKU code cannot be only dots"
    bad = next(ch for ch in code if not _SKU_CODE.match(ch))
    shown = repr(bad) if bad.isprintable() and not _INVISIBLE_IN_CODE.match(bad) else f"U+{ord(bad):04X}"
    return (
        f"{BAD_TEXT}: {shown} is not allowed in a SKU code "
        f"(use letters, digits, spaces and {' '.join(SKU_CODE_PUNCTUATION)})"
    )


def _invisible_reason(text: str, pattern: re.Pattern[str]) -> str | None:
    found = pattern.search(text)
    if found is None:
        return None
    name = unicodedata.name(found.group(0), "format character")
    return f"{BAD_TEXT}: contains an invisible formatting character (U+{ord(found.group(0)):04X} {name})"


def check_text(series: pd.Series, spec: Field) -> Checked:
    """Text and SKU codes: trimmed, NFC-normalised, no control or invisible formatting characters (bidi controls
    such as U+202E, zero-width spaces), at most ``spec.max_length``; codes only from the safe alphabet
    (:data:`_SKU_CODE`: letters, digits, spaces and ``- _ . : + ( ) &``; not only dots)."""
    series = as_categorical(series)
    labels = pd.Series(series.cat.categories.astype(str), dtype=object)
    cleaned = labels.map(clean_text)
    values = cleaned.to_numpy(dtype=object).copy()
    reasons = np.full(len(values), None, dtype=object)
    blank = (cleaned == "").to_numpy()
    if spec.type == "code":
        reasons[:] = [None if not text else _code_reason(text) for text in cleaned]
    invisible = _INVISIBLE_IN_CODE if spec.type == "code" else _INVISIBLE
    flagged = cleaned.str.contains(invisible.pattern, regex=True).to_numpy()
    reasons[flagged] = [_invisible_reason(text, invisible) for text in cleaned[flagged]]
    control = cleaned.str.contains(_CONTROL.pattern, regex=True).to_numpy()
    reasons[control] = f"{BAD_TEXT}: contains control characters"
    if spec.max_length:
        long = (cleaned.str.len() > spec.max_length).to_numpy()
        reasons[long] = f"{OUT_OF_RANGE}: longer than {spec.max_length} characters"
    if spec.blank == "error" or spec.type == "code":
        reasons[blank] = MISSING
    else:
        values[blank] = None
    values[~pd.isna(reasons)] = None
    return _expand(series, values, reasons)


def check_booleans(series: pd.Series, spec: Field) -> Checked:
    """Yes/no flags: true/false, yes/no, 1/0, y/n (case-insensitive, surrounding spaces ignored) -> True / False
    (object array); blank per ``spec.blank`` ("null": not given -> None, "zero": False); anything else is rejected."""
    series = as_categorical(series)
    text = _stripped(series).map(restore).str.lower()
    values = np.full(len(text), None, dtype=object)
    reasons = np.full(len(text), None, dtype=object)
    yes = text.isin(TRUE_WORDS).to_numpy()
    no = text.isin(FALSE_WORDS).to_numpy()
    blank = (text == "").to_numpy()
    values[yes] = True
    values[no] = False
    reasons[~(yes | no | blank)] = NOT_A_BOOLEAN
    if spec.blank == "error":
        reasons[blank] = MISSING
    elif spec.blank == "zero":
        values[blank] = False
    return _expand(series, values, reasons)


def check(series: pd.Series, spec: Field, *, date_format: str | None = None) -> Checked:
    """Validate one column against ``spec``."""
    if spec.type == "number":
        return check_numbers(series, spec)
    if spec.type == "bool":
        return check_booleans(series, spec)
    if spec.type == "date":
        return check_dates(series, spec, date_format=date_format)
    return check_text(series, spec)


def display_value(value: object, limit: int = 80) -> str:
    """A cell as shown in an error report (trimmed to ``limit`` characters, control characters escaped)."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
