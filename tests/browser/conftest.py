"""Browser tier: the real app served from a thread, driven by Playwright in Debian's headless Chromium.

Skips with a clear message where Chromium is missing, except under CI (REQUIRE_BROWSER=1), where that fails.
Every page visit collects browser console errors; tests assert there are none.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest

from tests.conftest import use_demo_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(demo_sqlite, tmp_path_factory) -> Iterator[str]:
    """Serve the demo app on a free loopback port from a thread; yields the base URL."""
    from werkzeug.serving import make_server

    app = use_demo_app(demo_sqlite, tmp_path_factory)
    # One request at a time: pages fire many callbacks at once, and the tier is steadier (and has been green) serving
    # them in turn. Background jobs no longer fork from this server (they start from a forkserver,
    # background_jobs.py; tests/integration/test_background_jobs.py holds a lock in another thread while jobs start).
    server = make_server("127.0.0.1", 0, app.server, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required for the browser tier (REQUIRE_BROWSER=1) but is not installed")
        pytest.skip("browser tier skipped: Debian chromium is not installed (make test installs it where it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield instance
        instance.close()


class Page:
    """A signed-in browser page that records console errors and failed requests."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")

    def assert_no_console_errors(self) -> None:
        assert self.errors == [], "browser console errors:\n" + "\n".join(self.errors)


@pytest.fixture(autouse=True)
def _demo_settings(demo_sqlite, tmp_path_factory) -> None:
    use_demo_app(demo_sqlite, tmp_path_factory)


@pytest.fixture
def page_as(browser, live_server):
    """``page_as(role)`` -> a Page signed in as viewer/planner/admin through the real login form."""
    contexts = []

    def make(role: str) -> Page:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        contexts.append(context)
        wrapped = Page(context.new_page(), live_server)
        wrapped.goto("/login")
        wrapped.page.fill("#email", f"{role}@example.com")
        wrapped.page.fill("#password", PASSWORD)
        wrapped.page.click("button[type=submit]")
        wrapped.page.wait_for_load_state("networkidle")
        return wrapped

    yield make
    for context in contexts:
        context.close()
