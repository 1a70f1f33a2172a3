"""Every page opens in headless Chromium with no console errors (the page screenshots: test_page_layout.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Page

PAGES = [
    "/",
    "/sku",
    "/risk",
    "/profit",
    "/orders",
    "/supply",
    "/cycles",
    "/decisions",
    "/data",
    "/briefings",
    "/admin",
    "/account",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_opens_without_console_errors(page_as, path: str) -> None:
    page = page_as("admin")
    page.goto(path)
    assert page.page.locator(".navbar").count() == 1
    page.assert_no_console_errors()
    # the page screenshots (SCREENSHOTS=1) are taken at 1280 px by tests/browser/test_page_layout.py


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


def _nav_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#shell-nav .nav-link").all_inner_texts()]


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_admin_link_only_for_admins(page_as, role: str) -> None:
    """Viewers and planners saw an "Admin" link that led to a "needs the admin role" page."""
    page = page_as(role)
    page.goto("/")
    labels = _nav_labels(page.page)
    assert "Watchtower" in labels and "Briefings" in labels and "Admin" not in labels
    assert page.page.locator('#shell-nav a[href="/admin"]').count() == 0
    page.goto("/admin")  # typing the address still reaches the server-side guard
    assert page.page.locator("text=needs the admin role").count() >= 1
    page.assert_no_console_errors()


def test_admin_sees_the_admin_link(page_as) -> None:
    page = page_as("admin")
    page.goto("/")
    assert "Admin" in _nav_labels(page.page)
    page.page.click('#shell-nav a[href="/admin"]')
    page.page.wait_for_url("**/admin")
    expect(page.page.locator("#shell-nav .nav-link.active")).to_have_text(["Admin"])


def test_sku_detail_link_active_on_a_sku_page(page_as) -> None:
    """ "SKU" was not highlighted on /sku/<code>; it must be, on a direct load and after in-app navigation."""
    from db.models import Sku
    from db.session import session_scope

    with session_scope() as session:
        code = session.query(Sku.code).order_by(Sku.code).limit(1).scalar()
    page = page_as("viewer")
    page.goto(f"/sku/{code}")
    active = page.page.locator("#shell-nav .nav-link.active")
    expect(active).to_have_text(["SKU"])
    page.page.click('#shell-nav a[href="/risk"]')  # client-side page change: the highlight follows
    page.page.wait_for_url("**/risk")
    expect(active).to_have_text(["Risk"])
    page.page.click('#shell-nav a[href="/sku"]')
    page.page.wait_for_url("**/sku")
    expect(active).to_have_text(["SKU"])
    page.assert_no_console_errors()


@pytest.mark.parametrize("width", [1280, 1600])
def test_the_navbar_stays_on_one_line(browser, live_server, width: int) -> None:
    """Issue 23: at 1280 px the navbar wrapped to two lines. Every link, the brand and the user menu share one row at
    1280 and 1600 px (the admin sees the most links)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = Page(context.new_page(), live_server)
        page.goto("/login")
        page.page.fill("#email", "admin@example.com")
        page.page.fill("#password", PASSWORD)
        page.page.click("button[type=submit]")
        page.page.wait_for_load_state("networkidle")
        tops = page.page.eval_on_selector_all(
            "header .navbar-brand, #shell-nav .nav-link, header .dropdown-toggle",
            "els => els.map(el => Math.round(el.getBoundingClientRect().top))",
        )
        assert len(tops) >= 12 and max(tops) - min(tops) <= 4, f"the navbar wraps at {width} px: tops {tops}"
        right = page.page.eval_on_selector_all(
            "header .navbar-brand, #shell-nav .nav-link, header .dropdown-toggle",
            "els => Math.max(...els.map(el => el.getBoundingClientRect().right))",
        )
        assert right <= width, f"the navbar runs {right - width:.0f} px past the right edge at {width} px"
        height = page.page.eval_on_selector("header .navbar", "el => el.getBoundingClientRect().height")
        assert height <= 64, f"the navbar is {height} px high at {width} px"
    finally:
        context.close()
