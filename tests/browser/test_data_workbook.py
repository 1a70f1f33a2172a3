"""The Data page's preview of an Excel workbook in headless Chromium (nothing is imported): the sheet whose header
fits the kind is read, the sheet picker lists every sheet, and picking another sheet checks that one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter
from sqlalchemy import func, select

from db.models import Demand, Sku
from db.session import session_scope
from layouts import _ids as ids


def _workbook(tmp_path: Path) -> tuple[Path, int]:
    """Notes first, then two demand sheets of demo SKUs (date cells; 'Shop' also as serial numbers)."""
    with session_scope() as session:
        codes = session.execute(select(Sku.code).where(Sku.active.is_(True)).order_by(Sku.code).limit(3)).scalars()
        codes = list(codes)
        last = session.scalar(select(func.max(Demand.period)))
        rows = session.scalar(select(func.count()).select_from(Demand))
    periods = [last - dt.timedelta(days=7 * i) for i in range(2)]
    path = tmp_path / "erp-extract.xlsx"
    book = xlsxwriter.Workbook(str(path))
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    notes = book.add_worksheet("Notes")
    notes.write(0, 0, "Weekly sales by SKU, exported from the ERP")
    for name, skus in (("Web", codes[:1]), ("Shop", codes)):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["Week", "Item code", "Units sold"])
        r = 1
        for code in skus:
            for period in periods:
                when = dt.datetime.combine(period, dt.time())
                if name == "Shop" and r % 2:
                    sheet.write_number(r, 0, (period - dt.date(1899, 12, 30)).days)  # an Excel serial number
                else:
                    sheet.write_datetime(r, 0, when, day)
                sheet.write_string(r, 1, code)
                sheet.write_number(r, 2, r)
                r += 1
    book.close()
    return path, int(rows)


def test_workbook_preview_reads_the_matching_sheet_and_offers_the_others(page_as, tmp_path: Path) -> None:
    page = page_as("planner")
    page.goto("/data")
    pw = page.page
    pw.wait_for_selector(f"#{ids.DATA_SKU_GRID} .ag-row", timeout=20_000)
    path, stored = _workbook(tmp_path)
    assert not pw.is_visible(f"#{ids.DATA_SHEET}")
    pw.set_input_files(f"#{ids.DATA_UPLOAD} input[type=file]", str(path))
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} >> text=Ready to import", timeout=30_000)
    preview = pw.inner_text(f"#{ids.DATA_PREVIEW}")
    assert "Excel workbook (.xlsx), sheet 'Web'" in preview
    assert "2 read" in preview
    assert pw.is_visible(f"#{ids.DATA_SHEET}")
    options = pw.locator(f"#{ids.DATA_SHEET} option").all_inner_texts()
    assert [o for o in options if o] == ["Notes", "Web", "Shop"]  # after the empty placeholder
    assert pw.input_value(f"#{ids.DATA_SHEET}") == "Web"

    pw.select_option(f"#{ids.DATA_SHEET}", "Shop")  # checks the file again, reading that sheet
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} >> text=sheet 'Shop'", timeout=30_000)
    preview = pw.inner_text(f"#{ids.DATA_PREVIEW}")
    assert "Ready to import" in preview and "6 read" in preview
    assert pw.inner_text(f"#{ids.DATA_IMPORT}") == "Import 6 rows"

    pw.select_option(f"#{ids.DATA_SHEET}", "Notes")  # a sheet without the columns: refused, with its name
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} >> text=cannot be imported", timeout=30_000)
    assert "sheet 'Notes'" in pw.inner_text(f"#{ids.DATA_PREVIEW}")
    assert pw.is_disabled(f"#{ids.DATA_IMPORT}")
    with session_scope() as session:  # a preview writes nothing
        assert session.scalar(select(func.count()).select_from(Demand)) == stored
    page.assert_no_console_errors()
