"""Profit optimizer in headless Chromium: changing the price moves the optimum and the charts, a negative cost shows a
message, a planner saves two scenarios and compares them; no console errors.
With SCREENSHOTS=1 it writes docs/img/profit.png (1440 wide, full page)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.browser.test_risk import pick_sku, set_value, wait_changed

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
KPIS = "#profit-kpis"


def test_price_moves_the_optimum_and_bad_costs_say_so(page_as) -> None:
    code = pick_sku()
    wrapped = page_as("viewer")
    page = wrapped.page
    wrapped.goto(f"/profit?sku={code}")
    page.wait_for_selector(f"{KPIS} .kpi-card", timeout=20000)
    before = page.inner_text(KPIS)
    for chart in ("#profit-curve", "#profit-heatmap", "#profit-sensitivity", "#profit-eoq-chart"):
        assert page.locator(f"{chart} .js-plotly-plot").count() == 1, chart
    price = float(page.input_value("#profit-price"))
    set_value(page, "#profit-price", f"{price * 1.5:.2f}")
    after = wait_changed(page, KPIS, before)
    assert after != before
    heat_before = page.inner_text("#profit-heatmap")
    set_value(page, "#profit-demand-std", "1")
    wait_changed(page, "#profit-heatmap", heat_before)
    set_value(page, "#profit-cost", "-1")
    page.wait_for_selector("#profit-message .alert-danger", timeout=10000)
    assert "cannot be negative" in page.inner_text("#profit-message")
    assert page.locator("#profit-scenario-save").count() == 0  # viewers list and compare only
    wrapped.assert_no_console_errors()


def test_planner_saves_and_compares_scenarios(page_as) -> None:
    code = pick_sku()
    wrapped = page_as("planner")
    page = wrapped.page
    wrapped.goto(f"/profit?sku={code}")
    page.wait_for_selector(f"{KPIS} .kpi-card", timeout=20000)
    base, dearer = "Today's prices", "Price +20%"
    page.fill("#profit-scenario-name", base)
    page.click("#profit-scenario-save")
    page.wait_for_function(
        "(name) => document.querySelector('#profit-scenario-result').innerText.includes(name)", arg=base
    )
    before = page.inner_text(KPIS)
    price = float(page.input_value("#profit-price"))
    set_value(page, "#profit-price", f"{price * 1.2:.2f}")
    wait_changed(page, KPIS, before)
    page.fill("#profit-scenario-name", dearer)
    page.click("#profit-scenario-save")
    page.wait_for_function(
        "(name) => document.querySelector('#profit-scenario-compare').innerText.includes(name)", arg=dearer
    )
    compare = page.inner_text("#profit-scenario-compare")
    assert base in compare and "Expected profit" in compare
    page.wait_for_function(
        "(name) => document.querySelector('#profit-scenario-grid').innerText.includes(name)", arg=dearer
    )
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / "profit.png"), full_page=True)
    wrapped.assert_no_console_errors()
