"""backtest-policy: replay the engine's reorder policies through the last N periods of real demand (hidden from the
fit) and compare them with the textbook frontier."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

WORST_ROWS = 10
EXCLUDED_ROWS = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "backtest-policy",
        help="replay the engine's policies through the last N periods of demand and compare them with the textbook",
        description="Fit the engine on all but the last N periods exactly as a recompute would, replay its reorder "
        "policies (and the textbook policy: mean and standard deviation of the history, ROP = mu L + z sigma "
        "sqrt(L), EOQ lots) through the last N periods, and print the fill rate, cycle service level and average "
        "inventory of each, with the textbook's frontier over service targets 0.50-0.999. The result is stored "
        "(the Risk page and the portfolio briefing show the latest one of a scope).",
    )
    p.add_argument(
        "--periods", type=int, default=None, metavar="N", help="periods replayed (26 weekly / 12 monthly / 90 daily)"
    )
    p.add_argument("--sku", metavar="CODE", help="only this SKU")
    p.add_argument("--category", metavar="X", help="only the SKUs of this category")
    p.add_argument("--abc", metavar="A", help="only the SKUs of this ABC class (of the latest recompute)")
    p.add_argument("--json", action="store_true", help="print the JSON document instead of tables")
    p.add_argument("--workers", type=int, default=None, help="processes evaluating batches (default: one per core)")
    p.add_argument("--no-store", action="store_true", help="do not keep the result in the database")
    p.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    p.set_defaults(func=_backtest)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.1f} %"


def _money(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:,.0f}"


def _qty(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def tables(document: dict[str, Any], timings: dict[str, float] | None = None) -> list[str]:
    """The readable report of a backtest document (what the command prints without --json)."""
    from services import backtest as bt

    n = int(document["periods"])
    grain_unit = bt.unit(document.get("grain"), n)
    lines = [
        f"Policy backtest · {document['scope']['label']} · {document.get('grain')} data through "
        f"{document.get('data_as_of')}",
        f"Replayed the last {n} {grain_unit} ({document.get('replay_start')} to {document.get('replay_end')}) after "
        f"fitting on the {document.get('fit_periods')} before; {document['sku_count']:,} SKUs replayed, "
        f"{len(document.get('excluded') or []):,} left out"
        + (f"; {timings['total']:.1f} s" if timings and "total" in timings else ""),
        "",
        f"  {'policy':<24}{'fill rate':>11}{'cycle service':>15}{'avg inventory':>15}{'target':>9}",
    ]
    for label, key in (("engine", "portfolio"), ("textbook (own targets)", "baseline")):
        row = document[key]
        lines.append(
            f"  {label:<24}{_pct(row['fill_rate']):>11}{_pct(row['cycle_service_level']):>15}"
            f"{_money(row['average_inventory_value']):>15}{_pct(row['target_service_level']):>9}"
        )
    lines += ["", bt.headline(document), *bt.comparison_sentences(document), ""]
    lines.append("Textbook frontier (one service target for every SKU):")
    lines.append(f"  {'target':>8}{'fill rate':>11}{'avg inventory':>15}")
    for row in document["frontier"]:
        target, fill, value = row["service_target"], row["fill_rate"], row["average_inventory_value"]
        lines.append(f"  {_pct(target):>8}{_pct(fill):>11}{_money(value):>15}")
    worst = sorted(
        (r for r in document["skus"] if r["fill_rate"] is not None), key=lambda r: (r["fill_rate"], r["code"])
    )[:WORST_ROWS]
    if worst:
        lines += ["", f"Lowest fill rates under the engine's policy ({len(worst)} of {document['sku_count']:,}):"]
        lines.append(
            f"  {'SKU':<22}{'demand':>10}{'fill rate':>11}{'cycle svc':>11}{'stockouts':>11}{'avg units':>11}"
            f"{'avg value':>12}{'orders':>8}"
        )
        for r in worst:
            lines.append(
                f"  {r['code'][:21]:<22}{_qty(r['demand']):>10}{_pct(r['fill_rate']):>11}"
                f"{_pct(r['cycle_service_level']):>11}{r['stockout_periods']:>11}{_qty(r['average_inventory_units']):>11}"
                f"{_money(r['average_inventory_value']):>12}{r['orders']:>8}"
            )
    excluded = document.get("excluded") or []
    if excluded:
        lines += ["", f"Left out of the replay ({len(excluded):,}):"]
        lines += [f"  {r['code']}: {r['reason']}" for r in excluded[:EXCLUDED_ROWS]]
        if len(excluded) > EXCLUDED_ROWS:
            lines.append(f"  ... and {len(excluded) - EXCLUDED_ROWS:,} more (all of them are in --json)")
    return lines


def _backtest(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import backtest as bt
    from services.setup import migrate_db

    if args.workers is not None and args.workers < 1:
        raise bt.BacktestError("--workers must be at least 1")
    if args.sku is not None and not args.sku.strip():
        raise bt.BacktestError("--sku needs a SKU code")
    scope = bt.BacktestScope.make(category=args.category, abc=args.abc, sku=args.sku)
    migrate_db()
    start = time.perf_counter()
    show = not (args.quiet or args.json)

    def progress(fraction: float, message: str) -> None:
        if show:
            print(f"[{time.perf_counter() - start:6.1f} s] {fraction:4.0%}  {message}", file=sys.stderr, flush=True)

    with session_scope() as session:
        result = bt.run_backtest(
            session=session,
            scope=scope,
            periods=args.periods,
            triggered_by="cli",
            progress=progress,
            workers=args.workers,
            store=not args.no_store,
        )
    if args.json:
        print(json.dumps(result.document, ensure_ascii=False, indent=2))
        return 0
    print("\n".join(tables(result.document, result.timings)))
    t = result.timings
    print(
        f"\ntimings: load {t.get('load', 0):.1f} s, engine fit {t.get('fit', 0):.1f} s and replays "
        f"{t.get('replay', 0):.1f} s over {int(t.get('batches', 1))} batch(es) on {int(t.get('workers', 1))} "
        f"worker(s) ({t.get('evaluate', 0):.1f} s wall), total {t.get('total', 0):.1f} s"
        + (f"; stored as backtest {result.stored_id}" if result.stored_id is not None else "")
    )
    return 0
