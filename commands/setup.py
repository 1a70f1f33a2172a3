"""migrate, seed-demo, serve."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("migrate", help="apply pending database migrations (alembic upgrade head)")
    p.set_defaults(func=_migrate)

    p = subparsers.add_parser("seed-demo", help="store the synthetic demo portfolio")
    p.add_argument("--skus", type=int, default=200, help="number of SKUs (default 200)")
    p.add_argument("--periods", type=int, default=156, help="weeks of history (default 156)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    p.add_argument("--replace", action="store_true", help="delete existing SKUs, demand and stock first")
    p.add_argument("--if-empty", action="store_true", help="do nothing when the database already has SKUs")
    p.add_argument("--no-recompute", action="store_true", help="do not run the engine after seeding")
    p.set_defaults(func=_seed)

    p = subparsers.add_parser("serve", help="first-start set-up, then serve the dashboard (development server)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--no-demo", action="store_true", help="do not seed the demo portfolio into an empty database")
    p.set_defaults(func=_serve)


def _migrate(_args: argparse.Namespace) -> int:
    from services.setup import migrate_db

    migrate_db()
    print("database is at the latest migration")
    return 0


def _recompute_after_seed() -> None:
    from db.session import session_scope
    from services.jobs import recompute_portfolio

    with session_scope() as session:
        recompute_portfolio(session=session, triggered_by="seed-demo")


def _seed(args: argparse.Namespace) -> int:
    from services.setup import migrate_db, seed_demo

    migrate_db()
    counts = seed_demo(
        skus=args.skus, periods=args.periods, seed=args.seed, replace=args.replace, only_if_empty=args.if_empty
    )
    if counts is None:
        print("database already has SKUs; nothing seeded")
        return 0
    print("seeded " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    if not args.no_recompute:
        _recompute_after_seed()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from services.setup import first_start
    from settings import get_settings

    settings = get_settings()
    result = first_start(seed_demo_data=settings.demo_seed_on_start and not args.no_demo)
    if result.seeded:
        print("seeded the demo portfolio: " + ", ".join(f"{v:,} {k}" for k, v in result.seeded.items()))
        _recompute_after_seed()
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"\n  Inventory Command Center: http://{host}:{port}/")
    if result.admin_password:
        print(f"  Sign in as {result.admin_email} with password: {result.admin_password}")
        print("  (shown once; change it under your name > Change my password, or: python cli.py reset-password)")
    else:
        print("  Sign in with your account (python cli.py create-user EMAIL --role admin to add one)")
    print()
    from app import create_app
    from auth.banner import QuietRequestHandler

    app = create_app(settings, migrate=False)
    # One request at a time: background jobs fork from the request thread (diskcache manager), and a fork while
    # another thread is inside SQLite can deadlock the job. Production runs gunicorn + Celery (docs/scaling.md).
    app.run(host=host, port=port, debug=False, threaded=False, request_handler=QuietRequestHandler)
    return 0
