"""The demo portfolio stores on both engines with the bulk path."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from db.models import Demand, Sku
from services import demo


def test_store_demo(session) -> None:
    counts = demo.store(session=session, portfolio=demo.generate(skus=40, periods=60, seed=2, end=dt.date(2026, 1, 5)))
    session.commit()
    assert counts["skus"] == 40
    assert session.scalar(select(func.count()).select_from(Sku)) == 40
    assert session.scalar(select(func.count()).select_from(Demand)) == 40 * 60
    assert session.scalar(select(Sku.name).where(Sku.name.like("Caf%"))) == "Café crème 東京"
