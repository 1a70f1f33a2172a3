"""Workbooks (.xlsx, .xlsm, .ods) through the CSV pipeline on SQLite and PostgreSQL: the same results as the same
data as CSV, spreadsheet row numbers and sheet names in errors, bad workbooks refused with nothing written."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.models import AuditLog, Demand, ImportBatch
from services.ingest import ImportOptions, ImportResult, import_file
from tests.conftest import wipe


class Serial(float):
    """A date written as a plain Excel serial number (General format), as ERP extracts often hold them."""


def serial(day: dt.date) -> Serial:
    return Serial((day - dt.date(1899, 12, 30)).days)


def write_book(path: Path, sheets: dict[str, list[list[object]]], *, merges: list[tuple] = ()) -> Path:
    """A workbook made with xlsxwriter: date cells with a date format, ``Serial`` as numbers, ``str`` as text."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                else:
                    sheet.write_number(r, c, float(value))
        if name == "Sales":
            for first_row, first_col, last_row, last_col, value in merges:
                sheet.merge_range(first_row, first_col, last_row, last_col, value)
    book.close()
    return path


def run(session: Session, path: Path, kind: str, **options: object) -> ImportResult:
    result = import_file(
        session=session, path=path, kind=kind, options=ImportOptions(**options), user="planner@example.com"
    )
    session.commit()
    return result


def stored(session: Session) -> dict[str, list]:
    """Every planning row (ids left out)."""
    queries = {
        "sku": "SELECT code, name, category, location, unit_cost, unit_price, moq, supplier, one_shot FROM sku",
        "demand": "SELECT s.code, d.period, d.quantity FROM demand d JOIN sku s ON s.id = d.sku_id",
        "stock": "SELECT s.code, p.as_of, p.on_hand, p.on_order FROM stock_position p JOIN sku s ON s.id = p.sku_id",
        "receipt": (
            "SELECT s.code, r.order_date, r.promised_date, r.received_date, r.quantity, r.supplier "
            "FROM receipt r JOIN sku s ON s.id = r.sku_id"
        ),
        "capacity": (
            "SELECT r.name, c.period, c.capacity, c.overtime_capacity, c.overtime_cost, c.regular_cost "
            "FROM resource_capacity c JOIN resource r ON r.id = c.resource_id"
        ),
    }

    def plain(value: object) -> object:  # SQLite answers text for dates in raw SQL, PostgreSQL dates
        return value.isoformat()[:10] if isinstance(value, dt.date) else value

    return {
        name: sorted(tuple(plain(v) for v in row) for row in session.execute(text(sql)).all())
        for name, sql in queries.items()
    }


D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)
NOTES = [["About this file"], ["Exported from the ERP on Monday"]]

