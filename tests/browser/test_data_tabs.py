"""Data page tables on the tabs hidden at load (stock, demand, import history) show readable columns once opened.

Regression: the grids sized their columns with "autoSize" while their tab was hidden, which left every column about
36 px wide (values cut to "2…").
"""

from __future__ import annotations

from layouts import _ids as ids

TABS = {
    "Stock positions": (ids.DATA_STOCK_GRID, ["sku", "as_of", "on_hand", "on_order"]),
    "Demand": (ids.DATA_DEMAND_GRID, ["date", "quantity"]),
    "Import history": (ids.DATA_IMPORTS_GRID, ["created_at", "file_name", "status"]),
}


def test_hidden_tab_grids_have_readable_columns_when_shown(page_as) -> None:
    page = page_as("planner")
    page.goto("/data")
    pw = page.page
    pw.wait_for_selector(f"#{ids.DATA_SKU_GRID} .ag-row", timeout=20_000)
    for label, (grid_id, columns) in TABS.items():
        pw.click(f".nav-link:has-text('{label}')")
        pw.wait_for_selector(f"#{grid_id} .ag-header-cell[col-id='{columns[0]}']", state="visible")
        pw.wait_for_timeout(300)  # the grid refits on its resize observer
        widths = pw.evaluate(
            f"Object.fromEntries(dash_ag_grid.getApi('{grid_id}').getColumnState().map(c => [c.colId, c.width]))"
        )
        for column in columns:
            assert widths[column] >= 80, (label, widths)
        if grid_id != ids.DATA_IMPORTS_GRID:
            assert widths["ag-Grid-SelectionColumn"] <= 60, (label, widths)  # the tick boxes are not stretched
    cell = pw.locator(f"#{ids.DATA_DEMAND_GRID} .ag-row[row-index='0'] [col-id='date']")
    pw.click(".nav-link:has-text('Demand')")
    cell.wait_for()
    assert len(cell.inner_text()) == 10  # a whole ISO date, not "2…"
    page.assert_no_console_errors()
