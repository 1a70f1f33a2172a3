"""Regressions found in a user's-eye pass over the running demo (one test per bug)."""

from __future__ import annotations

import dash_ag_grid as dag

from layouts import _ids as ids
from tests.integration.test_ingest_datapage import by_id, ensure_app


def test_data_grids_on_hidden_tabs_fit_their_columns_when_shown(sqlite_db) -> None:
    """Stock, demand and import grids sit on tabs hidden at load: "autoSize" measured them hidden and left every
    column about 36 px wide. They must refit when shown, and the tick-box column must keep its width."""
    ensure_app()
    from layouts import data

    tree = data.tables_section(True, ["A-1"])
    assert by_id(tree, ids.DATA_SKU_GRID).columnSize == "autoSize"  # the tab visible at load
    for grid_id in (ids.DATA_STOCK_GRID, ids.DATA_DEMAND_GRID, ids.DATA_IMPORTS_GRID):
        grid = by_id(tree, grid_id)
        # they share the width by flex (no sizeColumnsToFit while hidden: AG Grid warning #29, issue 23)
        assert isinstance(grid, dag.AgGrid) and grid.columnSize is None and grid.defaultColDef["flex"] == 1, grid_id
        assert grid.getRowId == "params.data.id + ''"  # a string id (AG Grid warning #25)
    # numbers with thousands separators (issue 23), on every number column of the SKU grid
    numbers = [c for c in by_id(tree, ids.DATA_SKU_GRID).columnDefs if c.get("filter") == "agNumberColumnFilter"]
    assert numbers and all("toLocaleString('en-US'" in c["valueFormatter"]["function"] for c in numbers)
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
    from layouts._sku_panels import override_card
    from tests.integration.test_ingest_datapage import text_of

    text = text_of(override_card(code="A-1", periods=[], history=[]))
    assert "the next recompute uses the newest" not in text and "recomputes this SKU at once" in text


def test_risk_apply_confirmation_does_not_promise_a_portfolio_recompute(sqlite_db, monkeypatch) -> None:
    """Apply on a segment recomputes only the scope's SKUs (partial run); the confirmation still said "recompute the
    portfolio"."""
    from dash import dcc

    from tests.integration.test_ingest_datapage import walk
    from tests.integration.test_watchtower_data import store_portfolio

    store_portfolio()
    ensure_app()
    from layouts import risk

    monkeypatch.setattr(risk, "allowed", lambda role: True)
    dialogs = [c for c in walk(risk.layout()) if isinstance(c, dcc.ConfirmDialogProvider)]
    assert [d.id for d in dialogs] == [ids.RISK_APPLY_CONFIRM]
    assert "the portfolio" not in dialogs[0].message and "those SKUs" in dialogs[0].message


def test_sku_page_flags_a_master_edit_made_after_the_sku_was_computed(sqlite_db) -> None:
    """Ticking one-shot on the Data page, then a partial run for other SKUs: the SKU page said "One-shot
    (newsvendor)" and "No order needed: the position covers the newsvendor quantity" for a SKU whose row was still
    sized by its reorder point (position 2,239 < newsvendor quantity 3,650)."""
    import datetime as dt
    from dataclasses import replace

    from sqlalchemy import select, update

    from db.models import RecomputeRun, Sku, SkuSnapshot
    from db.session import session_scope
    from services.sku_detail import computed_by, sku_detail
    from tests.integration.test_watchtower_data import store_portfolio

    latest, _previous = store_portfolio()
    ensure_app()
    from layouts import sku as page

    with session_scope() as s:
        code, other = s.scalars(
            select(Sku.code).join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id).where(SkuSnapshot.run_id == latest)
        ).all()[:2]
        run = s.get(RecomputeRun, latest)
        started = run.started_at
        s.execute(update(Sku).values(updated_at=started - dt.timedelta(minutes=5)))
    with session_scope() as s:
        fresh = sku_detail(session=s, code=code)
    assert fresh.master_edited_at is None and page.stale_master_note(fresh) is None

    edited = started + dt.timedelta(minutes=1)
    with session_scope() as s:
        s.execute(update(Sku).where(Sku.code == code).values(one_shot=True, updated_at=edited))
        # a partial run of another SKU after the edit carries this SKU's row forward from the latest run
        partial = RecomputeRun(
            status="failed",  # not read as the latest snapshot; only its scope matters here
            started_at=edited + dt.timedelta(minutes=1),
            timings={"scope": {"partial": True, "skus": [other], "sku_count": 1, "carried_from": latest}},
        )
        s.add(partial)
        s.flush()
        assert computed_by(session=s, run_id=partial.id, code=code).id == latest
        assert computed_by(session=s, run_id=partial.id, code=other).id == partial.id
    with session_scope() as s:
        stale = sku_detail(session=s, code=code)
    assert stale.one_shot and stale.master_edited_at == edited
    assert "after this SKU was last computed" in page.stale_master_note(stale).children

    short = dict(stale.snapshot, recommended_qty=0.0, inventory_position=2239.0, newsvendor_qty=3650.0)
    assert "covers the newsvendor quantity" not in page.order_sentence(replace(stale, snapshot=short))
    covered = dict(short, inventory_position=3650.0)
    assert "covers the newsvendor quantity" in page.order_sentence(replace(stale, snapshot=covered))


def test_kpi_changes_below_display_precision_read_no_change() -> None:
    """After a partial run the Watchtower showed "▼ -0.0 pp" in red for the fill rate (99.93% -> 99.92%) and
    "▲ +0.0" in green for turns."""
    from layouts._charts import fmt_delta
    from layouts._watchtower_figures import delta_line
    from services.watchtower import Kpi
    from tests.integration.test_ingest_datapage import text_of

    fill = Kpi(key="fill_rate", label="Fill rate", value=0.99925, previous=0.99932, kind="fraction", good_when="up")
    turns = Kpi(key="turns", label="Turns", value=3.4123, previous=3.4101, kind="number", good_when="up")
    money = Kpi(key="var", label="Value at risk", value=100.2, previous=100.0, kind="money", good_when="down")
    for kpi in (fill, turns, money):
        assert fmt_delta(kpi) == "no change", kpi.key
        line = delta_line(kpi, has_previous=True)
        assert "\u25b2" not in text_of(line) and "\u25bc" not in text_of(line)
        assert line.children == []  # issue 23: no line at all rather than "no change"
    real = Kpi(key="fill_rate", label="Fill rate", value=0.95, previous=0.97, kind="fraction", good_when="up")
    assert fmt_delta(real) == "-2.0 pp" and "text-danger" in delta_line(real, has_previous=True).children[0].className
