"""What the commands share: the service modules (loaded on first use), printing tables and
JSON, CODE=TEXT pairs, and the arguments that name a return."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from types import ModuleType
from typing import Any

from skp_desktop.cli.registry import EXIT_OK, EXIT_REFUSED, arg


class UsageError(Exception):
    """A usage error found after argparse (exit 2)."""


def lazy(name: str) -> ModuleType:
    """A module loaded on its first use, so that each command loads only what it needs.

    `skp-returns services` need not load openpyxl, matplotlib or the merge: start-up is most of
    a short command's time, and scripts run many of them.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


audit = lazy("skp_desktop.services.audit")
catalogue = lazy("skp_desktop.services.catalogue")
comparators = lazy("skp_desktop.services.comparators")
due_dates = lazy("skp_desktop.services.due_dates")
entries = lazy("skp_desktop.services.entries")
exchange = lazy("skp_desktop.services.exchange")
returns = lazy("skp_desktop.services.returns")
review = lazy("skp_desktop.services.review")
setup = lazy("skp_desktop.services.setup")
trends = lazy("skp_desktop.services.trends")
backups_service = lazy("skp_desktop.services.backups")
completeness_service = lazy("skp_desktop.services.completeness")
definitions_service = lazy("skp_desktop.services.definitions")
merge_service = lazy("skp_desktop.services.merge")
trust = lazy("skp_desktop.services.trust")
partnership = lazy("skp_desktop.services.partnership")

# The two arguments that name a return.
RETURN = (
    arg("--service", required=True, help="service code, e.g. HIGHWAYS"),
    arg("--period", required=True, help="period code, e.g. FY2024-25-Q1"),
)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def print_json(rows: list[dict[str, Any]]) -> None:
    json.dump(rows, sys.stdout, default=_json_default, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    texts = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in texts]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in texts:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items or []:
        code, sep, text = item.partition("=")
        if not sep or not code.strip():
            raise UsageError(f"{option} takes CODE=TEXT, got '{item}'")
        result[code.strip().upper()] = text
    return result


def notice(text: str | None) -> None:
    if text:
        print(f"skp-returns: note: {text}", file=sys.stderr)


def left_out(lines: Sequence[str]) -> int:
    """The returns a publication left out because their history does not back them: each is
    said on stderr, and the exit is 1 (tampering found), though the rest was written."""
    for line in lines:
        print(f"skp-returns: not published, its history does not back it: {line}", file=sys.stderr)
    return EXIT_REFUSED if lines else EXIT_OK
