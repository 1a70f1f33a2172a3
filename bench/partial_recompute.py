"""Partial recompute benchmark: full recompute vs a partial run of one SKU (the forecast-override path), 10,000 SKUs.

For each engine (a throwaway PostgreSQL database created with the helpers of ``bench/recompute.py``, and a temporary
SQLite file): seed the demo portfolio, run one full recompute, then ``--partials`` partial runs of one SKU each
(``services.recompute.recompute(sku_codes=[code])``, what a forecast override triggers), and print the wall time of
each, with the stages of the write: the recomputed SKU's rows, the carry-forward of the other SKUs' snapshot and
forecast rows (``write_carry``), the ABC / KPI redo (``write_finalize``) and the prune. The first partial run also
imports the engine in this process (the app server has it loaded), so it is shown apart.

Run: ``.venv/bin/python -m bench.partial_recompute [--skus 10000] [--periods 156] [--partials 3] [--sqlite-only |
--pg-only] [--keep-runs 2]``. Not a test: it prints figures and exits 0 (1 when a run did not finish).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.recompute import _create_pg_database, _drop_pg_database, _point_settings_at  # noqa: E402  (shared helpers)

WRITE_STAGES: tuple[str, ...] = (
    "write_snapshot",
    "write_forecast_insert",
    "write_orders",
    "write_carry",
    "write_finalize",
)


def _seed(*, url: str, label: str, skus: int, periods: int) -> None:
    from db import migrate
    from db.session import engine_for, session_scope
    from services import demo
    from services.overview import is_empty

    migrate.upgrade(engine_for(url))
    with session_scope() as session:
        if not is_empty(session=session):
            raise SystemExit(f"{label}: the database already has SKUs; give an empty one")
    start = time.perf_counter()
    with session_scope() as session:
        counts = demo.store(session=session, portfolio=demo.generate(skus=skus, periods=periods))
    seconds = time.perf_counter() - start
    print(f"{label}: seeded {counts['skus']:,} SKUs, {counts['demand']:,} demand rows ({seconds:.1f} s)")


def _line(label: str, wall: float, summary: object) -> str:
    timings = getattr(summary, "timings", {}) or {}
    parts = [f"{k.removeprefix('write_')} {timings[k]:.2f}" for k in WRITE_STAGES if k in timings]
    for key in ("load", "compute", "write", "prune"):
        if key in timings:
            parts.append(f"{key} {timings[key]:.2f}")
    return f"  {label:<22}{wall:7.2f} s  ({getattr(summary, 'sku_count', 0):,} SKUs; " + ", ".join(parts) + ")"


def measure(*, url: str, label: str, skus: int, periods: int, partials: int, keep_runs: int) -> bool:
    """Seed ``url``, time one full recompute and ``partials`` one-SKU partial runs; print the figures."""
    from sqlalchemy import func, select

    from db.models import Forecast, Sku
    from db.session import session_scope
    from services.recompute import recompute

    _seed(url=url, label=label, skus=skus, periods=periods)
    with session_scope() as session:
        codes = list(session.scalars(select(Sku.code).where(Sku.active.is_(True)).order_by(Sku.code)))
    ok = True
    start = time.perf_counter()
    with session_scope() as session:
        full = recompute(session=session, triggered_by="bench", keep_runs=keep_runs)
    full_wall = time.perf_counter() - start
    ok &= full.status == "finished"
    with session_scope() as session:
        rows = session.scalar(select(func.count()).where(Forecast.run_id == full.run_id))
    print(f"\n{label}: {full.sku_count:,} SKUs x {periods} periods, {rows:,} forecast rows per run")
    print(_line("full recompute", full_wall, full))
    walls: list[float] = []
    for i in range(partials):
        code = codes[(i * 7919) % len(codes)]
        start = time.perf_counter()
        with session_scope() as session:
            part = recompute(session=session, triggered_by="bench", sku_codes=[code], keep_runs=keep_runs)
        wall = time.perf_counter() - start
        ok &= part.status == "finished" and part.sku_count == full.sku_count
        walls.append(wall)
        tag = f"partial 1 SKU #{i + 1}" + (" (cold)" if i == 0 else "")
        print(_line(tag, wall, part))
    warm = walls[1:] or walls
    if warm:
        print(
            f"  partial of 1 SKU (warm): {min(warm):.2f} to {max(warm):.2f} s; "
            f"{full_wall / max(min(warm), 1e-9):.0f}x faster than the full recompute at best"
        )
    print(f"  load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores\n")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=156)
    parser.add_argument("--partials", type=int, default=3, help="one-SKU partial runs after the full one")
    parser.add_argument(
        "--keep-runs", type=int, default=2, help="finished runs kept (2: each partial run prunes one: steady state)"
    )
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("APP_ENV", "test")
    common = {"skus": args.skus, "periods": args.periods, "partials": args.partials, "keep_runs": args.keep_runs}
    ok = True
    with tempfile.TemporaryDirectory(prefix="icc-bench-partial-") as tmp:
        if not args.sqlite_only:
            try:
                url, name = _create_pg_database()
            except Exception as exc:  # report and carry on with SQLite
                print(f"PostgreSQL unreachable ({type(exc).__name__}: {exc}); skipping it", file=sys.stderr)
            else:
                _point_settings_at(url, Path(tmp))
                try:
                    ok &= measure(url=url, label="PostgreSQL", **common)
                finally:
                    _drop_pg_database(name)
        if not args.pg_only:
            url = f"sqlite:///{Path(tmp, 'bench.db').as_posix()}"
            _point_settings_at(url, Path(tmp))
            ok &= measure(url=url, label="SQLite", **common)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
