"""consensus list / add / delete / fva: commercial adjustments and the forecast value added of each demand layer
(services/consensus.py). Imports: python cli.py import adjustments FILE."""

from __future__ import annotations

import argparse
import json

BY_CHOICES = ["layer", "who", "category", "sku"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("consensus", help="consensus demand: commercial adjustments and forecast value added")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser("list", help="the commercial adjustments in force, newest first")
    a.add_argument("--all", action="store_true", help="with the superseded and deleted ones")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(func=_list)
    a = actions.add_parser("add", help="adjust the forecast of a SKU or category for a month (recomputes them)")
    a.add_argument("--scope", required=True, help="a SKU code, category:NAME or a category name")
    a.add_argument("--period", required=True, help="a month (2027-01) or a date within it")
    change = a.add_mutually_exclusive_group(required=True)
    change.add_argument("--pct", type=float, help="percent change (10 = +10 %%)")
    change.add_argument("--units", type=float, help="units added over the month for the whole scope")
    a.add_argument("--reason", required=True, help="why")
    a.add_argument("--user", default="cli", help="who is adjusting (default: cli)")
    a.add_argument("--no-recompute", action="store_true", help="do not recompute the scope's SKUs afterwards")
    a.set_defaults(func=_add)
    a = actions.add_parser("delete", help="delete an adjustment in force (recomputes its SKUs)")
    a.add_argument("id", type=int)
    a.add_argument("--user", default="cli", help="who is deleting (default: cli)")
    a.add_argument("--no-recompute", action="store_true")
    a.set_defaults(func=_delete)
    a = actions.add_parser("fva", help="forecast value added of overrides, commercial adjustments and the consensus")
    a.add_argument("--by", choices=BY_CHOICES, default="layer", help="group by layer (default), who, category, sku")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(func=_fva)


def _list(args: argparse.Namespace) -> int:
    from core.formats import fmt_datetime, fmt_month
    from db.session import session_scope
    from services import consensus

    with session_scope() as session:
        found = consensus.list_adjustments(session=session, include_deleted=args.all)
    if args.json:
        print(json.dumps({"data": [a.as_dict() for a in found]}, indent=2))
        return 0
    if not found:
        print("no commercial adjustment (python cli.py consensus add ... or import adjustments FILE)")
    for a in found:
        state = "" if a.active else "  (superseded or deleted)"
        print(
            f"{a.id:>5}  {a.scope_kind:<8} {a.scope:<20} {fmt_month(a.period):<10} {a.change:>14}  "
            f"{a.user_email} {fmt_datetime(a.created_at)}: {a.reason}{state}"
        )
    return 0


def _recompute(session, scopes, user: str) -> None:
    from services import consensus

    outcome = consensus.recompute_after_adjustments(session=session, scopes=scopes, user=user)
    if outcome is not None:
        print(f"recomputed {len(consensus.scope_codes(session=session, scopes=scopes)):,} SKUs (run {outcome.run_id})")


def _add(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import consensus

    with session_scope() as session:
        made = consensus.add_adjustment(
            session=session,
            scope=args.scope,
            period=args.period,
            change_pct=args.pct,
            change_units=args.units,
            reason=args.reason,
            user=args.user,
            source="cli",
        )
    print(f"adjustment {made.id}: {made.scope_kind} {made.scope} {made.period.isoformat()[:7]} {made.change}")
    if not args.no_recompute:
        with session_scope() as session:
            _recompute(session, [(made.scope_kind, made.scope)], args.user)
    return 0


def _delete(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import consensus

    with session_scope() as session:
        gone = consensus.delete_adjustment(session=session, adjustment_id=args.id, user=args.user)
    print(f"deleted adjustment {gone.id} ({gone.scope_kind} {gone.scope} {gone.period.isoformat()[:7]})")
    if not args.no_recompute:
        with session_scope() as session:
            _recompute(session, [(gone.scope_kind, gone.scope)], args.user)
    return 0


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:+.1f} pts" if pct else f"{value:,.1f}"


def _fva(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import consensus

    with session_scope() as session:
        rows = consensus.fva_report(session=session, by=args.by)
    if args.json:
        print(json.dumps({"by": args.by, "data": rows}, indent=2, default=str))
        return 0
    if not rows:
        print("no adjusted or overridden period has its actual yet: nothing to judge")
        return 0
    print(
        f"{'layer':<11} {'key':<28} {'periods':>7} {'MAE before':>11} {'MAE after':>10} {'FVA (MAE)':>10} "
        f"{'FVA (WAPE)':>11}"
    )
    for r in rows:
        print(
            f"{r['layer']:<11} {str(r['key'])[:28]:<28} {r['periods']:>7} {_fmt(r['mae_before']):>11} "
            f"{_fmt(r['mae_after']):>10} {_fmt(r['fva_mae']):>10} {_fmt(r['fva_wape'], pct=True):>11}"
        )
    print("FVA = error before the layer - error after it: positive means the layer improved the forecast")
    return 0
