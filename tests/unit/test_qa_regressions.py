"""Regressions found in a user's-eye pass over the running demo (one test per bug)."""

from __future__ import annotations

import dash_ag_grid as dag

from layouts import _ids as ids
from tests.unit.test_ingest_datapage import by_id, ensure_app


def test_data_grids_on_hidden_tabs_fit_their_columns_when_shown(sqlite_db) -> None:
    """Stock, demand and import grids sit on tabs hidden at load: "autoSize" measured them hidden and left every
    column about 36 px wide. They must refit when shown, and the tick-box column must keep its width."""
    ensure_app()
    from layouts import data

    tree = data.tables_section(True, ["A-1"])
    assert by_id(tree, ids.DATA_SKU_GRID).columnSize == "autoSize"  # the tab visible at load
    for grid_id in (ids.DATA_STOCK_GRID, ids.DATA_DEMAND_GRID, ids.DATA_IMPORTS_GRID):
        grid = by_id(tree, grid_id)
        assert isinstance(grid, dag.AgGrid) and grid.columnSize == "responsiveSizeToFit", grid_id
    selection = by_id(tree, ids.DATA_DEMAND_GRID).dashGridOptions["selectionColumnDef"]
    assert selection["suppressSizeToFit"] is True
