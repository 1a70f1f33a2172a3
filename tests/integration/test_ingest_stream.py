"""Large demand files into an empty table: loaded while validating (PostgreSQL), and every way that can go wrong.

The stream path is taken when the file has at least ``db.ingest.BULK_MIN_ROWS`` lines; the tests lower it and the
chunk size so that small files stream over several chunks. On SQLite the same files take the ordinary path, so
every assertion holds on both engines.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.models import Demand, ImportBatch, Sku
from services.ingest import ImportOptions, import_file, prepare_demand
from services.ingest import stream as stream_module


@pytest.fixture(autouse=True)
def small_stream(monkeypatch: pytest.MonkeyPatch) -> list:
    """Stream from 5 lines on, 4 rows per chunk; record every stream started."""
    from db import ingest as dbi

    monkeypatch.setattr(dbi, "BULK_MIN_ROWS", 5)
    monkeypatch.setattr(prepare_demand, "STREAM_CHUNK_ROWS", 4)
    started: list = []
    real = stream_module.DemandStream.start.__func__

    def start(cls, **kwargs):
        stream = real(cls, **kwargs)
        started.append(stream)
        return stream

    monkeypatch.setattr(stream_module.DemandStream, "start", classmethod(start))
    return started


def weeks(n: int) -> list[str]:
    return [(dt.date(2024, 1, 1) + dt.timedelta(weeks=i)).isoformat() for i in range(n)]


def demand_csv(codes: list[str], n_weeks: int, extra: list[str] = ()) -> str:
    lines = ["date,sku,quantity"]
    lines += [
        f"{day},{code},{(i * 7 + j) % 11}" for i, code in enumerate(codes) for j, day in enumerate(weeks(n_weeks))
    ]
    return "\n".join([*lines, *extra]) + "\n"


def run(session: Session, tmp_path: Path, content: str | bytes, dry_run: bool = False, **options: object):
    path = tmp_path / "big.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = import_file(
        session=session, path=path, kind="demand", options=ImportOptions(**options), user="p", dry_run=dry_run
    )
    session.commit()
    return result


def stored(session: Session) -> list[tuple]:
    query = text("SELECT s.code, d.period, d.quantity FROM demand d JOIN sku s ON s.id = d.sku_id ORDER BY 1, 2")
    return [(c, str(p)[:10], q) for c, p, q in session.execute(query)]


def expected(codes: list[str], n_weeks: int) -> list[tuple]:
    return sorted(
        (code, day, float((i * 7 + j) % 11)) for i, code in enumerate(codes) for j, day in enumerate(weeks(n_weeks))
    )


def postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def test_streamed_import_creates_skus_and_restores_keys(session: Session, tmp_path: Path, small_stream: list) -> None:
    codes = [f"S-{i:02d}" for i in range(7)]
    result = run(session, tmp_path, demand_csv(codes, 5), create_skus=True)
    assert result.status == "committed", result.summary()
    assert (result.inserted, result.updated, result.unchanged, result.skus_created) == (35, 0, 0, 7)
    assert stored(session) == expected(codes, 5)
    assert session.scalar(select(func.count()).select_from(Sku)) == 7
    assert session.scalar(select(Sku.name).where(Sku.code == "S-03")) == "S-03"
    assert session.scalar(select(Sku.location).where(Sku.code == "S-03")) == "Main"
    if postgres(session):
        assert len(small_stream) == 1 and small_stream[0].rows == 35
        keys = set(session.scalars(text("SELECT conname FROM pg_constraint WHERE conrelid = 'demand'::regclass")))
        assert {"pk_demand", "fk_demand_sku_id_sku", "ck_demand_quantity_nonneg"} <= keys
    again = run(session, tmp_path, demand_csv(codes, 5), create_skus=True)
    assert (again.inserted, again.unchanged) == (0, 35)


def test_rejected_file_leaves_nothing_behind(session: Session, tmp_path: Path, small_stream: list) -> None:
    codes = [f"R-{i}" for i in range(6)]
    content = demand_csv(codes, 4, extra=["2024-03-04,R-1,-5"])  # a bad row on the last line (a later chunk)
    result = run(session, tmp_path, content, create_skus=True)
    assert result.status == "rejected"
    assert [(e.line, e.column) for e in result.errors.first(5)] == [(26, "quantity")]
    assert stored(session) == [] and session.scalar(select(func.count()).select_from(Sku)) == 0
    assert session.scalar(select(ImportBatch.status)) == "rejected"
    if postgres(session):
        # it had started loading (how far the worker got is a race), stopped at the bad row and rolled back
        assert small_stream and isinstance(small_stream[0].error, stream_module.RejectedRowError)
        assert small_stream[0].rows <= 24 and not small_stream[0].restored


def test_skip_policy_keeps_only_good_rows(session: Session, tmp_path: Path) -> None:
    codes = [f"K-{i}" for i in range(5)]
    content = demand_csv(codes, 3, extra=["2024-02-05,K-2,abc", "2999-01-01,K-3,1"])
    result = run(session, tmp_path, content, create_skus=True, on_error="skip")
    assert result.status == "committed"
    assert (result.inserted, result.rows_rejected) == (15, 2)
    assert stored(session) == expected(codes, 3)


def test_duplicates_fall_back_to_the_ordinary_write(session: Session, tmp_path: Path, small_stream: list) -> None:
    codes = [f"D-{i}" for i in range(4)]
    content = demand_csv(codes, 3, extra=["2024-01-08,D-0,99"])  # D-0 week 2 again, in a later chunk
    result = run(session, tmp_path, content, create_skus=True, on_error="skip")
    assert result.status == "committed"
    assert result.inserted == 11 and result.skus_created == 4  # both D-0 2024-01-08 rows are rejected
    rows = stored(session)
    assert ("D-0", "2024-01-08", 7.0) not in rows and ("D-0", "2024-01-08", 99.0) not in rows
    assert len(rows) == 11 and session.scalar(select(func.count()).select_from(Sku)) == 4


def test_unknown_skus_are_reported_not_loaded(session: Session, tmp_path: Path) -> None:
    session.add_all([Sku(code="U-0", name="u0"), Sku(code="U-1", name="u1")])
    session.commit()
    result = run(session, tmp_path, demand_csv(["U-0", "X-9", "U-1"], 3), on_error="skip")
    assert (result.status, result.inserted, result.rows_rejected) == ("committed", 6, 3)
    assert {e.reason.split(" (")[0] for e in result.errors.first(10)} == {"unknown SKU"}
    assert [r[0] for r in stored(session)] == ["U-0"] * 3 + ["U-1"] * 3


def test_unreadable_later_chunk_rolls_back(session: Session, tmp_path: Path) -> None:
    content = demand_csv([f"B-{i}" for i in range(5)], 4).encode() + b"2024-02-05,B-1,\xff\xfe\n"
    result = run(session, tmp_path, content, create_skus=True)
    assert result.status == "rejected"
    assert stored(session) == [] and session.scalar(select(func.count()).select_from(Sku)) == 0


def test_non_empty_table_and_dry_run_do_not_stream(session: Session, tmp_path: Path, small_stream: list) -> None:
    codes = [f"N-{i}" for i in range(5)]
    checked = run(session, tmp_path, demand_csv(codes, 3), dry_run=True, create_skus=True)
    assert checked.status == "checked" and small_stream == []
    assert session.scalar(select(func.count()).select_from(Demand)) == 0
    run(session, tmp_path, demand_csv(codes[:1], 3), create_skus=True)
    small_stream.clear()
    result = run(session, tmp_path, demand_csv(codes, 4), create_skus=True)
    assert (result.inserted, result.unchanged, result.skus_created) == (17, 3, 4)
    assert all(s is None for s in small_stream)  # started, found the table not empty, stepped aside
    assert stored(session) == expected(codes, 4)


def test_imports_mark_skus_whose_history_changed(session: Session, tmp_path: Path) -> None:
    """A partial recompute re-computes SKUs edited since the latest run: an import marks the SKUs it changed."""
    import datetime as dt_

    session.add_all([Sku(code=f"M-{i}", name=f"m{i}") for i in range(3)])
    session.commit()
    run(session, tmp_path, demand_csv(["M-0", "M-1"], 3))  # M-0 and M-1 get history (existing SKUs)
    old = dt_.datetime(2020, 1, 1)
    session.execute(text("UPDATE sku SET updated_at = :t"), {"t": old})
    session.commit()
    content = demand_csv(["M-0", "M-1"], 3).replace("2024-01-08,M-1,8\n", "2024-01-08,M-1,80\n")
    assert "M-1,80" in content
    result = run(session, tmp_path, content)
    assert (result.updated, result.unchanged) == (1, 5)
    stamps = dict(session.execute(text("SELECT code, updated_at FROM sku")).all())
    assert str(stamps["M-0"])[:4] == "2020" and str(stamps["M-2"])[:4] == "2020"  # untouched
    assert str(stamps["M-1"])[:4] != "2020"  # its history changed
