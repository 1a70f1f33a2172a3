"""Issue 21 on SQLite and PostgreSQL: the SKU master's item column, the lanes import and its row errors."""

from __future__ import annotations

from sqlalchemy import select

from db.models import ImportBatch, Lane, Sku
from db.session import session_scope
from services import datatables
from services.ingest import import_file

MASTER = """sku,name,location,item,unit_cost
COLA-RTM,Cola 6-pack,Rotterdam,COLA6,2.5
COLA-BER,Cola 6-pack,Berlin,COLA6,2.5
WATER-RTM,Water,Rotterdam,,1
"""


def imported(tmp_path, kind: str, text: str):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    with session_scope() as session:
        return import_file(session=session, path=path, kind=kind)


def items() -> dict[str, str | None]:
    with session_scope() as session:
        return dict(session.execute(select(Sku.code, Sku.item)).all())


def test_item_is_imported_and_defaults_to_the_code(db_url, tmp_path) -> None:
    result = imported(tmp_path, "skus", MASTER)
    assert result.status == "rejected"  # the blank item of WATER-RTM
    [error] = result.errors.first(50)
    assert (error.line, error.column, error.reason) == (4, "item", "missing value")
    assert items() == {}  # one transaction: nothing was written
    result = imported(tmp_path, "skus", MASTER.replace("Rotterdam,,1", "Rotterdam,WATER,1"))
    assert result.status == "committed", result.summary()
    assert items() == {"COLA-RTM": "COLA6", "COLA-BER": "COLA6", "WATER-RTM": "WATER"}
    without = imported(tmp_path, "skus", "sku,name,location\nJUICE-BER,Juice,Berlin\nCOLA-BER,Cola,Berlin\n")
    assert without.status == "committed", without.summary()
    assert items()["JUICE-BER"] == "JUICE-BER"  # no item column: a new SKU stocks its own code
    assert items()["COLA-BER"] == "COLA6"  # and an existing one keeps its item
    with session_scope() as session:
        rows = {r["sku"]: r for r in datatables.sku_rows(session=session)}
        export = datatables.export_text(session=session, table="skus")
    assert rows["COLA-RTM"]["item"] == "COLA6"
    assert export.splitlines()[0].split(",")[-2:] == ["item", "incomplete_master_data"]
    assert "COLA-RTM" in export and ",COLA6," in export


LANES = """from_location,to_location,lead_time_days,cost_per_unit,min_qty
Rotterdam,Berlin,2,0.2,12
Berlin,Rotterdam,3,0.25,
"""


def test_lanes_are_imported_exported_and_replaced(db_url, tmp_path) -> None:
    assert imported(tmp_path, "skus", MASTER.replace("Rotterdam,,1", "Rotterdam,WATER,1")).status == "committed"
    first = imported(tmp_path, "lanes", LANES)
    assert first.status == "committed", first.summary()
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = imported(tmp_path, "lanes", LANES.replace("2,0.2,12", "2,0.3,12"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    with session_scope() as session:
        lanes = {(lane.from_location, lane.to_location): lane for lane in session.scalars(select(Lane))}
        export = datatables.export_text(session=session, table="lanes")
    assert lanes["Rotterdam", "Berlin"].cost_per_unit == 0.3 and lanes["Rotterdam", "Berlin"].min_qty == 12
    assert lanes["Berlin", "Rotterdam"].min_qty == 1  # blank: 1
    assert export.splitlines() == [
        "from_location,to_location,lead_time_days,cost_per_unit,min_qty",
        "Berlin,Rotterdam,3.0,0.25,1.0",
        "Rotterdam,Berlin,2.0,0.3,12.0",
    ]


def test_bad_lanes_are_row_errors_and_nothing_is_written(db_url, tmp_path) -> None:
    assert imported(tmp_path, "skus", MASTER.replace("Rotterdam,,1", "Rotterdam,WATER,1")).status == "committed"
    bad = """from,to,lead_time_days,cost_per_unit
Rotterdam,Berlin,2,0.2
Rotterdam,Paris,2,0.2
Atlantis,Berlin,1,0.1
Berlin,Rotterdam,3,-0.5
Berlin,Berlin,1,0.1
Rotterdam,Berlin,4,0.1
"""
    result = imported(tmp_path, "lanes", bad)
    assert result.status == "rejected"
    found = {(e.line, e.column): e.reason for e in result.errors.first(50)}
    assert found[(3, "to")].startswith("unknown location") and found[(4, "from")].startswith("unknown location")
    assert found[(5, "cost_per_unit")] == "negative value"
    assert "two different locations" in found[(6, "to")]
    assert found[(7, "to")].startswith("duplicate key within the file")
    assert len(found) == 5
    with session_scope() as session:
        assert session.scalars(select(Lane)).all() == []  # one transaction: the good first row was not written
        batch = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert (batch.kind, batch.status, batch.rows_rejected) == ("lanes", "rejected", 5)