# kind -> (CSV text, the same data as sheet rows: date cells, serial numbers, text codes with leading zeros)
CASES: dict[str, tuple[str, list[list[object]]]] = {
    "demand": (
        "date,sku,quantity\n2024-01-01,00123,5\n2024-01-08,00123,6.5\n2024-01-15,00123,0\n2024-01-01,0042,12\n"
        "2024-01-08,0042,3\n",
        [
            ["date", "sku", "quantity"],
            [D1, "00123", 5],
            [serial(D2), "00123", 6.5],
            [D3, "00123", "0"],  # a number stored as text
            [serial(D1), "0042", 12],
            [D2, "0042", " 3 "],
        ],
    ),
    "skus": (
        "sku,name,category,unit_cost,unit_price,moq,supplier,one_shot\n00123,Sparkling water,Beverages,0.42,0.99,"
        "120,AquaPure GmbH,no\n0042,Drive belt,Spare parts,38.5,,0,Precision Parts,yes\n",
        [
            ["sku", "name", "category", "unit_cost", "unit_price", "moq", "supplier", "one_shot"],
            ["00123", "Sparkling water", "Beverages", 0.42, 0.99, 120, "AquaPure GmbH", False],
            ["0042", "Drive belt", "Spare parts", "38.5", None, 0, "Precision Parts", True],
        ],
    ),
    "stock": (
        "sku,on_hand,on_order,as_of\n00123,340,240,2024-03-31\n0042,2,0,2024-03-31\n",
        [
            ["sku", "on_hand", "on_order", "as_of"],
            ["00123", 340, 240, D1.replace(month=3, day=31)],
            ["0042", 2, 0, serial(dt.date(2024, 3, 31))],
        ],
    ),
    "receipts": (
        "sku,order_date,promised_date,received_date,quantity,supplier\n00123,2024-01-02,2024-01-16,2024-01-19,480,"
        "AquaPure GmbH\n0042,2024-02-05,,2024-04-12,4,\n",
        [
            ["sku", "order_date", "promised_date", "received_date", "quantity", "supplier"],
            ["00123", dt.date(2024, 1, 2), serial(dt.date(2024, 1, 16)), dt.date(2024, 1, 19), 480, "AquaPure GmbH"],
            ["0042", serial(dt.date(2024, 2, 5)), None, dt.date(2024, 4, 12), 4, None],
        ],
    ),
    "resources": (
        "resource,period,capacity,overtime_capacity,overtime_cost,regular_cost\nLine 01,2027-01-01,100,10,3,1\n"
        "Line 01,2027-02-01,120,10,3,1\n007,2027-01-01,50,,,\n",
        [
            ["resource", "period", "capacity", "overtime_capacity", "overtime_cost", "regular_cost"],
            ["Line 01", dt.date(2027, 1, 1), 100, 10, 3, 1],
            ["Line 01", serial(dt.date(2027, 2, 1)), 120, 10, 3, 1],
            ["007", dt.date(2027, 1, 1), 50, None, None, None],
        ],
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_a_workbook_of_each_kind_imports_like_the_same_csv(db_url: str, session: Session, tmp_path: Path, kind):
    csv_text, rows = CASES[kind]
    options = {"create_skus": True} if kind in ("demand", "stock", "receipts") else {}
    csv_path = tmp_path / f"{kind}.csv"
    csv_path.write_text(csv_text, encoding="utf-8")
    from_csv = run(session, csv_path, kind, **options)
    assert from_csv.status == "committed", from_csv.summary()
    expected = stored(session)
    session.rollback()  # end the read transaction: PostgreSQL's TRUNCATE waits for it
    wipe(db_url)
    # several sheets: a notes sheet first, then the data; the importer picks the sheet whose header matches
    book = write_book(tmp_path / f"{kind}.xlsx", {"Notes": NOTES, "Data": rows, "Other": [["x", "y"], [1, 2]]})
    from_book = run(session, book, kind, **options)
    assert from_book.status == "committed", from_book.summary()
    assert stored(session) == expected
    counts = ("rows_read", "rows_accepted", "inserted", "updated", "unchanged", "skus_created")
    assert [getattr(from_book, c) for c in counts] == [getattr(from_csv, c) for c in counts]
    assert from_book.format.sheet == "Data" and from_book.format.sheets == ["Notes", "Data", "Other"]
    assert "Excel workbook (.xlsx), sheet 'Data'" in from_book.summary()
    assert "-separated" not in from_book.summary()
    history = session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [(b.kind, b.status, b.file_name) for b in history][-1] == (kind, "committed", f"{kind}.xlsx")


def test_row_numbers_and_the_sheet_name_in_errors(session: Session, tmp_path: Path) -> None:
    rows = [
        ["Weekly sales"],  # a title row, then an empty row, then the header in row 3
        [],
        ["date", "sku", "quantity"],
        [D1, "00123", 5],
        [D2, "00123", "lots"],  # row 5
        [],  # an empty row inside the data (row 6) is skipped, not renumbered
        [D3, "00123", -1],  # row 7
    ]
    book = write_book(tmp_path / "sales.xlsx", {"Sales": rows})
    result = run(session, book, "demand", create_skus=True)
    assert result.status == "rejected"
    errors = result.first_errors()
    assert [(e.line, e.column, e.sheet) for e in errors] == [(5, "quantity", "Sales"), (7, "quantity", "Sales")]
    assert str(errors[0]).startswith("sheet 'Sales' row 5, column 'quantity': not a number")
    assert session.scalar(select(func.count()).select_from(Demand)) == 0
    report = result.error_report.read_text(encoding="utf-8").splitlines()
    assert report[0] == "sheet,line,column,value,reason" and report[1].startswith("Sales,5,quantity,lots,")
    batch = session.get(ImportBatch, result.batch_id)
    assert batch.status == "rejected" and batch.errors[0]["line"] == 5


def test_merged_header_cells_trailing_rows_and_the_sheet_option(session: Session, tmp_path: Path) -> None:
    sales = [
        [None, "Sales report"],
        [None, None, None, None],
        [None, None, "date", "qty"],
        [None, "00077", D1, 4],
        [None, "00077", D2, 5],
        [None, None, None, None],
        [None, "", "", ""],
    ]
    # "sku" merged over B2:B3 (a two-row header), "Sales" merged over C2:D2 above date and qty
    merges = [(1, 1, 2, 1, "sku"), (1, 2, 1, 3, "Sales")]
    book = write_book(
        tmp_path / "two.xlsx", {"Plan": [["sku", "date", "quantity"], ["X1", D1, 1]], "Sales": sales}, merges=merges
    )
    result = run(session, book, "demand", create_skus=True, sheet="Sales")
    assert result.status == "committed", result.summary()
    assert result.rows_read == 2 and result.format.sheet == "Sales"
    assert stored(session)["demand"] == [("00077", "2024-01-01", 4.0), ("00077", "2024-01-08", 5.0)]
    missing = run(session, book, "demand", sheet="Nope")
    assert missing.status == "rejected"
    assert missing.message == "the workbook has no sheet 'Nope'; its sheets are 'Plan', 'Sales'"


def test_a_wide_demand_sheet_with_date_headers(session: Session, tmp_path: Path) -> None:
    rows = [["sku", D1, serial(D2), "2024-01-15"], ["00123", 1, 2, 3], ["0042", 0, None, 7]]
    result = run(session, write_book(tmp_path / "wide.xlsx", {"Wide": rows}), "demand", create_skus=True)
    assert result.status == "committed", result.summary()
    assert result.format.layout == "wide"
    demand = stored(session)["demand"]
    assert ("00123", "2024-01-08", 2.0) in demand and ("0042", "2024-01-15", 7.0) in demand


def _vba_book(path: Path, tmp_path: Path) -> Path:
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Sub AutoOpen(): Shell "calc": End Sub' * 10)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sales")
    sheet.write_row(0, 0, ["date", "sku", "quantity"])
    sheet.write_row(1, 0, ["2024-01-01", "00123", 3])
    book.add_vba_project(str(vba))
    book.close()
    return path


def test_a_macro_enabled_workbook_is_read_as_data_only(session: Session, tmp_path: Path) -> None:
    result = run(session, _vba_book(tmp_path / "macro.xlsm", tmp_path), "demand", create_skus=True)
    assert result.status == "committed", result.summary()
    assert "Excel workbook (.xlsm)" in result.summary()
    assert stored(session)["demand"] == [("00123", "2024-01-01", 3.0)]


def _ods(path: Path) -> Path:
    cells = [["date", "sku", "quantity"], ["2024-01-01", "00123", "4"]]

    def cell(value: str) -> str:
        if value.isdigit() and not value.startswith("0"):
            return f'<table:table-cell office:value-type="float" office:value="{value}"/>'
        if value.startswith("2024"):
            return f'<table:table-cell office:value-type="date" office:date-value="{value}"/>'
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in cells)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="Sales">{body}</table:table></office:spreadsheet>'
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
        'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return path


def test_an_opendocument_spreadsheet(session: Session, tmp_path: Path) -> None:
    result = run(session, _ods(tmp_path / "sales.ods"), "demand", create_skus=True)
    assert result.status == "committed", result.summary()
    assert "OpenDocument spreadsheet (.ods), sheet 'Sales'" in result.summary()
    assert stored(session)["demand"] == [("00123", "2024-01-01", 4.0)]


def _encrypted(path: Path) -> Path:
    # an encrypted OOXML file is an Office binary container holding an "EncryptedPackage" stream
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le"))
    return path


def _truncated(path: Path, tmp_path: Path) -> Path:
    whole = write_book(tmp_path / "whole.xlsx", {"Sales": CASES["demand"][1]}).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return path


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
        archive.writestr(info, "", compress_type=zipfile.ZIP_DEFLATED)
    # claim an unpacked size beyond the limit in the central directory (what a zip bomb looks like to the check)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("locked.xlsx", lambda p, t: _encrypted(p), "the workbook is password-protected (encrypted)"),
        (
            "old.xlsx",
            lambda p, t: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600) and p,
            "this is an old binary Excel file (.xls)",
        ),
        ("broken.xlsx", _truncated, "the workbook is damaged and cannot be read"),
        (
            "garbage.xlsx",
            lambda p, t: p.write_bytes(b"PK\x03\x04" + b"\x01" * 300) and p,
            "the workbook is damaged and cannot be read",
        ),
        ("bomb.xlsx", lambda p, t: _bomb(p), "the workbook unpacks to"),
        (
            "renamed.xlsx",
            lambda p, t: p.write_bytes(b"not a zip") and p,
            "'renamed.xlsx' is named like a workbook but is not one",
        ),
    ],
)
def test_bad_workbooks_are_refused_with_one_line_and_nothing_written(
    session: Session, tmp_path: Path, name, make, expected
) -> None:
    run(session, write_book(tmp_path / "good.xlsx", {"Sales": CASES["demand"][1]}), "demand", create_skus=True)
    before = stored(session)
    path = make(tmp_path / name, tmp_path)
    result = run(session, path, "demand", create_skus=True)
    assert result.status == "rejected"
    assert result.message.startswith(expected), result.message
    assert "\n" not in result.message and len(result.errors.first()) == 1
    assert stored(session) == before
    batch = session.get(ImportBatch, result.batch_id)
    assert (batch.status, batch.file_name) == ("rejected", name)


