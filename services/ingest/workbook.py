"""Excel and OpenDocument workbooks (.xlsx, .xlsm, .ods) read into the CSV pipeline (python-calamine).

A workbook is turned into a UTF-8, comma-separated file with one record per spreadsheet row from the header row
on, and a :class:`~services.ingest.sniff.Sniffed` that describes it; everything after that (column detection,
validation, preview, the one transaction, the import history) is the CSV path unchanged. The import goes
through :func:`services.ingest.workbook_fast.convert`, which reads a plain ``.xlsx`` sheet with fastexcel to the
same result and leaves every other sheet to :func:`convert`. Rules:

- The sheet: the one the user names, else the first sheet (in workbook order, visible sheets before hidden ones)
  whose header matches the kind, else the first sheet with data. The header row: the first of the first
  :data:`HEADER_SCAN_ROWS` rows that matches the kind (title rows above it are skipped), else the first non-empty
  row. Header cells merged down from a row
  above take that row's text (a two-row header: ``SKU`` merged over A1:A2, ``date`` and ``qty`` in row 2).
- Row numbers: errors name the row as the spreadsheet shows it (:attr:`Converted.line_offset`) and the sheet.
- Cells: text stays text (codes keep their leading zeros); whole numbers are written without ``.0``; date cells
  and Excel serial numbers in a date column (days since 1899-12-30) become ISO dates; booleans ``true``/``false``;
  formulas give their cached value (nothing is calculated and macros are never run: the reader does not execute
  anything). Empty trailing rows are dropped; empty rows inside the data are kept (and skipped by the reader).
- Refused with one line, nothing written: a password-protected (encrypted) workbook, an old binary ``.xls``, a
  corrupt file, a sheet over 1,048,576 rows or 16,384 columns, a workbook whose content unpacks to more than
  :data:`MAX_UNPACKED_BYTES` (a zip bomb), a named sheet that does not exist.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import math
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import python_calamine as calamine

from services.ingest import columns as cols
from services.ingest import names as nm
from services.ingest.parse import period_columns
from services.ingest.report import FileRejectedError
from services.ingest.sniff import MAX_COLUMNS, Sniffed
from settings import get_settings

SUFFIXES = (".xlsx", ".xlsm", ".ods")
MAX_ROWS = 1_048_576  # the sheet limits of Excel (and of LibreOffice Calc since 7.4)
MAX_SHEET_COLUMNS = 16_384
MAX_UNPACKED_BYTES = 4 * 1024**3  # the XML of a full 1,048,576-row sheet is well below this
HEADER_SCAN_ROWS = 30
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Office binary container: encrypted OOXML or an old .xls
_EPOCH = dt.date(1899, 12, 30)  # Excel's 1900 date system (serial 60 is the phantom 1900-02-29)
_SERIAL_MAX = 2_958_465  # 9999-12-31
_HEADER_SERIALS = (32_874, 73_051)  # a number in a header is read as a date between 1990 and 2100
_Cell = object


@dataclass(frozen=True)
class Converted:
    """A workbook sheet written as CSV for the pipeline."""

    sniffed: Sniffed
    sheet: str
    sheets: list[str]  # every worksheet of the workbook, in order
    line_offset: int  # spreadsheet row = CSV line + line_offset (rows above the header)
    label: str  # "Excel workbook (.xlsx)" / "OpenDocument spreadsheet (.ods)"


def kind_of_file(path: str | Path) -> str | None:
    """``"xlsx"`` / ``"ods"`` for a workbook, ``"ole"`` for an Office binary (encrypted or .xls), None otherwise
    (judged by content, not by name: uploads are stored under a neutral name)."""
    if not Path(path).is_file():
        return None  # the CSV path says "no such file"
    with Path(path).open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_OLE):
        return "ole"
    if not head.startswith(_ZIP):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype")[:100]:
                return "ods"
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                return "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError):
        return "xlsx"  # a damaged zip: let the reader say it is corrupt
    return None


def is_workbook(path: str | Path) -> bool:
    return kind_of_file(path) in ("xlsx", "ods", "ole")


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")


def refuse_misnamed(file_name: str) -> None:
    """A file that is not a workbook by its content (:func:`is_workbook` False) but named like one is refused, not
    read as CSV (its bytes would come back as one odd column name)."""
    if Path(file_name).suffix.lower() in WORKBOOK_SUFFIXES:
        raise FileRejectedError(
            f"'{Path(file_name).name}' is named like a workbook but is not one (damaged, or another format renamed): "
            "open it in Excel and save it as .xlsx, or save it as CSV"
        )


def _refuse_ole(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if "EncryptedPackage".encode("utf-16-le") in head or b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00" in head:
        raise FileRejectedError(
            "the workbook is password-protected (encrypted): remove the password in Excel (File > Info > Protect "
            "Workbook) and upload it again"
        )
    raise FileRejectedError("this is an old binary Excel file (.xls) or another Office file: save it as .xlsx first")


def _check_unpacked(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejectedError(f"the workbook is damaged and cannot be read ({exc})") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileRejectedError(
            f"the workbook unpacks to {unpacked / 1024**3:,.1f} GiB; at most {MAX_UNPACKED_BYTES / 1024**3:,.0f} GiB "
            "is read"
        )


def _open(path: Path) -> calamine.CalamineWorkbook:
    kind = kind_of_file(path)
    if kind == "ole":
        _refuse_ole(path)
    _check_unpacked(path)
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError as exc:
        raise FileRejectedError("the workbook is password-protected: remove the password and upload it again") from exc
    except (calamine.CalamineError, ValueError, OSError) as exc:
        raise FileRejectedError(f"the workbook is damaged and cannot be read ({_short(exc)})") from exc


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _worksheets(book: calamine.CalamineWorkbook) -> list[str]:
    return [m.name for m in book.sheets_metadata if m.typ == calamine.SheetTypeEnum.WorkSheet]


def sheet_order(book: calamine.CalamineWorkbook) -> list[str]:
    """The worksheets in the order they are tried for a kind: visible sheets first, each group in workbook order."""
    names = _worksheets(book)
    hidden = {m.name for m in book.sheets_metadata if m.visible != calamine.SheetVisibleEnum.Visible}
    return [n for n in names if n not in hidden] + [n for n in names if n in hidden]


def sheet_names(path: str | Path) -> list[str]:
    """The worksheets of the workbook at ``path`` in workbook order (for the sheet picker)."""
    with _open(Path(path)) as book:
        return _worksheets(book)


def sheets_or_none(path: str | Path) -> list[str]:
    """:func:`sheet_names`, or an empty list when the workbook cannot be read."""
    try:
        return sheet_names(path)
    except FileRejectedError:
        return []


# --- cells ---------------------------------------------------------------------------------------------------------


def _number_text(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _cell_text(value: _Cell) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _serial_date(value: float) -> str | None:
    if not (1 <= value <= _SERIAL_MAX) or not math.isfinite(value):
        return None
    return (_EPOCH + dt.timedelta(days=int(value))).isoformat()


def _date_cell_text(value: _Cell) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return _serial_date(float(value)) or _cell_text(value)
    return _cell_text(value)


def _header_text(value: _Cell) -> str:
    number = isinstance(value, float | int) and not isinstance(value, bool)
    if number and _HEADER_SERIALS[0] <= value <= _HEADER_SERIALS[1] and value == int(value):
        return _serial_date(float(value)) or _cell_text(value)
    return _cell_text(value).strip()


def _fix_column(rows: list[list[_Cell]], j: int, *, date: bool) -> None:
    """Make column ``j`` of ``rows`` what the CSV writer should print, in place (no copy of a million rows).

    The writer prints text as is and dates (``datetime.date``) as ISO already; whole floats become ints (``12``,
    not ``12.0``), datetimes their date, serial numbers in a date column dates, booleans ``true``/``false``.
    """
    types = {type(row[j]) for row in rows}
    if types <= {str, dt.date}:
        return
    if types <= {str, float} and not date:
        for row in rows:
            value = row[j]
            if type(value) is float and value.is_integer() and abs(value) < 1e15:
                row[j] = int(value)
        return
    convert = _date_cell_text if date else _cell_text
    memo: dict[tuple[type, object], str] = {}  # dates and codes repeat: convert each distinct value once
    for row in rows:
        value = row[j]
        key = (type(value), value)
        text = memo.get(key)
        if text is None:
            text = memo[key] = convert(value)
        row[j] = text


# --- sheets and headers --------------------------------------------------------------------------------------------


def _blank(row: Sequence[_Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def _merged_down(sheet: calamine.CalamineSheet, rows: list[list[_Cell]], r: int) -> list[_Cell]:
    """Row ``r`` with header cells that are covered by a merge starting in a row above given that merge's text."""
    row = list(rows[r])
    for (r0, c0), (r1, _c1) in sheet.merged_cell_ranges or []:
        if r0 < r <= r1 and c0 < len(row) and r0 < len(rows) and c0 < len(rows[r0]):
            row[c0] = rows[r0][c0]
    return row


