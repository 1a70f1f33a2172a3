"""narrative: print the portfolio (or one SKU's) commentary with who wrote it and whether it passed the check."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "narrative",
        help="print the commentary of the latest recompute (Gemini with GEMINI_API_KEY set, else the offline writer)",
    )
    p.add_argument("--sku", metavar="CODE", help="the commentary of this SKU instead of the portfolio's")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--regenerate", action="store_true", help="write it again even when a stored text matches")
    p.set_defaults(func=_narrative)


def _narrative(args: argparse.Namespace) -> int:
    from core import formats
    from db.session import session_scope
    from services import narrative
    from services.errors import UserFacingError
    from services.runs import latest_run

    with session_scope() as session:
        if args.sku is not None:
            if not args.sku.strip():
                raise UserFacingError("--sku needs a SKU code")
            view = narrative.sku_commentary(session=session, code=args.sku, regenerate=args.regenerate)
        else:
            view = narrative.portfolio_commentary(session=session, regenerate=args.regenerate)
        if view is None and latest_run(session=session) is None:
            raise UserFacingError("there is no finished recompute yet: run `python cli.py recompute` first")
        if view is None:
            raise UserFacingError(f"SKU {args.sku.strip()!r} is not in the latest finished recompute")
    if args.json:
        print(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(view.text)
    print()
    print(f"scope:    {view.scope} (run {view.run_id})")
    print(f"provider: {view.provider} ({view.model})")
    cached = " (from the cache)" if view.cached else ""
    print(f"written:  {formats.fmt_datetime(view.created_at, seconds=True)}{cached}")
    print(f"check:    {'passed' if view.grounded else 'FAILED'} (numbers and plain text)")
    if view.fell_back:
        print(f"fallback: {view.notice}")
        for reason in view.reasons:
            print(f"          - {reason}")
    return 0
