"""Data page services on both engines: export -> import round trips, record editing with the importer's rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditLog, Demand, Sku, StockPosition
from services import datatables as dtab
from services import demo
from services.ingest import ImportOptions, import_file
from services.reset import factory_reset


def exports(session: Session, tmp_path: Path, tag: str) -> dict[str, str]:
    out = {}
    for table in ("resources", "skus", "demand", "stock", "receipts"):
        path = tmp_path / f"{tag}-{table}.csv"
        dtab.export_table(session=session, table=table, target=path)
        out[table] = path.read_text(encoding="utf-8")
    return out


def test_export_then_import_gives_the_same_data(session: Session, tmp_path: Path) -> None:
    portfolio = demo.generate(skus=12, periods=20, seed=3)
    portfolio.skus.loc[0, "name"] = '=HYPERLINK("http://evil")'
    portfolio.skus.loc[1, "code"] = "-X1"
    demo.store(session=session, portfolio=portfolio)
    session.commit()
    first = exports(session, tmp_path, "first")
    assert '"\'=HYPERLINK(""http://evil"")"' in first["skus"] and "\n'-X1," in first["skus"]
    factory_reset(session=session, user="test", confirm="RESET")
    session.commit()
    for table in ("resources", "skus", "demand", "stock", "receipts"):  # resources first: the SKUs name them
        result = import_file(session=session, path=tmp_path / f"first-{table}.csv", kind=table)
        session.commit()
        assert result.status == "committed", result.summary()
    assert session.scalar(select(Sku.name).where(Sku.code == "-X1")) == portfolio.skus.loc[1, "name"]
    assert exports(session, tmp_path, "second") == first


def test_record_editing_uses_the_import_rules(session: Session) -> None:
    sku = dtab.save_sku(session=session, values={"sku": "N1", "unit_cost": "2.5", "service_level": "90%"}, user="p")
    assert (sku.name, sku.unit_cost, sku.service_level_target, sku.location) == ("N1", 2.5, 0.9, "Main")
    with pytest.raises(dtab.RecordError, match="unit_cost: negative value"):
        dtab.save_sku(session=session, values={"unit_cost": "-1"}, user="p", sku_id=sku.id)
    with pytest.raises(dtab.RecordError, match="already exists"):
        dtab.save_sku(session=session, values={"sku": "N1"}, user="p")
    with pytest.raises(dtab.RecordError, match="cannot be changed"):
        dtab.save_sku(session=session, values={"sku": "N2"}, user="p", sku_id=sku.id)
    dtab.save_sku(session=session, values={"lead_time_days": "21", "name": "Nut"}, user="p", sku_id=sku.id)
    assert (sku.lead_time_mean, sku.name) == (21.0, "Nut")
    dtab.save_stock(session=session, values={"sku": "N1", "on_hand": "4", "as_of": "2024-05-01"}, user="p")
    with pytest.raises(dtab.RecordError, match="already has a stock position"):
        dtab.save_stock(session=session, values={"sku": "N1", "on_hand": "4", "as_of": "2024-05-01"}, user="p")
    with pytest.raises(dtab.RecordError, match="unknown SKU"):
        dtab.save_stock(session=session, values={"sku": "NOPE", "on_hand": "4"}, user="p")
    dtab.save_demand(session=session, values={"sku": "N1", "date": "2024-05-06", "quantity": "3"}, user="p")
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    with pytest.raises(dtab.RecordError, match="date in the future"):
        dtab.save_demand(session=session, values={"sku": "N1", "date": future, "quantity": "3"}, user="p")
    row = dtab.demand_rows(session=session, sku="N1")[0]
    dtab.save_demand(session=session, values={"quantity": "5"}, user="p", key=("N1", row["date"]))
    assert dtab.demand_rows(session=session, sku="N1")[0]["quantity"] == 5.0
    with pytest.raises(dtab.RecordError, match="not a number"):
        dtab.save_demand(session=session, values={"quantity": "five"}, user="p", key=("N1", row["date"]))
    with pytest.raises(dtab.RecordError, match="no demand for N1 on 2024-05-13"):
        dtab.save_demand(session=session, values={"quantity": "1"}, user="p", key=("N1", "2024-05-13"))
    dtab.save_demand(session=session, values={"sku": "N1", "date": "2024-05-13", "quantity": "2"}, user="p")
    assert dtab.delete_demand(session=session, keys=[("N1", "2024-05-13")], user="p") == 1
    assert [r["date"] for r in dtab.demand_rows(session=session, sku="N1")] == ["2024-05-06"]
    assert dtab.stock_rows(session=session)[0]["on_hand"] == 4.0
    assert dtab.delete_rows(session=session, table="skus", ids=[sku.id], user="p") == 1
    session.commit()
    assert session.scalar(select(Demand.sku_id)) is None and session.scalar(select(StockPosition.id)) is None
    actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions == [
        "data.add",
        "data.edit",
        "data.add",
        "data.add",
        "data.edit",
        "data.add",
        "data.delete",
        "data.delete",
    ]


def test_grid_rows_and_counts(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("date,sku,quantity\n2024-01-01,A,1\n2024-01-08,A,2\n")
    import_file(session=session, path=path, kind="demand", options=ImportOptions(create_skus=True), user="u")
    session.commit()
    assert dtab.counts(session=session) == {"skus": 1, "demand": 2, "stock": 0, "receipts": 0, "imports": 1}
    assert [r["date"] for r in dtab.demand_rows(session=session, sku="A")] == ["2024-01-08", "2024-01-01"]
    (batch,) = dtab.import_rows(session=session)
    assert (batch["file_name"], batch["status"], batch["rows_inserted"], batch["user_email"]) == (
        "d.csv",
        "committed",
        2,
        "u",
    )
    assert dtab.sku_rows(session=session)[0]["sku"] == "A" and dtab.sku_codes(session=session) == ["A"]
    audit_csv = dtab.export_text(session=session, table="audit")
    assert audit_csv.startswith("id,created_at,user_email,action") and "data.import" in audit_csv