def _fields(kind: str) -> tuple:
    return nm.identified(cols.FIELDS[kind])


def header_matches(kind: str, headers: list[str]) -> bool:
    """Whether ``headers`` hold every required column of ``kind`` (or, for demand, a SKU and period columns)."""
    if kind == "demand":
        periods = period_columns(headers, date_format=None)
        if len(periods) >= 2:
            rest = [h if i not in periods else "" for i, h in enumerate(headers)]
            return _resolves(rest, (nm.SKU_OR_NAME,), kind)
    return _resolves(headers, _fields(kind), kind)


def _resolves(headers: list[str], fields: tuple, kind: str) -> bool:
    try:
        cols.resolve(headers, fields, kind=kind)
    except FileRejectedError:
        return False
    return True


def _find_header(sheet: calamine.CalamineSheet, rows: list[list[_Cell]], kind: str) -> tuple[int, list[str], bool]:
    """(row index, header texts, whether it matches the kind) of the header row of ``rows``."""
    first: tuple[int, list[str]] | None = None
    seen = 0
    for r, raw in enumerate(rows):
        if _blank(raw):
            continue
        headers = [_header_text(c) for c in _merged_down(sheet, rows, r)]
        if first is None:
            first = (r, headers)
        if header_matches(kind, headers):
            return r, headers, True
        seen += 1
        if seen >= HEADER_SCAN_ROWS:
            break
    if first is None:
        return -1, [], False
    return first[0], first[1], False


