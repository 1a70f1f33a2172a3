"""send-briefing, send-due-briefings, beat: e-mailed briefings (services/schedules.py, services/mailer.py)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "send-briefing",
        help="e-mail the PDF briefing of the latest recompute (portfolio, a category or one SKU) through SMTP",
        description="Build the PDF briefing (as `briefing` does), send it through the SMTP server of SMTP_HOST / "
        "SMTP_PORT / SMTP_USER / SMTP_PASSWORD / SMTP_FROM / SMTP_STARTTLS (retried with back-off) and record the "
        "send. A send that fails prints one line and exits with status 1.",
    )
    p.add_argument("--to", required=True, metavar="ADDR[,ADDR]", help="recipients, comma-separated")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--sku", metavar="CODE", help="a one-SKU briefing of this SKU code")
    group.add_argument("--category", metavar="X", help="only the SKUs of this category")
    p.set_defaults(func=_send_briefing)

    p = subparsers.add_parser(
        "send-due-briefings",
        help="send the scheduled briefings that are due now (for a cron line when there is no REDIS_URL)",
        description="Send every e-mail schedule of the Briefings page whose weekly slot has come (or whose failed "
        "slot is due for another try). Safe to run every few minutes from cron; a slot is never sent twice.",
    )
    p.set_defaults(func=_send_due)

    p = subparsers.add_parser(
        "beat",
        help="run Celery beat: sends the due scheduled briefings every minute through the workers (needs REDIS_URL)",
    )
    p.add_argument("--loglevel", default="INFO", help="log level (default INFO)")
    p.set_defaults(func=_beat)


def _send_briefing(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import schedules
    from services.briefing import BriefingScope
    from services.errors import UserFacingError

    if args.sku is not None and not args.sku.strip():
        raise UserFacingError("--sku needs a SKU code")
    scope = BriefingScope.make(category=args.category, sku=args.sku)
    with session_scope() as session:
        schedules.check_scope(session=session, scope=scope)
        result = schedules.send_briefing(session=session, scope=scope, recipients=args.to, user=None, source="cli")
    if not result.ok:
        print(f"error: {result.message}", file=sys.stderr)
        return 1
    print(result.message)
    return 0


def _send_due(_args: argparse.Namespace) -> int:
    from services import schedules

    lines = schedules.send_due()
    for line in lines:
        print(line)
    if not lines:
        print("no scheduled briefing is due")
    return 1 if any(": failed:" in line or ": error:" in line for line in lines) else 0


def _beat(args: argparse.Namespace) -> int:
    import services.schedules  # noqa: F401  (adds the e-mail task and its beat entry to the Celery app)
    from services.jobs import celery_app
    from settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set: beat needs Redis (without it, run send-due-briefings from cron)")
    folder = settings.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    celery_app(settings).start(
        argv=["beat", f"--loglevel={args.loglevel}", f"--schedule={folder / 'celerybeat-schedule'}"]
    )
    return 0
