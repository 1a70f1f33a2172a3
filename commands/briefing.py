"""briefing: write the PDF briefing of the latest recompute (portfolio, a segment or one SKU) to a file."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "briefing",
        help="write the PDF briefing of the latest recompute (whole portfolio, a segment, or one SKU) to a file",
        description="Build the PDF briefing of the latest finished recompute, write it to --out and keep a copy "
        "in the database (listed on the Briefings page). --category / --location / --abc combine into a segment; "
        "--sku makes a one-SKU briefing instead.",
    )
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the PDF (an existing file is replaced)")
    p.add_argument("--sku", metavar="CODE", help="a one-SKU briefing of this SKU code")
    p.add_argument("--category", metavar="X", help="only the SKUs of this category")
    p.add_argument("--location", metavar="L", help="only the SKUs of this location")
    p.add_argument("--abc", metavar="A", help="only the SKUs of this ABC class (A, B or C)")
    p.add_argument("--no-store", action="store_true", help="do not keep a copy in the database")
    p.add_argument(
        "--since-cycle",
        metavar="NAME",
        help="the meeting pack's 'what changed since' starts from this cycle (default: the one before the latest)",
    )
    p.add_argument("--since-run", type=int, metavar="ID", help="'what changed since' starts from this finished run")
    p.add_argument(
        "--since-date",
        metavar="YYYY-MM-DD",
        help="'what changed since' starts from the latest run finished on or before this date",
    )
    p.set_defaults(func=_briefing)


def _briefing(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import briefing
    from services.errors import UserFacingError

    out = Path(args.out)
    if out.is_dir():
        raise UserFacingError(f"--out {out} is a folder; give a file name such as {out / 'briefing.pdf'}")
    if not out.parent.exists():
        raise UserFacingError(f"--out: folder {out.parent} does not exist")
    if args.sku is not None and not args.sku.strip():
        raise UserFacingError("--sku needs a SKU code")
    since_date = None
    if args.since_date:
        try:
            since_date = dt.date.fromisoformat(args.since_date.strip())
        except ValueError:
            raise UserFacingError(f"--since-date must be a date YYYY-MM-DD, got {args.since_date!r}") from None
    given = [
        n
        for n, v in (("--since-cycle", args.since_cycle), ("--since-run", args.since_run), ("--since-date", since_date))
        if v is not None
    ]
    if len(given) > 1:
        raise UserFacingError(f"choose one of {', '.join(given)}")
    scope = briefing.BriefingScope.make(category=args.category, location=args.location, abc=args.abc, sku=args.sku)
    with session_scope() as session:
        made = briefing.make_briefing(
            session=session,
            scope=scope,
            user=None,
            store=not args.no_store,
            source="cli",
            since_cycle=args.since_cycle,
            since_run=args.since_run,
            since_date=since_date,
        )
    out.write_bytes(made.pdf)
    stored = f", stored as briefing {made.id}" if made.id is not None else ""
    run = f"run {made.run_id}" if made.run_id is not None else "no finished run yet"
    print(
        f"wrote {out} ({made.page_count} pages, {len(made.pdf) / 1024:,.0f} KB; {scope.label}, {run}; "
        f"{made.timings.get('total', 0.0):.2f} s{stored})"
    )
    return 0
