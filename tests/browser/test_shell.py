"""Every page opens in headless Chromium with no console errors; screenshots land in docs/img when asked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PAGES = ["/", "/sku", "/risk", "/profit", "/orders", "/data", "/briefings", "/admin", "/account"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.mark.parametrize("path", PAGES)
def test_page_opens_without_console_errors(page_as, path: str) -> None:
    page = page_as("admin")
    page.goto(path)
    assert page.page.locator(".navbar").count() == 1
    page.assert_no_console_errors()
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = "watchtower" if path == "/" else path.strip("/").replace("/", "-")
        page.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_page_then_wrong_password(browser, live_server) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server + "/")
    assert "/login" in page.url
    page.fill("#email", "viewer@example.com")
    page.fill("#password", "wrong password!")
    page.click("button[type=submit]")
    assert "not correct" in page.content()
    context.close()
