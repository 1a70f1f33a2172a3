"""Issue 16, findings 3, 12 and 13 on both engines: long headers never hit the csv field limit, files beyond the
limits are refused naming the line, any failed import is in the history with its reason, SKU codes keep to a safe
alphabet, invisible formatting characters are refused and dates stay within a window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import AuditLog, Demand, ImportBatch, Sku
from services.ingest import ImportOptions, import_file
from services.ingest.sniff import MAX_COLUMNS, MAX_LINE_BYTES, sniff


def _write(tmp_path: Path, text: str | bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _wide(days: int, delimiter: str = ";") -> str:
    start = dt.date(1990, 6, 1)
    dates = [(start + dt.timedelta(days=i)).isoformat() for i in range(days)]
    rows = [delimiter.join(["sku", *dates])]
    rows += [delimiter.join([f"W-{n}", *("1" for _ in dates)]) for n in range(2)]
    return "\n".join(rows) + "\n"


def test_a_header_over_128_kib_is_sniffed_and_imported(session: Session, tmp_path: Path) -> None:
    """The finding: a 15,000-column or semicolon header over 128 KiB raised `_csv.Error: field larger than field
    limit` (API 500, CLI traceback, Data page check job 500) and nothing reached the import history."""
    path = _write(tmp_path, _wide(12_600))
    assert len(path.read_bytes().split(b"\n", 1)[0]) > 131_072  # Python's csv field limit
    found = sniff(path, max_bytes=50 * 1024 * 1024)
    assert found.delimiter == ";" and len(found.header) == 12_601
    result = import_file(
        session=session, path=path, kind="demand", options=ImportOptions(create_skus=True), user="tests"
    )
    assert result.status == "committed", result.message
    assert result.inserted == 25_200
    one_field = _write(tmp_path, ("x" * 200_000 + "\n1\n"), "one.csv")
    rejected = import_file(session=session, path=one_field, kind="demand", user="tests")
    assert rejected.status == "rejected" and "no 'date'" in rejected.message
    statuses = session.scalars(select(ImportBatch.status).order_by(ImportBatch.id)).all()
    assert statuses == ["committed", "rejected"]


def test_beyond_the_limits_the_error_names_the_line(session: Session, tmp_path: Path) -> None:
    long_line = "date,sku,quantity\n2024-01-01,A,1\n" + "2024-01-02,A," + "9" * (MAX_LINE_BYTES + 5) + "\n"
    result = import_file(session=session, path=_write(tmp_path, long_line), kind="demand", user="tests")
    assert result.status == "rejected"
    assert result.message.startswith("line 3 is longer than 1,024 KiB")
    wide = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n"
    result = import_file(session=session, path=_write(tmp_path, wide, "wide.csv"), kind="skus", user="tests")
    assert result.status == "rejected" and f"line 1 (the header) has {MAX_COLUMNS + 1:,} columns" in result.message
    batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [b.status for b in batches] == ["rejected", "rejected"]
    assert batches[0].errors[0]["reason"].startswith("line 3 is longer")


def test_an_import_that_fails_for_any_reason_is_in_the_history(session: Session, tmp_path: Path, monkeypatch) -> None:
    from services.ingest import pipeline

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setitem(pipeline.PREPARERS, "stock", broken)
    path = _write(tmp_path, "sku,on_hand\nA,1\n")
    result = import_file(session=session, path=path, kind="stock", user="tests")
    assert result.status == "rejected"
    assert "failed unexpectedly (RuntimeError)" in result.message and "a bug" not in result.message
    session.commit()
    batch = session.scalar(select(ImportBatch))
    assert batch.status == "rejected" and batch.user_email == "tests"
    assert "failed unexpectedly (RuntimeError)" in batch.errors[0]["reason"]
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "data.import"))
    assert entry.outcome == "error" and entry.details["batch_id"] == batch.id
    checked = import_file(session=session, path=path, kind="stock", user="tests", dry_run=True)
    assert checked.status == "rejected"  # a check (dry run) says so too, and is not history


def test_sku_codes_keep_to_the_safe_alphabet(session: Session, tmp_path: Path) -> None:
    """The finding: codes with / (FX/Slash, ../../etc/passwd) imported fine, then answered 404 in every route."""
    text = "sku,name\nFX/Slash,a\n../../etc/passwd,b\nOK-1,c\nA&B (x)+1:2.3,d\n..,e\nback\\slash,f\nq?x#y%z,g\n"
    path = _write(tmp_path, text)
    result = import_file(session=session, path=path, kind="skus", user="tests")
    assert result.status == "rejected"
    errors = {e.line: e.reason for e in result.first_errors(20)}
    assert set(errors) == {2, 3, 6, 7, 8}
    assert "'/' is not allowed in a SKU code" in errors[2] and "letters, digits, spaces" in errors[2]
    assert "only dots" in errors[6] and "'\\\\'" in errors[7] and "'?'" in errors[8]
    skipped = import_file(session=session, path=path, kind="skus", user="tests", options=ImportOptions(on_error="skip"))
    assert skipped.status == "committed" and skipped.inserted == 2
    assert sorted(session.scalars(select(Sku.code))) == ["A&B (x)+1:2.3", "OK-1"]


def test_invisible_formatting_characters_are_refused(session: Session, tmp_path: Path) -> None:
    """The finding: U+202E (right-to-left override) and other bidi controls were accepted in names."""
    text = (
        "sku,name,category\nA-1,evil\u202egpj.exe,x\nA-2,zero\u200bwidth,x\nA-3,ok,cat\u2066x\n"
        "A\u200d4,ok,x\nA-5,فارسی\u200cمتن,x\n"
    )
    result = import_file(session=session, path=_write(tmp_path, text), kind="skus", user="tests")
    errors = {(e.line, e.column): e.reason for e in result.first_errors(20)}
    assert set(errors) == {(2, "name"), (3, "name"), (4, "category"), (5, "sku")}
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in errors[(2, "name")]
    assert "U+200B" in errors[(3, "name")] and "U+2066" in errors[(4, "category")]


def test_dates_stay_within_the_window(session: Session, tmp_path: Path) -> None:
    from services.ingest.validate import date_window

    low, high = date_window()
    assert low == dt.date(1990, 1, 1) and high > dt.date.today() + dt.timedelta(days=3 * 365)
    text = (
        "date,sku,quantity\n1989-12-31,A,1\n2024-01-01,A,2\n1900-01-01,A,3\n"
        f"{(high + dt.timedelta(days=1)).isoformat()},A,4\n2024-01-08,A,5\n"
    )
    result = import_file(
        session=session, path=_write(tmp_path, text), kind="demand", options=ImportOptions(create_skus=True)
    )
    errors = {e.line: e.reason for e in result.first_errors(20)}
    assert set(errors) == {2, 4, 5}
    assert errors[2].startswith("value out of range: dates must be between 1990-01-01 and")
    wide = "sku,1900-01-01,2024-01-01\nW,7,8\n"
    result = import_file(
        session=session,
        path=_write(tmp_path, wide, "wide.csv"),
        kind="demand",
        options=ImportOptions(create_skus=True),
    )
    assert result.status == "committed" and result.format.ignored == ["1900-01-01"]
    assert session.scalar(select(func.min(Demand.period))) >= dt.date(1990, 1, 1)


@pytest.mark.parametrize("delimiter", [";", ","])
def test_the_cli_reports_a_long_header_without_a_traceback(db_url, tmp_path: Path, capsys, delimiter: str) -> None:
    import cli

    path = _write(tmp_path, _wide(12_600, delimiter))
    status = cli.main(["import", "demand", str(path), "--check"])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "field larger" not in out.out + out.err
    assert status in (0, 1)
