"""The demo's multi-location items (services.demo_locations) on SQLite and PostgreSQL: the generated SKUs stay as
they were, and the first recompute proposes the two transfers the demo promises (and none for the balanced item)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select

from db.models import Lane, Sku
from db.session import session_scope
from services import demo
from services import transfers as svc
from tests.integration.test_orders import fast_forecast  # noqa: F401  (fixture)

END = dt.date(2026, 11, 23)


def test_generated_skus_are_unchanged_and_the_items_are_appended() -> None:
    plain = demo.generate(skus=40, periods=60, seed=2, end=END)
    extended = demo.generate(skus=40, periods=60, seed=2, end=END, multi_location=True)
    pd.testing.assert_frame_equal(extended.skus.iloc[:40].drop(columns="item"), plain.skus)
    pd.testing.assert_frame_equal(extended.demand.iloc[: len(plain.demand)], plain.demand)
    pd.testing.assert_frame_equal(extended.stock.iloc[:40], plain.stock)
    assert (extended.skus["item"].iloc[:40] == extended.skus["code"].iloc[:40]).all()
    added = extended.skus.iloc[40:]
    assert len(added) == 6 and added.groupby("item")["location"].nunique().eq(2).all()
    assert len(extended.demand) == 46 * 60 and len(extended.lanes) == 2
    again = demo.generate(skus=40, periods=60, seed=2, end=END, multi_location=True)
    pd.testing.assert_frame_equal(extended.skus, again.skus)
    pd.testing.assert_frame_equal(extended.stock, again.stock)


def test_the_first_recompute_proposes_the_demo_transfers(db_url, fast_forecast) -> None:  # noqa: F811
    from services.recompute import recompute

    with session_scope() as s:
        counts = demo.store(session=s, portfolio=demo.generate(skus=30, periods=80, end=END, multi_location=True))
    assert counts["skus"] == 36 and counts["lanes"] == 2
    with session_scope() as s:
        assert recompute(session=s, triggered_by="tests").status == "finished"
    with session_scope() as s:
        proposed = svc.list_transfers(session=s, status="proposed")
        items = dict(s.execute(select(Sku.code, Sku.item).where(Sku.code.like("LOC-%"))).all())
        assert s.scalar(select(Lane.cost_per_unit).where(Lane.from_location == "Berlin DC")) == 0.15
        others = svc.item_locations(session=s, code="LOC-PODS-BER")
    moves = {(t.from_sku, t.to_sku) for t in proposed}
    assert moves == {("LOC-DISH-BER", "LOC-DISH-RTM"), ("LOC-SHAM-RTM", "LOC-SHAM-BER")}
    assert all(t.quantity % 12 == 0 and t.quantity > 0 for t in proposed)  # the lanes' minimum
    assert items["LOC-DISH-BER"] == items["LOC-DISH-RTM"] == "DISH-SOAP-1L"
    assert [(o["sku"], o["location"], o["status"] is not None) for o in others] == [
        ("LOC-PODS-RTM", "Rotterdam DC", True)
    ]


def test_the_first_start_demo_carries_the_items_and_lanes(db_url) -> None:
    from services.setup import seed_demo

    counts = seed_demo(skus=20, periods=40, seed=1, replace=False, only_if_empty=True)
    assert counts["skus"] == 26 and counts["lanes"] == 2
    with session_scope() as s:
        assert s.scalar(select(Sku.item).where(Sku.code == "LOC-SHAM-RTM")) == "SHAMPOO-500ML"
    again = seed_demo(skus=20, periods=40, seed=1, replace=True, only_if_empty=False)  # replace: lanes too
    assert again["lanes"] == 2
