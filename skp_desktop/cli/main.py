"""The `skp-returns` parser, made from the registered commands, and `main`: open the database,
run the command's handler, and turn what it raises into the exit status of docs/contracts.md."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from skp_desktop import __version__

# Each module registers its commands when imported, and this order is the order of `--help`
# (hence no sorting here). A new module of commands is imported here too.
# isort: off
from skp_desktop.cli import database  # noqa: F401
from skp_desktop.cli import returns  # noqa: F401
from skp_desktop.cli import history  # noqa: F401
from skp_desktop.cli import publications  # noqa: F401
from skp_desktop.cli import exchange  # noqa: F401
from skp_desktop.cli import desk  # noqa: F401
from skp_desktop.cli import definitions  # noqa: F401
from skp_desktop.cli import keys  # noqa: F401
from skp_desktop.cli import partnership  # noqa: F401

# isort: on
from skp_desktop.cli.common import UsageError
from skp_desktop.cli.registry import (
    EXIT_ENVIRONMENT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    Parser,
    add_commands,
)
from skp_desktop.logs import configure_logging
from skp_desktop.services.database import (
    Database,
    acting_actor,
    checked_actor,
    default_actor,
    open_database,
)
from skp_desktop.services.errors import (
    NotFoundError,
    RuleRefused,
    SkpError,
    StateError,
    StoreUnavailable,
    TamperingDetected,
    ValidationError,
)

log = logging.getLogger("skp_desktop.cli")


def build_parser() -> argparse.ArgumentParser:
    """The `skp-returns` argument parser (docs/contracts.md)."""
    parser = Parser(prog="skp-returns", description="SKP Returns on the command line.")
    parser.add_argument("--version", action="version", version=f"skp-returns {__version__}")
    parser.add_argument(
        "--db",
        help="SQLite file or SQLAlchemy URL (default: $SKP_DB, else "
        "skp.sqlite3 in the user data folder)",
    )
    parser.add_argument(
        "--actor",
        default=None,
        help="who is acting, on a database file (default: $SKP_ACTOR, else the login name); "
        "a shared database records the login instead",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    add_commands(sub)
    return parser


def _server_actor(db: Database, actor: str, told: str) -> str:
    """On a shared database the server says who acts: --actor and SKP_ACTOR are ignored, and
    a name given there that is not the server's is said to be ignored (on stderr)."""
    named = acting_actor(db, actor)
    if told and named != told:
        print(
            f"skp-returns: note: on a shared database the server records who acts: "
            f"--actor or SKP_ACTOR ('{told}') is ignored; you act as {named}.",
            file=sys.stderr,
        )
    return named


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status follows docs/contracts.md."""
    parser = build_parser()
    args = parser.parse_args(argv)
    told_actor = (args.actor or os.environ.get("SKP_ACTOR", "")).strip()
    try:
        args.actor = checked_actor(args.actor or default_actor())
    except ValidationError as exc:  # a name that cannot be recorded: the option is wrong
        print(f"skp-returns: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    log_file = configure_logging()
    db = None
    try:
        if getattr(args, "needs_db", True):
            db = open_database(args.db, actor=args.actor)
            if db.read_only_reason:
                print(
                    f"skp-returns: note: {db.display_name} is open read-only because "
                    f"{db.read_only_reason}: it can be read and exported, not changed.",
                    file=sys.stderr,
                )
            args.actor = _server_actor(db, args.actor, told_actor)
        return args.handler(args, db)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error; stop writing quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except UsageError as exc:
        print(f"skp-returns: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NotFoundError as exc:
        print(f"skp-returns: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValidationError, StateError, TamperingDetected, RuleRefused) as exc:
        print(f"skp-returns: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except StoreUnavailable as exc:
        print(f"skp-returns: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except SkpError as exc:
        log.exception("unexpected application error")
        print(f"skp-returns: {exc} (details in {log_file})", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception:
        log.exception("internal error in %s", args.command)
        print(
            f"skp-returns: internal error: this is a bug. Details are in {log_file}",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        if db is not None:
            db.dispose()
