"""create-user, create-token, reset-password."""

from __future__ import annotations

import argparse
import getpass
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("create-user", help="create a user (prompts for the password)")
    p.add_argument("email")
    p.add_argument("--role", choices=["viewer", "planner", "admin"], default="viewer")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=_create_user)

    p = subparsers.add_parser("reset-password", help="set a new password for a user (prompts for it)")
    p.add_argument("email")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=_reset_password)

    p = subparsers.add_parser("create-token", help="create an API token for a user; prints it once")
    p.add_argument("--user", required=True, help="the user's e-mail")
    p.add_argument("--name", default="cli", help="a name to recognise the token by")
    p.set_defaults(func=_create_token)


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at a prompt (not echoed)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise ValueError("the passwords do not match")
    return first


def _create_user(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import users
    from services.setup import migrate_db

    migrate_db()
    password = _read_password(args.password_stdin)
    with session_scope() as session:
        users.create_user(session=session, email=args.email, password=password, role=args.role, actor="cli")
    print(f"created {args.email.strip().lower()} ({args.role})")
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import users

    password = _read_password(args.password_stdin)
    with session_scope() as session:
        users.reset_password(session=session, email=args.email, new_password=password, actor="cli")
    print(f"password changed for {args.email}")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from db.session import session_scope
    from services import users

    with session_scope() as session:
        token = users.create_token(session=session, email=args.user, name=args.name, actor="cli")
    print(token)  # stdout holds only the token, for scripts
    print("This token is shown once and stored only as a hash; keep it somewhere safe.", file=sys.stderr)
    return 0
