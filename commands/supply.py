"""supply-plan: the S&OP supply plan against resource capacities (chase, level or optimal)."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "supply-plan", help="supply plan against capacity: chase, level or optimal (LP) over 3-18 periods"
    )
    p.add_argument("--horizon", type=int, default=12, help="periods to plan, 3-18 (default 12)")
    p.add_argument("--strategy", choices=["chase", "level", "optimal"], default="chase")
    p.add_argument(
        "--overtime-pct",
        type=float,
        default=None,
        help="overtime capacity as a %% of regular capacity (default: the resources file's overtime capacity)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=90.0,
        help="seconds the optimal plan's linear programmes may take before the chase plan is shown (default 90)",
    )
    p.add_argument("--json", action="store_true", help="print the whole plan as JSON")
    p.set_defaults(func=_supply_plan)


def _supply_plan(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.supply import PlanRequest, document, make_plan
    from services.supply.plan import unmet_rows

    request = PlanRequest.parse(horizon=args.horizon, strategy=args.strategy, overtime_pct=args.overtime_pct)
    if not args.time_limit > 0:
        raise ValueError("--time-limit must be > 0 seconds")
    with session_scope() as session:
        result = make_plan(session=session, request=request, time_limit_s=args.time_limit)
    if args.json:
        json.dump(document(result), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    _print_summary(result, unmet_rows(result, limit=10))
    return 0


def _print_summary(result, unmet: list[dict]) -> None:
    totals = result.plan.costs
    labels = result.labels
    print(
        f"{result.plan.strategy} plan, {result.request.horizon} {result.data.grain} periods "
        f"({labels[0]} .. {labels[-1]}), {result.data.problem.skus:,} SKUs on {len(result.data.resources)} resources"
    )
    if result.message:
        print(f"note: {result.message}")
    print(
        f"{'resource':<28} {'period':<10} {'capacity':>10} {'overtime':>9} {'required':>10} {'planned':>10} "
        f"{'ot used':>9} {'shortfall':>10}"
    )
    p, plan = result.data.problem, result.plan
    for k, name in enumerate(result.data.resources):
        for t, label in enumerate(labels):
            capacity = "no limit" if p.capacity[k, t] == float("inf") else f"{p.capacity[k, t]:,.0f}"
            print(
                f"{name[:28]:<28} {label:<10} {capacity:>10} {p.overtime_capacity[k, t]:>9,.0f} "
                f"{plan.load_required[k, t]:>10,.0f} {plan.load_planned[k, t]:>10,.0f} "
                f"{plan.overtime_used[k, t]:>9,.0f} {plan.shortfall[k, t]:>10,.0f}"
            )
    print(
        f"cost {totals.total_cost:,.2f} = regular {totals.regular_cost:,.2f} + overtime {totals.overtime_cost:,.2f} "
        f"+ holding {totals.holding_cost:,.2f} + shortage {totals.shortage_cost:,.2f}; "
        f"{totals.shortage_units:,.0f} units unmet, fill rate {totals.fill_rate:.2%}"
    )
    for row in unmet:
        print(f"  short {row['sku']}: {row['unmet_demand']:,.0f} units -- {row['reason']}")
