"""The Decisions page in headless Chromium: a planner approves an order, and a viewer finds it in the decision log
(filtered by kind and SKU, with its pending outcome), narrows by outcome, and downloads the CSV.

Writes docs/img/decisions.png (1440 wide).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import delete, select, update

from db.models import AuditLog, PurchaseOrder
from db.session import session_scope
from services import orders

SHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "decisions.png"


def _ids():
    from layouts import decisions  # a Dash page module: imported once the app exists

    return decisions


def _approve() -> tuple[int, str, int]:
    with session_scope() as session:
        po = session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.status == "recommended", PurchaseOrder.qty > 0).limit(1)
        ).first()
        assert po is not None
        view = orders.approve_order(session=session, order_id=po.id, user="planner@example.com")
        entry = session.scalar(select(AuditLog.id).where(AuditLog.target == f"order:{po.id}"))
        return po.id, view.sku, int(entry)


def _undo(order_id: int, entry: int) -> None:
    with session_scope() as session:  # the shared demo database: put the order back as it was
        session.execute(
            update(PurchaseOrder)
            .where(PurchaseOrder.id == order_id)
            .values(status="recommended", approved_by=None, approved_at=None, order_date=None, promised_date=None)
        )
        session.execute(delete(AuditLog).where(AuditLog.id == entry))


def test_viewer_finds_an_approved_order_and_its_outcome(page_as) -> None:
    ui = _ids()
    order_id, code, entry = _approve()
    try:
        page = page_as("viewer")
        page.goto("/decisions")
        pw = page.page
        expect(pw.locator(f"#{ui.NOTE}")).to_contain_text("decision", timeout=30_000)
        pw.fill(f"#{ui.SKU}", code)
        pw.keyboard.press("Enter")
        row = pw.locator(f"#{ui.GRID} .ag-row").first
        expect(row).to_contain_text("order approved", timeout=20_000)
        expect(row).to_contain_text(code)
        expect(row).to_contain_text("promised")
        expect(pw.locator(f"#{ui.NOTE}")).to_contain_text("1 decision: 0 with a known outcome, 1 pending")

        pw.click("label:has-text('Outcome known')")
        expect(pw.locator(f"#{ui.NOTE}")).to_contain_text("0 decisions", timeout=20_000)
        pw.click("label:has-text('All')")
        expect(pw.locator(f"#{ui.NOTE}")).to_contain_text("1 decision", timeout=20_000)

        with pw.expect_download() as download:
            pw.click(f"#{ui.EXPORT}")
        lines = Path(download.value.path()).read_text().splitlines()
        assert lines[0].startswith("id,at,kind,sku") and len(lines) == 2 and code in lines[1]

        pw.fill(f"#{ui.SKU}", "")
        pw.keyboard.press("Enter")
        expect(pw.locator(f"#{ui.GRID} .ag-row").first).to_be_visible(timeout=20_000)
        pw.wait_for_load_state("networkidle")
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        pw.screenshot(path=str(SHOT), full_page=True)
        page.assert_no_console_errors()
    finally:
        _undo(order_id, entry)
