"""The command line with workbooks (SQLite; the SQL is the services', tested on both engines elsewhere): import
with --sheet, exports chosen by the .xlsx extension (tables, snapshot and forecasts, orders per supplier)."""

from __future__ import annotations

import pytest
import python_calamine as calamine

import cli
from db.session import session_scope
from services import orders as svc
from services.xlsx_export import sheet_name
from tests.integration.test_ingest_workbook import D1, D2, write_book
from tests.integration.test_orders import fast_forecast, run, seed  # noqa: F401  (fixture)


def sheets_of(path) -> dict[str, list[list[object]]]:
    book = calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_import_a_sheet_and_export_tables_as_workbooks(sqlite_db, tmp_path, capsys) -> None:
    book = write_book(
        tmp_path / "extract.xlsx",
        {
            "Plan": [["date", "sku", "quantity"], [D1, "X1", 1]],
            "Sales": [["date", "sku", "quantity"], [D1, "00123", 4], [D2, "00123", "bad"]],
        },
    )
    args = ["import", "demand", str(book), "--create-skus", "--no-recompute"]
    assert cli.main([*args, "--sheet", "Sales"]) == 1
    captured = capsys.readouterr()
    assert "sheet 'Sales', column 'quantity': not a number - row 3" in captured.out
    assert cli.main([*args, "--sheet", "Nope"]) == 1
    assert "the workbook has no sheet 'Nope'; its sheets are 'Plan', 'Sales'" in capsys.readouterr().err
    assert cli.main(args) == 0  # the first sheet that fits: Plan
    assert "Excel workbook (.xlsx), sheet 'Plan'" in capsys.readouterr().out
    out = tmp_path / "demand.xlsx"
    assert cli.main(["export", "demand", str(out)]) == 0
    assert "exported 1 rows of demand" in capsys.readouterr().out
    header, row = sheets_of(out)["demand"]
    assert header == ["date", "sku", "quantity"] and row == [D1, "X1", 1.0]


@pytest.mark.usefixtures("fast_forecast")
def test_snapshot_forecasts_and_orders_per_supplier(sqlite_db, tmp_path, capsys) -> None:
    seed()
    run()
    for what in ("snapshot", "forecasts"):
        target = tmp_path / f"{what}.xlsx"
        assert cli.main(["export-results", what, str(target)]) == 0
        capsys.readouterr()
        header, *rows = sheets_of(target)[what]
        assert header[0] == "run_id" and rows and all(isinstance(r[0], float) for r in rows)
        if what == "forecasts":
            periods = [r[header.index("period")] for r in rows]
            assert all(hasattr(p, "year") for p in periods)  # dates as date cells
    with session_scope() as s:
        ids_ = [o.id for o in svc.list_orders(session=s, status="recommended")]
        suppliers = sorted({o.supplier for o in svc.list_orders(session=s, status="recommended")})
    assert cli.main(["orders", "approve", *map(str, ids_), "--user", "planner@example.com"]) == 0
    assert cli.main(["orders", "export", "--xlsx", "--out", str(tmp_path)]) == 0
    (workbook,) = tmp_path.glob("approved-orders-*.xlsx")
    sheets = sheets_of(workbook)
    used: set[str] = set()
    assert list(sheets) == [sheet_name(s, used) for s in suppliers]
    for rows in sheets.values():
        header, *lines = rows
        assert "quantity" in header and all(isinstance(r[header.index("quantity")], float) for r in lines)
