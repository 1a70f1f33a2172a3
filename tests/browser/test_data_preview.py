"""The Data page's import preview in headless Chromium (nothing is imported): what a file changes, the active SKUs it
does not mention, a partial week, and near-duplicate names that need the confirmation tick before the import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from db.models import Demand, Sku
from db.session import session_scope
from layouts import _ids as ids

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _names_file(tmp_path: Path) -> tuple[Path, int]:
    """Two demo SKUs by name (other case, stray spaces), a near-duplicate new name; daily rows of a partial week."""
    with session_scope() as session:
        skus = session.execute(select(Sku.name).where(Sku.active.is_(True)).order_by(Sku.code).limit(2)).scalars().all()
        last = session.scalar(select(func.max(Demand.period)))
        active = session.scalar(select(func.count()).select_from(Sku).where(Sku.active.is_(True)))
    monday = last + dt.timedelta(days=7)
    days = [monday + dt.timedelta(days=i) for i in range(3)]
    days = [d for d in days if d <= dt.date.today()] or [monday]
    first, second = skus
    rows = [f"{d.isoformat()},  {first.upper()}  ,{i + 3}" for i, d in enumerate(days)]
    rows.append(f"{days[0].isoformat()},{second.lower().replace(' ', '  ')},2")
    rows.append(f"{days[0].isoformat()},{first}x,1")  # a new name, one letter away from an existing one
    path = tmp_path / "pos-export.csv"
    path.write_text("date,product_name,demand\n" + "\n".join(rows) + "\n")
    return path, int(active) - 2


def test_preview_warns_about_absent_skus_partial_weeks_and_near_duplicates(page_as, tmp_path: Path) -> None:
    page = page_as("planner")
    page.goto("/data")
    pw = page.page
    pw.wait_for_selector(f"#{ids.DATA_SKU_GRID} .ag-row", timeout=20_000)
    path, absent = _names_file(tmp_path)
    pw.check(f"#{ids.DATA_CREATE_SKUS}")
    pw.set_input_files(f"#{ids.DATA_UPLOAD} input[type=file]", str(path))
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW_NEAR}", timeout=30_000)
    preview = pw.inner_text(f"#{ids.DATA_PREVIEW}")
    assert "Ready to import" in preview
    assert f"{absent:,} active SKUs not in this file" in preview
    assert "not in this file: their history ends at their last reported period, nothing is recorded for them" in preview
    assert "2 product names matched to existing SKUs" in preview
    assert "1 new name is close to existing SKU names" in preview
    assert "What changes per SKU" in pw.inner_text(f"#{ids.DATA_PREVIEW_SKUS}")
    assert "Incomplete period" in preview or "not over yet" in preview
    assert pw.is_visible(f"#{ids.DATA_CONFIRM_NEW}") and pw.is_disabled(f"#{ids.DATA_IMPORT}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    pw.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
    pw.check(f"#{ids.DATA_CONFIRM_NEW}")
    pw.wait_for_function(f"() => !document.querySelector('#{ids.DATA_IMPORT}').disabled", timeout=10_000)

    pw.check(f"#{ids.DATA_FULL_EXTRACT}")  # checks the file again: the absent SKUs become zero sales
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW_ABSENT} >> text=will be recorded as zero sales", timeout=30_000)
    assert pw.is_disabled(f"#{ids.DATA_IMPORT}")  # a new check: the confirmation is asked again
    pw.screenshot(path=str(tmp_path / "preview-full-extract.png"), full_page=True)
    with session_scope() as session:  # a preview writes nothing
        assert session.scalar(select(func.count()).select_from(Sku).where(Sku.name == _first_name(path) + "x")) == 0
    page.assert_no_console_errors()


def _first_name(path: Path) -> str:
    line = path.read_text().splitlines()[-1]
    return line.split(",")[1][:-1]
