"""Issue 15, input side, on SQLite and PostgreSQL: product names, coverage and full extracts, incomplete periods,
near-duplicates, grouped errors and the master-data completeness flag of SKUs created with defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Demand, ImportBatch, Receipt, Sku, StockPosition
from services import datatables as dtab
from tests.integration.test_ingest import demand_of, run

MASTER = (
    "sku,name,category,location,unit_cost,supplier,lead_time_days\n"
    "GS-1,Lemonade 1.5 l,Drinks,Berlin,0.5,Acme,7\n"
    "GS-2,Sparkling water 500 ml,Drinks,Berlin,0.3,Acme,7\n"
    "GS-3,Orange juice,Drinks,Berlin,0.9,Acme,7\n"
    "GS-4,Bin bags 6-pack,Household,Berlin,2.0,CleanHome,14\n"
)
HISTORY = (
    "date,sku,quantity\n"
    "2026-11-09,GS-1,10\n2026-11-16,GS-1,11\n2026-11-09,GS-2,5\n2026-11-16,GS-2,6\n"
    "2026-11-09,GS-3,7\n2026-11-16,GS-3,8\n2026-11-09,GS-4,1\n2026-11-16,GS-4,2\n"
)


def _portfolio(session: Session, tmp_path: Path) -> None:
    assert run(session, tmp_path, MASTER, kind="skus").status == "committed"
    assert run(session, tmp_path, HISTORY).status == "committed"


def _sku_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Sku)) or 0)


def test_names_in_another_case_with_stray_spaces_import_without_creating_skus(session: Session, tmp_path: Path) -> None:
    _portfolio(session, tmp_path)
    content = "date,product_name,demand\n2026-11-23,  LEMONADE   1.5 L ,12\n2026-11-23,sparkling WATER 500 ml,4\n"
    result = run(session, tmp_path, content)
    assert result.status == "committed", result.summary()
    assert result.skus_created == 0 and _sku_count(session) == 4
    assert result.names is not None and result.names.by_name == 2
    rows = demand_of(session)
    assert rows[("GS-1", dt.date(2026, 11, 23))] == 12.0 and rows[("GS-2", dt.date(2026, 11, 23))] == 4.0
    # a `name` header works too, and a code in the name column still matches its SKU
    again = run(session, tmp_path, "date,name,demand\n2026-11-23,GS-3,3\n2026-11-23,orange  JUICE,1\n")
    assert again.status == "rejected"  # the same SKU twice for one date: a duplicate key, by code and by name
    assert {g["reason"] for g in again.errors.grouped()} == {"duplicate key within the file"}


def test_an_ambiguous_name_is_a_row_error_naming_the_candidates(session: Session, tmp_path: Path) -> None:
    _portfolio(session, tmp_path)
    run(session, tmp_path, "sku,name,location\nGS-9,lemonade 1.5 L,Munich\n", kind="skus")
    result = run(session, tmp_path, "date,product_name,demand\n2026-11-23,Lemonade 1.5 l,12\n")
    assert result.status == "rejected"
    (error,) = result.first_errors()
    assert error.line == 2 and error.reason.startswith("ambiguous product name: matches 2 SKUs")
    assert "GS-1 'Lemonade 1.5 l' at Berlin" in error.reason and "GS-9 'lemonade 1.5 L' at Munich" in error.reason
    # a location column picks one of them
    located = run(session, tmp_path, "date,product_name,location,demand\n2026-11-23,LEMONADE 1.5 L,Munich,3\n")
    assert located.status == "committed", located.summary()
    assert demand_of(session)[("GS-9", dt.date(2026, 11, 23))] == 3.0


def test_create_skus_creates_only_unmatched_names_and_near_duplicates_need_confirmation(
    session: Session, tmp_path: Path
) -> None:
    _portfolio(session, tmp_path)
    content = (
        "date,product_name,demand\n2026-11-23,lemonade 1.5 L,1\n2026-11-23,Bin bags 6 pack,2\n"
        "2026-11-23,Crème brûlée 250 g,3\n2026-11-23,crème  BRÛLÉE 250 g,4\n"
    )
    checked = run(session, tmp_path, content, dry_run=True, create_skus=True)
    assert checked.status == "rejected"  # the two spellings of the new name are one SKU: a duplicate key
    content = content.rsplit("\n", 2)[0] + "\n"
    checked = run(session, tmp_path, content, dry_run=True, create_skus=True)
    assert checked.status == "checked" and checked.skus_to_create == 2
    assert [str(d) for d in checked.near_duplicates] == ["'Bin bags 6 pack' is close to GS-4 'Bin bags 6-pack'"]
    refused = run(session, tmp_path, content, create_skus=True)
    assert refused.status == "rejected" and "close to existing SKU names" in refused.message
    assert _sku_count(session) == 4
    done = run(session, tmp_path, content, create_skus=True, confirm_new_skus=True)
    assert done.status == "committed" and done.skus_created == 2
    created = {s.code: s for s in session.scalars(select(Sku).where(Sku.code.not_like("GS-%")))}
    assert set(created) == {"Bin bags 6 pack", "Crème brûlée 250 g"}
    assert created["Bin bags 6 pack"].name == "Bin bags 6 pack"
    assert created["Crème brûlée 250 g"].defaulted_fields == "unit_cost,category,lead_time_days,supplier"


def test_stock_and_receipts_match_names(session: Session, tmp_path: Path) -> None:
    _portfolio(session, tmp_path)
    stock = run(session, tmp_path, "product_name,on_hand,as_of\n ORANGE juice ,40,2026-11-30\n", kind="stock")
    assert stock.status == "committed", stock.summary()
    receipts = run(
        session,
        tmp_path,
        "name,order_date,received_date,quantity\nbin BAGS 6-pack,2026-11-01,2026-11-12,20\n",
        kind="receipts",
    )
    assert receipts.status == "committed", receipts.summary()
    codes = dict(session.execute(select(Sku.id, Sku.code)).all())
    assert [codes[r.sku_id] for r in session.scalars(select(StockPosition))] == ["GS-3"]
    assert [codes[r.sku_id] for r in session.scalars(select(Receipt))] == ["GS-4"]


def test_coverage_without_and_with_a_full_extract(session: Session, tmp_path: Path) -> None:
    _portfolio(session, tmp_path)
    content = "date,sku,quantity\n2026-11-16,GS-1,11\n2026-11-23,GS-1,13\n2026-11-16,GS-2,9\n"
    checked = run(session, tmp_path, content, dry_run=True)
    coverage = checked.coverage
    assert coverage.grain == "weekly" and [p.isoformat() for p in coverage.periods] == ["2026-11-16", "2026-11-23"]
    per_sku = coverage.per_sku.set_index("code")
    assert per_sku.loc["GS-1", ["added", "updated", "unchanged"]].tolist() == [1, 0, 1]
    assert per_sku.loc["GS-2", ["added", "updated"]].tolist() == [0, 1]
    assert coverage.absent_count == 2 and [a[0] for a in coverage.absent] == ["GS-3", "GS-4"]
    assert coverage.absent[0][2] == dt.date(2026, 11, 16)  # last reported
    assert "nothing is recorded for them" in coverage.absent_text()
    before = demand_of(session)
    plain = run(session, tmp_path, content)
    assert plain.status == "committed" and (plain.inserted, plain.updated) == (1, 1)
    after = demand_of(session)
    assert {k: v for k, v in after.items() if k[0] in ("GS-3", "GS-4")} == {
        k: v for k, v in before.items() if k[0] in ("GS-3", "GS-4")
    }
    batch = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert batch.full_extract is False
    # a full extract of the next week: the absent SKUs and GS-2 (no row for that week) sold nothing
    extract = "date,sku,quantity\n2026-11-30,GS-1,14\n"
    preview = run(session, tmp_path, extract, dry_run=True, full_extract=True)
    assert preview.coverage.absent_text() == (
        "3 active SKUs not in this file: will be recorded as zero sales for the week of 2026-11-30 (full extract)"
    )
    full = run(session, tmp_path, extract, full_extract=True)
    assert full.status == "committed" and full.inserted == 4 and full.coverage.zero_rows == 3
    rows = demand_of(session)
    assert [rows[(c, dt.date(2026, 11, 30))] for c in ("GS-1", "GS-2", "GS-3", "GS-4")] == [14.0, 0.0, 0.0, 0.0]
    batch = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert batch.full_extract is True


def test_a_daily_file_is_summed_into_weeks_and_its_partial_week_is_incomplete(session: Session, tmp_path: Path) -> None:
    _portfolio(session, tmp_path)
    daily = "date,sku,quantity\n2026-11-23,GS-1,1\n2026-11-24,GS-1,2\n2026-11-25,GS-1,3\n2026-11-25,GS-2,4\n"
    result = run(session, tmp_path, daily)
    assert result.status == "committed" and result.coverage.aggregated_from == "daily"
    rows = demand_of(session)
    assert rows[("GS-1", dt.date(2026, 11, 23))] == 6.0 and rows[("GS-2", dt.date(2026, 11, 23))] == 4.0
    (incomplete,) = result.coverage.incomplete
    assert incomplete.period == dt.date(2026, 11, 23) and incomplete.covered_to == dt.date(2026, 11, 25)
    assert "3 of 7 days" in incomplete.reason and "an incomplete week, not a low one" in incomplete.reason
    assert session.scalar(select(func.count()).select_from(Demand)) == 10


def test_repeated_errors_are_grouped_and_the_report_keeps_every_row(session: Session, tmp_path: Path) -> None:
    _portfolio(session, tmp_path)
    lines = [f"2026-11-{9 + (i % 3) * 7:02d},NOPE-{i % 4},1" for i in range(312)]
    content = "date,sku,quantity\n" + "\n".join(lines) + "\n2026-11-23,GS-1,x\n"
    result = run(session, tmp_path, content)
    groups = result.errors.grouped()
    assert [(g["column"], g["count"]) for g in groups] == [("sku", 312), ("quantity", 1)]
    assert groups[0]["lines"] == [2, 3, 4, 5, 6] and groups[0]["values"] == ["NOPE-0", "NOPE-1", "NOPE-2"]
    assert len(result.errors.frame()) == 313
    report = result.error_report.read_text(encoding="utf-8").splitlines()
    assert len(report) == 314  # header + every row


def test_defaulted_master_data_is_set_on_creation_and_cleared_when_provided(session: Session, tmp_path: Path) -> None:
    assert run(session, tmp_path, "date,sku,quantity\n2026-11-23,NEW-1,3\n", create_skus=True).status == "committed"
    sku = session.scalar(select(Sku).where(Sku.code == "NEW-1"))
    assert sku.defaulted_fields == "unit_cost,category,lead_time_days,supplier"
    run(session, tmp_path, "sku,unit_cost,supplier\nNEW-1,0,Acme\n", kind="skus")
    session.refresh(sku)
    assert sku.defaulted_fields == "unit_cost,category,lead_time_days"  # a unit cost of 0 is not a cost
    run(session, tmp_path, "sku,unit_cost,category\nNEW-1,2.5,Snacks\n", kind="skus")
    session.refresh(sku)
    assert sku.defaulted_fields == "lead_time_days"
    dtab.save_sku(session=session, values={"lead_time_days": 21}, user="p@example.com", sku_id=sku.id)
    session.commit()
    session.refresh(sku)
    assert sku.defaulted_fields is None
    full = run(session, tmp_path, MASTER, kind="skus")
    assert full.status == "committed"
    assert session.scalars(select(Sku.defaulted_fields).where(Sku.code.like("GS-%"))).all() == [None] * 4
    added = dtab.save_sku(session=session, values={"sku": "NEW-2", "unit_cost": 1.5}, user="p@example.com")
    assert added.defaulted_fields == "category,lead_time_days,supplier"
