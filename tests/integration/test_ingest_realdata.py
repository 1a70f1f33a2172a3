"""Real files from ../shared/data on both engines: the M5 subset (full), car parts and manufacturer subsets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Demand, ImportBatch, Sku
from services.ingest import ImportOptions, import_file, import_m5
from tests.conftest import SHARED_DATA

M5 = SHARED_DATA / "m5"
INTERMITTENT = SHARED_DATA / "intermittent"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (../shared/data is for tests; absent on a fresh machine)")
    return path


def head(source: Path, target: Path, lines: int) -> Path:
    with source.open(encoding="utf-8") as handle, target.open("w", encoding="utf-8") as out:
        for i, line in enumerate(handle):
            if i >= lines:
                break
            out.write(line)
    return target


def test_m5_subset_loads_with_one_call(session: Session, tmp_path: Path) -> None:
    """The whole M5 subset on PostgreSQL; its first 60 series on SQLite (one full import keeps the suite fast)."""
    directory = need(M5)
    series = 290
    if session.bind.dialect.name != "postgresql":
        series = 60
        directory = tmp_path / "m5"
        directory.mkdir()
        head(M5 / "sales_train_evaluation_subset.csv", directory / "sales_train_evaluation_subset.csv", series + 1)
        for name in ("calendar.csv", "sell_prices_subset.csv"):
            (directory / name).write_bytes((M5 / name).read_bytes())
    result = import_m5(session=session, directory=directory, user="test")
    session.commit()
    assert result.status == "committed", result.summary()
    assert (result.inserted, result.skus_created, result.format.grain) == (series * 1941, series, "daily")
    assert (result.format.date_min, result.format.date_max) == (dt.date(2011, 1, 29), dt.date(2016, 5, 22))
    sku = session.scalar(select(Sku).where(Sku.code == "FOODS_1_001_CA_3"))
    assert (sku.name, sku.category, sku.location) == ("FOODS_1_001", "FOODS", "CA_3")
    assert sku.defaulted_fields == "unit_cost,lead_time_days,supplier"  # M5 has no costs, lead times or suppliers
    assert sku.unit_price > 0
    assert session.scalar(select(func.count()).select_from(Demand)) == series * 1941
    first_days = session.execute(
        select(Demand.period, Demand.quantity).where(Demand.sku_id == sku.id).order_by(Demand.period).limit(3)
    ).all()
    assert first_days == [(dt.date(2011, 1, 29), 1.0), (dt.date(2011, 1, 30), 2.0), (dt.date(2011, 1, 31), 1.0)]
    assert session.scalar(select(ImportBatch.kind)) == "demand"


def test_car_parts_long_monthly_subset(session: Session, tmp_path: Path) -> None:
    path = head(need(INTERMITTENT / "carparts_long.csv"), tmp_path / "carparts.csv", 2_001)
    result = import_file(session=session, path=path, kind="demand", options=ImportOptions(create_skus=True))
    session.commit()
    assert result.status == "committed", result.summary()
    assert result.format.grain == "monthly" and result.format.columns == {
        "date": "month",
        "sku": "part_id",
        "quantity": "sales",
    }
    assert result.inserted == 2_000 and result.format.date_min == dt.date(1998, 1, 1)
    again = import_file(session=session, path=path, kind="demand")
    assert again.unchanged == 2_000


def test_manufacturer_wide_weekly_subset_maps_policy_columns(session: Session, tmp_path: Path) -> None:
    path = head(need(INTERMITTENT / "manufacturer_3451_skus_weekly_wide.csv"), tmp_path / "manufacturer.csv", 201)
    result = import_file(session=session, path=path, kind="demand", options=ImportOptions(create_skus=True))
    session.commit()
    assert result.status == "committed", result.summary()
    assert (result.format.layout, result.format.grain, result.inserted) == ("wide", "weekly", 200 * 150)
    assert result.format.date_min == dt.date(2012, 1, 2) and result.format.ignored == ["units_per_product"]
    skus = session.scalars(select(Sku)).all()
    assert {s.lead_time_mean for s in skus} <= {49.0, 112.0}
    assert all(
        s.order_cost == 5.0 and s.holding_cost_rate == pytest.approx(0.2, abs=1e-4) and s.unit_cost > 0 for s in skus
    )
    fractional = session.scalar(
        select(func.count()).select_from(Demand).where(Demand.quantity != func.round(Demand.quantity))
    )
    assert fractional > 0  # packaging units: some quantities are fractional
