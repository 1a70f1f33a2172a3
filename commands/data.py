"""import, import-m5, export, reset: the data commands (formats in docs/csv-formats.md)."""

from __future__ import annotations

import argparse
import sys

KIND_CHOICES = ["demand", "skus", "stock", "receipts", "resources", "lanes", "promotions", "events", "adjustments"]
EXPORT_CHOICES = [
    "skus",
    "demand",
    "stock",
    "receipts",
    "resources",
    "lanes",
    "promotions",
    "events",
    "imports",
    "audit",
]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import",
        help=(
            "import a CSV file or a workbook (demand, skus, stock, receipts, resources, lanes, promotions, events or "
            "adjustments)"
        ),
    )
    p.add_argument("kind", choices=KIND_CHOICES)
    p.add_argument("file", help="a CSV file or a workbook (.xlsx, .xlsm, .ods)")
    p.add_argument(
        "--sheet", default=None, help="the workbook's sheet to read (default: the first whose header fits KIND)"
    )
    p.add_argument(
        "--on-error",
        choices=["reject", "skip"],
        default="reject",
        help="reject the whole file when a row is bad (default) or skip bad rows",
    )
    p.add_argument("--create-skus", action="store_true", help="create unknown SKUs with default master data")
    p.add_argument(
        "--yes",
        action="store_true",
        help="with --create-skus: create new SKUs even when their names are close to existing ones (near-duplicates)",
    )
    p.add_argument(
        "--full-extract",
        action="store_true",
        help="demand: the file lists every active SKU; an active SKU or period missing from it sold nothing (0)",
    )
    p.add_argument("--date-format", default=None, help="strptime format for non-ISO dates, e.g. %%d/%%m/%%Y")
    p.add_argument("--no-recompute", action="store_true", help="do not recompute the portfolio afterwards")
    p.add_argument("--check", action="store_true", help="validate only; write nothing")
    p.set_defaults(func=_import)

    p = subparsers.add_parser("import-m5", help="load an M5 folder (sales_train_*.csv, calendar.csv, sell_prices*.csv)")
    p.add_argument("directory")
    p.add_argument("--on-error", choices=["reject", "skip"], default="reject")
    p.add_argument("--no-recompute", action="store_true")
    p.set_defaults(func=_import_m5)

    p = subparsers.add_parser("export", help="export a table as spreadsheet-safe CSV (or .xlsx: an Excel workbook)")
    p.add_argument("table", choices=EXPORT_CHOICES)
    p.add_argument("file", help="output path ('-' for standard output); a name ending in .xlsx writes a workbook")
    p.set_defaults(func=_export)

    p = subparsers.add_parser("reset", help="factory reset: delete all planning data (users and audit log stay)")
    p.add_argument("--yes", action="store_true", help="confirm (required)")
    p.set_defaults(func=_reset)


def _grouped_errors(result, *, prefix: str, show: int) -> None:
    """One line per distinct problem (count, first line numbers); the full report keeps every row."""
    from services.ingest.report import group_line

    groups = result.errors.grouped(limit=show + 1)
    for group in groups[:show]:
        print(f"  {prefix}{group_line(group)}")
    if len(groups) > show:
        print("  ... more kinds of problem in the full report")
    if result.error_report:
        print(f"  full error report ({result.errors.count:,} rows): {result.error_report}")


def _details(result, *, confirmed: bool = False) -> None:
    """What the import changes: coverage of a demand file, names matched, SKUs to create, near-duplicates."""
    if result.coverage is not None and result.status != "rejected":
        for line in result.coverage.lines():
            print(line)
    names = result.names
    if names is None:
        return
    if names.by_name:
        print(f"{names.by_name:,} product names matched to SKUs by their name")
    if result.skus_to_create and names.new_names:
        shown = ", ".join(f"'{name}' -> {code}" for code, name in list(names.new_names.items())[:5])
        more = f", ... {len(names.new_names) - 5:,} more" if len(names.new_names) > 5 else ""
        print(f"new SKUs from names: {shown}{more}")
    near = result.near_duplicates
    if near:
        action = "created as confirmed with --yes" if confirmed else "add --yes to create them"
        print(f"near-duplicates: {len(near):,} new names are close to existing SKU names ({action}):")
        for item in near[:10]:
            print(f"  {item}")


def _report(result, *, show: int = 10, confirmed: bool = False) -> int:
    if result.status == "rejected":
        where = f"; full report: {result.error_report}" if result.error_report else ""
        print(f"error: {result.summary()}{where}", file=sys.stderr)
        _details(result)
        _grouped_errors(result, prefix="", show=show)
        return 1
    print(result.summary())
    _details(result, confirmed=confirmed and result.status == "committed")
    if result.errors:
        _grouped_errors(result, prefix="skipped: ", show=show)
    return 0


def _recompute(args: argparse.Namespace, result) -> None:
    if args.no_recompute or result.status != "committed" or result.kind == "resources":
        return
    from services.ingest import recompute_after_import

    note = recompute_after_import(triggered_by="cli import")
    if note:
        print(note)


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from db.session import session_scope
    from services.ingest import ImportOptions, import_file
    from services.setup import migrate_db

    if not Path(args.file).is_file():
        raise ValueError(f"no such file: {args.file}")
    if args.full_extract and args.kind != "demand":
        raise ValueError("--full-extract applies to demand files only")
    if args.yes and not args.create_skus:
        raise ValueError("--yes confirms SKUs created by --create-skus: add --create-skus, or leave --yes out")
    options = ImportOptions(
        on_error=args.on_error,
        create_skus=args.create_skus,
        date_format=args.date_format,
        full_extract=args.full_extract,
        confirm_new_skus=args.yes,
        sheet=args.sheet,
    )
    migrate_db()
    with session_scope() as session:
        result = import_file(
            session=session, path=args.file, kind=args.kind, options=options, user="cli", dry_run=args.check
        )
    status = _report(result, confirmed=args.yes)
    if not args.check:
        _recompute(args, result)
    return status


def _import_m5(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.ingest import ImportOptions, import_m5
    from services.setup import migrate_db

    migrate_db()
    with session_scope() as session:
        result = import_m5(
            session=session, directory=args.directory, options=ImportOptions(on_error=args.on_error), user="cli"
        )
    status = _report(result)
    _recompute(args, result)
    return status


def _export(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.datatables import export_table, export_workbook
    from services.xlsx_export import is_xlsx_path

    with session_scope() as session:
        if is_xlsx_path(args.file):
            rows = export_workbook(session=session, table=args.table, target=args.file)
            print(f"exported {rows:,} rows of {args.table} to {args.file}")
            return 0
        if args.file == "-":
            try:
                export_table(session=session, table=args.table, target=sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # e.g. piped into head
                sys.stderr.close()
            return 0
        rows = export_table(session=session, table=args.table, target=args.file)
    print(f"exported {rows:,} rows of {args.table} to {args.file}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.reset import CONFIRM_WORD, factory_reset

    if not args.yes:
        raise ValueError("the factory reset deletes all planning data: add --yes to confirm")
    with session_scope() as session:
        counts = factory_reset(session=session, user="cli", confirm=CONFIRM_WORD)
    removed = sum(counts.values())
    print(f"factory reset done: {removed:,} rows removed; users, API tokens and the audit log were kept")
    return 0
