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
