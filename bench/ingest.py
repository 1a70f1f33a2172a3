"""Speed of the demand import against a bare COPY of the same file (docs/architecture.md, Targets: >= 0.5x).

Run: ``.venv/bin/python -m bench.ingest [--skus 10000] [--periods 100] [--repeats 3] [--pg-admin-url URL]
[--no-sqlite]``.

Generates a long demand CSV (``date,sku,quantity``; 10,000 SKUs x 100 weeks = 1,000,000 rows by default), then
on a throwaway PostgreSQL database migrated with ``db.migrate.upgrade``:
1. a bare ``COPY`` of the file into an unindexed table (psycopg2 ``copy_expert``, the project's driver);
2. the project's import (``services.ingest.import_file``: sniffing, chunked vectorised validation, SKU creation,
   duplicate check, write, import_batch + audit), SKUs created by the import, into the empty demand table;
3. the same file again (every row unchanged: the staged upsert path);
repeated ``--repeats`` times (the tables emptied before each round), comparing the medians;
and the import into SQLite. Prints rows/s, the ratio to the bare COPY and the peak resident memory of the process
during each import. Not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import sqlalchemy as sa
from sqlalchemy.orm import Session


class PeakMemory:
    """Peak resident set size of this process while the block runs (sampled every 10 ms)."""

    def __enter__(self) -> PeakMemory:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def mb(self) -> float:
        return self.peak / 1e6


def generate(path: Path, *, skus: int, periods: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=periods, freq="W-MON").strftime("%Y-%m-%d").to_numpy()
    codes = np.array([f"SKU-{i:06d}" for i in range(skus)])
    frame = pd.DataFrame(
        {
            "date": np.tile(dates, skus),
            "sku": np.repeat(codes, periods),
            "quantity": rng.poisson(rng.gamma(2.0, 4.0, skus * periods)),
        }
    )
    frame.to_csv(path, index=False)
    return len(frame)


def bare_copy(url: str, path: Path) -> float:
    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("DROP TABLE IF EXISTS bare_copy")
        cursor.execute("CREATE TABLE bare_copy (date date, sku text, quantity double precision)")
        raw.commit()
        started = time.perf_counter()
        with path.open() as handle:
            cursor.copy_expert("COPY bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
        raw.commit()
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bare_copy")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return elapsed


def run_import(url: str, path: Path, label: str, rows: int) -> tuple[float, float, object]:
    from db.session import engine_for
    from services.ingest import ImportOptions, import_file

    engine = engine_for(url)
    with PeakMemory() as memory:
        started = time.perf_counter()
        with Session(engine) as session:
            result = import_file(
                session=session, path=path, kind="demand", options=ImportOptions(create_skus=True), user="bench"
            )
            session.commit()
        elapsed = time.perf_counter() - started
    assert result.status == "committed", result.summary()
    print(
        f"  {label:<34} {elapsed:6.2f} s  {rows / elapsed:>9,.0f} rows/s  peak RSS {memory.mb:,.0f} MB  "
        f"[{result.inserted:,} inserted, {result.updated:,} updated, {result.unchanged:,} unchanged; "
        f"validate {result.timings.get('validate_s')} s, write {result.timings.get('write_s')} s]"
    )
    return elapsed, memory.mb, result


def postgres(admin_url: str, path: Path, rows: int, repeats: int) -> None:
    from db import migrate
    from db.session import engine_for, reset_engines

    name = f"icc_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(engine_for(url))
        print(f"PostgreSQL ({rows:,} rows; {repeats} rounds of: bare COPY, import into an empty database, re-import)")
        copies, firsts, agains, peaks = [], [], [], []
        for round_ in range(1, repeats + 1):
            with engine_for(url).begin() as connection:
                connection.execute(sa.text("TRUNCATE demand, sku, import_batch RESTART IDENTITY CASCADE"))
            copy_s = bare_copy(url, path)
            label = f"round {round_}: bare COPY (unindexed table)"
            print(f"  {label:<34} {copy_s:6.2f} s  {rows / copy_s:>9,.0f} rows/s")
            first_s, first_mb, _ = run_import(url, path, "import, empty database", rows)
            again_s, again_mb, _ = run_import(url, path, "re-import, all rows unchanged", rows)
            copies.append(copy_s)
            firsts.append(first_s)
            agains.append(again_s)
            peaks.append(max(first_mb, again_mb))
        copy_m, first_m, again_m = (float(np.median(x)) for x in (copies, firsts, agains))
        print(
            f"  medians: bare COPY {copy_m:.2f} s, import {first_m:.2f} s, re-import {again_m:.2f} s; "
            f"ratio to bare COPY (rows/s): first import {copy_m / first_m:.2f}x, re-import {copy_m / again_m:.2f}x"
            f"  (target >= 0.5x); peak RSS {max(peaks):,.0f} MB (target < 1,500 MB)"
        )
    finally:
        reset_engines()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite(path: Path, rows: int, workdir: Path) -> None:
    from db import migrate
    from db.session import engine_for, reset_engines

    raw_path = workdir / "bare.db"
    connection = sqlite3.connect(raw_path)
    connection.execute("CREATE TABLE bare (date TEXT, sku TEXT, quantity REAL)")
    started = time.perf_counter()
    for chunk in pd.read_csv(path, dtype=str, chunksize=250_000):
        connection.executemany("INSERT INTO bare VALUES (?, ?, ?)", chunk.itertuples(index=False, name=None))
    connection.commit()
    bare_s = time.perf_counter() - started
    connection.close()
    url = f"sqlite:///{(workdir / 'bench.db').as_posix()}"
    migrate.upgrade(engine_for(url))
    print(f"SQLite ({rows:,} rows)")
    print(f"  {'bare read_csv + executemany':<34} {bare_s:6.2f} s  {rows / bare_s:>9,.0f} rows/s")
    first_s, _, _ = run_import(url, path, "import, empty database", rows)
    again_s, _, _ = run_import(url, path, "re-import, all rows unchanged", rows)
    print(f"  ratio to bare executemany: first import {bare_s / first_s:.2f}x, re-import {bare_s / again_s:.2f}x")
    reset_engines()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="rounds on PostgreSQL (medians are compared)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="icc-bench-ingest-") as tmp:
        workdir = Path(tmp)
        os.environ["DATA_DIR"] = str(workdir / "data")
        os.environ.setdefault("MAX_UPLOAD_MB", "2000")
        from settings import get_settings

        get_settings.cache_clear()
        path = workdir / "demand.csv"
        started = time.perf_counter()
        rows = generate(path, skus=args.skus, periods=args.periods)
        print(
            f"generated {rows:,} rows ({args.skus:,} SKUs x {args.periods} weeks), "
            f"{path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )
        if not args.no_postgres:
            postgres(args.pg_admin_url, path, rows, args.repeats)
        if not args.no_sqlite:
            sqlite(path, rows, workdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