def _load(book: calamine.CalamineWorkbook, name: str) -> tuple[calamine.CalamineSheet, list[list[_Cell]]]:
    try:
        sheet = book.get_sheet_by_name(name)
        last_row, last_column = sheet.end or (-1, -1)  # 0-based position of the last cell
        if last_row + 1 > MAX_ROWS or last_column + 1 > MAX_SHEET_COLUMNS:
            raise FileRejectedError(
                f"sheet '{name}' has {last_row + 1:,} rows and {last_column + 1:,} columns; a sheet holds "
                f"at most {MAX_ROWS:,} rows and {MAX_SHEET_COLUMNS:,} columns"
            )
        return sheet, sheet.to_python(skip_empty_area=False)
    except calamine.CalamineError as exc:
        raise FileRejectedError(f"sheet '{name}' of the workbook cannot be read ({_short(exc)})") from exc


def _choose(
    book: calamine.CalamineWorkbook, kind: str, sheet: str | None
) -> tuple[str, calamine.CalamineSheet, list[list[_Cell]], int, list[str]]:
    names = _worksheets(book)
    if not names:
        raise FileRejectedError("the workbook has no worksheet")
    if sheet:
        if sheet not in names:
            shown = ", ".join(f"'{n}'" for n in names[:10])
            raise FileRejectedError(f"the workbook has no sheet '{sheet}'; its sheets are {shown}")
        loaded, rows = _load(book, sheet)
        r, headers, _ = _find_header(loaded, rows, kind)
        if r < 0:
            raise FileRejectedError(f"sheet '{sheet}' is empty")
        return sheet, loaded, rows, r, headers
    fallback = None
    for name in sheet_order(book):
        loaded, rows = _load(book, name)
        r, headers, matches = _find_header(loaded, rows, kind)
        if matches:
            return name, loaded, rows, r, headers
        if r >= 0 and fallback is None:
            fallback = (name, loaded, rows, r, headers)
    if fallback is None:
        raise FileRejectedError("every sheet of the workbook is empty")
    return fallback


