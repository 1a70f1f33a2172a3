"""End-to-end speed of the briefing service (targets: portfolio of 10,000 SKUs <= 3 s, one SKU <= 1 s).

A throwaway database (SQLite by default, or ``--url``) gets 10,000 SKUs with two finished runs of snapshot rows,
recommended purchase orders for about a fifth of them, and 156 weeks of history plus a 13-week forecast for a few
SKUs. Then ``services.briefing.make_briefing`` is timed as the app calls it: read the snapshot and the orders,
the commentary (cached in ``narrative`` after the first call), build the PDF, store it.

Run: ``.venv/bin/python bench/briefing_service.py [--skus 10000] [--repeat 5] [--url postgresql+psycopg2://...]``.
Prints wall and CPU seconds per step (the first build in a process also imports fpdf2 / matplotlib and writes the
commentary: reported as "cold"). Not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

TARGET_PORTFOLIO_S = 3.0
TARGET_SKU_S = 1.0
AS_OF = dt.date(2026, 3, 9)
STATUSES = ("stockout_risk", "surge", "low_velocity", "dead_stock", "overstock", "normal")
CATEGORIES = ("Beverages", "Snacks", "Dry goods", "Frozen", "Household", "Personal care")
LOCATIONS = ("Rotterdam DC", "Madrid DC", "Leeds DC")


def _point_at(url: str | None, folder: Path) -> str:
    url = url or f"sqlite:///{(folder / 'bench.db').as_posix()}"
    os.environ["DATABASE_URL"] = url
    os.environ["DATA_DIR"] = str(folder)
    os.environ.pop("GEMINI_API_KEY", None)
    from db.session import reset_engines
    from settings import get_settings

    get_settings.cache_clear()
    reset_engines()
    return url


def _snapshot_row(
    *,
    run_id: int,
    sku_id: int,
    i: int,
    status: str,
    abc: str,
    d: float,
    recent: float,
    on_hand: float,
    cost: float,
    var: float,
    rec: float,
) -> dict:
    """One synthetic ``sku_snapshot`` row: SKU ``i`` with forecast ``d`` per week and the drawn status and stock."""
    return {
        "run_id": run_id,
        "sku_id": sku_id,
        "status": status,
        "status_reason": f"Cover {on_hand / max(recent, 1e-9) * 7:.1f} d vs lead time 14 d",
        "abc": abc,
        "xyz": "Y",
        "demand_class": "smooth",
        "forecast_model": "ets",
        "model_scores": {"ets": 0.8, "seasonal_naive": 1.1},
        "mase": 0.8,
        "wape": 0.3,
        "bias": 0.02,
        "forecast_per_period": d,
        "annual_demand": d * 52.18,
        "sigma": d * 0.3,
        "lead_time_periods": 2.0,
        "lead_time_std_periods": 0.3,
        "lead_time_source": "master",
        "service_level": 0.95,
        "safety_stock": d * 0.8,
        "reorder_point": d * 2.8,
        "order_up_to": d * 4,
        "eoq": d * 5,
        "newsvendor_qty": d * 13,
        "rop_method": "normal",
        "rop_method_reason": "Lead-time demand is large and smooth: normal approximation.",
        "on_hand": float(on_hand),
        "on_order": 0.0,
        "inventory_position": float(on_hand),
        "recommended_qty": float(rec),
        "order_by_periods": float(i % 4),
        "days_of_cover": float(on_hand / max(recent, 1e-9) * 7),
        "inventory_value": float(on_hand * cost),
        "value_at_risk": float(var),
        "excess_value": 0.0,
        "demand_recent": float(recent),
        "demand_baseline": d,
        "surge_z": 0.5,
        "periods_since_last_sale": 0,
    }


def store_synthetic_portfolio(*, n: int, seed: int = 0, history_skus: int = 5) -> list[str]:
    """Write ``n`` SKUs, two finished runs of snapshot rows, recommended orders and, for ``history_skus`` SKUs,
    156 weeks of demand and a 13-week forecast. Returns the codes that have history."""
    from sqlalchemy import insert, select

    from db import migrate
    from db.models import Demand, Forecast, PurchaseOrder, RecomputeRun, Sku, SkuSnapshot
    from db.session import get_engine, session_scope

    migrate.upgrade(get_engine())
    rng = np.random.default_rng(seed)
    codes = [f"SKU-{i:05d}" for i in range(n)]
    cost = rng.gamma(2.0, 3.0, n).round(2) + 0.5
    with session_scope() as session:
        session.execute(
            insert(Sku),
            [
                {
                    "code": code,
                    "name": "Café crème 東京" if i == 7 else f"Synthetic item {i}",
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "location": LOCATIONS[i % len(LOCATIONS)],
                    "supplier": f"Supplier {i % 40:02d}",
                    "unit_cost": float(cost[i]),
                    "unit_price": float(cost[i] * 1.8),
                    "moq": 0.0,
                    "order_multiple": 1.0,
                }
                for i, code in enumerate(codes)
            ],
        )
        ids = dict(session.execute(select(Sku.code, Sku.id)).all())
        run_ids = []
        for offset, as_of in ((1, AS_OF - dt.timedelta(days=7)), (0, AS_OF)):
            status = rng.choice(np.array(STATUSES), size=n, p=[0.06, 0.03, 0.11, 0.04, 0.09, 0.67])
            baseline = rng.gamma(1.5, 20.0, n)
            recent = baseline * rng.lognormal(0.0, 0.35, n)
            on_hand = rng.poisson(baseline * 6).astype(float)
            var = np.where(status == "normal", 0.0, rng.gamma(1.2, 900.0, n))
            rec = np.where(np.isin(status, ["stockout_risk", "surge"]), (baseline * 8).round(), 0.0)
            abc = np.where(np.arange(n) % 5 == 0, "A", np.where(np.arange(n) % 5 < 3, "B", "C"))
            kpis = {
                "sku_count": float(n),
                "inventory_value": float((on_hand * cost).sum()),
                "value_at_risk": float(var.sum()),
                "fill_rate": 0.96 - offset * 0.01,
                "turns": 7.2,
                "days_of_supply": 48.0,
                "wape": 0.29,
                "excess_value": 0.0,
                **{f"count_{s}": float((status == s).sum()) for s in STATUSES},
            }
            run = RecomputeRun(
                status="finished",
                grain="weekly",
                data_as_of=as_of,
                sku_count=n,
                kpis=kpis,
                finished_at=dt.datetime.combine(as_of, dt.time(6)),
            )
            session.add(run)
            session.flush()
            run_ids.append(run.id)
            rows = [
                _snapshot_row(
                    run_id=run.id,
                    sku_id=ids[code],
                    i=i,
                    status=str(status[i]),
                    abc=str(abc[i]),
                    d=float(baseline[i]),
                    recent=float(recent[i]),
                    on_hand=float(on_hand[i]),
                    cost=float(cost[i]),
                    var=float(var[i]),
                    rec=float(rec[i]),
                )
                for i, code in enumerate(codes)
            ]
            session.execute(insert(SkuSnapshot), rows)
        latest = run_ids[-1]
        session.execute(
            insert(PurchaseOrder),
            [
                {
                    "sku_id": ids[codes[i]],
                    "run_id": latest,
                    "supplier": f"Supplier {i % 40:02d}",
                    "qty": float(rec[i]),
                    "recommended_qty": float(rec[i]),
                    "unit_cost": float(cost[i]),
                    "status": "recommended",
                    "reason": "below reorder point",
                    "order_by": AS_OF + dt.timedelta(days=7 * (i % 4)),
                }
                for i in range(n)
                if rec[i] > 0
            ],
        )
        with_history = codes[:history_skus]
        weeks = [AS_OF - dt.timedelta(weeks=155 - k) for k in range(156)]
        future = [AS_OF + dt.timedelta(weeks=k + 1) for k in range(13)]
        for code in with_history:
            level = float(rng.gamma(2.0, 20.0))
            session.execute(
                insert(Demand),
                [{"sku_id": ids[code], "period": w, "quantity": float(rng.poisson(level))} for w in weeks],
            )
            session.execute(
                insert(Forecast),
                [
                    {
                        "run_id": latest,
                        "sku_id": ids[code],
                        "period": f,
                        "kind": "future",
                        "mean": level,
                        "p10": level * 0.7,
                        "p50": level,
                        "p90": level * 1.3,
                    }
                    for f in future
                ],
            )
    return with_history


def _time(fn, repeat: int) -> tuple[list[float], list[float], object]:
    walls, cpus, last = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        last = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus, last


def _report(label: str, walls: list[float], cpus: list[float], target: float) -> None:
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"  {label:<34s} wall median {wall:6.3f} s (min {min(walls):.3f}, max {max(walls):.3f}); CPU median "
        f"{cpu:.3f} s; target <= {target:.1f} s: wall {'OK' if wall <= target else 'OVER'} ({target / wall:.1f}x), "
        f"CPU {'OK' if cpu <= target else 'OVER'} ({target / cpu:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default=None, help="an EMPTY database to fill (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = _point_at(args.url, Path(folder))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (wall times stretch when load > cores)")
        t = time.perf_counter()
        codes = store_synthetic_portfolio(n=args.skus)
        print(f"database {url.split('://')[0]}: {args.skus:,} SKUs x 2 runs written in {time.perf_counter() - t:.1f} s")

        from db.session import session_scope
        from services import briefing as svc

        def make(scope: svc.BriefingScope) -> svc.BriefingFile:
            with session_scope() as session:
                return svc.make_briefing(session=session, scope=scope, user="bench", source="bench")

        whole, segment, sku = svc.BriefingScope(), svc.BriefingScope.make(category="Snacks"), None
        t, c = time.perf_counter(), time.process_time()
        first = make(whole)
        print(
            f"Portfolio of {args.skus:,} SKUs: first build (cold: imports, fonts, commentary written) wall "
            f"{time.perf_counter() - t:.3f} s, CPU {time.process_time() - c:.3f} s; {first.page_count} pages, "
            f"{len(first.pdf) / 1024:.0f} KiB"
        )
        walls, cpus, last = _time(lambda: make(whole), args.repeat)
        _report("portfolio (read + PDF + store)", walls, cpus, TARGET_PORTFOLIO_S)
        steps = {k: round(v, 3) for k, v in last.timings.items()}  # type: ignore[union-attr]
        print(f"    steps of the last build (s): {steps}")
        walls, cpus, last = _time(lambda: make(segment), args.repeat)
        _report("segment 'Category Snacks'", walls, cpus, TARGET_PORTFOLIO_S)
        sku = svc.BriefingScope.make(sku=codes[0])
        make(sku)
        walls, cpus, last = _time(lambda: make(sku), args.repeat)
        _report(f"one SKU ({codes[0]}, 156 weeks)", walls, cpus, TARGET_SKU_S)
        steps = {k: round(v, 3) for k, v in last.timings.items()}  # type: ignore[union-attr]
        print(f"    steps of the last build (s): {steps}")
        t = time.perf_counter()
        preview = svc.render_preview(pdf=first.pdf, cover_lines=first.cover_lines, dpi=80)
        print(f"  preview of page 1 ({preview.method}): {time.perf_counter() - t:.3f} s")
        from db.session import reset_engines

        reset_engines()


if __name__ == "__main__":
    main()
