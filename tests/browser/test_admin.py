"""The Admin page in headless Chromium: add a user, change the role, create a token, read the audit log."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_admin_adds_a_user_and_changes_the_role(page_as) -> None:
    page = page_as("admin")
    page.goto("/admin")
    p = page.page
    email = f"new{uuid.uuid4().hex[:6]}@example.com"

    p.fill("#admin-user-email", email)
    p.select_option("#admin-user-role", "planner")
    p.click("#admin-user-add")
    result = p.locator("#admin-user-result")
    result.get_by_text(f"Added {email} as planner").wait_for()
    generated = result.locator("input").input_value()
    assert len(generated) >= 16  # a random password, shown once
    row = p.locator("#admin-users-grid .ag-row", has_text=email)
    row.wait_for()
    assert "planner" in row.inner_text()

    row.click()
    p.locator("#admin-user-selected").get_by_text(f"{email} · planner · active").wait_for()
    p.select_option("#admin-user-new-role", "viewer")
    p.click("#admin-user-set-role")
    result.get_by_text(f"{email} is now viewer").wait_for()
    p.locator("#admin-user-selected").get_by_text(f"{email} · viewer · active").wait_for()
    p.locator("#admin-users-grid .ag-row", has_text=email).get_by_text("viewer").wait_for()

    p.click("#admin-user-deactivate")
    result.get_by_text(f"{email} is deactivated").wait_for()
    p.locator("#admin-user-selected").get_by_text(f"{email} · viewer · deactivated").wait_for()

    # tokens: the new user is deactivated, so make one for the planner
    p.get_by_role("tab", name="API tokens").click()
    p.click("#admin-token-user")
    p.get_by_role("listbox").get_by_text("planner@example.com (planner)").click()
    p.fill("#admin-token-name", "browser test")
    p.click("#admin-token-create")
    token_box = p.locator("#admin-token-result input")
    token_box.wait_for()
    assert token_box.input_value().startswith("icc_")
    p.locator("#admin-tokens-grid .ag-row", has_text="browser test").first.wait_for()

    # audit log: the role change is there, and the filter narrows to it
    p.get_by_role("tab", name="Audit log").click()
    p.click("#admin-audit-action")
    p.get_by_role("listbox").get_by_text("user.role", exact=True).click()
    p.locator("#admin-audit-grid .ag-row", has_text=email).first.wait_for()
    for text in p.locator("#admin-audit-grid .ag-row").all_inner_texts():
        assert "user.role" in text
    page.assert_no_console_errors()

    if os.environ.get("SCREENSHOTS") == "1" or not (SHOTS / "admin.png").exists():
        p.get_by_role("tab", name="Users").click()
        p.locator("#admin-users-grid .ag-row").first.wait_for()
        SHOTS.mkdir(parents=True, exist_ok=True)
        p.screenshot(path=str(SHOTS / "admin.png"), full_page=True)


def test_admin_page_refuses_other_roles(page_as) -> None:
    for role in ("viewer", "planner"):
        page = page_as(role)
        page.goto("/admin")
        page.page.get_by_text("This page needs the admin role").wait_for()
        assert page.page.locator("#admin-users-grid").count() == 0
        page.assert_no_console_errors()
