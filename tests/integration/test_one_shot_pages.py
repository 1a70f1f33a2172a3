"""One-shot SKUs and reject / cancel reasons in the validators, order reasons, pages and API (issue 10)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select, update

from db.models import Sku, SkuSnapshot
from db.session import session_scope
from layouts import _ids as ids
from services import orders as svc
from services.ingest import validate as v
from services.ingest.columns import SKU_MASTER
from tests.integration.test_watchtower_data import ensure_app, store_portfolio
from tests.integration.test_watchtower_page import has_id, text_of

ONE_SHOT = next(f for f in SKU_MASTER if f.name == "one_shot")


def test_boolean_cells_accept_the_documented_words_only() -> None:
    cells = pd.Series(["true", "FALSE", " Yes ", "no", "1", "0", "Y", "n", "", "maybe", "2", "t", "1.0"])
    checked = v.check(cells, ONE_SHOT)
    assert list(checked.values[:9]) == [True, False, True, False, True, False, True, False, None]
    assert list(checked.ok()) == [True] * 9 + [False] * 4
    assert set(checked.reasons[9:]) == {v.NOT_A_BOOLEAN}
    strict = v.check(pd.Series(["", "yes"]), v.Field("flag", "bool", blank="error"))
    assert strict.reasons[0] == v.MISSING and strict.values[1] is True


def _row(**extra):
    base = {
        "recommended_qty": 348.0,
        "newsvendor_qty": 559.6,
        "inventory_position": 210.0,
        "forecast_per_period": 40.0,
        "critical_ratio": 0.625,
        "horizon_periods": 13,
        "ratio_source": "costs",
        "moq": 24.0,
        "order_multiple": 12.0,
        "one_shot": True,
    }
    return {**base, **extra}


def test_one_shot_reason_names_the_newsvendor_ratio_and_horizon_demand() -> None:
    text = svc.recommendation_reason(_row(), unit="week")
    assert text == (
        "Newsvendor one-shot buy: critical ratio 0.62, horizon demand 520 over 13 weeks; "
        "newsvendor quantity 559.6 - position 210 = 349.6; rounded to MOQ 24 and multiple 12 -> 348."
    )
    fallback = svc.recommendation_reason(_row(ratio_source="service level", critical_ratio=0.95), unit="week")
    assert "critical ratio 0.95 (service level target: no price or no overage cost)" in fallback
    replenish = svc.recommendation_reason(
        _row(one_shot=False, reorder_point=250.0, order_up_to=400.0, eoq=100.0), unit="week"
    )
    assert replenish.startswith("Position 210 is at or below the reorder point 250; order-up-to")


@pytest.fixture
def flagged(sqlite_db):
    store_portfolio()
    ensure_app()
    with session_scope() as s:
        codes = list(
            s.scalars(
                select(Sku.code)
                .distinct()
                .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
                .where(Sku.one_shot.is_(False))
                .order_by(Sku.code)
            )
        )
        s.execute(update(Sku).where(Sku.code == codes[0]).values(one_shot=True, unit_price=9.0, unit_cost=3.0))
    return codes[0], codes[1]


def test_sku_page_policy_card_says_one_shot_newsvendor(flagged) -> None:
    from layouts import sku as page
    from services.sku_detail import sku_detail

    one_shot, plain = flagged
    with session_scope() as s:
        detail = sku_detail(session=s, code=one_shot)
        other = sku_detail(session=s, code=plain)
    assert detail.one_shot and 0 < detail.critical_ratio < 1 and not other.one_shot and other.critical_ratio is None
    card = text_of(page.policy_card(detail))
    assert "One-shot (newsvendor)" in card and f"critical ratio {detail.critical_ratio:.2f}" in card
    assert f"over {len(detail.forecast)} weeks" in card and "horizon demand" in card
    assert "Replenishment" in text_of(page.policy_card(other)) and "One-shot" not in text_of(page.policy_card(other))


def test_api_sku_detail_exposes_one_shot(flagged) -> None:
    from api.models_orders import PurchaseOrder
    from api.models_skus import SkuDetail
    from services.sku_detail import sku_detail

    one_shot, plain = flagged
    with session_scope() as s:
        assert SkuDetail.of(sku_detail(session=s, code=one_shot)).one_shot is True
        assert SkuDetail.of(sku_detail(session=s, code=plain)).one_shot is False
    detail_schema = SkuDetail.model_json_schema(mode="serialization")["properties"]
    assert detail_schema["one_shot"]["type"] == "boolean"
    assert "status_reason" in PurchaseOrder.model_fields


def test_data_grid_has_an_editable_one_shot_checkbox_and_the_format_help_lists_it(sqlite_db) -> None:
    ensure_app()
    from layouts import data

    column = next(c for c in data.sku_columns(True) if c["field"] == "one_shot")
    assert column["cellDataType"] == "boolean" and column["editable"] is True
    assert next(c for c in data.sku_columns(False) if c["field"] == "one_shot")["editable"] is False
    help_text = text_of(data.format_help())
    assert "one_shot" in help_text and "default false" in help_text


def test_orders_history_shows_the_reason_and_cancel_takes_one(sqlite_db) -> None:
    ensure_app()
    from layouts import orders

    assert any(c["field"] == "status_reason" for c in orders.HISTORY_COLUMNS)
    view = svc.OrderView(
        id=7, sku="S1", sku_name="Pool", category="Garden", supplier="Acme", status="rejected", qty=5.0,
        recommended_qty=5.0, unit_cost=2.0, value=10.0, reason="r", edit_reason=None, order_by=None,
        created_at=dt.datetime(2026, 1, 1), run_id=1, approved_by=None, approved_at=None, order_date=None,
        promised_date=None, received_by=None, received_at=None, received_date=None, received_qty=None,
        closed_by="p@x", closed_at=dt.datetime(2026, 1, 2), moq=0.0, order_multiple=1.0,
        status_reason="supplier on holiday",
    )  # fmt: skip
    assert orders.order_row(view)["status_reason"] == "supplier on holiday"
    tab = orders.approved_tab({"approved": []}, planner=True)
    assert has_id(tab, ids.ORDERS_CANCEL_REASON)
