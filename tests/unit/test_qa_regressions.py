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


def test_order_history_labels_are_unambiguous_and_the_reason_is_in_view(sqlite_db) -> None:
    """The history grid had two columns called "Ordered" (a quantity and a date), and the reject/cancel reason was the
    last of 12 columns, past the right edge of a 1440 px screen."""
    ensure_app()
    from layouts.orders import APPROVED_COLUMNS, HISTORY_COLUMNS

    for columns in (HISTORY_COLUMNS, APPROVED_COLUMNS):
        headers = [c["headerName"] for c in columns]
        assert len(headers) == len(set(headers)), headers
    fields = [c.get("field") for c in HISTORY_COLUMNS]
    reason_at = fields.index("status_reason")
    left_edge = sum(c.get("width", 200) for c in HISTORY_COLUMNS[:reason_at])
    assert left_edge + HISTORY_COLUMNS[reason_at]["width"] <= 1300  # visible without scrolling the grid


def test_override_card_says_saving_recomputes_the_sku(sqlite_db) -> None:
    """Saving an override now recomputes that SKU at once (partial run); the card still said "the next recompute"."""
    ensure_app()
    from layouts.orders import override_card
    from tests.unit.test_ingest_datapage import text_of

    text = text_of(override_card(code="A-1", periods=[], history=[]))
    assert "the next recompute uses the newest" not in text and "recomputes this SKU at once" in text


def test_risk_apply_confirmation_does_not_promise_a_portfolio_recompute(sqlite_db, monkeypatch) -> None:
    """Apply on a segment recomputes only the scope's SKUs (partial run); the confirmation still said "recompute the
    portfolio"."""
    from dash import dcc

    from tests.unit.test_ingest_datapage import walk
    from tests.unit.test_watchtower_data import store_portfolio

    store_portfolio()
    ensure_app()
    from layouts import risk

    monkeypatch.setattr(risk, "allowed", lambda role: True)
    dialogs = [c for c in walk(risk.layout()) if isinstance(c, dcc.ConfirmDialogProvider)]
    assert [d.id for d in dialogs] == [ids.RISK_APPLY_CONFIRM]
    assert "the portfolio" not in dialogs[0].message and "those SKUs" in dialogs[0].message
