"""Full portfolio recompute benchmark: 10,000 SKUs x 156 weeks (docs/architecture.md, Targets: <= 60 s, <= 2 GB).

Creates a throwaway PostgreSQL database (``--url`` / ``TEST_DATABASE_URL`` to use an existing *empty* one; default:
a new database on postgres@127.0.0.1:5432, dropped afterwards), migrates it, seeds the demo portfolio
(services.demo generate + store), runs ``services.recompute.recompute`` and prints the time of each stage
(load, compute = forecast + policies over the batches, finalize, write, prune), the total, the peak memory of the
process tree (the parent plus its worker processes, sampled every 0.1 s) and the ratio to the target.
``--sqlite`` runs the same on a temporary SQLite file instead.

Run: ``.venv/bin/python bench/recompute.py [--skus 10000] [--periods 156] [--sqlite] [--workers N] [--batch-size N]
[--repeat N --keep-runs K] [--causal]`` (``--repeat 2 --keep-runs 1``: the second run also deletes the first, timing
the prune; ``--causal``: promotions for every SKU and week plus events, issue 20).
Not a test: it prints figures and exits 0 (1 when the run did not finish).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._databases import create_pg_database, drop_pg_database, point_settings_at

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0
TARGET_BYTES = 2 * 1024**3


class PeakMemory:
    """Samples the RSS of this process plus its children (the worker pool) in a background thread."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = self._process.memory_info().rss
        for child in self._process.children(recursive=True):
            with contextlib.suppress(Exception):  # a worker may exit between listing and reading
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


class BackendCpu:
    """CPU seconds used by the PostgreSQL server processes serving one database (read from /proc via psutil)."""

    def __init__(self, database: str | None) -> None:
        self.database = database
        self._seen: dict[int, float] = {}

    def total(self) -> float:
        if not self.database:
            return 0.0
        import psutil

        for proc in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(proc.info.get("cmdline") or [])
            if cmdline.startswith("postgres:") and f" {self.database} " in f"{cmdline} ":
                with contextlib.suppress(Exception):
                    times = proc.cpu_times()
                    self._seen[proc.pid] = times.user + times.system
        return sum(self._seen.values())


def _mb(n: float) -> str:
    return f"{n / 1024**2:,.0f} MB"


def run(
    *,
    url: str,
    label: str,
    skus: int,
    periods: int,
    workers: int | None,
    batch_size: int | None,
    repeat: int = 1,
    keep_runs: int | None = None,
    causal: bool = False,
) -> bool:
    """Seed the database at ``url`` and time ``repeat`` recomputes (the later ones prune the older runs when
    ``keep_runs`` is small)."""
    from db import migrate
    from db.session import engine_for, session_scope
    from services import demo

    migrate.upgrade(engine_for(url))
    with session_scope() as session:
        from services.overview import is_empty

        if not is_empty(session=session):
            print(f"{label}: the database already has SKUs; give an empty one", file=sys.stderr)
            return False
    t0 = time.perf_counter()
    portfolio = demo.generate(skus=skus, periods=periods)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    with session_scope() as session:
        counts = demo.store(session=session, portfolio=portfolio)
    t_store = time.perf_counter() - t0
    if causal:
        t0 = time.perf_counter()
        with session_scope() as session:
            counts["promotions"] = seed_causal(session=session, periods=pd_periods(portfolio))
        print(f"{label}: seeded {counts['promotions']:,} promotion rows and events ({time.perf_counter() - t0:.1f} s)")
    del portfolio
    print(
        f"{label}: seeded {counts['skus']:,} SKUs, {counts['demand']:,} demand rows, {counts['receipts']:,} receipts "
        f"(generate {t_gen:.1f} s, store {t_store:.1f} s)"
    )

    ok = True
    for i in range(repeat):
        tag = label if repeat == 1 else f"{label} #{i + 1}"
        ok &= _measure(url=url, label=tag, periods=periods, workers=workers, batch_size=batch_size, keep_runs=keep_runs)
    return ok


def pd_periods(portfolio: object) -> list:
    """The demo's weeks plus a 13-week plan."""
    import pandas as pd

    weeks = pd.DatetimeIndex(portfolio.periods)
    return list(weeks) + [weeks[-1] + pd.Timedelta(days=7 * k) for k in range(1, 14)]


