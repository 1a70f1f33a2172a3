"""Policy backtest benchmark: 10,000 SKUs x 26 replayed weeks (issue 24 target: <= 20 s).

Seeds the demo portfolio (10,000 SKUs x 156 weeks by default) into a temporary SQLite file (``--pg``: a throwaway
PostgreSQL database on postgres@127.0.0.1:5432, dropped afterwards), runs a recompute as the baseline of the same run
(the engine's fit on the whole history: what the backtest's fit is compared with), then
:func:`services.backtest.run_backtest` for the whole portfolio and prints:

- the use case's stages: load, the engine fit (summed over batches), the replays inside the batches, the batches'
  wall time over the worker processes, join, store, total -- and the ratio to the 20 s target;
- the split of the replays, measured again in this process on the same SKUs with the same core calls: the engine's
  and the textbook's replays at the SKUs' own targets, and the textbook frontier (21 targets: policy + replay);
- the ratio of the backtest's fit to the recompute's compute stage, and ``uptime``'s load before and after.

Run: ``.venv/bin/python -m bench.backtest [--skus 10000] [--history 156] [--periods 26] [--workers N] [--pg]``.
Not a test: it prints figures and exits 0 (1 when a step failed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench._databases import create_pg_database, drop_pg_database, load_text, point_settings_at

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 20.0


def _seed(*, skus: int, history: int) -> None:
    from db import migrate
    from db.session import engine_for, session_scope
    from services import demo
    from settings import get_settings

    migrate.upgrade(engine_for(get_settings().database_url))
    start = time.perf_counter()
    with session_scope() as session:
        counts = demo.store(session=session, portfolio=demo.generate(skus=skus, periods=history))
    print(f"seeded {counts['skus']:,} SKUs, {counts['demand']:,} demand rows in {time.perf_counter() - start:.1f} s")


def _recompute(workers: int | None) -> float:
    from db.session import session_scope
    from services.recompute import recompute

    with session_scope() as session:
        summary = recompute(session=session, triggered_by="bench", workers=workers)
    t = summary.timings
    print(
        f"baseline recompute: {summary.sku_count:,} SKUs in {summary.seconds:.1f} s "
        f"(compute {t.get('compute', 0):.1f} s wall over {summary.batches} batches on {summary.workers} worker(s); "
        f"load {load_text()})"
    )
    return float(t.get("compute", 0.0))


def _replay_split(result, periods: int) -> dict[str, float]:
    """Time the replays of the use case again in this process on the same SKUs: engine + textbook at own targets,
    and the frontier (textbook policy + replay at each target)."""
    import numpy as np

    from core.calendar import GRAIN_DAYS
    from core.policy_eval import FRONTIER_TARGETS, replay_point, textbook_policy
    from core.portfolio import EngineSettings
    from db.session import session_scope
    from services.backtest import BacktestScope
    from services.backtest.run import load_inputs

    with session_scope() as session:
        inputs = load_inputs(session=session, scope=BacktestScope(), settings=EngineSettings())
    keep = np.isin(np.asarray(inputs.codes), result.codes)
    history, sku = inputs.history[keep], inputs.sku[keep].reset_index(drop=True)
    fit, test = history[:, :-periods], history[:, -periods:]
    days = float(GRAIN_DAYS[inputs.context.grain])
    shared = {
        "lead_time": sku["lead_time_mean_days"].to_numpy(float) / days,
        "lead_time_std": 0.0,
        "unit_cost": sku["unit_cost"].to_numpy(float),
        "review_period": 1,
        "moq": np.nan_to_num(sku["moq"].to_numpy(float)),
        "order_multiple": sku["order_multiple"].to_numpy(float),
        "backorders": True,
        "keep_paths": False,
    }
    book = {
        "fit_history": fit,
        "lead_time": shared["lead_time"],
        "unit_cost": shared["unit_cost"],
        "holding_cost_rate": sku["holding_cost_rate"].to_numpy(float),
        "order_cost": sku["order_cost"].to_numpy(float),
        "moq": shared["moq"],
        "order_multiple": shared["order_multiple"],
        "days_per_period": days,
    }
    out: dict[str, float] = {}
    start = time.perf_counter()
    for name in ("engine", "baseline"):
        replay_point(
            name=name,
            service_target=float("nan"),
            demand=test,
            policy_arrays=result.replayed.policies[name],
            replay_kwargs=shared,
        )
    out["own targets"] = time.perf_counter() - start
    start = time.perf_counter()
    for target in FRONTIER_TARGETS:
        policy = textbook_policy(service_level=float(target), **book)
        replay_point(name="t", service_target=target, demand=test, policy_arrays=policy, replay_kwargs=shared)
    out["frontier"] = time.perf_counter() - start
    return out


def _backtest(periods: int, workers: int | None) -> tuple[object, float]:
    from db.session import session_scope
    from services.backtest import run_backtest

    start = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        print(f"  [{time.perf_counter() - start:6.1f} s] {fraction:4.0%} {message}", flush=True)

    with session_scope() as session:
        result = run_backtest(
            session=session, periods=periods, triggered_by="bench", progress=progress, workers=workers
        )
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=156, help="weeks of demand seeded")
    parser.add_argument("--periods", type=int, default=26, help="weeks replayed")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    parser.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL database instead of SQLite")
    args = parser.parse_args(argv)

    print(
        f"policy backtest bench: {args.skus:,} SKUs x {args.history} weeks, replay {args.periods}; load {load_text()}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="icc-bench-backtest-"))
    pg_name = None
    if args.pg:
        url, pg_name = create_pg_database()
    else:
        url = f"sqlite:///{(tmp / 'bench.db').as_posix()}"
    point_settings_at(url, tmp)
    try:
        _seed(skus=args.skus, history=args.history)
        compute = _recompute(args.workers)
        load_before = load_text()
        result, wall = _backtest(args.periods, args.workers)
        load_after = load_text()
        t = result.timings
        doc = result.document
        print(
            f"\nbacktest of {doc['sku_count']:,} SKUs x {args.periods} weeks ({len(doc['excluded']):,} left out), "
            f"{int(t['batches'])} batches on {int(t['workers'])} worker(s); load {load_before} -> {load_after}"
        )
        for key, label in (
            ("load", "load inputs"),
            ("evaluate", "batches (wall)"),
            ("fit", "  engine fit (summed over batches)"),
            ("replay", "  replays (summed over batches)"),
            ("join", "join"),
            ("store", "store"),
            ("total", "total"),
        ):
            print(f"  {label:<36}{t.get(key, 0.0):8.2f} s")
        print(
            f"  vs target: {t['total']:.1f} s = {t['total'] / TARGET_SECONDS:.2f}x of {TARGET_SECONDS:.0f} s -> "
            + ("within target" if t["total"] <= TARGET_SECONDS else "OVER target")
        )
        if compute > 0:
            print(f"  engine fit / the recompute's compute stage (same run): {t['fit'] / compute:.2f}x")
        split = _replay_split(result, args.periods)
        print("replay split, measured again in one process on the same SKUs:")
        for key, value in split.items():
            print(f"  {key:<36}{value:8.2f} s")
        p, b, c = doc["portfolio"], doc["baseline"], doc["comparison"]
        print(
            f"result: engine fill {p['fill_rate']:.4f} / {p['average_inventory_value']:,.0f}; textbook at own targets "
            f"{b['fill_rate']:.4f} / {b['average_inventory_value']:,.0f}; verdict {c['verdict']}"
        )
        print(f"load at the end {load_text()}; wall of the use case as seen here {wall:.1f} s")
        return 0
    finally:
        if pg_name:
            drop_pg_database(pg_name)


if __name__ == "__main__":
    sys.exit(main())
