"""The Data page in headless Chromium: upload -> preview -> import, as a planner; a viewer cannot upload."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from db.models import Demand, ImportBatch, Sku
from db.session import session_scope
from layouts import _ids as ids

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _existing_rows(count: int) -> str:
    """A few demand rows exactly as the demo database holds them (re-importing them changes nothing)."""
    with session_scope() as session:
        rows = session.execute(
            select(Demand.period, Sku.code, Demand.quantity)
            .join(Sku, Sku.id == Demand.sku_id)
            .order_by(Sku.code, Demand.period.desc())
            .limit(count)
        ).all()
    return "date,sku,quantity\n" + "".join(f"{p.isoformat()},{c},{q!r}\n" for p, c, q in rows)


def test_planner_uploads_previews_and_imports(page_as, tmp_path: Path) -> None:
    page = page_as("planner")
    page.goto("/data")
    pw = page.page
    upload_input = f"#{ids.DATA_UPLOAD} input[type=file]"
    pw.wait_for_selector(f"#{ids.DATA_SKU_GRID} .ag-row", timeout=20_000)

    bad = tmp_path / "bad.csv"
    bad.write_text("date,sku,quantity\n2024-01-01,NO-SUCH-SKU,1\n2024-02-30,NO-SUCH-SKU,x\n")
    pw.set_input_files(upload_input, str(bad))
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} >> text=bad.csv", timeout=30_000)
    preview = pw.inner_text(f"#{ids.DATA_PREVIEW}")
    assert "cannot be imported" in preview and "line 3" in preview and "impossible date" in preview
    assert pw.is_disabled(f"#{ids.DATA_IMPORT}")
    assert pw.is_enabled(f"#{ids.DATA_REPORT_BUTTON}")

    unknown = tmp_path / "new-skus.csv"
    unknown.write_text("date,sku,quantity\n2024-01-01,NEW-1,1\n2024-01-08,NEW-1,2\n")
    pw.set_input_files(upload_input, str(unknown))
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} >> text=new-skus.csv", timeout=30_000)
    assert "unknown SKU" in pw.inner_text(f"#{ids.DATA_PREVIEW}")
    pw.check(f"#{ids.DATA_CREATE_SKUS}")  # changing an option checks the same file again
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} .alert-success", timeout=30_000)
    assert "1 will be created" in pw.inner_text(f"#{ids.DATA_PREVIEW}")  # and nothing is written: no import

    good = tmp_path / "recent-demand.csv"
    good.write_text(_existing_rows(3))
    pw.set_input_files(upload_input, str(good))
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} >> text=recent-demand.csv", timeout=30_000)
    preview = pw.inner_text(f"#{ids.DATA_PREVIEW}")
    assert "Ready to import" in preview and "weekly" in preview and "UTF-8" in preview
    assert pw.inner_text(f"#{ids.DATA_IMPORT}") == "Import 3 rows"
    if os.environ.get("SCREENSHOTS") == "1" or not (SHOTS / "data.png").exists():  # docs/img only when asked
        SHOTS.mkdir(parents=True, exist_ok=True)
        pw.screenshot(path=str(SHOTS / "data.png"), full_page=True)
    pw.click(f"#{ids.DATA_IMPORT}")
    pw.wait_for_selector(f"#{ids.DATA_RESULT} .alert-success", timeout=90_000)
    result = pw.inner_text(f"#{ids.DATA_RESULT}")
    assert "0 inserted, 0 updated, 3 unchanged, 0 rejected" in result
    with session_scope() as session:
        batch = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert (batch.file_name, batch.status, batch.user_email) == (
        "recent-demand.csv",
        "committed",
        "planner@example.com",
    )
    pw.click(".nav-link:has-text('Import history')")
    pw.wait_for_selector(f"#{ids.DATA_IMPORTS_GRID} .ag-row", timeout=20_000)
    assert "recent-demand.csv" in pw.inner_text(f"#{ids.DATA_IMPORTS_GRID}")
    page.assert_no_console_errors()


def test_viewer_looks_and_exports_but_cannot_upload(page_as) -> None:
    page = page_as("viewer")
    page.goto("/data")
    pw = page.page
    pw.wait_for_selector(f"#{ids.DATA_SKU_GRID} .ag-row", timeout=20_000)
    assert pw.locator(f"#{ids.DATA_UPLOAD}").count() == 0
    assert "planner role" in pw.inner_text("body")
    with pw.expect_download() as download:
        pw.click("text=Export CSV")
    assert download.value.suggested_filename.startswith("skus-")
    page.assert_no_console_errors()
