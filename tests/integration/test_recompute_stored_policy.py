"""The order policy a run used is stored with it, and partial runs do not carry stale rows (both engines).

- ``sku_snapshot.order_policy`` / ``critical_ratio`` (migration 0005) are written by the recompute, copied by the
  partial-run carry-forward, and read by the SKU page and the order reasons instead of today's SKU master;
- a partial run also recomputes the SKUs whose master was edited after the run it carries from (the Data page's SKU
  and demand edits), records them in its scope and counts them in the Risk apply / override messages.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from db.models import Sku, SkuSnapshot
from db.session import session_scope
from services import datatables as dtab
from services import recompute as rc
from services.orders import sync_recommendations
from services.sku_detail import sku_detail
from tests.integration.test_orders import DATES, SPECS, fast_forecast, orders_by_sku, run, seed, snapshot  # noqa: F401
from tests.integration.test_watchtower_data import ensure_app

pytestmark = pytest.mark.usefixtures("fast_forecast")
PLANNER = "planner@example.com"
N = len(SPECS)


def partial(*codes: str) -> rc.RunSummary:
    with session_scope() as s:
        summary = rc.recompute(session=s, triggered_by="tests", sku_codes=list(codes))
    assert summary.status == "finished" and summary.sku_count == N
    return summary


def flag_one_shot(code: str, value: bool = True) -> None:
    """Tick the one-shot box on the Data page (no recompute)."""
    with session_scope() as s:
        sku_id = s.scalar(select(Sku.id).where(Sku.code == code))
        dtab.save_sku(session=s, values={"one_shot": value}, user=PLANNER, sku_id=sku_id)


def test_the_run_stores_its_order_policy_and_pages_read_it(db_url: str) -> None:
    seed()
    first = run()
    plain = snapshot(first, "A-NEED")
    assert plain.order_policy == "reorder_point" and plain.critical_ratio is None

    flag_one_shot("A-NEED")
    with session_scope() as s:  # the page shows what the run used, not the flag ticked since
        detail = sku_detail(session=s, code="A-NEED")
    assert detail.order_policy == "reorder_point" and not detail.one_shot and detail.critical_ratio is None
    assert detail.master_edited_at is not None

    second = run()
    season = snapshot(second, "A-NEED")
    assert season.order_policy == "newsvendor" and 0 < season.critical_ratio < 1
    reason = orders_by_sku("recommended")["A-NEED"][0].reason
    assert reason.startswith(f"Newsvendor one-shot buy: critical ratio {season.critical_ratio:.2f}, ")

    # the master changes again (flag off, another price): the page and a re-sync keep the run's policy and ratio
    flag_one_shot("A-NEED", False)
    with session_scope() as s:
        s.execute(update(Sku).where(Sku.code == "A-NEED").values(unit_price=100.0))
    with session_scope() as s:
        detail = sku_detail(session=s, code="A-NEED")
        assert detail.order_policy == "newsvendor" and detail.one_shot
        assert detail.critical_ratio == pytest.approx(season.critical_ratio)
        sync_recommendations(session=s, run_id=second)
    reason = orders_by_sku("recommended")["A-NEED"][0].reason
    assert reason.startswith(f"Newsvendor one-shot buy: critical ratio {season.critical_ratio:.2f}, ")

    # rows written before migration 0005 have no stored policy: the page falls back to the master
    with session_scope() as s:
        s.execute(update(SkuSnapshot).where(SkuSnapshot.run_id == second).values(order_policy=None))
    with session_scope() as s:
        old = sku_detail(session=s, code="A-NEED")
    assert old.order_policy == "reorder_point" and not old.one_shot


def test_a_partial_run_recomputes_skus_edited_since_the_run_it_carries_from(db_url: str) -> None:
    ensure_app()  # the callbacks' modules import page layouts, which need the app
    from callbacks.orders import _also_recomputed
    from callbacks.risk import recompute_message

    seed()
    full = run()
    flag_one_shot("C-NEED")  # ticked on the Data page, no recompute
    part = partial("B-NEED")  # e.g. an override of another SKU

    assert part.scope["skus"] == ["B-NEED", "C-NEED"] and part.scope["sku_count"] == 2
    assert part.scope["edited_skus"] == ["C-NEED"] and part.scope["edited_count"] == 1
    assert part.scope["carried_from"] == full and part.scope["carried_skus"] == N - 2
    assert snapshot(part.run_id, "C-NEED").order_policy == "newsvendor"
    assert orders_by_sku("recommended")["C-NEED"][0].reason.startswith("Newsvendor one-shot buy")
    with session_scope() as s:  # the page knows C-NEED was computed by this run from the edited master
        detail = sku_detail(session=s, code="C-NEED")
    assert detail.one_shot and detail.master_edited_at is None

    message = recompute_message(SimpleNamespace(scope=part.scope, seconds=1.0, sku_count=part.sku_count))
    assert (
        message
        == f"Recomputed 2 SKUs (with 1 SKU edited since the previous run) in 1 s; the other {N - 2} SKUs are unchanged."
    )
    assert (
        _also_recomputed(part)
        == f" (with 1 other SKU edited since the previous run; the other {N - 2} SKUs are unchanged)"
    )

    # nothing edited since: the next partial run carries C-NEED forward, with its stored policy and ratio
    again = partial("D-NEED")
    assert again.scope["skus"] == ["D-NEED"] and again.scope["edited_count"] == 0
    assert again.scope["carried_skus"] == N - 1
    carried = snapshot(again.run_id, "C-NEED")
    computed = snapshot(part.run_id, "C-NEED")
    assert carried.order_policy == "newsvendor" and carried.critical_ratio == computed.critical_ratio
    assert recompute_message(SimpleNamespace(scope=again.scope, seconds=2.0, sku_count=N)) == (
        f"Recomputed 1 SKUs in 2 s; the other {N - 1} SKUs are unchanged."
    )
    assert _also_recomputed(again) == f" (the other {N - 1} SKUs are unchanged)"


def test_demand_edits_on_the_data_page_mark_the_sku_changed(db_url: str) -> None:
    seed()
    run()
    middle = DATES[len(DATES) // 2].isoformat()
    with session_scope() as s:
        dtab.save_demand(session=s, values={"quantity": 999.0}, user=PLANNER, key=("E-FULL", middle))
    edited = partial("A-NEED")
    assert edited.scope["edited_skus"] == ["E-FULL"]
    assert snapshot(edited.run_id, "E-FULL").demand_recent is not None

    with session_scope() as s:
        assert dtab.delete_demand(session=s, keys=[("F-MOQ", middle)], user=PLANNER) == 1
    deleted = partial("A-NEED")
    assert deleted.scope["edited_skus"] == ["F-MOQ"] and deleted.scope["carried_skus"] == N - 2

    with session_scope() as s:  # adding a period inside the grid counts too
        dtab.delete_demand(session=s, keys=[("G-MULT", middle)], user=PLANNER)
    partial("A-NEED")
    with session_scope() as s:
        dtab.save_demand(session=s, values={"sku": "G-MULT", "date": middle, "quantity": 4}, user=PLANNER)
    added = partial("A-NEED")
    assert added.scope["edited_skus"] == ["G-MULT"]
    assert added.data_as_of == DATES[-1] and isinstance(added.data_as_of, dt.date)
