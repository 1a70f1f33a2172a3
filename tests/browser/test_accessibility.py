"""Accessibility (issue 25): axe-core's WCAG 2.0/2.1 A and AA rules on the login page, every page the navbar reaches
and a SKU page, for each role; no critical or serious violation. Also one <h1> per page, a tab title naming the page
(and the SKU), a text alternative on every chart, and a keyboard-only trip from the Watchtower to a SKU and back.

axe-core comes from the pinned ``axe-playwright-python`` package (its bundled axe.min.js is injected into the page:
nothing is fetched). One browser context per role is signed in once for the module and reused for its pages.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import PASSWORD

ROLES = ("admin", "planner", "viewer")
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"critical", "serious"}
APP = "Inventory Command Center"
SETTLED = "() => !document.querySelector('[data-dash-is-loading]') && !document.querySelector('._dash-loading')"


def _first_sku() -> str:
    from db.models import Sku
    from db.session import session_scope

    with session_scope() as session:
        return session.query(Sku.code).order_by(Sku.code).limit(1).scalar()


def _pages(role: str) -> list[str]:
    """What the navbar reaches for ``role`` (its links and the account menu) and a SKU page."""
    from layouts._shell import nav_items

    return [href for _label, href in nav_items(role)] + ["/account", f"/sku/{_first_sku()}"]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture(scope="module")
def signed_in(browser, live_server) -> Iterator[dict[str, object]]:
    """One signed-in page per role for the whole module (the login form, as a person uses it)."""
    contexts, pages = [], {}
    for role in ROLES:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server + "/login")
        page.fill("#email", f"{role}@example.com")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        pages[role] = page
    yield pages
    for context in contexts:
        context.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(SETTLED)
    page.wait_for_timeout(300)  # the a11y script runs on the next animation frame after the last render


def _blocking(axe: Axe, page) -> str:
    """The critical and serious violations as a readable report ('' when there are none)."""
    results = axe.run(page, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
            lines += [f"    {node['target']}: {node['html'][:160]}" for node in violation["nodes"][:5]]
    return "\n".join(lines)


def _chart_labels(page) -> list[str | None]:
    """The text alternatives of the charts on screen (a chart in a display:none box is not exposed to assistive
    technology, e.g. the Cycles page's charts before two cycles exist)."""
    return page.eval_on_selector_all(
        ".js-plotly-plot",
        "els => els.filter(el => el.offsetParent !== null).map(el => { const s = el.querySelector('svg[role=img]');"
        " return s ? s.getAttribute('aria-label') : null; })",
    )


def test_login_page(browser, live_server, axe) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        _open(page, live_server + "/login")
        assert page.get_attribute("html", "lang") == "en"
        assert page.locator("h1").count() == 1
        assert page.title() == f"Sign in · {APP}"
        report = _blocking(axe, page)
        assert report == "", f"/login:\n{report}"
    finally:
        context.close()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role(signed_in, live_server, axe, role: str) -> None:
    page = signed_in[role]
    failures = []
    for path in _pages(role):
        _open(page, live_server + path)
        problems = []
        if page.get_attribute("html", "lang") != "en":
            problems.append("no lang on <html>")
        headings = page.locator("h1").all_inner_texts()
        if len(headings) != 1:
            problems.append(f"{len(headings)} <h1> elements: {headings}")
        title = page.title()
        if not title.endswith(f" · {APP}") or title == APP:
            problems.append(f"tab title {title!r} does not name the page")
        sku_part = title.split(" · SKU · ")[0]  # "<name> (<code>)" (issue 23), or the code alone
        if path.startswith("/sku/") and path.removeprefix("/sku/") not in sku_part:
            problems.append(f"tab title {title!r} does not name the SKU")
        labels = _chart_labels(page)
        if any(not label or not any(ch.isdigit() for ch in label) for label in labels):
            problems.append(f"a chart without a text alternative with its numbers: {labels}")
        report = _blocking(axe, page)
        if report:
            problems.append(report)
        if problems:
            failures.append(f"{role} {path}:\n" + "\n".join(problems))
    assert not failures, "\n\n".join(failures)


def _tab_to(page, selector: str, limit: int = 250) -> str:
    """Press Tab until the focused element matches ``selector``; return its outer HTML (fails after ``limit``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return page.evaluate("() => document.activeElement.outerHTML")
    raise AssertionError(f"{selector} not reached with {limit} Tab presses")


def _blur(page) -> None:
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def test_keyboard_only_watchtower_to_a_sku_and_back(page_as) -> None:
    """A status tile filters with Enter; Tab into the SKU grid, arrow down to the first row, Enter opens that SKU;
    Tab to the breadcrumb, Enter: back to the Watchtower."""
    p = page_as("viewer")
    p.goto("/")
    page = p.page
    page.wait_for_function(SETTLED)
    page.wait_for_selector(".ag-pinned-left-cols-container .ag-row")
    _blur(page)
    _tab_to(page, '[role="button"][id*="stockout_risk"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**status=stockout_risk**")
    page.wait_for_function(SETTLED)
    _blur(page)
    _tab_to(page, "#watchtower-grid .ag-header-cell")
    page.keyboard.press("ArrowDown")
    code = page.evaluate("() => document.activeElement.innerText.trim()")
    assert page.evaluate("() => document.activeElement.classList.contains('ag-cell')") and code
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "the focused cell shows no focus ring"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/sku/{code}")
    page.wait_for_function(SETTLED)
    page.wait_for_function(  # "<name> (<code>) · SKU · ..." (issue 23), or the code alone
        "c => document.title.endsWith(' · SKU · Inventory Command Center') && document.title.includes(c)", arg=code
    )
    assert page.locator("h1").inner_text().startswith(code)

    _blur(page)
    _tab_to(page, 'nav[aria-label="Breadcrumb"] a[href="/"]')
    page.keyboard.press("Enter")
    page.wait_for_url(p.base_url + "/")
    page.wait_for_selector("h1:has-text('Watchtower')")
    page.wait_for_function("t => document.title === t", arg=f"Watchtower · {APP}")
    p.assert_no_console_errors()
