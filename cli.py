"""Command line: `python cli.py --help` lists every command; each has its own --help.

Commands live in commands/<area>.py (each exposes ``register(subparsers)``); a command returns an exit status
and prints a one-line error on bad input.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description="Inventory Command Center command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"commands.{module.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from services.errors import UserFacingError

        if isinstance(exc, UserFacingError | ValueError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
