"""The Cycles page in headless Chromium: a planner closes two cycles and compares them (waterfall, totals, largest SKU
changes, CSV export); a viewer reads the comparison but has no close button.

Writes docs/img/cycles.png (1440 wide) of the comparison.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import delete, select

from db.models import SopCycle
from db.session import session_scope

SHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "cycles.png"
NAMES = ("Browser cycle A", "Browser cycle B")


def _cleanup() -> None:
    with session_scope() as session:
        session.execute(delete(SopCycle).where(SopCycle.name.in_(NAMES)))


def _ids():
    from layouts import cycles  # a Dash page module: imported once the app exists

    return cycles


def test_planner_closes_two_cycles_and_compares_them(page_as) -> None:
    _cleanup()
    ui = _ids()
    page = page_as("planner")
    page.goto("/cycles")
    pw = page.page
    pw.wait_for_selector(f"#{ui.CLOSE_BUTTON}", timeout=30_000)
    for name in NAMES:
        pw.fill(f"#{ui.CLOSE_NAME}", name)
        pw.click(f"#{ui.CLOSE_BUTTON}")
        expect(pw.locator(f"#{ui.CLOSE_MESSAGE}")).to_contain_text(f"Closed '{name}'", timeout=60_000)
    expect(pw.locator(f"#{ui.NOTE}")).to_contain_text(f"A: {NAMES[0]}", timeout=30_000)
    expect(pw.locator(f"#{ui.NOTE}")).to_contain_text(f"B: {NAMES[1]}")
    expect(pw.locator(f"#{ui.TOTALS}")).to_contain_text("Revenue of the plan")
    expect(pw.locator(f"#{ui.WATERFALL} .waterfalllayer .point")).not_to_have_count(0)
    expect(pw.locator(f"#{ui.SKU_GRID} .ag-row").first).to_be_visible(timeout=20_000)

    pw.fill(f"#{ui.CLOSE_NAME}", NAMES[0])  # a name in use: a message, no traceback
    pw.click(f"#{ui.CLOSE_BUTTON}")
    expect(pw.locator(f"#{ui.CLOSE_MESSAGE}")).to_contain_text("exists already", timeout=30_000)

    with pw.expect_download() as download:
        pw.click(f"#{ui.EXPORT}")
    path = download.value.path()
    header = Path(path).read_text().splitlines()[0]
    assert header.startswith("code,") and "demand_a" in header and "change_pct" in header
    with session_scope() as session:
        closed = session.scalars(select(SopCycle.closed_by).where(SopCycle.name.in_(NAMES))).all()
        assert closed == ["planner@example.com"] * 2
    pw.wait_for_load_state("networkidle")
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    pw.screenshot(path=str(SHOT), full_page=True)
    page.assert_no_console_errors()


def test_viewer_reads_but_cannot_close(page_as) -> None:
    ui = _ids()
    page = page_as("viewer")
    page.goto("/cycles")
    pw = page.page
    expect(pw.locator("body")).to_contain_text(ui.PLANNER_ONLY, timeout=30_000)
    assert pw.locator(f"#{ui.CLOSE_BUTTON}").count() == 0
    expect(pw.locator(f"#{ui.NOTE}")).not_to_be_empty(timeout=30_000)
    page.assert_no_console_errors()
    _cleanup()


def _a_sku_and_month() -> tuple[str, str]:
    from core import formats
    from db.models import Sku
    from services import consensus

    with session_scope() as session:
        code = session.scalar(select(Sku.code).where(Sku.active.is_(True)).order_by(Sku.code).limit(1))
        month = consensus.month_range(session)[-1]
    return code, formats.fmt_month(month)


def _cleanup_adjustments() -> None:
    from db.models import DemandAdjustment

    with session_scope() as session:
        session.execute(delete(DemandAdjustment).where(DemandAdjustment.reason == "browser test"))


def test_planner_adds_and_deletes_a_commercial_adjustment(page_as) -> None:
    from layouts import _consensus as ui

    code, month = _a_sku_and_month()
    page = page_as("planner")
    page.goto("/cycles")
    pw = page.page
    pw.wait_for_selector(f"#{ui.SAVE}", timeout=30_000)
    pw.fill(f"#{ui.SCOPE}", "NOPE-NOT-A-SKU")
    pw.click(f"#{ui.PERIOD}")
    pw.locator(".dash-dropdown-option", has_text=month).first.click()
    pw.fill(f"#{ui.VALUE}", "1")
    pw.fill(f"#{ui.REASON}", "browser test")
    pw.click(f"#{ui.SAVE}")
    expect(pw.locator(f"#{ui.MESSAGE}")).to_contain_text("unknown SKU or category", timeout=60_000)
    pw.fill(f"#{ui.SCOPE}", code)
    pw.click(f"#{ui.SAVE}")
    expect(pw.locator(f"#{ui.MESSAGE}")).to_contain_text("Saved", timeout=120_000)
    row = pw.locator(f"#{ui.GRID} .ag-row", has_text="browser test").first
    expect(row).to_be_visible(timeout=20_000)
    row.click()
    pw.click(f"#{ui.DELETE}")
    expect(pw.locator(f"#{ui.MESSAGE}")).to_contain_text("Deleted adjustment", timeout=120_000)
    expect(pw.locator(f"#{ui.GRID} .ag-row", has_text="browser test")).to_have_count(0)
    page.assert_no_console_errors()
    _cleanup_adjustments()


def test_viewer_reads_the_consensus_but_cannot_adjust(page_as) -> None:
    from layouts import _consensus as ui

    page = page_as("viewer")
    page.goto("/cycles")
    pw = page.page
    expect(pw.locator(f"#{ui.SECTION}")).to_contain_text(ui.PLANNER_ONLY, timeout=30_000)
    expect(pw.locator(f"#{ui.SECTION}")).to_contain_text("Forecast value added")
    assert pw.locator(f"#{ui.SAVE}").count() == 0
    page.assert_no_console_errors()