def seed_causal(*, session: object, periods: list) -> int:
    """Promotions for every SKU and week (history and a 13-week plan: price cut 25 % in ~10 % of the weeks, a
    ``display`` column) and two events a year (issue 20: recompute speed with causal data)."""
    import numpy as np
    import pandas as pd
    from sqlalchemy import select

    from db import queries_recompute as q
    from db.models import CalendarEvent, Promotion, Sku, utcnow

    ids = np.array(session.scalars(select(Sku.id).order_by(Sku.id)).all(), dtype=np.int64)
    rng = np.random.default_rng(0)
    on = rng.random((len(ids), len(periods))) < 0.1
    frame = pd.DataFrame(
        {
            "sku_id": np.repeat(ids, len(periods)),
            "period": np.tile(pd.DatetimeIndex(periods).date, len(ids)),
            "price": np.where(on, 7.5, 10.0).ravel(),
            "promoted": on.ravel(),
            "label": None,
            "features": [{"display": 1.0} if x else None for x in on.ravel()],
            "updated_at": utcnow(),
        }
    )
    rows = q.insert_frame(session.connection(), Promotion.__table__, frame, json_columns=("features",))
    events = [{"period": d.date(), "name": "Holiday", "location": ""} for d in periods[::26]]
    session.execute(CalendarEvent.__table__.insert(), events)
    return rows


