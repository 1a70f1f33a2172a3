"""Excel exports on SQLite and PostgreSQL: each table's workbook holds the CSV export's values (numbers as numbers,
dates as dates), has a frozen, sized header, neutralises formulas, and imports back to the same data."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import python_calamine as calamine
from sqlalchemy.orm import Session

from services import datatables
from services.ingest import ImportOptions, import_file
from services.xlsx_export import sheet_name, workbook_bytes
from tests.conftest import wipe
from tests.integration.test_ingest_workbook import stored

FILES = {
    "skus": 'sku,name,category,unit_cost,unit_price,moq,supplier\n00123,=HYPERLINK("http://x"),Drinks,0.42,0.99,'
    "120,@Acme\n0042,Drive belt,-Parts,38.5,40,0,Precision Parts\n",
    "demand": "date,sku,quantity\n2024-01-01,00123,5\n2024-01-08,00123,6.5\n2024-01-01,0042,12\n",
    "stock": "sku,on_hand,on_order,as_of\n00123,340,240,2024-03-31\n0042,2,0,2024-03-31\n",
    "receipts": "sku,order_date,promised_date,received_date,quantity,supplier\n00123,2024-01-02,2024-01-16,2024-01-19,"
    "480,+Acme\n0042,2024-02-05,,2024-04-12,4,\n",
    "resources": "resource,period,capacity,overtime_capacity,overtime_cost,regular_cost\nLine 01,2027-01-01,100,10,"
    "3,1\n007,2027-02-01,50,0,0,0\n",
}


def load(session: Session, tmp_path: Path) -> None:
    for kind, text in FILES.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = import_file(session=session, path=path, kind=kind, options=ImportOptions(create_skus=True))
        session.commit()
        assert result.status == "committed", result.summary()


def read_book(data: bytes) -> dict[str, list[list[object]]]:
    book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def as_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value)


@pytest.mark.parametrize("table", list(FILES))
def test_a_table_workbook_holds_the_csv_values_and_imports_back(db_url, session: Session, tmp_path: Path, table):
    load(session, tmp_path)
    before = stored(session)
    buffer = io.BytesIO()
    rows = datatables.export_workbook(session=session, table=table, target=buffer)
    csv_frame = pd.read_csv(io.StringIO(datatables.export_text(session=session, table=table)), dtype=str)
    csv_frame = csv_frame.fillna("")
    sheets = read_book(buffer.getvalue())
    assert list(sheets) == [table]
    header, *cells = sheets[table]
    assert header == list(csv_frame.columns) and len(cells) == rows == len(csv_frame)
    for got, want in zip(cells, csv_frame.itertuples(index=False), strict=True):
        texts = [as_text(v) for v in got]
        expected = [str(v) for v in want]
        numbers = [i for i, v in enumerate(got) if isinstance(v, float)]
        for i in numbers:  # numbers as numbers: the same value as the CSV text
            assert float(expected[i]) == got[i]
        assert [t for i, t in enumerate(texts) if i not in numbers] == [
            e for i, e in enumerate(expected) if i not in numbers
        ]
    dates = [v for row in cells for v in row if isinstance(v, dt.date)]
    assert dates or table == "skus"  # dates are date cells, not text
    path = tmp_path / f"{table}-export.xlsx"
    path.write_bytes(buffer.getvalue())
    session.rollback()
    if table in ("demand", "stock", "receipts"):  # these need the SKUs: keep them, drop the rest
        wipe(db_url)
        skus = tmp_path / "skus.csv"
        import_file(session=session, path=skus, kind="skus")
        session.commit()
    else:
        wipe(db_url)
    again = import_file(session=session, path=path, kind=table)
    session.commit()
    assert again.status == "committed", again.summary()
    after = stored(session)
    assert after[_stored_key(table)] == before[_stored_key(table)]


def _stored_key(table: str) -> str:
    return {"skus": "sku", "receipts": "receipt", "resources": "capacity"}.get(table, table)


def test_formula_injection_is_neutralised_and_restored(session: Session, tmp_path: Path) -> None:
    load(session, tmp_path)
    buffer = io.BytesIO()
    datatables.export_workbook(session=session, table="skus", target=buffer)
    header, *rows = read_book(buffer.getvalue())["skus"]
    record = dict(zip(header, rows[[r[0] for r in rows].index("00123")], strict=True))
    assert record["name"] == '\'=HYPERLINK("http://x")' and record["supplier"] == "'@Acme"
    with zipfile.ZipFile(buffer) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in strings  # text cells, never formulas
    assert 'state="frozen"' in sheet and 'ySplit="1"' in sheet  # the header row stays in view
    assert "<autoFilter" in sheet and 'customWidth="1"' in sheet


def test_sheet_names_and_types() -> None:
    used: set[str] = set()
    assert sheet_name("Acme [EU]: North/South*", used) == "Acme -EU-- North-South-"
    assert sheet_name("acme [eu]: north/south*", used) == "acme -eu-- north-south- (2)"
    assert sheet_name("", used) == "Sheet"
    assert len(sheet_name("x" * 40, used)) == 31
    frame = pd.DataFrame(
        {
            "code": ["007", "-5"],
            "qty": [3, None],
            "when": ["2024-01-31", ""],
            "stamp": pd.to_datetime(["2024-01-31 10:30", None]),
            "flag": [True, False],
        }
    )
    header, first, second = read_book(workbook_bytes([("S", frame)]))["S"]
    assert header == ["code", "qty", "when", "stamp", "flag"]
    assert first[:3] == ["007", 3.0, dt.date(2024, 1, 31)] or first[:3] == ["007", 3.0, dt.datetime(2024, 1, 31)]
    assert first[3] == dt.datetime(2024, 1, 31, 10, 30) and first[4] is True
    assert second[:3] == ["'-5", "", ""]
