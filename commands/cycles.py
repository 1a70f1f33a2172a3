"""cycle close / list / compare: S&OP cycles frozen under a name and compared (services/cycles.py)."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("cycle", help="S&OP cycles: close (freeze) one, list them, compare two")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser(
        "close",
        help="freeze the consensus demand, supply plan, projected inventory and money view under a name",
    )
    a.add_argument("--name", required=True, metavar="NAME", help="the cycle's name, e.g. 'Dec 2026' (unique)")
    a.set_defaults(func=_close)
    a = actions.add_parser("list", help="the closed cycles, newest first")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(func=_list)
    a = actions.add_parser("compare", help="two cycles side by side: totals, by category, per SKU by demand change")
    a.add_argument("a", metavar="A", help="the earlier cycle (name or id)")
    a.add_argument("b", metavar="B", help="the later cycle (name or id)")
    a.add_argument("--json", action="store_true", help="print the whole comparison as JSON")
    a.add_argument("--limit", type=int, default=10, metavar="N", help="SKUs shown without --json (default 10)")
    a.set_defaults(func=_compare)


def _close(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import cycles

    with session_scope() as session:
        cycle = cycles.close_cycle(session=session, name=args.name, user=None, source="cli")
    t = cycle.totals
    print(
        f"closed cycle {cycle.name!r} (id {cycle.id}): run {cycle.run_id}, {t['sku_count']:,} SKUs, "
        f"{t['horizon']} {t['plan_grain']} periods; demand {t['demand']:,.0f} units, supply {t['supply']:,.0f}, "
        f"revenue {t['revenue']:,.0f}, margin {t['margin']:,.0f}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from core.formats import fmt_datetime
    from db.session import session_scope
    from services import cycles

    with session_scope() as session:
        found = cycles.list_cycles(session=session)
    if args.json:
        print(json.dumps({"data": [c.as_dict() for c in found]}, indent=2))
        return 0
    if not found:
        print("no cycle has been closed yet (python cli.py cycle close --name NAME)")
    for c in found:
        print(
            f"{c.id:>4}  {c.name:<24}  closed {fmt_datetime(c.closed_at)} by {c.closed_by or 'command line'}  "
            f"run {c.run_id}  demand {c.totals.get('demand', 0):,.0f}  revenue {c.totals.get('revenue', 0):,.0f}"
        )
    return 0


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _compare(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import cycles

    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    with session_scope() as session:
        doc = cycles.compare(session=session, a=args.a, b=args.b)
    if args.json:
        print(json.dumps({"data": doc}, indent=2))
        return 0
    a, b = doc["a"], doc["b"]
    print(f"cycle A: {a['name']} (run {a['run_id']})   cycle B: {b['name']} (run {b['run_id']})")
    for field, pair in doc["totals"].items():
        print(_line(field, pair["a"], pair["b"], pair["change"], pair["change_pct"]))
    print("by category (demand):")
    for c in doc["by_category"]:
        print(_line(c["category"], c["demand_a"], c["demand_b"], c["change"], c["change_pct"]))
    print(f"largest SKU changes (demand; {min(args.limit, doc['sku_count'])} of {doc['sku_count']}):")
    for s in doc["skus"][: args.limit]:
        print(_line(s["code"], s["demand_a"], s["demand_b"], s["change"], s["change_pct"]))
    return 0


def _line(label: str, a: float | None, b: float | None, change: float | None, pct: float | None) -> str:
    return f"  {label:<26} {a or 0:>16,.0f} {b or 0:>16,.0f} {change or 0:>+16,.0f}  {_pct(pct)}"
