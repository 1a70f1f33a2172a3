"""services.sku_detail: one SKU's detail from the snapshot, the stock projection, search and commentary fallback.

The tests on a database; the pure ones are in tests/unit/test_sku_detail.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import ForecastOverride, Sku, SkuSnapshot
from db.session import session_scope
from services import sku_detail as sd
from tests.integration.test_watchtower_data import HORIZON, store_portfolio


@pytest.fixture
def portfolio(db_url):
    return store_portfolio()


@pytest.fixture
def sqlite_portfolio(sqlite_db):
    return store_portfolio()


START = dt.date(2026, 1, 5)


def test_detail_of_a_snapshot_sku(portfolio) -> None:
    latest, _ = portfolio
    with session_scope() as s:
        sku = s.scalars(select(Sku).order_by(Sku.code)).first()
        snap = s.scalar(select(SkuSnapshot).where(SkuSnapshot.run_id == latest, SkuSnapshot.sku_id == sku.id))
        s.add(
            ForecastOverride(
                sku_id=sku.id, period=dt.date(2030, 1, 7), qty=99, statistical_qty=50, reason="Promo", user_email="p@x"
            )
        )
        code, status = sku.code, snap.status
    with session_scope() as s:
        d = sd.sku_detail(session=s, code=f"  {code} ")
    assert d is not None and d.code == code and d.run.id == latest and d.status == status
    assert d.value("status_reason") and d.status_label
    assert len(d.history) == 60 and len(d.forecast) == HORIZON and len(d.backtest) == 26
    assert d.forecast[0]["period"] > d.history[-1][0]
    assert all(f["p10"] <= f["mean"] <= f["p90"] for f in d.forecast)
    assert [o["reason"] for o in d.overrides] == ["Promo"]
    assert d.model_scores[0].chosen and d.model_scores[0].model == d.value("forecast_model")
    runners = [m.mase for m in d.model_scores[1:]]
    assert runners == sorted(runners)
    assert d.days_per_period == 7.0
    p = d.projection
    assert p is not None and p.position[0] == pytest.approx(d.value("on_hand") + d.value("on_order"))
    assert len(p.dates) >= HORIZON + 1
    if (d.value("recommended_qty") or 0) > 0:
        assert d.order_by_date is not None and d.order_by_date >= d.forecast[0]["period"]
    else:
        assert d.order_by_date is None


def test_unknown_code_and_a_sku_outside_the_run(sqlite_portfolio) -> None:
    with session_scope() as s:
        assert sd.sku_detail(session=s, code="NO-SUCH") is None
        assert sd.sku_detail(session=s, code="  ") is None
        s.add(Sku(code="NEW-1", name="Brand new"))
    with session_scope() as s:
        d = sd.sku_detail(session=s, code="NEW-1")
    assert d is not None and d.snapshot is None and d.run is None and d.projection is None
    assert d.history == [] and d.forecast == [] and d.status is None


def test_projection_for_another_order_quantity(sqlite_portfolio) -> None:
    with session_scope() as s:
        code = s.scalars(select(Sku.code).order_by(Sku.code)).first()
        d = sd.sku_detail(session=s, code=code)
    none = sd.projection_for(d, order_qty=0)
    big = sd.projection_for(d, order_qty=10_000)
    assert none.with_order == none.position
    assert big.with_order[-1] == pytest.approx(big.position[-1] + 10_000)


def test_search_ranks_exact_code_then_prefix_then_name(portfolio) -> None:
    with session_scope() as s:
        codes = list(s.scalars(select(Sku.code).order_by(Sku.code)))
        code = codes[3]
        hits = sd.search_skus(session=s, text=code.lower())
        assert hits[0].code == code and hits[0].status is not None
        prefix = code.split("-")[0] + "-"
        by_prefix = sd.search_skus(session=s, text=prefix, limit=5)
        assert len(by_prefix) == 5 and all(h.code.startswith(prefix) for h in by_prefix)
        name = s.scalar(select(Sku.name).where(Sku.code == code)).split()[0]
        assert all(name.lower() in (h.name + h.code).lower() for h in sd.search_skus(session=s, text=name))
        assert sd.search_skus(session=s, text="%") == [] and sd.search_skus(session=s, text="  ") == []
        with pytest.raises(ValueError, match="limit"):
            sd.search_skus(session=s, text="a", limit=0)


def test_commentary_falls_back_to_the_snapshot(sqlite_portfolio, monkeypatch) -> None:
    from services import watchtower

    monkeypatch.setattr(sd.narrative, "sku_commentary", lambda **_: None)
    with session_scope() as s:
        code = s.scalars(select(Sku.code).order_by(Sku.code)).first()
        d = sd.sku_detail(session=s, code=code)
        c = sd.sku_commentary(session=s, detail=d)
    assert c.source == "snapshot" and c.items[0]["reason"] == d.value("status_reason")
    assert c.items[-1]["label"] == "Reorder rule"
    assert isinstance(c, watchtower.Commentary)


def test_commentary_from_the_narrative_service(sqlite_portfolio) -> None:
    pytest.importorskip("services.narrative")
    with session_scope() as s:
        code = s.scalars(select(Sku.code).order_by(Sku.code)).first()
        d = sd.sku_detail(session=s, code=code)
        c = sd.sku_commentary(session=s, detail=d)
    assert c.source == "narrative" and c.text and c.view is not None
