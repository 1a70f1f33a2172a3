"""Risk engine in headless Chromium: moving a control changes the numbers and charts, an out-of-range target shows a
message, the Monte Carlo check runs in the background, the Apply button is for planners; no console errors.
With SCREENSHOTS=1 it writes docs/img/risk.png (the portfolio) and docs/img/risk-sku.png (a slow mover), 1440 wide,
full page."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
CAPITAL = "#risk-kpis-capital"


def pick_sku(*, lumpy: bool = False) -> str:
    """A class-A SKU with demand and a safety stock, replenished by its reorder point (a slow or lumpy one when asked
    and available) from the demo snapshot."""
    from db.models import Sku, SkuSnapshot
    from db.session import session_scope
    from services.runs import latest_run

    with session_scope() as s:
        run = latest_run(session=s)
        stmt = (
            select(Sku.code)
            .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
            .where(
                SkuSnapshot.run_id == run.id,
                SkuSnapshot.forecast_per_period > 0,
                SkuSnapshot.safety_stock > 0,  # a replenished SKU: a phase-out holds no capital to move
                SkuSnapshot.order_policy == "reorder_point",
            )
            .order_by(SkuSnapshot.abc, Sku.code)
        )
        if lumpy:
            code = s.scalar(stmt.where(SkuSnapshot.rop_method != "normal").limit(1))
            if code:
                return code
        return s.scalar(stmt.where(SkuSnapshot.rop_method == "normal").limit(1))


def wait_changed(page, selector: str, before: str, timeout: int = 15000) -> str:
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel); "
        "return e && e.innerText.trim() && e.innerText !== old; }",
        arg=[selector, before],
        timeout=timeout,
    )
    return page.inner_text(selector)


def set_value(page, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.press(selector, "Tab")


def test_controls_move_the_numbers_and_charts(page_as) -> None:
    code = pick_sku()
    wrapped = page_as("viewer")
    page = wrapped.page
    wrapped.goto(f"/risk?sku={code}")
    page.wait_for_selector(CAPITAL, timeout=20000)
    before = page.inner_text(CAPITAL)
    assert page.locator("#risk-frontier-chart .js-plotly-plot").count() == 1
    assert page.locator("#risk-decomp-chart .js-plotly-plot").count() == 1
    set_value(page, "#risk-target", "99.5")
    after = wait_changed(page, CAPITAL, before)
    assert after != before
    # the lead-time spread moves the split between demand and lead-time variability
    split_before = page.inner_text("#risk-decomp-chart")
    spread = float((page.input_value("#risk-lt-std") or "0").replace(",", "") or 0)
    set_value(page, "#risk-lt-std", "0" if spread > 0 else "5")  # a change either way
    wait_changed(page, "#risk-decomp-chart", split_before)
    # periodic review swaps the order quantity for the review period
    page.get_by_text("Periodic review (R, S)").click()
    page.wait_for_selector("#risk-review", state="visible")
    assert page.locator("#risk-order-qty").is_hidden()
    # an impossible target says so and raises nothing
    set_value(page, "#risk-target", "100")
    page.wait_for_selector("#risk-message .alert-danger", timeout=10000)
    assert "below 100%" in page.inner_text("#risk-message")
    assert page.locator("#risk-apply").count() == 0  # viewers cannot apply
    wrapped.assert_no_console_errors()


def test_segment_view_and_frontier_reading(page_as) -> None:
    wrapped = page_as("viewer")
    page = wrapped.page
    wrapped.goto("/risk")
    page.wait_for_selector(CAPITAL, timeout=20000)
    assert "Whole portfolio" in page.inner_text("#risk-scope-note")
    legend = page.inner_text("#risk-frontier-chart")
    assert "Best allocation" in legend and "Class A" in legend
    set_value(page, "#risk-service-read", "97")
    page.wait_for_function("() => document.querySelector('#risk-lookup-result').innerText.includes('97.0%')")
    assert "$" in page.inner_text("#risk-lookup-result")
    # the segment's largest SKUs are simulated under their own demand
    page.click("#risk-sim-run")
    page.wait_for_selector("#risk-sim-result .alert", timeout=90000)
    assert "largest SKUs" in page.inner_text("#risk-sim-result")
    assert page.locator("#risk-sim-result .js-plotly-plot").count() == 1
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / "risk.png"), full_page=True)
    wrapped.assert_no_console_errors()


def test_monte_carlo_runs_and_planner_can_apply(page_as) -> None:
    code = pick_sku(lumpy=True)
    wrapped = page_as("planner")
    page = wrapped.page
    wrapped.goto(f"/risk?sku={code}")
    page.wait_for_selector(CAPITAL, timeout=20000)
    assert page.locator("#risk-apply").is_visible()
    page.once("dialog", lambda dialog: dialog.dismiss())  # cancel: nothing is written
    page.click("#risk-apply")
    page.click("#risk-sim-run")
    page.wait_for_selector("#risk-sim-result .alert", timeout=90000)
    text = page.inner_text("#risk-sim-result")
    assert "Target" in text and "vs target" in text.lower()
    assert page.locator("#risk-sim-result .js-plotly-plot").count() == 2
    assert page.inner_text("#risk-apply-result") == ""
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / "risk-sku.png"), full_page=True)
    wrapped.assert_no_console_errors()
