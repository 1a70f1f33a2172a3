"""Excel (.xlsx) exports: the same tables as the CSV exports, for people who open them in a spreadsheet.

Numbers are written as numbers, dates as dates (``yyyy-mm-dd`` cells; a text column holding only ISO dates too),
booleans as booleans; the header row is bold and frozen, with a filter, and each column is as wide as its longest
value (within limits). Text cells get the CSV exports' formula-injection neutralisation
(:func:`services.csv_safety.safe_frame`: a leading apostrophe before ``=`` ``+`` ``-`` ``@`` tab CR) and are written
as text, never as formulas or links; the importer removes exactly that apostrophe again
(:func:`services.csv_safety.restore`), so an exported workbook imports back to the same values.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import xlsxwriter

from services.csv_safety import safe_frame
from services.errors import UserFacingError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DATA_ROWS = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header
MIN_WIDTH, MAX_WIDTH = 8, 60
_WIDTH_SAMPLE = 2000  # rows looked at to size a column
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: object, used: set[str]) -> str:
    """A valid, unique sheet name for ``name``: at most 31 characters, none of ``[]:*?/\\``, not blank."""
    base = _BAD_SHEET_CHARS.sub("-", str(name or "")).strip().strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def _is_iso_day_column(values: np.ndarray) -> bool:
    seen = False
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            continue
        if not isinstance(value, str) or not _ISO_DAY.match(value):
            return False
        seen = True
    return seen


def _as_day(value: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value


def _cells(series: pd.Series) -> list[Any]:
    """The cells of one column as Python values: numbers, bools, dates / datetimes, text, or None (blank)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return [bool(v) for v in series.to_numpy()]
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return [None if not math.isfinite(v) else (int(v) if v.is_integer() and abs(v) < 1e15 else v) for v in values]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else (v.date() if v == v.normalize() else v.to_pydatetime()) for v in series]
    values = series.to_numpy(dtype=object)
    if _is_iso_day_column(values):
        return [_as_day(v) if isinstance(v, str) and v else None for v in values]
    return [_plain(v) for v in values]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _width(header: str, cells: Sequence[Any]) -> float:
    longest = len(str(header))
    for value in cells[:_WIDTH_SAMPLE]:
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            size = 16
        elif isinstance(value, dt.date):
            size = 10
        elif isinstance(value, float):
            size = len(f"{value:,.2f}")
        else:
            size = len(str(value))
        longest = max(longest, size)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#F2F2F2"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})


def _write_sheet(book: xlsxwriter.Workbook, formats: _Formats, name: str, frame: pd.DataFrame) -> None:
    if len(frame) > MAX_DATA_ROWS:
        raise UserFacingError(
            f"'{name}' has {len(frame):,} rows; a sheet holds at most {MAX_DATA_ROWS:,}: export it as CSV instead"
        )
    sheet = book.add_worksheet(name)
    safe = safe_frame(frame)
    headers = [str(c) for c in safe.columns]
    sheet.write_row(0, 0, headers, formats.header)
    for c, column in enumerate(safe.columns):
        cells = _cells(safe[column])
        for r, value in enumerate(cells, start=1):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value.replace(tzinfo=None), formats.datetime)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), formats.date)
            else:
                sheet.write_string(r, c, str(value))
        sheet.set_column(c, c, _width(headers[c], cells))
    sheet.freeze_panes(1, 0)
    if headers:
        sheet.autofilter(0, 0, max(len(safe), 1), len(headers) - 1)


def write_workbook(sheets: Iterable[tuple[str, pd.DataFrame]], target: str | Path | BinaryIO) -> None:
    """Write one sheet per ``(name, frame)`` to ``target`` (a path or a binary stream)."""
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "in_memory": not isinstance(target, str | Path),
    }
    book = xlsxwriter.Workbook(target if not isinstance(target, Path) else str(target), options)
    formats = _Formats(book)
    used: set[str] = set()
    try:
        wrote = False
        for name, frame in sheets:
            _write_sheet(book, formats, sheet_name(name, used), frame)
            wrote = True
        if not wrote:
            _write_sheet(book, formats, "Sheet", pd.DataFrame())
    finally:
        book.close()


def workbook_bytes(sheets: Iterable[tuple[str, pd.DataFrame]]) -> bytes:
    """The workbook of :func:`write_workbook` as bytes (for a download)."""
    buffer = io.BytesIO()
    write_workbook(sheets, buffer)
    return buffer.getvalue()


def rows_workbook(name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet ``name`` of ``rows`` (lists of cells in the order of ``headers``) as workbook bytes."""
    return workbook_bytes([(name, pd.DataFrame(list(rows), columns=list(headers), dtype=object))])


def is_xlsx_path(target: object) -> bool:
    """Whether an export target names an Excel file (``.xlsx``): exports choose their format by extension."""
    return isinstance(target, str | Path) and str(target).lower().endswith(".xlsx")
