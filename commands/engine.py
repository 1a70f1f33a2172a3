"""recompute, export-results: run the portfolio engine and export its latest results."""

from __future__ import annotations

import argparse
import sys
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("recompute", help="recompute the portfolio (forecasts, policies, statuses) now")
    p.add_argument("--sku", action="append", dest="skus", metavar="CODE", help="only this SKU (repeatable)")
    p.add_argument("--batch-size", type=int, default=None, help="SKUs per batch (default RECOMPUTE_BATCH_SIZE)")
    p.add_argument("--workers", type=int, default=None, help="processes computing batches (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    p.set_defaults(func=_recompute)

    p = subparsers.add_parser(
        "export-results", help="export the latest run's snapshot or forecasts as spreadsheet-safe CSV (or .xlsx)"
    )
    p.add_argument("what", choices=["snapshot", "forecasts"], help="snapshot: one row per SKU; forecasts: per period")
    p.add_argument("file", help="output path ('-' for standard output); a name ending in .xlsx writes a workbook")
    p.set_defaults(func=_export)


def format_timings(timings: dict[str, float]) -> list[str]:
    """A table of the stages in pipeline order: wall seconds and, where measured, CPU seconds (the engine stages
    inside compute are wall seconds summed over batches; compute CPU is summed over the worker processes)."""
    rows: list[tuple[str, str]] = [
        ("load", ""),
        ("compute", ""),
        ("forecast", "  "),
        ("classify", "  "),
        ("policy", "  "),
        ("health", "  "),
        ("snapshot", "  "),
        ("finalize", ""),
        ("write", ""),
        ("write_snapshot", "  "),
        ("write_forecast_build", "  "),
        ("write_forecast_insert", "  "),
        ("write_orders", "  "),
        ("prune", ""),
        ("total", ""),
    ]
    lines = [f"  {'stage':<24}{'wall s':>8}{'CPU s':>8}"]
    for key, indent in rows:
        if key not in timings:
            continue
        cpu = timings.get(f"{key}_cpu")
        label = indent + (key.removeprefix("write_") if indent else key)
        lines.append(f"  {label:<24}{timings[key]:8.2f}" + (f"{cpu:8.2f}" if cpu is not None else ""))
    return lines


def _recompute(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.jobs import recompute_portfolio
    from services.setup import migrate_db

    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise ValueError("--workers must be at least 1")
    migrate_db()
    start = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - start:6.1f} s] {fraction:4.0%}  {message}", flush=True)

    with session_scope() as session:
        summary = recompute_portfolio(
            session=session,
            triggered_by="cli",
            progress=progress,
            sku_codes=args.skus,
            batch_size=args.batch_size,
            workers=args.workers,
        )
    if summary.status != "finished":
        print(f"recompute {summary.status} (run {summary.run_id}); the previous results stay current", file=sys.stderr)
        return 1
    grain = f", {summary.grain} data through {summary.data_as_of}" if summary.grain else ""
    print(
        f"run {summary.run_id} finished: {summary.sku_count:,} SKUs{grain} in {summary.seconds:.1f} s "
        f"({summary.batches} batch(es), {summary.workers} worker(s))"
    )
    if not args.quiet:
        print("\n".join(format_timings(summary.timings)))
        counts = {k.removeprefix("count_"): int(v) for k, v in summary.kpis.items() if k.startswith("count_") and v}
        if counts:
            print("  statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    return 0


def _export(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.run_export import export_results

    with session_scope() as session:
        if args.file == "-":
            try:
                export_results(session=session, what=args.what, target=sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # e.g. piped into head
                sys.stderr.close()
            return 0
        rows = export_results(session=session, what=args.what, target=args.file)
    print(f"exported {rows:,} rows of the latest run's {args.what} to {args.file}")
    return 0
