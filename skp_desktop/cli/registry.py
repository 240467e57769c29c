"""Each command declares its name, help and arguments beside its handler:

    @command(
        "reopen",
        "start the next revision as a draft",
        *RETURN,
        arg("--reason", required=True),
    )
    def cmd_reopen(args: argparse.Namespace, db: Database) -> int: ...

`arg(...)` takes exactly what `ArgumentParser.add_argument` takes; `one_of(...)` is a mutually
exclusive group. A command of a group (`keys show`, `service add`) names it with
`group="keys"` after `declare_group(...)`. `build_parser` (cli/main.py) adds the commands in
the order their modules registered them. A handler returns the exit status (docs/contracts.md)
and is given the open database, or None when the command says `needs_db=False`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 4

Handler = Callable[[argparse.Namespace, Any], int]
H = TypeVar("H", bound=Handler)


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors exiting 2 as the contract says."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


@dataclass(frozen=True)
class Arg:
    """One `add_argument` call."""

    flags: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def add_to(self, parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
        parser.add_argument(*self.flags, **self.options)


@dataclass(frozen=True)
class OneOf:
    """Arguments of which at most one (exactly one if required) may be given."""

    args: tuple[Arg, ...]
    required: bool = False

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group(required=self.required)
        for item in self.args:
            item.add_to(group)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


def one_of(*args: Arg, required: bool = False) -> OneOf:
    return OneOf(args, required)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    handler: Handler
    arguments: tuple[Arg | OneOf, ...]
    group: str | None = None
    needs_db: bool = True


@dataclass(frozen=True)
class Group:
    """A command whose actions are commands of their own (`keys show`, `service add`)."""

    name: str
    help: str
    dest: str  # the attribute of the parsed arguments that names the action


# Groups and commands, in the order registered (the order of `skp-returns --help`).
REGISTERED: list[Command | Group] = []


def declare_group(name: str, help_text: str, *, dest: str) -> None:
    REGISTERED.append(Group(name, help_text, dest))


def command(
    name: str,
    help_text: str,
    *arguments: Arg | OneOf,
    group: str | None = None,
    needs_db: bool = True,
) -> Callable[[H], H]:
    """Register the decorated function as the handler of `skp-returns [group] name`."""

    def register(handler: H) -> H:
        if group is not None and not any(
            isinstance(g, Group) and g.name == group for g in REGISTERED
        ):
            raise ValueError(f"command {name}: declare_group({group!r}) first")
        REGISTERED.append(Command(name, help_text, handler, arguments, group, needs_db))
        return handler

    return register


def add_commands(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add every registered group and command to the top-level subparsers `sub`."""
    groups: dict[str, argparse._SubParsersAction[Parser]] = {}
    for item in REGISTERED:
        if isinstance(item, Group):
            parent = sub.add_parser(item.name, help=item.help, description=item.help)
            actions = parent.add_subparsers(dest=item.dest, metavar="ACTION", parser_class=Parser)
            actions.required = True
            groups[item.name] = actions
            continue
        where = sub if item.group is None else groups[item.group]
        parser = where.add_parser(item.name, help=item.help, description=item.help)
        parser.set_defaults(handler=item.handler)
        if not item.needs_db:
            parser.set_defaults(needs_db=False)
        for argument in item.arguments:
            argument.add_to(parser)
