"""A demand workbook (.xlsx) against the same data as CSV, imported in the same run (issue 26: within 3x).

Run: ``.venv/bin/python -m bench.excel_import [--skus 10000] [--periods 100] [--engine sqlite|postgresql|both]
[--cache DIR] [--repeats 1]``.

Generates once, into ``--cache`` (default ``/tmp/icc-bench-excel``; reused by later runs, as writing a
1,000,000-row workbook takes a while), a long demand file ``date,sku,quantity`` of 10,000 SKUs x 100 weeks =
1,000,000 rows: as CSV, and as a workbook with the same rows (dates as date cells, SKU codes as text with leading
zeros, quantities as numbers) on a second sheet after a notes sheet. Then, per round, imports the CSV and the
workbook, each into an empty database (SKUs created by the import), and prints the seconds, rows/s, the ratio
workbook / CSV, and how long reading the sheet takes alone, the fast way (``services.ingest.workbook_fast``, which
the import uses) and the general way (``services.ingest.workbook.convert``). Not a test: it prints figures and exits
0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
import xlsxwriter
from sqlalchemy.orm import Session

from bench.ingest import PeakMemory

_EPOCH = dt.date(1899, 12, 30)


def generate(folder: Path, *, skus: int, periods: int, seed: int = 0) -> tuple[Path, Path, int]:
    """The CSV and the workbook of the same demand rows (written once; reused when both exist)."""
    stem = f"demand-{skus}x{periods}"
    csv_path, book_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    rows = skus * periods
    if csv_path.is_file() and book_path.is_file():
        print(f"reusing {csv_path} and {book_path}")
        return csv_path, book_path, rows
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-03", periods=periods, freq="W-MON")
    codes = np.array([f"{i:06d}" for i in range(skus)], dtype=object)  # leading zeros: must stay text
    quantity = rng.poisson(rng.gamma(2.0, 4.0, rows))
    frame = pd.DataFrame(
        {
            "date": np.tile(days.date.astype(str), skus),
            "sku": np.repeat(codes, periods),
            "quantity": quantity,
        }
    )
    started = time.perf_counter()
    frame.to_csv(csv_path, index=False)
    serials = np.tile(np.array([(d - _EPOCH).days for d in days.date], dtype=float), skus)
    book = xlsxwriter.Workbook(str(book_path), {"constant_memory": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    book.add_worksheet("Notes").write(0, 0, "Weekly demand per SKU (bench)")
    sheet = book.add_worksheet("Demand")
    sheet.write_row(0, 0, ["date", "sku", "quantity"])
    sku_column = frame["sku"].to_numpy()
    for r in range(rows):
        sheet.write_number(r + 1, 0, serials[r], date_format)
        sheet.write_string(r + 1, 1, sku_column[r])
        sheet.write_number(r + 1, 2, int(quantity[r]))
    book.close()
    print(
        f"generated {rows:,} rows ({skus:,} SKUs x {periods} weeks) in {time.perf_counter() - started:.1f} s: "
        f"CSV {csv_path.stat().st_size / 1e6:.1f} MB, workbook {book_path.stat().st_size / 1e6:.1f} MB"
    )
    return csv_path, book_path, rows


def timed_import(url: str, path: Path, label: str, rows: int) -> float:
    from db.session import engine_for
    from services.ingest import ImportOptions, import_file

    with PeakMemory() as memory:
        started = time.perf_counter()
        with Session(engine_for(url)) as session:
            result = import_file(
                session=session, path=path, kind="demand", options=ImportOptions(create_skus=True), user="bench"
            )
            session.commit()
        elapsed = time.perf_counter() - started
    assert result.status == "committed", result.summary()
    assert result.inserted == rows, result.summary()
    print(
        f"  {label:<10} {elapsed:6.2f} s  {rows / elapsed:>9,.0f} rows/s  peak RSS {memory.mb:,.0f} MB  "
        f"[validate {result.timings.get('validate_s')} s, write {result.timings.get('write_s')} s; "
        f"{result.format.describe()}]"
    )
    return elapsed


def _empty(url: str) -> None:
    from db.session import engine_for

    with engine_for(url).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("TRUNCATE demand, sku, import_batch, audit_log RESTART IDENTITY CASCADE"))
        else:
            for table in ("demand", "sku", "import_batch", "audit_log"):
                connection.execute(sa.text(f'DELETE FROM "{table}"'))


def compare(url: str, label: str, csv_path: Path, book_path: Path, rows: int, repeats: int) -> None:
    from db import migrate
    from db.session import engine_for

    migrate.upgrade(engine_for(url))
    print(f"{label} ({rows:,} rows; {repeats} round(s) of: CSV into an empty database, workbook into an empty one)")
    ratios = []
    for _ in range(repeats):
        _empty(url)
        csv_s = timed_import(url, csv_path, "CSV", rows)
        _empty(url)
        book_s = timed_import(url, book_path, "workbook", rows)
        ratios.append(book_s / csv_s)
        print(f"  ratio workbook / CSV: {book_s / csv_s:.2f}x (target within 3x)")
    if repeats > 1:
        print(f"  median ratio {float(np.median(ratios)):.2f}x")


def read_only(book_path: Path, workdir: Path) -> None:
    from services.ingest import workbook, workbook_fast

    for label, convert in (("fast path (fastexcel)", workbook_fast.convert), ("general path", workbook.convert)):
        started = time.perf_counter()
        converted = convert(path=book_path, kind="demand", target=workdir / "sheet.csv")
        elapsed = time.perf_counter() - started
        print(
            f"reading the sheet alone (workbook -> CSV for the pipeline), {label}: {elapsed:.2f} s, "
            f"sheet '{converted.sheet}', {converted.sniffed.lines - 1:,} rows"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--cache", default=os.environ.get("BENCH_EXCEL_CACHE", "/tmp/icc-bench-excel"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    csv_path, book_path, rows = generate(Path(args.cache), skus=args.skus, periods=args.periods)
    with tempfile.TemporaryDirectory(prefix="icc-bench-excel-") as tmp:
        workdir = Path(tmp)
        os.environ["DATA_DIR"] = str(workdir / "data")
        os.environ.setdefault("MAX_UPLOAD_MB", "2000")
        from settings import get_settings

        get_settings.cache_clear()
        read_only(book_path, workdir)
        if args.engine in ("sqlite", "both"):
            compare(f"sqlite:///{(workdir / 'bench.db').as_posix()}", "SQLite", csv_path, book_path, rows, args.repeats)
        if args.engine in ("postgresql", "both"):
            postgres(args.pg_admin_url, csv_path, book_path, rows, args.repeats)
    return 0


def postgres(admin_url: str, csv_path: Path, book_path: Path, rows: int, repeats: int) -> None:
    from db.session import reset_engines

    name = f"icc_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return
    try:
        compare(admin_url.rsplit("/", 1)[0] + "/" + name, "PostgreSQL", csv_path, book_path, rows, repeats)
    finally:
        reset_engines()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
