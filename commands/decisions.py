"""decisions: the decision log with outcomes (services/decisions.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("decisions", help="the decision log: who decided what, when, and what became of it")
    p.add_argument("--kind", metavar="KIND", help="e.g. order.approve, forecast.override, policy.apply, cycle.close")
    p.add_argument("--sku", metavar="CODE", help="only decisions about this SKU")
    p.add_argument("--user", metavar="TEXT", help="only decisions by users whose e-mail contains TEXT")
    p.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="first day")
    p.add_argument("--to", dest="date_to", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="last day")
    p.add_argument("--outcome", choices=("known", "pending", "none"), help="only outcomes in this state")
    p.add_argument("--limit", type=int, default=200, metavar="N", help="at most N decisions (default 200)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_decisions)


def _decisions(args: argparse.Namespace) -> int:
    from core.formats import fmt_datetime
    from db.session import session_scope
    from services import decisions

    with session_scope() as session:
        found = decisions.list_decisions(
            session=session,
            kind=args.kind,
            sku=args.sku,
            user=args.user,
            date_from=args.date_from,
            date_to=args.date_to,
            outcome=args.outcome,
            limit=args.limit,
        )
    if args.json:
        print(json.dumps({"data": [d.as_dict() for d in found]}, indent=2, default=str))
        return 0
    if not found:
        print("no decision matches")
    for d in found:
        print(
            f"{fmt_datetime(d.at)}  {d.kind:<16} {d.sku or '-':<14} {d.user or 'command line':<28} {d.what}\n"
            f"{'':>22}outcome ({d.outcome.state}): {d.outcome.summary}"
        )
    return 0
