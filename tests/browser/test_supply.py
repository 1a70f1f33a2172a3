"""The Supply page in headless Chromium: a planner plans (chase on load, then the optimal LP), reads the resource's
load against capacity, saves the plan as a scenario and compares it; a viewer sees the plan but cannot save; a
planner imports a resources file on the Data page with its preview.

Writes docs/img/supply.png (1440 wide) of the page with the optimal plan and its scenario.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import delete, func, select

from db.models import Resource, ResourceCapacity, SupplyScenario
from db.session import session_scope
from layouts import _ids as ids

SHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "supply.png"
SCENARIO = "Optimal, file overtime (browser)"


def _cleanup() -> None:
    with session_scope() as session:
        session.execute(delete(SupplyScenario).where(SupplyScenario.name == SCENARIO))
        session.execute(delete(Resource).where(Resource.name == "Browser line"))


def test_planner_plans_optimally_and_saves_a_scenario(page_as) -> None:
    _cleanup()
    page = page_as("planner")
    page.goto("/supply")
    pw = page.page
    pw.wait_for_selector(f"#{ids.SUPPLY_KPIS} .card", timeout=60_000)
    expect(pw.locator(f"#{ids.SUPPLY_KPIS}")).to_contain_text("Chase")
    expect(pw.locator(f"#{ids.SUPPLY_CAPACITY_CHART} .bars")).not_to_have_count(0)
    assert "GreenLeaf supply" in pw.inner_text(f"#{ids.SUPPLY_RESOURCE}")  # the shortest resource comes first
    assert pw.inner_text(f"#{ids.SUPPLY_UNMET_NOTE}")

    pw.click(f"#{ids.SUPPLY_STRATEGY} >> text=Optimal (LP)")
    pw.click(f"#{ids.SUPPLY_RUN}")
    expect(pw.locator(f"#{ids.SUPPLY_KPIS}")).to_contain_text("Optimal (LP)", timeout=90_000)
    expect(pw.locator(f"#{ids.SUPPLY_MESSAGE}")).to_contain_text("Linear programme")

    pw.fill(f"#{ids.SUPPLY_SCENARIO_NAME}", SCENARIO)
    pw.click(f"#{ids.SUPPLY_SCENARIO_SAVE}")
    expect(pw.locator(f"#{ids.SUPPLY_SCENARIO_MESSAGE}")).to_contain_text("Saved", timeout=90_000)
    expect(pw.locator(f"#{ids.SUPPLY_SCENARIO_COMPARE}")).to_contain_text(SCENARIO)
    expect(pw.locator(f"#{ids.SUPPLY_SCENARIO_COMPARE}")).to_contain_text("Optimal (LP)")
    with session_scope() as session:
        saved = session.scalar(select(SupplyScenario).where(SupplyScenario.name == SCENARIO))
        assert (saved.strategy, saved.user_email) == ("optimal", "planner@example.com")
    pw.wait_for_load_state("networkidle")
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    pw.screenshot(path=str(SHOT), full_page=True)
    page.assert_no_console_errors()
    _cleanup()


def test_viewer_sees_the_plan_but_cannot_save(page_as) -> None:
    page = page_as("viewer")
    page.goto("/supply")
    pw = page.page
    pw.wait_for_selector(f"#{ids.SUPPLY_KPIS} .card", timeout=60_000)
    assert pw.is_disabled(f"#{ids.SUPPLY_SCENARIO_SAVE}")
    assert pw.is_disabled(f"#{ids.SUPPLY_SCENARIO_NAME}")
    assert pw.is_enabled(f"#{ids.SUPPLY_RUN}")
    page.assert_no_console_errors()


def test_planner_imports_a_resources_file_on_the_data_page(page_as, tmp_path: Path) -> None:
    _cleanup()
    page = page_as("planner")
    page.goto("/data")
    pw = page.page
    pw.wait_for_selector(f"#{ids.DATA_SKU_GRID} .ag-row", timeout=20_000)
    pw.click(f"#{ids.DATA_KIND} >> text=Resources")
    bad = tmp_path / "bad-capacities.csv"
    bad.write_text("resource,period,capacity\nBrowser line,2027-01-01,-10\nBrowser line,2027-01-15,10\n")
    pw.set_input_files(f"#{ids.DATA_UPLOAD} input[type=file]", str(bad))
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} >> text=bad-capacities.csv", timeout=30_000)
    preview = pw.inner_text(f"#{ids.DATA_PREVIEW}")
    assert "negative value" in preview and "1st of a month" in preview
    good = tmp_path / "capacities.csv"
    good.write_text("resource,period,capacity,overtime_capacity\nBrowser line,2027-01-01,100,10\n")
    pw.set_input_files(f"#{ids.DATA_UPLOAD} input[type=file]", str(good))
    pw.wait_for_selector(f"#{ids.DATA_PREVIEW} .alert-success", timeout=30_000)
    pw.click(f"#{ids.DATA_IMPORT}")
    pw.wait_for_selector(f"#{ids.DATA_RESULT} .alert-success", timeout=60_000)
    assert "1 inserted" in pw.inner_text(f"#{ids.DATA_RESULT}")
    pw.click(f"#{ids.DATA_TABS} >> text=Resources")
    with session_scope() as session:
        stored = session.scalar(select(func.count()).select_from(ResourceCapacity))
        assert session.scalar(select(Resource.grain).where(Resource.name == "Browser line")) == "monthly"
    count = f"dash_ag_grid.getApi('{ids.DATA_RESOURCES_GRID}').getDisplayedRowCount()"
    pw.wait_for_function(f"() => {count} === {stored}", timeout=20_000)
    page.assert_no_console_errors()
    _cleanup()
