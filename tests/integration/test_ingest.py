"""The importer against real databases (SQLite and PostgreSQL): counts, policies, layouts, safety."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import AuditLog, Demand, ImportBatch, Receipt, Sku, StockPosition
from services.ingest import ImportOptions, ImportResult, import_file


def run(
    session: Session,
    tmp_path: Path,
    content: str | bytes,
    kind: str = "demand",
    dry_run: bool = False,
    name: str = "upload.csv",
    **options: object,
) -> ImportResult:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = import_file(
        session=session,
        path=path,
        kind=kind,
        options=ImportOptions(**options),
        user="planner@example.com",
        dry_run=dry_run,
    )
    session.commit()
    return result


def snapshot(session: Session) -> dict[str, list]:
    """Every planning row (ids excluded), to compare the database before and after."""
    return {
        "sku": sorted(
            session.execute(
                text(
                    "SELECT code, name, category, location, unit_cost, unit_price, lead_time_mean, moq, supplier "
                    "FROM sku"
                )
            ).all()
        ),
        "demand": sorted(
            session.execute(
                text("SELECT s.code, d.period, d.quantity FROM demand d JOIN sku s ON s.id = d.sku_id")
            ).all()
        ),
        "stock": sorted(session.execute(text("SELECT sku_id, as_of, on_hand, on_order FROM stock_position")).all()),
        "receipt": sorted(
            session.execute(text("SELECT sku_id, order_date, received_date, quantity FROM receipt")).all()
        ),
    }


def demand_of(session: Session) -> dict[tuple[str, dt.date], float]:
    rows = session.execute(select(Sku.code, Demand.period, Demand.quantity).join(Sku, Sku.id == Demand.sku_id))
    return {(c, p): q for c, p, q in rows}


WEEKLY = "date,sku,quantity\n2024-01-01,A,5\n2024-01-08,A,6\n2024-01-01,B,0\n2024-01-08,B,2.5\n"


def test_long_demand_import_is_idempotent_and_counts_overlaps(session: Session, tmp_path: Path) -> None:
    first = run(session, tmp_path, WEEKLY, create_skus=True)
    assert first.status == "committed", first.summary()
    assert (first.inserted, first.updated, first.unchanged, first.skus_created) == (4, 0, 0, 2)
    assert first.format.grain == "weekly" and first.format.sku_count == 2
    assert first.format.date_min == dt.date(2024, 1, 1) and first.format.date_max == dt.date(2024, 1, 8)
    again = run(session, tmp_path, WEEKLY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    overlap = run(session, tmp_path, "date,sku,quantity\n2024-01-08,A,7\n2024-01-08,B,2.5\n2024-01-15,A,1\n")
    assert (overlap.inserted, overlap.updated, overlap.unchanged) == (1, 1, 1)
    assert demand_of(session)[("A", dt.date(2024, 1, 8))] == 7.0
    assert session.scalar(select(Sku.name).where(Sku.code == "A")) == "A"


def test_bad_rows_reject_the_file_and_leave_the_database_as_it_was(session: Session, tmp_path: Path) -> None:
    run(session, tmp_path, WEEKLY, create_skus=True)
    before = snapshot(session)
    bad = "date,sku,quantity\n2024-01-15,A,4\n2024-02-30,A,1\n2024-01-22,B,-1\n2024-01-22,,3\n2024-01-29,A,x\n"
    result = run(session, tmp_path, bad)
    assert result.status == "rejected"
    assert snapshot(session) == before
    errors = {(e.line, e.column): e.reason for e in result.first_errors(20)}
    assert errors == {
        (3, "date"): "impossible date",
        (4, "quantity"): "negative value",
        (5, "sku"): "missing value",
        (6, "quantity"): "not a number",
    }
    assert result.error_report is not None and result.error_report.read_text().count("\n") == 5
    skipped = run(session, tmp_path, bad, on_error="skip")
    assert skipped.status == "committed" and skipped.inserted == 1 and skipped.rows_rejected == 4
    assert demand_of(session)[("A", dt.date(2024, 1, 15))] == 4.0


def test_unknown_skus_are_reported_unless_creation_is_asked(session: Session, tmp_path: Path) -> None:
    result = run(session, tmp_path, WEEKLY)
    assert result.status == "rejected"
    assert {e.reason.split(" (")[0] for e in result.first_errors()} == {"unknown SKU"}
    assert session.scalar(select(Sku.id)) is None
    checked = run(session, tmp_path, WEEKLY, dry_run=True, create_skus=True)
    assert checked.status == "checked" and checked.skus_to_create == 2 and checked.rows_accepted == 4
    assert session.scalar(select(Sku.id)) is None and checked.batch_id is None


def test_duplicates_future_dates_and_grain_are_checked(session: Session, tmp_path: Path) -> None:
    future = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    text_ = f"date,sku,quantity\n2024-01-01,A,1\n2024-01-08,A,2\n2024-01-01,A,3\n{future},A,1\n"
    result = run(session, tmp_path, text_, create_skus=True)
    got = sorted((e.line, e.reason) for e in result.first_errors())
    assert got[0] == (2, "duplicate key within the file: repeated on a later line")
    assert got[1] == (4, "duplicate key within the file: first on line 2")
    assert got[2] == (5, "date in the future")
    run(session, tmp_path, WEEKLY, create_skus=True)
    daily = "date,sku,quantity\n2024-02-01,A,1\n2024-02-02,A,1\n2024-02-03,A,1\n"
    mixed = run(session, tmp_path, daily)
    assert mixed.status == "rejected" and "daily demand but the database holds weekly" in mixed.message


def test_streamlit_layout_semicolons_latin1_and_date_format(session: Session, tmp_path: Path) -> None:
    content = "date;product_name;demand\n01/02/2024;Café crème;3\n01/03/2024;Café crème;4\n".encode("latin-1")
    refused = run(session, tmp_path, content, create_skus=True)
    assert refused.status == "rejected" and "ambiguous" in refused.first_errors()[0].reason
    result = run(session, tmp_path, content, create_skus=True, date_format="%d/%m/%Y")
    assert result.status == "committed", result.summary()
    assert result.format.encoding == "Latin-1" and result.format.delimiter == "semicolon"
    assert result.format.grain == "monthly"
    assert demand_of(session) == {("Café crème", dt.date(2024, 2, 1)): 3.0, ("Café crème", dt.date(2024, 3, 1)): 4.0}


def test_wide_layout_with_policy_columns(session: Session, tmp_path: Path) -> None:
    content = (
        "sku,cost_price_eur,fixed_order_cost_eur,holding_cost_eur_per_unit_year,lead_time_weeks,min_order_qty_units,"
        "2024-W01,2024-W02,2024-W03\n"
        "P1,2.0,5,0.4,7,10,1,,3\n"
        "P2,1.0,5,0.2,16,0,0,2.5,0\n"
    )
    result = run(session, tmp_path, content, create_skus=True)
    assert result.status == "committed", result.summary()
    assert result.format.layout == "wide" and result.format.grain == "weekly" and result.inserted == 6
    p1 = session.scalar(select(Sku).where(Sku.code == "P1"))
    assert (p1.unit_cost, p1.order_cost, p1.lead_time_mean, p1.moq) == (2.0, 5.0, 49.0, 10.0)
    assert p1.holding_cost_rate == pytest.approx(0.2)
    assert demand_of(session)[("P1", dt.date(2024, 1, 8))] == 0.0  # blank cell = no demand
    bad = content.replace("P2,1.0,5,0.2,16,0,0,2.5,0", "P2,1.0,5,0.2,16,0,0,abc,0")
    rejected = run(session, tmp_path, bad)
    (error,) = rejected.first_errors()
    assert (error.line, error.column, error.reason) == (3, "2024-W02", "not a number")


def test_location_column_makes_one_sku_per_stock_point(session: Session, tmp_path: Path) -> None:
    content = (
        "date,sku,quantity,location\n2024-01-01,A,1,Berlin\n2024-01-01,A,2,Paris\n"
        "2024-01-01,B,3,Berlin\n2024-01-08,B,3,Berlin\n"
    )
    result = run(session, tmp_path, content, create_skus=True)
    assert result.status == "committed", result.summary()
    skus = dict(session.execute(select(Sku.code, Sku.location)).all())
    assert skus == {"A@Berlin": "Berlin", "A@Paris": "Paris", "B": "Berlin"}
    again = run(session, tmp_path, content)
    assert again.unchanged == 4 and again.skus_created == 0


def test_sku_master_defaults_and_partial_updates(session: Session, tmp_path: Path) -> None:
    content = "SKU,Name,Unit Cost,Service Level,Lead Time Weeks,Supplier\nS1,Widget,2.5,95%,2,ACME\nS2,,,,,\n"
    result = run(session, tmp_path, content, kind="skus")
    assert (result.status, result.inserted) == ("committed", 2), result.summary()
    s2 = session.scalar(select(Sku).where(Sku.code == "S2"))
    assert (s2.name, s2.category, s2.location, s2.unit_cost, s2.holding_cost_rate, s2.order_cost) == (
        "S2",
        "Uncategorised",
        "Main",
        0.0,
        0.25,
        50.0,
    )
    assert (s2.lead_time_mean, s2.service_level_target, s2.supplier, s2.order_multiple) == (
        14.0,
        0.95,
        "Unassigned",
        1.0,
    )
    s1 = session.scalar(select(Sku).where(Sku.code == "S1"))
    assert (s1.service_level_target, s1.lead_time_mean, s1.supplier) == (0.95, 14.0, "ACME")
    update = run(session, tmp_path, "sku,unit_price\nS1,4\nS2,\n", kind="skus")
    assert (update.inserted, update.updated, update.unchanged) == (0, 1, 1)
    session.expire_all()
    s1 = session.scalar(select(Sku).where(Sku.code == "S1"))
    assert (s1.unit_price, s1.unit_cost, s1.name) == (4.0, 2.5, "Widget")  # absent columns keep their values
    bad = run(session, tmp_path, "sku,service_level,order_multiple\nS3,95,0\n", kind="skus")
    assert {e.column for e in bad.first_errors()} == {"service_level", "order_multiple"}


def test_stock_positions(session: Session, tmp_path: Path) -> None:
    run(session, tmp_path, "sku\nA\nB\n", kind="skus")
    result = run(session, tmp_path, "sku,on_hand,on_order,as_of\nA,10,5,2024-03-01\nB,0,,2024-03-01\n", kind="stock")
    assert (result.status, result.inserted) == ("committed", 2), result.summary()
    today = run(session, tmp_path, "sku,on_hand\nA,7\n", kind="stock")
    assert today.inserted == 1
    rows = session.execute(select(StockPosition.as_of, StockPosition.on_hand, StockPosition.on_order)).all()
    assert (dt.date.today(), 7.0, 0.0) in rows and (dt.date(2024, 3, 1), 0.0, 0.0) in rows
    bad = run(session, tmp_path, "sku,on_hand\nA,-1\nZ,3\n", kind="stock")
    assert [(e.line, e.reason.split(" (")[0]) for e in bad.first_errors()] == [
        (2, "negative value"),
        (3, "unknown SKU"),
    ]


def test_receipts_teach_lead_times_and_impossible_dates_are_refused(session: Session, tmp_path: Path) -> None:
    run(session, tmp_path, "sku,supplier\nA,ACME\n", kind="skus")
    good = "sku,order_date,promised_date,received_date,quantity\nA,2024-01-01,2024-01-15,2024-01-20,100\n"
    result = run(session, tmp_path, good, kind="receipts")
    assert (result.status, result.inserted) == ("committed", 1), result.summary()
    receipt = session.scalar(select(Receipt))
    assert (receipt.supplier, receipt.promised_date, receipt.quantity) == ("ACME", dt.date(2024, 1, 15), 100.0)
    assert run(session, tmp_path, good, kind="receipts").unchanged == 1
    bad = (
        "sku,order_date,promised_date,received_date,quantity\nA,2024-02-10,2024-02-01,2024-02-20,5\n"
        "A,2024-03-10,,2024-03-01,5\n"
    )
    rejected = run(session, tmp_path, bad, kind="receipts")
    assert [(e.line, e.column) for e in rejected.first_errors()] == [(2, "promised_date"), (3, "received_date")]


def test_every_import_is_recorded_and_audited(session: Session, tmp_path: Path) -> None:
    ok = run(session, tmp_path, WEEKLY, create_skus=True, name="weekly.csv")
    rejected = run(session, tmp_path, "date,sku,quantity\n", name="header-only.csv")
    empty = run(session, tmp_path, "", name="empty.csv")
    assert rejected.message == "the file has a header but no data rows" and empty.message == "the file is empty"
    batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [(b.file_name, b.status, b.rows_inserted) for b in batches] == [
        ("weekly.csv", "committed", 4),
        ("header-only.csv", "rejected", 0),
        ("empty.csv", "rejected", 0),
    ]
    assert batches[0].grain == "weekly" and batches[0].user_email == "planner@example.com"
    assert batches[1].errors[0]["reason"] == "the file has a header but no data rows"
    audits = session.scalars(select(AuditLog).where(AuditLog.action == "data.import").order_by(AuditLog.id)).all()
    assert [(a.outcome, a.details["batch_id"]) for a in audits] == [
        ("ok", ok.batch_id),
        ("error", rejected.batch_id),
        ("error", empty.batch_id),
    ]


def test_bulk_path_restores_every_constraint(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from db import ingest as dbi

    monkeypatch.setattr(dbi, "BULK_MIN_ROWS", 3)
    result = run(session, tmp_path, WEEKLY, create_skus=True)
    assert result.inserted == 4
    if session.bind.dialect.name == "postgresql":
        names = set(
            session.scalars(text("SELECT conname FROM pg_constraint WHERE conrelid = CAST('demand' AS regclass)"))
        )
        assert {"pk_demand", "fk_demand_sku_id_sku", "ck_demand_quantity_nonneg"} <= names
        key = session.scalar(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'pk_demand'")
        )
        assert key == "PRIMARY KEY (sku_id, period)"
    assert run(session, tmp_path, WEEKLY).unchanged == 4
    session.execute(text("DELETE FROM sku"))
    session.commit()
    assert session.scalar(select(Demand.sku_id)) is None  # ON DELETE CASCADE is back
