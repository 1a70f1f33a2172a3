"""Issue 16: the navbar's "Sign out" ends the session on the server (a POST with the CSRF token), in a real browser."""

from __future__ import annotations

import os
from pathlib import Path

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_sign_out_from_the_navbar_ends_the_session(page_as, browser, live_server) -> None:
    page = page_as("viewer")
    page.goto("/")
    cookies = page.page.context.cookies()
    page.page.click("#shell-user")  # the menu under the user's name
    sign_out = page.page.locator("#shell-sign-out")
    sign_out.wait_for(state="visible")
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.page.screenshot(path=str(SHOTS / "sign-out-menu.png"))
    with page.page.expect_navigation():
        sign_out.click()
    page.page.wait_for_load_state("networkidle")
    assert page.page.url.endswith("/login")
    page.goto("/watchtower-does-not-matter")
    assert "/login" in page.page.url  # signed out
    # the cookie copied before signing out is dead on the server, not only deleted in this browser
    other = browser.new_context()
    try:
        other.add_cookies(cookies)
        response = other.request.get(live_server + "/_dash-layout")
        assert response.status == 401
    finally:
        other.close()
    page.assert_no_console_errors()


def test_a_link_to_logout_does_not_sign_out(page_as) -> None:
    page = page_as("viewer")
    page.goto("/logout")
    assert page.page.locator("#logout-confirm").count() == 1  # only the button
    page.goto("/")
    assert "/login" not in page.page.url and page.page.locator(".navbar").count() == 1
