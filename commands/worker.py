"""worker, retry-run, watchdog: background jobs on Celery + Redis (see services/jobs.py and docs/scaling.md)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "worker", help="start a Celery worker for background callbacks and recompute batches (needs REDIS_URL)"
    )
    p.add_argument(
        "--concurrency", type=int, default=None, help="processes (or threads) running tasks (default: one per core)"
    )
    p.add_argument(
        "--queue",
        action="append",
        dest="queues",
        metavar="NAME",
        help="queue to consume (repeatable; default icc-jobs)",
    )
    p.add_argument("--pool", choices=["prefork", "solo", "threads"], default="prefork", help="execution pool")
    p.add_argument("--name", default=None, help="worker name (default celery@<host>; unique per worker)")
    p.add_argument("--loglevel", default="INFO", help="log level (default INFO)")
    p.set_defaults(func=_worker)

    p = subparsers.add_parser(
        "retry-run", help="recompute again after a failed or cancelled run (default: the newest such run)"
    )
    p.add_argument("run_id", type=int, nargs="?", default=None, help="the failed run's id")
    p.add_argument("--local", action="store_true", help="compute in this process even when workers are listening")
    p.set_defaults(func=_retry)

    p = subparsers.add_parser(
        "watchdog", help="mark running recomputes whose worker or coordinator died, or past their deadline, failed"
    )
    p.set_defaults(func=_watchdog)


def _worker(args: argparse.Namespace) -> int:
    from settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set: the worker needs Redis (e.g. REDIS_URL=redis://127.0.0.1:6379/0)")
    if args.concurrency is not None and args.concurrency < 1:
        raise ValueError("--concurrency must be at least 1")
    if args.queues and any(not q.strip() for q in args.queues):
        raise ValueError("--queue must not be empty")
    # Build the Dash app so every background callback is registered as a Celery task on the same app, as in the web
    # tier (the worker needs the same code and settings: DATABASE_URL, SECRET_KEY, DATA_DIR, REDIS_URL).
    from app import create_app
    from services.jobs import run_worker

    create_app(settings, migrate=False)
    run_worker(
        settings=settings,
        concurrency=args.concurrency,
        queues=args.queues,
        pool=args.pool,
        loglevel=args.loglevel,
        name=args.name,
    )
    return 0


def _retry(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.jobs import retry_run
    from services.recompute import RecomputeError

    def progress(fraction: float, message: str) -> None:
        print(f"{fraction:4.0%}  {message}", flush=True)

    try:
        with session_scope() as session:
            summary = retry_run(
                session=session,
                run_id=args.run_id,
                triggered_by="cli",
                distributed=False if args.local else None,
                progress=progress,
            )
    except RecomputeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if summary.status != "finished":
        print(f"retry {summary.status} (run {summary.run_id}); the previous results stay current", file=sys.stderr)
        return 1
    print(f"run {summary.run_id} finished: {summary.sku_count:,} SKUs in {summary.seconds:.1f} s")
    return 0


def _watchdog(_args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services.jobs import reap_stale_runs

    with session_scope() as session:
        reaped = reap_stale_runs(session=session)
    print(f"marked failed: {', '.join(map(str, reaped))}" if reaped else "no stale run")
    return 0
