"""transfers: the transfers between locations proposed after each recompute (issue 21)."""

from __future__ import annotations

import argparse
import json

STATUS_CHOICES = ["proposed", "approved", "received", "rejected"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("transfers", help="list transfers between locations (default: every status)")
    p.add_argument("--status", choices=STATUS_CHOICES, help="only this status")
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"transfers": [{id, item, from_location, to_location, from_sku, to_sku, quantity, cost, reason, '
        "status}]}",
    )
    p.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import transfers

    with session_scope() as session:
        rows = transfers.list_transfers(session=session, status=args.status)
    if args.json:
        print(json.dumps({"transfers": [t.as_json() for t in rows]}, ensure_ascii=False, indent=2))
        return 0
    print(f"{'id':>6}  {'status':<9} {'item':<18} {'from':<16} {'to':<16} {'qty':>9} {'cost':>10}  reason")
    for t in rows:
        print(
            f"{t.id:>6}  {t.status:<9} {t.item[:18]:<18} {t.from_location[:16]:<16} {t.to_location[:16]:<16} "
            f"{t.quantity:>9,.0f} {t.cost:>10,.2f}  {t.reason}"
        )
    print(f"{len(rows):,} transfer(s), cost {sum(t.cost for t in rows):,.2f}")
    return 0