def test_a_workbook_over_the_size_limit_is_refused(session: Session, tmp_path: Path) -> None:
    book = write_book(tmp_path / "big.xlsx", {"Sales": CASES["demand"][1]})
    result = run(session, book, "demand", max_bytes=1000)
    assert result.status == "rejected" and "the limit is" in result.message


def test_a_visible_sheet_is_preferred_to_a_hidden_one(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "hidden.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, qty in (("Old", 1), ("Current", 2)):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["date", "sku", "quantity"])
        sheet.write_row(1, 0, ["2024-01-01", "00123", qty])
        if name == "Old":
            sheet.hide()
        else:
            sheet.activate()  # the active sheet cannot be hidden
    book.close()
    result = run(session, path, "demand", create_skus=True)
    assert result.status == "committed" and result.format.sheet == "Current"
    assert stored(session)["demand"] == [("00123", "2024-01-01", 2.0)]
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "data.import")).all()[-1]
    assert audit.details["sheet"] == "Current"


def test_a_sheet_beyond_the_limits_is_refused(session: Session, tmp_path: Path, monkeypatch) -> None:
    from services.ingest import workbook

    monkeypatch.setattr(workbook, "MAX_ROWS", 4)  # Excel's 1,048,576, made small enough to reach in a test
    book = write_book(tmp_path / "long.xlsx", {"Sales": CASES["demand"][1]})  # 6 rows
    result = run(session, book, "demand", create_skus=True)
    assert result.status == "rejected"
    assert result.message == "sheet 'Sales' has 6 rows and 3 columns; a sheet holds at most 4 rows and 16,384 columns"
    assert stored(session)["demand"] == []
