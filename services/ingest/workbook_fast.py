"""The fast way through a plain workbook sheet (fastexcel reads it straight to Arrow); else :func:`workbook.convert`.

:func:`convert` gives the same CSV and :class:`~services.ingest.workbook.Converted` as
:func:`services.ingest.workbook.convert`, about twice as fast on a large sheet: python-calamine builds one Python
object per cell and the rows are written by the ``csv`` module (1,000,000 rows x 3 columns: 4-6 s), while
fastexcel parses the sheet into Arrow columns of text, which are fixed up with Arrow compute and written by Arrow's
CSV writer (about 2 s). The fast path is taken only when the result is sure to be the same, that is for a plain
``.xlsx`` / ``.xlsm`` sheet:

- the position of the sheet's first row holding a value is read from the sheet's XML (fastexcel starts at that row
  and does not say which it is), so that row numbers stay the spreadsheet's; a file whose rows carry no ``r``
  attribute, or whose first row does not hold the cells fastexcel read, takes the general path;
- the header row is found as the general path finds it (the first of the first ``HEADER_SCAN_ROWS`` non-blank
  rows that matches the kind) and must match; no header cell could be filled by a merge from a row above (an empty
  cell under a non-empty one) and none is a number that the general path would read as a date;
- every cell reads back the same as text: date cells (``2024-01-08 00:00:00``) become ISO dates; a plain number
  in a date column (an Excel serial date, or text that looks like one), a time of day, ``-0``, a number of 16 or
  more digits or below 0.0001 (written differently by Rust and Python) send the sheet down the general path.

Everything else -- ``.ods``, merged or numeric headers, a sheet over the limits, a workbook the general reader
refuses -- goes through :func:`services.ingest.workbook.convert`, which also words every error.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import logging
import re
import zipfile
from pathlib import Path

import fastexcel
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from services.ingest import workbook as wb
from services.ingest.sniff import MAX_COLUMNS, Sniffed

SCAN_ROWS = 200  # rows read as Python values to find the header (blank rows included)
PEEK_BYTES = 8 << 20  # how much of a sheet's XML is searched for its first row with a value
_DATETIME = r"^(\d{4}-\d\d-\d\d) \d\d:\d\d:\d\d(?:\.\d+)?$"
_ODD = r"^-?\d{16,}$|^-0$|^-?0\.0000|^1899-12-3[01] "  # numbers and times Python writes otherwise
_NUMBER = r"^-?\d+(?:\.\d+)?$"
_FIRST_DAY = dt.date(1900, 1, 1)
_ATTRS = re.compile(r"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(/?)>")
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?(?:/>|>.*?</(?:\w+:)?c>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?(?:v>[^<]|is\b)")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")


# fastexcel logs a warning for every column it cannot type (an empty one): the fast path judges types itself
logging.getLogger("fastexcel").setLevel(logging.ERROR)


class _NotPlainError(Exception):
    """The sheet is not plain: the general reader takes it."""


def convert(*, path: str | Path, kind: str, target: str | Path, sheet: str | None = None) -> wb.Converted:
    """Write the chosen sheet of the workbook at ``path`` as CSV to ``target`` (see the module docstring);
    raises :class:`~services.ingest.report.FileRejectedError` as :func:`services.ingest.workbook.convert` does."""
    path, target = Path(path), Path(target)
    if wb.kind_of_file(path) == "xlsx":
        try:
            return _convert(path, kind, target, sheet)
        except _NotPlainError:
            pass
        except (fastexcel.FastExcelError, pa.ArrowException, zipfile.BadZipFile, KeyError, ValueError, OSError):
            pass  # whatever the fast reader trips on, the general one reads or refuses with a clear message
    return wb.convert(path=path, kind=kind, target=target, sheet=sheet)


def _convert(path: Path, kind: str, target: Path, sheet: str | None) -> wb.Converted:
    with wb._open(path) as book:  # refuses encrypted, damaged and oversized workbooks as the general path does
        names = wb._worksheets(book)
        order = wb.sheet_order(book)
    if sheet is not None and sheet not in names:
        raise _NotPlainError  # the general path lists the sheets
    parts = _sheet_parts(path)
    reader = fastexcel.read_excel(path)
    for name in [sheet] if sheet else order:
        found = _plain_sheet(path, reader, parts.get(name), name, kind)
        if found is not None:
            break
    else:
        raise _NotPlainError  # no sheet fits: the general path picks the first with data or words the error
    first, r, headers, columns, blank = found
    kept = np.flatnonzero(~blank)
    rows = int(kept[-1]) + 1 if len(kept) else 0  # empty trailing rows dropped, empty rows inside kept
    data = pa.table([c.slice(0, rows) for c in columns], names=[str(j) for j in range(len(columns))])
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(headers)
        handle.flush()
        try:  # Arrow's writer quotes either nothing or every text: unquoted unless a cell needs quotes
            pv.write_csv(data, handle.buffer, write_options=pv.WriteOptions(include_header=False, quoting_style="none"))
        except pa.ArrowInvalid:  # a comma, quote or line break in a cell: quoted as the csv module quotes
            handle.buffer.seek(0)
            handle.buffer.truncate()
            writer.writerow(headers)
            writer.writerows(zip(*(column.to_pylist() for column in data.columns), strict=True))
    label = f"Excel workbook ({wb._suffix(path)})"
    sniffed = Sniffed(
        path=target,
        size=target.stat().st_size,
        encoding="utf-8",
        encoding_label=f"{label}, sheet '{name}'",
        delimiter=",",
        header=headers,
        lines=rows + 1,
    )
    return wb.Converted(sniffed=sniffed, sheet=name, sheets=names, line_offset=first + r, label=label)


def _plain_sheet(
    path: Path, reader: fastexcel.ExcelReader, part: str | None, name: str, kind: str
) -> tuple[int, int, list[str], list[pa.Array], np.ndarray] | None:
    """(the sheet's first row's index, the header's index below it, the header, the data columns as text, which
    data rows are blank) when the sheet is plain and its header matches ``kind``; None when it does not match;
    :class:`_NotPlainError` when unsure."""
    peek = _first_row(path, part) if part else None
    if peek is None:
        raise _NotPlainError
    first, valued = peek
    typed = _typed_sheet(reader, name, kind, first, valued)
    if typed is not None:
        return (first, 0, *typed)
    table = pa.Table.from_batches([reader.load_sheet(name, header_row=None, dtypes="string").to_arrow()])
    _check_limits(first, table.num_rows, table.num_columns)
    head = [list(row) for row in zip(*(c.to_pylist() for c in table.slice(0, SCAN_ROWS).columns), strict=True)]
    if head and sum(c is not None for c in head[0]) != valued:
        raise _NotPlainError  # the first row fastexcel read is not the one found in the XML
    r = _find_header(head, kind, more=table.num_rows > SCAN_ROWS)
    if r is None:
        return None
    headers = [_header_cell(c) for c in head[r]]
    _check_limits(0, 0, len(headers))
    return (first, r, headers, *_cells(table.slice(r + 1), wb._date_positions(kind, headers)))


def _check_limits(first: int, rows: int, columns: int) -> None:
    if first + rows > wb.MAX_ROWS or columns > min(wb.MAX_SHEET_COLUMNS, MAX_COLUMNS):
        raise _NotPlainError  # the general path words the limit


def _typed_sheet(
    reader: fastexcel.ExcelReader, name: str, kind: str, first: int, valued: int
) -> tuple[list[str], list[pa.Array], np.ndarray] | None:
    """The common case read faster: the sheet's first row is the header and every column holds one type of cell
    (text, numbers, dates or booleans, and empty cells). None when it is not so (the sheet is then read as text)."""
    try:
        sheet = reader.load_sheet(name, header_row=0, dtype_coercion="strict", schema_sample_rows=None)
    except fastexcel.FastExcelError:
        return None  # a column mixes types of cells
    infos = sheet.available_columns()
    _check_limits(first, sheet.height + 1, len(infos))
    named = [info.column_name_from == "looked_up" for info in infos]
    if sum(named) != valued:
        return None  # a header cell that is not text (a date, a number): no name from fastexcel
    headers = [_header_cell(info.name) if ok else "" for info, ok in zip(infos, named, strict=True)]
    stems = {re.sub(r"_\d+$", "", h) for h in headers if not re.search(r"_\d+$", h)}
    if any(re.search(r"_\d+$", h) and re.sub(r"_\d+$", "", h) in stems for h in headers):
        return None  # perhaps a name fastexcel made unique ("qty", "qty_1")
    if not wb.header_matches(kind, headers):
        return None
    dates = wb._date_positions(kind, headers)
    try:
        table = sheet.to_arrow()
    except fastexcel.FastExcelError:
        return None
    blank = np.ones(table.num_rows, dtype=bool)
    columns = []
    for j, column in enumerate(table.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            texts, empty = _text_column(column, date=j in dates)
            columns.append(texts)
            blank &= empty
            continue
        texts = _typed_column(column, date=j in dates)
        if texts is None:
            return None
        columns.append(texts)
        blank &= pc.is_null(column).to_numpy(zero_copy_only=False)
    return headers, columns, blank


def _typed_column(column: pa.Array, *, date: bool) -> pa.Array | None:
    """A column of numbers, dates or booleans as the general path writes it (None: another type)."""
    if pa.types.is_null(column.type):
        return pa.array([""] * len(column), pa.string())
    encoded = pc.dictionary_encode(column)  # quantities and dates repeat: each distinct value converted once
    texts = _typed_values(encoded.dictionary, date=date)
    return None if texts is None else pc.fill_null(pc.take(texts, encoded.indices), "")


def _typed_values(column: pa.Array, *, date: bool) -> pa.Array | None:
    kind = column.type
    if pa.types.is_floating(kind):
        if date:
            raise _NotPlainError  # serial dates: the general path converts them
        size = pc.abs(column)
        whole = pc.and_(pc.equal(column, pc.floor(column)), pc.less(size, 1e15))
        fraction = pc.and_(pc.invert(whole), pc.is_valid(column))
        odd = pc.and_(fraction, pc.or_(pc.less(size, 1e-4), pc.greater_equal(size, 1e9)))
        if pc.any(odd).as_py():
            raise _NotPlainError  # Arrow and Python write such numbers differently
        integers = pc.cast(pc.if_else(whole, column, 0.0), pa.int64())
        texts = pc.if_else(whole, pc.cast(integers, pa.string()), pc.cast(column, pa.string()))
    elif pa.types.is_integer(kind) and not date:
        texts = pc.cast(column, pa.string())
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        days = pc.cast(pc.floor_temporal(column, unit="day"), pa.date32())
        if pc.any(pc.less(days, pa.scalar(_FIRST_DAY, pa.date32()))).as_py():
            raise _NotPlainError  # a time of day (day 0 of Excel's calendar)
        texts = pc.cast(days, pa.string())
    elif pa.types.is_boolean(kind) and not date:
        texts = pc.cast(column, pa.string())
    else:
        return None
    return texts


def _text_column(column: pa.Array, *, date: bool) -> tuple[pa.Array, np.ndarray]:
    encoded = pc.dictionary_encode(column)  # the checks run on each distinct text once
    values = encoded.dictionary
    if date and pc.any(pc.match_substring_regex(values, _NUMBER)).as_py():
        raise _NotPlainError  # a text that looks like a serial date: the general path tells them apart
    empty = pc.equal(pc.utf8_trim_whitespace(values), "")
    blank = pc.fill_null(pc.take(empty, encoded.indices), True).to_numpy(zero_copy_only=False)
    return pc.fill_null(column, ""), blank


def _find_header(rows: list[list[str | None]], kind: str, *, more: bool) -> int | None:
    seen = 0
    for r, raw in enumerate(rows):
        if wb._blank(raw):
            continue
        for c, value in enumerate(raw):
            if value is None and any(rows[r0][c] not in (None, "") for r0 in range(r)):
                raise _NotPlainError  # an empty cell under a non-empty one: perhaps a merged header cell
        if wb.header_matches(kind, [_header_cell(c) for c in raw]):
            return r
        seen += 1
        if seen >= wb.HEADER_SCAN_ROWS:
            return None
    if more:
        raise _NotPlainError  # fewer than HEADER_SCAN_ROWS non-blank rows among the first SCAN_ROWS
    return None


def _header_cell(value: str | None) -> str:
    if value is None:
        return ""
    if re.search(_ODD, value):
        raise _NotPlainError
    if re.fullmatch(_NUMBER, value):
        number = float(value)
        if wb._HEADER_SERIALS[0] <= number <= wb._HEADER_SERIALS[1] and number.is_integer():
            raise _NotPlainError  # the general path reads such a number in a header as a date
    match = re.fullmatch(_DATETIME, value)
    return match.group(1) if match else value.strip()


def _cells(table: pa.Table, dates: set[int]) -> tuple[list[pa.Array], np.ndarray]:
    """The columns as the CSV shows them (date cells as ISO dates, empty cells as ""), and which rows are blank."""
    blank = np.ones(table.num_rows, dtype=bool)
    columns = []
    for j, column in enumerate(table.columns):
        encoded = pc.dictionary_encode(column.combine_chunks())  # the checks run on each distinct text once
        values = encoded.dictionary
        if pc.any(pc.match_substring_regex(values, _ODD)).as_py():
            raise _NotPlainError
        if j in dates and pc.any(pc.match_substring_regex(values, _NUMBER)).as_py():
            raise _NotPlainError  # a serial date or a text that looks like one: the general path tells them apart
        values = pc.replace_substring_regex(values, _DATETIME, r"\1")
        empty = pc.equal(pc.utf8_trim_whitespace(values), "")
        blank &= pc.fill_null(pc.take(empty, encoded.indices), True).to_numpy(zero_copy_only=False)
        columns.append(pc.fill_null(pc.take(values, encoded.indices), ""))
    return columns, blank


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML (from the workbook part and its relationships)."""
    with zipfile.ZipFile(path) as archive:
        book = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = {}
    for match in re.finditer(r"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = _attrs(match.group(1))
        targets[attrs.get("Id")] = attrs.get("Target", "")
    parts = {}
    for match in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)>", book):
        attrs = _attrs(match.group(1))
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        target = targets.get(rid)
        if target:
            parts[html.unescape(attrs.get("name", ""))] = target[1:] if target.startswith("/") else f"xl/{target}"
    return parts


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTRS.finditer(text)}


def _first_row(path: Path, part: str) -> tuple[int, int] | None:
    """(0-based index, number of cells with a value) of the first row of the sheet's XML that holds a value, read
    from the start of the part only; None when not found there or when the row has no ``r`` attribute."""
    with zipfile.ZipFile(path) as archive, archive.open(part) as handle:
        buffer, read, pos = b"", 0, 0
        while read < PEEK_BYTES:
            chunk = handle.read(1 << 16)
            buffer, read = buffer[pos:] + chunk, read + len(chunk)
            pos = 0
            while match := _ROW.search(buffer, pos):
                if match.group(2):  # <row .../>: no cells
                    pos = match.end()
                    continue
                end = _ROW_END.search(buffer, match.end())
                if end is None:
                    pos = match.start()
                    break
                body = buffer[match.end() : end.start()]
                valued = sum(1 for cell in _CELL.findall(body) if _VALUE.search(cell))
                if valued:
                    number = _ROW_NUMBER.search(match.group(1))
                    return (int(number.group(1)) - 1, valued) if number else None
                pos = end.end()
            else:
                pos = max(pos, len(buffer) - 4096)  # keep a tag that the chunk cut in two
            if not chunk:
                return None
    return None