def _date_positions(kind: str, headers: list[str]) -> set[int]:
    try:
        resolved = cols.resolve(headers, _fields(kind), kind=kind)
    except FileRejectedError:
        return set()
    types = {spec.name: spec.type for spec in cols.FIELDS[kind]}
    return {pos for name, pos in resolved.columns.items() if types.get(name) == "date"}


def convert(*, path: str | Path, kind: str, target: str | Path, sheet: str | None = None) -> Converted:
    """Write the chosen sheet of the workbook at ``path`` as CSV to ``target``; raises :class:`FileRejectedError`.

    The cyclic garbage collector is paused meanwhile: a sheet is read as one list per row, and a million new lists
    would set off full collections again and again (measured: 6.0-6.4 s -> 5.3-5.4 s for 1,000,000 rows).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _convert(Path(path), kind, Path(target), sheet)
    finally:
        if collecting:
            gc.enable()


def _convert(path: Path, kind: str, target: Path, sheet: str | None) -> Converted:
    with _open(path) as book:
        names = _worksheets(book)
        name, loaded, rows, r, headers = _choose(book, kind, sheet)
    lead = min(loaded.start[1], len(headers)) if loaded.start else 0  # empty columns left of the data
    if lead:
        headers, rows = headers[lead:], [row[lead:] for row in rows]
    if len(headers) > MAX_COLUMNS:
        raise FileRejectedError(f"sheet '{name}' has {len(headers):,} columns; at most {MAX_COLUMNS:,} are accepted")
    data = rows[r + 1 :]
    end = len(data)
    while end and _blank(data[end - 1]):
        end -= 1
    data = data[:end]
    width = max((len(row) for row in data), default=0)
    width = max(width, len(headers))
    while width > len(headers) and all(len(row) < width or _blank(row[width - 1 : width]) for row in data):
        width -= 1  # cells right of the header that are all empty
    headers = headers + [""] * (width - len(headers))
    dates = _date_positions(kind, headers)
    if any(len(row) != width for row in data):
        data = [row if len(row) == width else (list(row) + [""] * width)[:width] for row in data]
    for j in range(width):
        _fix_column(data, j, date=j in dates)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(data)
    label = "OpenDocument spreadsheet (.ods)" if kind_of_file(path) == "ods" else f"Excel workbook ({_suffix(path)})"
    sniffed = Sniffed(
        path=target,
        size=target.stat().st_size,
        encoding="utf-8",
        encoding_label=f"{label}, sheet '{name}'",
        delimiter=",",
        header=headers,
        lines=len(data) + 1,
    )
    return Converted(sniffed=sniffed, sheet=name, sheets=names, line_offset=r, label=label)


def scratch_file() -> Path:
    """A new private file for a sheet written as CSV, under ``DATA_DIR/uploads/sheets`` (the import removes it;
    :func:`services.ingest.uploads.cleanup` removes what a killed import left)."""
    folder = get_settings().data_dir / "uploads" / "sheets"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=".csv", dir=folder)
    os.close(handle)
    return Path(name)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix in SUFFIXES else ".xlsx"
