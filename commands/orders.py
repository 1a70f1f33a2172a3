"""orders (list, approve, reject, edit, receive, cancel, export) and fva: purchase orders and forecast value added."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STATUS_CHOICES = ["recommended", "approved", "received", "cancelled", "rejected"]
FVA_BY = ["planner", "category", "sku", "total"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("orders", help="purchase orders: list, approve, reject, edit, receive, cancel, export")
    actions = p.add_subparsers(dest="orders_action", metavar="ACTION", required=True)

    a = actions.add_parser("list", help="list orders (all, or one status / supplier)")
    a.add_argument("--status", choices=STATUS_CHOICES)
    a.add_argument("--supplier")
    a.set_defaults(func=_list)

    for name, text in (("approve", "approve recommended orders"), ("reject", "reject recommended orders")):
        a = actions.add_parser(name, help=text)
        a.add_argument("ids", nargs="+", type=int, metavar="ID")
        a.add_argument("--user", required=True, help="who does it (e-mail, for the audit log)")
        if name == "reject":
            a.add_argument("--reason", default=None)
        a.set_defaults(func=_approve if name == "approve" else _reject)

    a = actions.add_parser("edit", help="change the quantity of a recommended or approved order")
    a.add_argument("id", type=int)
    a.add_argument("qty", type=float)
    a.add_argument("--reason", required=True)
    a.add_argument("--user", required=True)
    a.set_defaults(func=_edit)

    a = actions.add_parser("receive", help="mark an approved order received (writes a receipt)")
    a.add_argument("id", type=int)
    a.add_argument("--date", required=True, help="received date, YYYY-MM-DD")
    a.add_argument("--qty", type=float, default=None, help="received quantity (default: as ordered)")
    a.add_argument("--user", required=True)
    a.set_defaults(func=_receive)

    a = actions.add_parser("cancel", help="cancel an approved order")
    a.add_argument("id", type=int)
    a.add_argument("--reason", default=None)
    a.add_argument("--user", required=True)
    a.set_defaults(func=_cancel)

    a = actions.add_parser("export", help="approved orders as CSV (or a zip of one CSV per supplier, or a workbook)")
    group = a.add_mutually_exclusive_group()
    group.add_argument("--zip", action="store_true", help="one CSV per supplier in a zip")
    group.add_argument("--xlsx", action="store_true", help="one Excel workbook with a sheet per supplier")
    a.add_argument("--out", default=".", help="output folder or file path (default: current folder)")
    a.set_defaults(func=_export)

    p = subparsers.add_parser("fva", help="forecast value added of the planners' overrides")
    p.add_argument("--by", choices=FVA_BY, default="planner")
    p.set_defaults(func=_fva)


def _list(args: argparse.Namespace) -> int:
    from core import formats
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        rows = orders.list_orders(session=session, status=args.status, supplier=args.supplier)
    print(f"{'id':>7}  {'status':<11} {'supplier':<24} {'sku':<14} {'qty':>10} {'value':>12}  {'order by':<10}  reason")
    for o in rows:
        print(
            f"{o.id:>7}  {o.status:<11} {o.supplier[:24]:<24} {o.sku[:14]:<14} "
            f"{formats.fmt_order_qty(o.qty, o.order_multiple):>10} {o.value:>12,.2f}  "
            f"{formats.fmt_date(o.order_by, missing=''):<10}  {o.status_reason or ''}"
            + (f" [{formats.overdue_text(o.overdue_days)}]" if o.overdue_days else "")
        )
    print(f"{len(rows):,} order(s), value {sum(o.value for o in rows):,.2f}")
    return 0


def _approve(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        done = orders.approve_orders(session=session, order_ids=args.ids, user=args.user)
    print(f"approved {len(done):,} order(s), value {sum(o.value for o in done):,.2f}")
    return 0


def _reject(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        done = orders.reject_orders(session=session, order_ids=args.ids, user=args.user, reason=args.reason)
    print(f"rejected {len(done):,} order(s)")
    return 0


def _edit(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        result = orders.edit_quantity(
            session=session, order_id=args.id, qty=args.qty, reason=args.reason, user=args.user
        )
    note = f" ({'; '.join(result.warnings)})" if result.warnings else ""
    print(f"order {args.id}: {result.previous_qty:,.0f} -> {result.order.qty:,.0f}{note}")
    return 0


def _receive(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        qty = args.qty if args.qty is not None else orders.get_order(session=session, order_id=args.id).qty
        done = orders.receive_order(
            session=session, order_id=args.id, received_date=args.date, received_qty=qty, user=args.user
        )
    print(f"order {done.id} received {done.received_qty:,.0f} on {done.received_date}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        orders.cancel_order(session=session, order_id=args.id, user=args.user, reason=args.reason)
    print(f"order {args.id} cancelled")
    return 0


def _export(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        if args.xlsx or str(args.out).lower().endswith(".xlsx"):
            name, content = orders.export_approved_workbook(session=session)
        else:
            name, content = orders.export_approved(session=session, per_supplier_zip=args.zip)
    out = Path(args.out)
    target = out / name if out.is_dir() else out
    target.write_bytes(content)
    print(f"wrote {target} ({len(content):,} bytes)")
    return 0


def _fva(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import overrides

    with session_scope() as session:
        rows = overrides.fva_summary(session=session, by=args.by)
    if not rows:
        print("no overridden period has its actual demand yet", file=sys.stderr)
        return 0

    def pct(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.1f}%"

    print(f"{args.by:<30} {'periods':>8} {'stat WAPE':>10} {'final WAPE':>11} {'FVA (pp)':>9}  verdict")
    for r in rows:
        fva = "" if r.fva_wape is None else f"{r.fva_wape * 100:+.1f}"
        print(
            f"{r.key[:30]:<30} {r.periods:>8,} {pct(r.statistical_wape):>10} {pct(r.final_wape):>11} {fva:>9}  "
            f"{r.verdict}"
        )
    return 0
