"""Orders page, Transfers tab (issue 21) in headless Chromium: the demo's proposals are listed with their reason;
a viewer cannot act; a planner edits one with a reason, approves it and receives it; the status filter and the SKU
page's other-locations panel work. No screenshot (docs/img stays as it is)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from db.models import AuditLog, Transfer
from db.session import session_scope

GRID = "#transfers-grid .ag-center-cols-container"


def _proposed() -> list[int]:
    with session_scope() as s:
        return list(s.scalars(select(Transfer.id).where(Transfer.status == "proposed").order_by(Transfer.id)))


def test_viewer_sees_the_proposals_but_cannot_act(page_as) -> None:
    proposed = _proposed()
    assert proposed, "the demo recompute proposed no transfer"
    page = page_as("viewer")
    page.goto("/orders")
    pw = page.page
    pw.click("text=Transfers")
    row = pw.locator(f"{GRID} .ag-row[row-id='{proposed[0]}']")
    row.wait_for()
    assert "proposed" in row.inner_text()
    for button in ("#transfers-approve", "#transfers-reject", "#transfers-edit-save", "#transfers-receive"):
        assert pw.locator(button).is_disabled()
    assert not pw.locator("#transfers-export").is_disabled()
    page.assert_no_console_errors()


def test_planner_edits_approves_and_receives_a_transfer(page_as) -> None:
    transfer_id = _proposed()[0]
    page = page_as("planner")
    page.goto("/orders")
    pw = page.page
    pw.click("text=Transfers")
    row = pw.locator(f"{GRID} .ag-row[row-id='{transfer_id}']")
    row.wait_for()
    pw.locator(f"#transfers-grid .ag-row[row-id='{transfer_id}'] input[type=checkbox]").first.check()
    pw.fill("#transfers-edit-qty", "24")
    pw.fill("#transfers-reason", "two cases fit the van")
    pw.click("#transfers-edit-save")
    expect(pw.locator("#transfers-message")).to_contain_text(f"Transfer {transfer_id}: 24 units now")
    pw.locator(f"#transfers-grid .ag-row[row-id='{transfer_id}'] input[type=checkbox]").first.check()
    pw.click("#transfers-approve")
    expect(pw.locator("#transfers-message")).to_contain_text("Approved 1 transfer(s)")
    expect(row).to_contain_text("approved")
    pw.locator(f"#transfers-grid .ag-row[row-id='{transfer_id}'] input[type=checkbox]").first.check()
    pw.click("#transfers-receive")
    expect(pw.locator("#transfers-message")).to_contain_text("Received 1 transfer(s)")
    expect(row).to_have_count(0)  # the open view no longer lists it
    pw.select_option("#transfers-status", "received")
    expect(pw.locator(f"{GRID} .ag-row[row-id='{transfer_id}']")).to_contain_text("received")
    with session_scope() as s:
        t = s.get(Transfer, transfer_id)
        assert (t.status, t.qty, t.edit_reason, t.received_by) == (
            "received",
            24.0,
            "two cases fit the van",
            "planner@example.com",
        )
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.target == f"transfer:{transfer_id}")))
        to_sku = t.to_sku.code
    assert actions == ["transfer.edit", "transfer.approve", "transfer.receive"]
    page.goto(f"/sku/{to_sku}")
    expect(pw.locator("#sku-locations")).to_contain_text("at other locations")
    page.assert_no_console_errors()
