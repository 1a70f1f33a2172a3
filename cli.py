"""Command line: `python cli.py --help` lists every command; each has its own --help.

Commands live in commands/<area>.py (each exposes ``register(subparsers)``); a command returns an exit status
and prints a one-line error on bad input.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from typing import NoReturn

import commands


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``error: ... (see cli.py import --help)``) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _log_to_file() -> logging.FileHandler | None:
    """Send log records (tracebacks included) to DATA_DIR/logs/cli.log instead of the terminal (the handler)."""
    try:
        from settings import get_settings

        folder = get_settings().data_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "cli.log"
        handler = logging.FileHandler(path, encoding="utf-8")
    except Exception:  # noqa: BLE001 - no log file (read-only disk, bad settings): logging keeps its default
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    handler.previous_level = root.level  # type: ignore[attr-defined]
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    logging.captureWarnings(True)  # library warnings (pandas deprecations, ...) go to the log, not the terminal
    return handler


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cli.py", description="Inventory Command Center command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"commands.{module.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = _log_to_file() if args.command not in ("serve", "worker") else None
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from services.errors import UserFacingError

        if isinstance(exc, UserFacingError | ValueError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        # never a traceback in front of a user: it goes to the log
        logging.getLogger("cli").exception("cli.py %s failed", args.command)
        where = f" (details in {handler.baseFilename})" if handler else ""
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        print(
            f"error: {args.command} failed: {type(exc).__name__}{': ' + first if first else ''}{where}", file=sys.stderr
        )
        return 1
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            logging.getLogger().setLevel(handler.previous_level)  # type: ignore[attr-defined]
            logging.captureWarnings(False)
            handler.close()


if __name__ == "__main__":
    sys.exit(main())