def _measure(
    *, url: str, label: str, periods: int, workers: int | None, batch_size: int | None, keep_runs: int | None
) -> bool:
    from sqlalchemy import func, select

    from db.models import Forecast, SkuSnapshot
    from db.session import engine_for, session_scope
    from services.recompute import KEEP_RUNS, recompute

    database = engine_for(url).url.database if engine_for(url).dialect.name == "postgresql" else None
    backend = BackendCpu(database)
    marks: dict[str, float] = {"start": backend.total()}
    start = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    def progress(fraction: float, message: str) -> None:
        if message.startswith("loaded"):
            marks["loaded"] = backend.total()
        elif message.startswith("writing"):
            marks["writing"] = backend.total()
        print(f"  [{time.perf_counter() - start:6.1f} s] {fraction:4.0%} {message}", flush=True)

    with PeakMemory() as memory, session_scope() as session:
        summary = recompute(
            session=session,
            triggered_by="bench",
            progress=progress,
            workers=workers,
            batch_size=batch_size,
            keep_runs=keep_runs or KEEP_RUNS,
        )
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(cpu0, cpu1, strict=True))
    with session_scope() as session:
        n_snap = session.scalar(select(func.count()).where(SkuSnapshot.run_id == summary.run_id))
        n_fc = session.scalar(select(func.count()).where(Forecast.run_id == summary.run_id))

    marks["end"] = backend.total()
    t = summary.timings
    policies = sum(t.get(k, 0.0) for k in ("classify", "policy", "health", "snapshot"))
    print(
        f"\n{label}: recompute {summary.status}, run {summary.run_id}: {summary.sku_count:,} SKUs x {periods} periods"
    )
    print(
        f"  batches {summary.batches} of <= {batch_size or 'RECOMPUTE_BATCH_SIZE'}, worker processes {summary.workers}"
    )
    print(f"  load        {t.get('load', 0):7.2f} s")
    print(f"  compute     {t.get('compute', 0):7.2f} s  (wall time of the batches; CPU summed over batches below)")
    print(f"    forecast  {t.get('forecast', 0):7.2f} s")
    print(f"    policies  {policies:7.2f} s  (classify + policy + health + snapshot)")
    print(f"  finalize    {t.get('finalize', 0):7.2f} s")
    print(f"  write       {t.get('write', 0):7.2f} s  ({n_snap:,} snapshot rows, {n_fc:,} forecast rows)")
    for key in ("write_snapshot", "write_forecast_build", "write_forecast_insert", "write_orders"):
        if key in t:
            print(f"    {key.removeprefix('write_'):<16}{t[key]:7.2f} s")
    print(f"  prune       {t.get('prune', 0):7.2f} s")
    print(f"  total       {wall:7.2f} s  (service-measured {summary.seconds:.2f} s); CPU {cpu:.1f} s")
    print(f"  peak memory {_mb(memory.peak)} (process tree RSS, sampled)")
    pg_load = marks.get("loaded", marks["start"]) - marks["start"]
    pg_write = marks["end"] - marks.get("writing", marks["end"])
    pg_all = marks["end"] - marks["start"]
    print(
        f"  CPU seconds: load {t.get('load_cpu', 0):.1f} (+ server {pg_load:.1f}), "
        f"batches {t.get('compute_cpu', 0):.1f} over {summary.workers} process(es), "
        f"write {t.get('write_cpu', 0):.1f} (+ server {pg_write:.1f}); database server in all {pg_all:.1f}"
    )
    # What the stages need on an otherwise idle machine: CPU time of each stage, the batches spread over the workers
    # in rounds (ceil(batches / workers) rounds of one batch each), the server's work added to the stage it serves.
    rounds = -(-max(summary.batches, 1) // max(summary.workers, 1))
    per_batch = t.get("compute_cpu", 0.0) / max(summary.batches, 1)
    idle = (
        t.get("load_cpu", 0.0)
        + pg_load
        + per_batch * rounds
        + t.get("finalize", 0.0)
        + t.get("write_cpu", 0.0)
        + pg_write
        + t.get("prune", 0.0)
    )
    print(
        f"  idle-machine estimate from CPU time: {idle:.1f} s ({idle / TARGET_SECONDS:.2f}x of the target; "
        f"{rounds} round(s) of {per_batch:.1f} s CPU per batch)"
    )
    print(
        f"  vs target:  time {wall / TARGET_SECONDS:.2f}x of {TARGET_SECONDS:.0f} s, "
        f"memory {memory.peak / TARGET_BYTES:.2f}x of 2 GB -> "
        + ("within target" if wall <= TARGET_SECONDS and memory.peak <= TARGET_BYTES else "OVER target")
    )
    print(f"  load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores\n")
    return summary.status == "finished"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=156)
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL"), help="an existing empty PostgreSQL DB")
    parser.add_argument("--sqlite", action="store_true", help="also run on a temporary SQLite file")
    parser.add_argument("--sqlite-only", action="store_true", help="run only on SQLite")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--batch-size", type=int, default=None, help="SKUs per batch (default RECOMPUTE_BATCH_SIZE)")
    parser.add_argument("--repeat", type=int, default=1, help="recomputes in a row on the same data (default 1)")
    parser.add_argument("--keep-runs", type=int, default=None, help="finished runs kept (1: every run prunes)")
    parser.add_argument("--causal", action="store_true", help="also seed promotions for every SKU and week + events")
    args = parser.parse_args(argv)
    os.environ.setdefault("APP_ENV", "test")
    ok = True
    with tempfile.TemporaryDirectory(prefix="icc-bench-") as tmp:
        if not args.sqlite_only:
            created = None
            url = args.url
            if url and url.startswith("postgresql://"):
                url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
            if not url:
                try:
                    url, created = create_pg_database()
                except Exception as exc:  # report and carry on with SQLite
                    print(f"PostgreSQL unreachable ({type(exc).__name__}: {exc}); skipping it", file=sys.stderr)
            if url:
                point_settings_at(url, Path(tmp))
                try:
                    ok &= run(
                        url=url,
                        label="PostgreSQL",
                        skus=args.skus,
                        periods=args.periods,
                        workers=args.workers,
                        batch_size=args.batch_size,
                        repeat=args.repeat,
                        keep_runs=args.keep_runs,
                        causal=args.causal,
                    )
                finally:
                    if created:
                        drop_pg_database(created)
        if args.sqlite or args.sqlite_only:
            url = f"sqlite:///{Path(tmp, 'bench.db').as_posix()}"
            point_settings_at(url, Path(tmp))
            ok &= run(
                url=url,
                label="SQLite",
                skus=args.skus,
                periods=args.periods,
                workers=args.workers,
                batch_size=args.batch_size,
                repeat=args.repeat,
                keep_runs=args.keep_runs,
                causal=args.causal,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
