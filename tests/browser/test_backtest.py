"""Policy backtest panels in headless Chromium: the SKU page's "Would this policy have worked?" replays on a click
(background job) and draws the replay beside the target; the Risk page replays a segment, draws the textbook frontier
with the engine's point and says the comparison in words; no console errors. With SCREENSHOTS=1 it writes
docs/img/backtest-sku.png and docs/img/backtest-risk.png (the panels, 1280 wide)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import delete, select

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _sku_with_demand() -> str:
    from db.models import Sku, SkuSnapshot
    from db.session import session_scope
    from services.runs import latest_run

    with session_scope() as s:
        run = latest_run(session=s)
        return s.scalar(
            select(Sku.code)
            .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
            .where(SkuSnapshot.run_id == run.id, SkuSnapshot.forecast_per_period > 5)
            .order_by(SkuSnapshot.abc, Sku.code)
            .limit(1)
        )


def test_sku_page_replays_the_policy_on_a_click(page_as) -> None:
    code = _sku_with_demand()
    wrapped = page_as("viewer")
    page = wrapped.page
    page.set_viewport_size({"width": 1280, "height": 1000})
    wrapped.goto(f"/sku/{code}")
    panel = page.locator("#backtest-sku-panel")
    assert "Would this policy have worked?" in panel.text_content()
    assert page.locator("#backtest-sku-table").count() == 0  # nothing replayed on page load
    page.fill("#backtest-sku-periods", "13")
    page.click("#backtest-sku-run")
    page.wait_for_selector("#backtest-sku-table", timeout=120000)
    verdict = page.inner_text("#backtest-sku-verdict")
    assert verdict.startswith("Fill rate ") and "target" in verdict
    table = page.inner_text("#backtest-sku-table")
    for label in ("Fill rate", "Target service level", "Cycle service", "Stockout weeks", "Average stock (value)"):
        assert label in table
    assert "of 13" in table
    assert page.locator("#backtest-sku-chart .js-plotly-plot").count() == 1
    legend = page.inner_text("#backtest-sku-chart")
    assert "Engine: stock on hand" in legend and "Textbook: stock on hand" in legend and "Demand" in legend
    assert page.is_disabled("#backtest-sku-cancel") and not page.is_disabled("#backtest-sku-run")
    if os.environ.get("SCREENSHOTS") == "1":
        panel.screenshot(path=str(SHOTS / "backtest-sku.png"))
    wrapped.assert_no_console_errors()


def test_sku_page_says_why_a_replay_cannot_run(page_as) -> None:
    wrapped = page_as("viewer")
    page = wrapped.page
    wrapped.goto(f"/sku/{_sku_with_demand()}")
    page.fill("#backtest-sku-periods", "500")
    page.click("#backtest-sku-run")
    page.wait_for_selector("#backtest-error", timeout=60000)
    assert "periods 500 is longer than the history allows" in page.inner_text("#backtest-error")
    wrapped.assert_no_console_errors()


def test_risk_page_replays_a_segment_against_the_textbook_frontier(page_as) -> None:
    from db.models import PolicyBacktest
    from db.session import session_scope

    wrapped = page_as("viewer")
    page = wrapped.page
    page.set_viewport_size({"width": 1280, "height": 1000})
    try:
        wrapped.goto("/risk?abc=C")
        page.wait_for_selector("#backtest-risk-none", timeout=30000)
        assert "No policy replay of ABC class C" in page.inner_text("#backtest-risk-none")
        page.fill("#backtest-risk-periods", "13")
        page.click("#backtest-risk-run")
        page.wait_for_selector("#backtest-risk-chart .js-plotly-plot", timeout=180000)
        words = page.inner_text("#backtest-risk-words")
        assert "Replayed through the last 13 weeks of real demand" in words
        assert "textbook" in words
        chart = page.inner_text("#backtest-risk-chart")
        assert "Textbook, one target for every SKU" in chart and "Engine's policies" in chart
        table = page.inner_text("#backtest-risk-table")
        assert "Fill rate" in table and "Average inventory" in table
        verdict = page.inner_text("#backtest-risk-verdict")
        assert verdict in ("Above the textbook frontier", "On the textbook frontier", "Below the textbook frontier",
                           "Outside the textbook frontier's range")  # fmt: skip
        assert "by viewer@example.com" in page.inner_text("#backtest-risk-panel")
        if os.environ.get("SCREENSHOTS") == "1":
            page.locator("#backtest-risk-panel").screenshot(path=str(SHOTS / "backtest-risk.png"))
        wrapped.goto("/risk?abc=C")  # a new visit shows the stored result without replaying
        page.wait_for_selector("#backtest-risk-chart .js-plotly-plot", timeout=30000)
        wrapped.assert_no_console_errors()
    finally:  # the demo database is shared: leave no stored replay behind
        with session_scope() as session:
            session.execute(delete(PolicyBacktest))
