"""The fast workbook path (fastexcel) writes exactly what the general path (python-calamine) writes, or steps aside."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from services.ingest import workbook as wb
from services.ingest import workbook_fast as fast
from services.ingest.report import FileRejectedError

D1 = dt.datetime(2024, 1, 1)


def _book(path: Path, sheets: dict[str, dict[tuple[int, int], object]], *, hidden=(), merges=()) -> Path:
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    day = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for name, cells in sheets.items():
        sheet = book.add_worksheet(name)
        for (r, c), value in cells.items():
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, day)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            else:
                sheet.write_number(r, c, value)
        for first_row, first_col, last_row, last_col, value in merges if name == "Sales" else ():
            sheet.merge_range(first_row, first_col, last_row, last_col, value)
        if name in hidden:
            sheet.hide()
        elif hidden:
            sheet.activate()
    book.close()
    return path


def _rows(top: int, left: int, rows: list[list[object]]) -> dict[tuple[int, int], object]:
    return {(top + r, left + c): v for r, row in enumerate(rows) for c, v in enumerate(row) if v is not None}


def _both(path: Path, tmp_path: Path, kind: str = "demand", sheet: str | None = None) -> tuple:
    general = wb.convert(path=path, kind=kind, target=tmp_path / "general.csv", sheet=sheet)
    quick = fast._convert(path, kind, tmp_path / "fast.csv", sheet)
    return general, quick, (tmp_path / "general.csv").read_bytes(), (tmp_path / "fast.csv").read_bytes()


PLAIN = [
    ["Weekly demand", None, None, None],
    [None, None, None, None],
    ["date", "sku", "quantity", "note"],
    [D1, "00123", 3, "a, b"],
    [D1 + dt.timedelta(days=7, hours=13, minutes=30), "00123", 2.5, 'say "hi"'],
    [None, None, None, None],
    ["2024-01-15", "0042", 7, "two\nlines"],
    [D1, "X-1", True, None],
    [None, "  ", None, None],
]


def test_a_plain_sheet_gives_the_same_csv_and_row_numbers_as_the_general_path(tmp_path: Path) -> None:
    path = _book(tmp_path / "plain.xlsx", {"Notes": {(0, 0): "read me"}, "Sales": _rows(3, 1, PLAIN)})
    general, quick, general_csv, fast_csv = _both(path, tmp_path)
    assert fast_csv == general_csv
    assert fast_csv.decode().splitlines()[:2] == ["date,sku,quantity,note", '2024-01-01,00123,3,"a, b"']
    assert quick == general.__class__(**{**general.__dict__, "sniffed": quick.sniffed})
    assert quick.sniffed.header == general.sniffed.header and quick.sniffed.lines == general.sniffed.lines == 6
    assert quick.line_offset == general.line_offset == 5  # header in spreadsheet row 6: line 2 is row 7
    assert (quick.sheet, quick.sheets) == ("Sales", ["Notes", "Sales"])


def test_the_first_plain_matching_sheet_visible_before_hidden(tmp_path: Path) -> None:
    rows = [["date", "sku", "quantity"], [D1, "00123", 1]]
    path = _book(tmp_path / "h.xlsx", {"Old": _rows(0, 0, rows), "Current": _rows(0, 0, rows)}, hidden=("Old",))
    general, quick, general_csv, fast_csv = _both(path, tmp_path)
    assert quick.sheet == general.sheet == "Current" and fast_csv == general_csv
    assert fast._convert(path, "demand", tmp_path / "old.csv", "Old").sheet == "Old"


@pytest.mark.parametrize(
    ("cells", "merges"),
    [
        ([["date", "sku", "quantity"], [45292, "00123", 1]], ()),  # a serial date: the general path reads it
        ([["date", "sku", "quantity"], [D1, "00123", 1e-7]], ()),  # Python writes 1e-07
        ([["date", "sku", "quantity"], [D1, "00123", 1e16]], ()),
        ([["sku", 45292, 45299], ["00123", 1, 2]], ()),  # a wide sheet with serial numbers as headers
        ([[None, None, None], [None, "date", "qty"], ["00077", D1, 4]], [(0, 0, 1, 0, "sku")]),  # merged header
        ([["no", "header"], ["here", 1]], ()),
    ],
)
def test_sheets_that_are_not_plain_take_the_general_path(tmp_path: Path, cells, merges) -> None:
    path = _book(tmp_path / "odd.xlsx", {"Sales": _rows(0, 0, cells)}, merges=merges)
    with pytest.raises(fast._NotPlainError):
        fast._convert(path, "demand", tmp_path / "fast.csv", None)
    general = wb.convert(path=path, kind="demand", target=tmp_path / "general.csv")
    converted = fast.convert(path=path, kind="demand", target=tmp_path / "either.csv")
    assert converted == general.__class__(**{**general.__dict__, "sniffed": converted.sniffed})
    assert (tmp_path / "either.csv").read_bytes() == (tmp_path / "general.csv").read_bytes()


def test_errors_are_worded_by_the_general_path(tmp_path: Path) -> None:
    path = _book(tmp_path / "s.xlsx", {"Sales": _rows(0, 0, [["date", "sku", "quantity"]])})
    with pytest.raises(FileRejectedError, match="the workbook has no sheet 'Nope'; its sheets are 'Sales'"):
        fast.convert(path=path, kind="demand", target=tmp_path / "x.csv", sheet="Nope")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(path.read_bytes()[:300])
    with pytest.raises(FileRejectedError, match="damaged"):
        fast.convert(path=broken, kind="demand", target=tmp_path / "x.csv")


def test_the_first_row_with_a_value_is_read_from_the_sheet_xml(tmp_path: Path) -> None:
    path = _book(tmp_path / "p.xlsx", {"A": {(4, 2): "x", (4, 3): 1.5, (9, 0): "y"}, "B": {}})
    parts = fast._sheet_parts(path)
    assert parts == {"A": "xl/worksheets/sheet1.xml", "B": "xl/worksheets/sheet2.xml"}
    assert fast._first_row(path, parts["A"]) == (4, 2)
    assert fast._first_row(path, parts["B"]) is None


def test_a_sheet_whose_first_row_is_the_header_is_read_with_cell_types(tmp_path: Path, monkeypatch) -> None:
    rows = [
        ["sku", "date", "quantity", "note", "flag", "", "price"],
        ["00123", D1, 3, "a, b", True, None, 2.5],
        ["00123", D1 + dt.timedelta(days=7, hours=23), 2.25, None, False, None, 1234567.125],
        [None, None, None, None, None, None, None],
        ["0042", D1, 0, "x", None, None, -3],
        [None, None, None, "  ", None, None, None],
    ]
    path = _book(tmp_path / "typed.xlsx", {"Sales": _rows(2, 1, rows)})
    monkeypatch.setattr(fast, "_cells", lambda *a: pytest.fail("read as text, not with cell types"))
    general, quick, general_csv, fast_csv = _both(path, tmp_path)
    assert fast_csv == general_csv
    assert fast_csv.decode().splitlines()[1] == '00123,2024-01-01,3,"a, b",true,,2.5'
    assert quick.line_offset == general.line_offset == 2 and quick.sniffed.lines == 5
