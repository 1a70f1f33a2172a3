"""Issue 20 on SQLite and PostgreSQL: promotions and events imports, their row errors, exports."""

from __future__ import annotations

from sqlalchemy import select

from db.models import CalendarEvent, Promotion, Sku
from db.session import session_scope
from services import datatables
from services.ingest import import_file

DEMAND = "sku,date,quantity\n" + "".join(
    f"{code},{day},{qty}\n"
    for code in ("COLA", "WATER")
    for day, qty in (("2026-01-05", 10), ("2026-01-12", 12), ("2026-01-19", 11), ("2026-01-26", 9))
)


def imported(tmp_path, kind: str, text: str, **options):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    from services.ingest import ImportOptions

    with session_scope() as session:
        return import_file(session=session, path=path, kind=kind, options=ImportOptions(**options))


def _setup(tmp_path) -> None:
    result = imported(tmp_path, "demand", DEMAND, create_skus=True)
    assert result.status == "committed", result.summary()
    with session_scope() as session:
        session.execute(Sku.__table__.update().where(Sku.code == "WATER").values(name="Still water"))


def test_promotions_row_errors_and_one_transaction(db_url, tmp_path) -> None:
    _setup(tmp_path)
    bad = (
        "date,sku,price,promotion,display\n"
        "2026-01-12,COLA,1.5,1,1\n"
        "2026-01-19,NOPE,1.5,0,0\n"  # unknown SKU
        "2026-09-07,COLA,1.5,0,0\n"  # outside history + horizon
        "2026-01-19,COLA,-2,0,0\n"  # negative price
        "2026-01-26,COLA,2,0,yes\n"  # non-numeric flag
    )
    result = imported(tmp_path, "promotions", bad)
    assert result.status == "rejected"
    found = {(e.line, e.column) for e in result.errors.first(50)}
    assert found == {(3, "sku"), (4, "date"), (5, "price"), (6, "display")}, found
    reasons = " | ".join(e.reason for e in result.errors.first(50))
    assert "unknown SKU" in reasons and "outside the demand history" in reasons
    with session_scope() as session:
        assert session.scalars(select(Promotion)).all() == []  # nothing written


def test_promotions_plan_only_by_name_and_export(db_url, tmp_path) -> None:
    _setup(tmp_path)
    plan = "date,product_name,price,promotion,feature\n2026-02-09,Still water,0.8,2 for 1,1\n2026-02-16,COLA,1.0,1,0\n"
    result = imported(tmp_path, "promotions", plan)
    assert result.status == "committed", result.summary()
    assert result.inserted == 2
    with session_scope() as session:
        rows = {
            code: (p.price, p.promoted, p.label, p.features)
            for p, code in session.execute(select(Promotion, Sku.code).join(Sku, Sku.id == Promotion.sku_id))
        }
        export = datatables.export_text(session=session, table="promotions")
    assert rows["WATER"] == (0.8, True, "2 for 1", {"feature": 1.0})
    assert rows["COLA"] == (1.0, True, None, {"feature": 0.0})
    assert export.splitlines()[0] == "date,sku,price,promotion,feature"
    again = imported(tmp_path, "promotions", plan.replace("0.8", "0.7"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)


def test_events_import_and_export(db_url, tmp_path) -> None:
    text = "date,event,location\n2026-12-25,Christmas,\n2026-05-01,SNAP,CA\n2026-05-01,SNAP,CA\n"
    result = imported(tmp_path, "events", text)
    assert result.status == "rejected"
    errors = result.errors.first(10)
    assert any(e.line == 4 and "duplicate" in e.reason for e in errors), [(e.line, e.reason) for e in errors]
    result = imported(tmp_path, "events", text.rsplit("2026-05-01,SNAP,CA\n", 1)[0])
    assert result.status == "committed", result.summary()
    with session_scope() as session:
        stored = sorted((e.name, e.location) for e in session.scalars(select(CalendarEvent)))
        export = datatables.export_text(session=session, table="events")
    assert stored == [("Christmas", ""), ("SNAP", "CA")]
    assert export.splitlines()[0] == "date,event,location"


def test_promotions_table_edit_and_delete(db_url, tmp_path) -> None:
    import pytest

    from services import promotions as svc
    from services.errors import UserFacingError as RecordError

    _setup(tmp_path)
    plan = "date,sku,price,promotion\n2026-02-09,COLA,0.8,feature\n2026-02-16,COLA,1.0,0\n"
    assert imported(tmp_path, "promotions", plan).status == "committed"
    with session_scope() as session:
        rows = svc.promotion_rows(session=session)
        assert [(r["sku"], r["promotion"], r["price"]) for r in rows] == [("COLA", "feature", 0.8), ("COLA", "no", 1.0)]
        with pytest.raises(RecordError, match="price"):
            svc.save_promotion(session=session, row_id=rows[1]["id"], values={"price": "-1"}, user="p@x")
        with pytest.raises(RecordError, match="only price, promotion"):
            svc.save_promotion(session=session, row_id=rows[1]["id"], values={"period": "2026-01-01"}, user="p@x")
        svc.save_promotion(session=session, row_id=rows[1]["id"], values={"promotion": "yes"}, user="p@x")
        assert svc.promotion_rows(session=session)[1]["promotion"] == "yes"
        assert svc.delete_promotions(session=session, ids=[rows[0]["id"]], user="p@x") == 1
        assert len(svc.promotion_rows(session=session)) == 1
