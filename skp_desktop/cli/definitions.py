"""Definitions: publish, definitions-export, definitions-import."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from skp_desktop.cli.common import (
    UsageError,
    definitions_service,
    entries,
    notice,
    pairs,
)
from skp_desktop.cli.registry import EXIT_OK, EXIT_REFUSED, arg, command
from skp_desktop.services.database import Database
from skp_desktop.services.errors import NotFoundError, ValidationError


def _publication_file(path: str) -> dict[str, Any]:
    """The TOML or JSON file `publish --from-file` reads (docs/contracts.md, "Definitions:
    publishing a version")."""
    import tomllib
    from pathlib import Path

    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"No such file: {source}")
    try:
        text = source.read_text(encoding="utf-8")
        data = json.loads(text) if source.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {source}: {exc}") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(
            f"{source.name} is not valid {source.suffix[1:].upper()}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(f"{source.name}: expected a table of changes, new and targets")
    unknown = sorted(set(data) - {"applies_from", "note", "changes", "new", "targets"})
    if unknown:
        raise ValidationError(
            f"{source.name}: unknown key(s) {', '.join(unknown)}: the keys are applies_from, "
            "note, changes, new and targets"
        )
    for key, kind in (("changes", dict), ("new", list), ("targets", dict)):
        if key in data and not isinstance(data[key], kind):
            raise ValidationError(f"{source.name}: {key} must be a {kind.__name__}")
    return data


@command(
    "publish",
    "publish a new definitions version that applies from a period: changes, new "
    "indicators and yearly targets from a TOML or JSON file, or one indicator's fields",
    arg("--from-file", metavar="FILE.toml|.json", help="changes, new and targets"),
    arg("--indicator", metavar="CODE", help="the indicator --set and --target change"),
    arg("--set", action="append", metavar="FIELD=VALUE", help="e.g. title=..."),
    arg("--target", action="append", metavar="FY=VALUE", help="e.g. FY2025-26=95"),
    arg("--applies-from", metavar="P", help="first period, e.g. FY2025-26-Q1"),
    arg("--note", metavar="TEXT", help="why the definitions change (required)"),
    arg("--dry-run", action="store_true", help="check and say what would change"),
)
def cmd_publish(args: argparse.Namespace, db: Database) -> int:
    data = _publication_file(args.from_file) if args.from_file else {}
    changes: dict[str, dict[str, object]] = {
        str(k): dict(v) for k, v in data.get("changes", {}).items()
    }
    targets: dict[str, dict[str, object]] = {
        str(k): dict(v) for k, v in data.get("targets", {}).items()
    }
    if (args.set or args.target) and not args.indicator:
        raise UsageError("--set and --target need --indicator CODE")
    if args.indicator:
        code = args.indicator.strip().upper()
        for item in args.set or []:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise UsageError(f"--set takes FIELD=VALUE, got '{item}'")
            changes.setdefault(code, {})[name.strip()] = value
        for year, value in pairs(args.target, "--target").items():
            targets.setdefault(code, {})[year] = value
        if not args.set and not args.target:
            raise UsageError(
                "--indicator needs at least one --set FIELD=VALUE or --target FY=VALUE"
            )
    applies_from = args.applies_from or data.get("applies_from")
    note = args.note or data.get("note")
    if not applies_from:
        raise UsageError("give --applies-from PERIOD (or applies_from in the file)")
    if not (changes or targets or data.get("new")):
        raise UsageError("nothing to publish: give --from-file FILE or --indicator CODE --set …")
    publication = definitions_service.Publication(
        applies_from=str(applies_from),
        note=str(note or ""),
        changes=changes,
        new_indicators=[dict(item) for item in data.get("new", [])],
        targets=targets,
    )
    if args.dry_run:
        result = definitions_service.preview_publication(db, publication)
    else:
        result = definitions_service.publish_definitions(
            db, publication, actor=args.actor, source=entries.SOURCE_COMMAND_LINE
        )
    print(result.describe())
    if args.dry_run:
        print("Dry run: nothing was written.", file=sys.stderr)
    return EXIT_OK


@command(
    "definitions-export",
    "write a definitions version (the newest unless --version) as a signed definitions pack",
    arg("--out", required=True, metavar="FILE.xlsx"),
    arg("--version", type=int, metavar="N"),
)
def cmd_definitions_export(args: argparse.Namespace, db: Database) -> int:
    made = definitions_service.export_definitions_pack(
        db, args.out, actor=args.actor, version=args.version
    )
    print(
        f"Wrote {made.path}: definitions version {made.version} from {made.applies_from}, "
        f"{made.indicators} indicators (payload sha256 {made.payload_sha256}), signed by "
        f"{made.signed_by}"
    )
    notice(made.notice)
    return EXIT_OK


@command(
    "definitions-import",
    "import a definitions pack; an older pack than the newest held is refused",
    arg("--dry-run", action="store_true", help="say what it would do; write nothing"),
    arg(
        "--fingerprint",
        metavar="F",
        help="the coordinator's key fingerprint, confirmed by phone: pins it on the first pack",
    ),
    arg("path", metavar="FILE.xlsx"),
)
def cmd_definitions_import(args: argparse.Namespace, db: Database) -> int:
    outcome = definitions_service.import_definitions_pack(
        db, args.path, actor=args.actor, dry_run=args.dry_run, fingerprint=args.fingerprint
    )
    print(outcome.line)
    if outcome.trust_note:
        print(outcome.trust_note, file=sys.stderr)
    if outcome.refused:
        for item in outcome.problems:
            print(f"refused: {item}", file=sys.stderr)
    elif outcome.reason:
        print(outcome.reason, file=sys.stderr)
    if args.dry_run:
        print("Dry run: nothing was written.", file=sys.stderr)
    return EXIT_REFUSED if outcome.refused else EXIT_OK
