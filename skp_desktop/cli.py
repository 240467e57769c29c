"""`skp-returns`: the command line over the same use cases as the GUI (docs/contracts.md)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from types import ModuleType
from typing import Any, NoReturn

from skp_desktop import __version__
from skp_desktop.logs import configure_logging
from skp_desktop.services.database import (
    Database,
    acting_actor,
    checked_actor,
    default_actor,
    open_database,
    same_database,
)
from skp_desktop.services.dto import ReturnView, plain_figure
from skp_desktop.services.errors import (
    NotFoundError,
    RuleRefused,
    SkpError,
    StateError,
    StoreUnavailable,
    TamperingDetected,
    ValidationError,
)
from skp_desktop.services.vocabulary import AuditAction, ImportStatus


def _lazy(name: str) -> ModuleType:
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


audit = _lazy("skp_desktop.services.audit")
catalogue = _lazy("skp_desktop.services.catalogue")
comparators = _lazy("skp_desktop.services.comparators")
due_dates = _lazy("skp_desktop.services.due_dates")
entries = _lazy("skp_desktop.services.entries")
exchange = _lazy("skp_desktop.services.exchange")
returns = _lazy("skp_desktop.services.returns")
review = _lazy("skp_desktop.services.review")
setup = _lazy("skp_desktop.services.setup")
trends = _lazy("skp_desktop.services.trends")
backups_service = _lazy("skp_desktop.services.backups")
completeness_service = _lazy("skp_desktop.services.completeness")
definitions_service = _lazy("skp_desktop.services.definitions")
merge_service = _lazy("skp_desktop.services.merge")
trust = _lazy("skp_desktop.services.trust")

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_INTERNAL = 0, 1, 2, 3, 4
log = logging.getLogger("skp_desktop.cli")


class UsageError(Exception):
    """A usage error found after argparse (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[attr-defined]
    return str(value)


def _print_json(rows: list[dict[str, Any]]) -> None:
    json.dump(rows, sys.stdout, default=_json_default, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    texts = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in texts]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in texts:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items or []:
        code, sep, text = item.partition("=")
        if not sep or not code.strip():
            raise UsageError(f"{option} takes CODE=TEXT, got '{item}'")
        result[code.strip().upper()] = text
    return result


# --- commands ----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, db: Database) -> int:
    report = setup.initialise(db, actor=args.actor, demo=args.demo)
    print(report)
    return EXIT_OK


def cmd_services(args: argparse.Namespace, db: Database) -> int:
    services = catalogue.list_services(db)
    rows = [{"code": s.code, "name": s.name, "organisation": s.organisation} for s in services]
    if args.json:
        _print_json(rows)
    else:
        _print_table(["CODE", "NAME", "ORGANISATION"], [list(r.values()) for r in rows])
    return EXIT_OK


def cmd_catalogue(args: argparse.Namespace, db: Database) -> int:
    infos = catalogue.list_indicators(db, service=args.service, include_context=True)
    compared: dict[str, list[dict[str, object]]] = {}
    for entry in comparators.list_comparators(db):
        compared.setdefault(entry.indicator, []).append(entry.as_dict())
    rows = []
    for info in infos:
        rules = info.rules
        rows.append(
            {
                "code": info.code,
                "kind": info.kind,
                "title": info.title,
                "service": info.service,
                "theme": info.theme,
                "level": rules.level.value,
                "unit": rules.unit.value,
                "polarity": rules.polarity.value,
                "frequency": rules.frequency.value,
                "decimals": rules.decimals,
                "target": rules.target,
                "baseline": {
                    "value": info.baseline.value,
                    "period": info.baseline.period,
                    "unit": info.baseline.unit,
                }
                if info.baseline
                else None,
                "source": info.source,
                "comparators": compared.get(info.code, []),
            }
        )
    if args.json:
        _print_json(rows)
    else:
        _print_table(
            ["CODE", "SERVICE", "UNIT", "FREQUENCY", "TARGET", "TITLE"],
            [
                [r["code"], r["service"], r["unit"], r["frequency"], r["target"], r["title"]]
                for r in rows
            ],
        )
    return EXIT_OK


def _shown(value: Decimal | None, decimals: int) -> str:
    return plain_figure(value, decimals)


def _return_rows(view: ReturnView) -> list[dict[str, Any]]:
    rows = []
    for row in view.rows:
        rules = row.indicator.rules
        rows.append(
            {
                "code": row.code,
                "title": row.indicator.title,
                "unit": rules.unit.value,
                "numerator": row.numerator,
                "denominator": row.denominator,
                "value": row.value,
                "symbol": row.symbol,
                "target": rules.target,
                "rag": row.rag.value if row.rag else None,
                "direction_previous": row.direction_previous.value
                if row.direction_previous
                else None,
                "direction_year": row.direction_year.value if row.direction_year else None,
                "errors": [p.message for p in row.errors],
                "warnings": [p.message for p in row.warnings],
                "commentary": row.commentary,
                "explanation": row.explanation,
                "status": view.state,
                "revision": view.revision,
                # The coordinator's query on the latest returned revision, and its answer.
                "query": row.query.question if row.query else None,
                "query_revision": row.query.asked_revision if row.query else None,
                "answer": row.query.answer if row.query else None,
                # who signed the file the revision was imported from (null: typed here)
                "signature": view.signature.status if view.signature else None,
                "signed_by": view.signature.signed_by if view.signature else None,
                "signature_note": view.signature.describe if view.signature else None,
            }
        )
    return rows


def _print_return(view: ReturnView) -> None:
    revision = f"revision {view.revision}" if view.revision else "no revision yet"
    service = f"{view.service.name} ({view.service.code})"
    print(f"{service} · {view.period_label} · {view.state} · {revision}")
    if view.signature is not None:
        print(f"From a file {view.signature.describe}")
    table = []
    for row in view.rows:
        decimals = row.indicator.rules.decimals
        shown = row.symbol or _shown(row.value, decimals)
        if row.numerator is not None or row.denominator is not None:
            shown = f"{shown} ({_shown(row.numerator, 0)}/{_shown(row.denominator, 0)})"
        target = row.indicator.rules.target
        table.append(
            [
                row.code,
                shown,
                _shown(target, decimals),
                row.rag.value if row.rag else "",
                row.direction_previous.value if row.direction_previous else "",
                row.direction_year.value if row.direction_year else "",
                f"{len(row.errors)} error(s)"
                if row.errors
                else (f"{len(row.warnings)} warning(s)" if row.warnings else ""),
                row.indicator.title,
            ]
        )
    _print_table(
        ["CODE", "VALUE", "TARGET", "RAG", "VS PREVIOUS", "VS YEAR AGO", "CHECKS", "INDICATOR"],
        table,
    )
    for row in view.rows:
        for problem in row.problems:
            print(f"{problem.severity.value}: {row.code} {problem.field}: {problem.message}")
    if view.queries is not None:
        queries = view.queries
        said = f": {queries.reason}" if queries.reason else ""
        print(f"Revision {queries.asked_revision} was returned {queries.returned_how}{said}")
        for query in queries.queries:
            print(f"query: {query.code}: {query.question}")
            if query.answered:
                print(f"answer: {query.code}: {query.answer} (revision {query.answer_revision})")
            elif view.open_queries:
                print(f"answer: {query.code}: not answered yet")


def cmd_enter(args: argparse.Namespace, db: Database) -> int:
    changes = []
    for item in args.values:
        code, sep, text = item.partition("=")
        if not sep or not code.strip():
            raise UsageError(f"values are given as CODE=VALUE, got '{item}'")
        changes.append(
            entries.EntryChange(code.strip().upper(), entries.parse_command_line_value(text))
        )
    for code, text in _pairs(args.comment, "--comment").items():
        changes.append(entries.EntryChange(code, {"commentary": text}))
    if not changes:
        raise UsageError("give at least one CODE=VALUE or --comment CODE=TEXT")
    view = returns.record_entries(
        db,
        service=args.service,
        period=args.period,
        changes=changes,
        actor=args.actor,
        reason=args.reason,
        source=entries.SOURCE_COMMAND_LINE,
    )
    print(
        f"Saved {len(changes)} entr{'y' if len(changes) == 1 else 'ies'} in {view.service.code} "
        f"{view.period} revision {view.revision} ({view.state}).",
        file=sys.stderr,
    )
    for row in view.rows:
        for problem in row.warnings:
            print(f"warning: {row.code}: {problem.message}", file=sys.stderr)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, db: Database) -> int:
    view = returns.get_return(db, args.service, args.period)
    if args.json:
        _print_json(_return_rows(view))
    else:
        _print_return(view)
    return EXIT_OK


def cmd_submit(args: argparse.Namespace, db: Database) -> int:
    view = returns.submit_return(
        db,
        service=args.service,
        period=args.period,
        actor=args.actor,
        explanations=_pairs(args.explain, "--explain"),
    )
    print(f"Submitted {view.service.code} {view.period} revision {view.revision}.")
    return EXIT_OK


def cmd_reopen(args: argparse.Namespace, db: Database) -> int:
    view = returns.reopen_return(
        db, service=args.service, period=args.period, reason=args.reason, actor=args.actor
    )
    print(f"Reopened {view.service.code} {view.period} as revision {view.revision} (draft).")
    return EXIT_OK


def cmd_answer(args: argparse.Namespace, db: Database) -> int:
    answers = _pairs(args.answers, "answer")
    if not answers:
        raise UsageError("give at least one CODE=TEXT")
    blank = [code for code, text in answers.items() if not text.strip()]
    if blank:
        raise UsageError(f"give the answer's text: {', '.join(blank)} has none")
    view = review.answer_queries(
        db, service=args.service, period=args.period, answers=answers, actor=args.actor
    )
    left = len(view.open_queries)
    print(
        f"Answered {len(answers)} quer{'y' if len(answers) == 1 else 'ies'} in "
        f"{view.service.code} {view.period} revision {view.revision}; "
        f"{left} still to answer.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_history(args: argparse.Namespace, db: Database) -> int:
    events = audit.history(
        db, service=args.service, period=args.period, indicator=args.indicator, limit=args.limit
    )
    rows = [
        {
            "id": e.id,
            "at": e.at.isoformat(timespec="seconds"),
            "actor": e.actor,
            "action": e.action,
            "service": e.service,
            "period": e.period,
            "revision": e.revision,
            "indicator": e.indicator,
            "old": e.old,
            "new": e.new,
            "reason": e.reason,
            "source": e.source,
        }
        for e in events
    ]
    if args.json:
        _print_json(rows)
    else:
        headers = ["ID", "AT", "ACTOR", "ACTION", "SERVICE", "PERIOD", "REV", "INDICATOR"]
        table = []
        for e in events:
            change = e.new or ""
            if e.action == AuditAction.VALUE_SET:
                change = (
                    f"{entries.describe_value_json(e.old)} -> {entries.describe_value_json(e.new)}"
                )
            context = [e.service, e.period, e.revision, e.indicator]
            table.append([e.id, e.at.isoformat(timespec="seconds"), e.actor, e.action, *context])
            table[-1] += [change, e.reason or "", e.source or ""]
        _print_table([*headers, "CHANGE", "REASON", "SOURCE"], table)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, db: Database) -> int:
    report = audit.verify(db)
    if report.ok:
        print(
            f"verify: OK: {report.events_checked} events and {report.values_checked} values "
            "match their history."
        )
        return EXIT_OK
    for problem in report.problems:
        print(f"verify: {problem}", file=sys.stderr)
    raise TamperingDetected(
        f"{len(report.problems)} problem(s) found: the history was altered outside the app."
    )


def cmd_chart(args: argparse.Namespace, db: Database) -> int:
    written = trends.export_trend_chart(db, args.indicator, args.out, service=args.service)
    print(f"Wrote {written}")
    return EXIT_OK


def cmd_board_pack(args: argparse.Namespace, db: Database) -> int:
    from skp_desktop.services import board_pack  # loads matplotlib: only when asked for

    made = board_pack.export_board_pack(
        db, args.period, args.out, service=args.service, theme=args.theme
    )
    print(
        f"Wrote {made.path}: board pack for {made.period_label} ({made.scope}), "
        f"{made.indicators} indicators on {made.pages} pages"
    )
    return _left_out(made.left_out)


def _left_out(lines: Sequence[str]) -> int:
    """The returns a publication left out because their history does not back them: each is
    said on stderr, and the exit is 1 (tampering found), though the rest was written."""
    for line in lines:
        print(f"skp-returns: not published, its history does not back it: {line}", file=sys.stderr)
    return EXIT_REFUSED if lines else EXIT_OK


def cmd_export_return(args: argparse.Namespace, db: Database) -> int:
    result = exchange.export_return(
        db, service=args.service, period=args.period, out=args.out, actor=args.actor
    )
    print(
        f"Wrote {result.path}: {result.service} {result.period} revision {result.revision} "
        f"(payload sha256 {result.payload_sha256}), signed by {result.signed_by}"
    )
    _notice(result.notice)
    return EXIT_OK


def _notice(text: str | None) -> None:
    if text:
        print(f"skp-returns: note: {text}", file=sys.stderr)


def cmd_feedback(args: argparse.Namespace, db: Database) -> int:
    result = exchange.export_feedback(
        db, service=args.service, period=args.period, out=args.out, actor=args.actor
    )
    print(
        f"Wrote {result.path}: feedback on {result.service} {result.period} revision "
        f"{result.revision} (payload sha256 {result.payload_sha256}), signed by {result.signed_by}"
    )
    _notice(result.notice)
    return EXIT_OK


def cmd_template(args: argparse.Namespace, db: Database) -> int:
    result = exchange.write_template(
        db, service=args.service, period=args.period, out=args.out, actor=args.actor
    )
    print(
        f"Wrote {result.path}: blank return for {result.service} {result.period}, signed by "
        f"{result.signed_by}"
    )
    _notice(result.notice)
    return EXIT_OK


def _print_outcome(outcome: exchange.ImportOutcome) -> None:
    # flushed file by file: a long batch shows progress, and what was stored is on screen even
    # if the process is stopped
    print(outcome.line, flush=True)
    for warning in outcome.warnings if outcome.status == ImportStatus.ACCEPTED else ():
        print(f"warning: {outcome.file}: {warning}", file=sys.stderr, flush=True)
    for code, question in outcome.queries if outcome.status == ImportStatus.ACCEPTED else ():
        print(f"query: {outcome.file}: {code}: {question}", file=sys.stderr, flush=True)
    if outcome.signature_text and outcome.status != ImportStatus.REJECTED:
        print(f"signature: {outcome.file}: {outcome.signature_text}", file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace, db: Database) -> int:
    if args.accept_unsigned and not (args.reason or "").strip():
        raise UsageError("--accept-unsigned needs --reason TEXT: say why unsigned files are taken")
    if args.reason and not args.accept_unsigned:
        raise UsageError("--reason goes with --accept-unsigned")
    try:
        outcomes = exchange.import_files(
            db,
            args.paths,
            actor=args.actor,
            dry_run=args.dry_run,
            accept_modified=args.accept_modified,
            accept_unsigned=args.reason.strip() if args.accept_unsigned else None,
            on_outcome=None if args.json else _print_outcome,
        )
    except exchange.ImportStopped as stopped:
        if args.json:
            _print_json([outcome.as_dict() for outcome in stopped.outcomes])
        raise
    if args.json:
        _print_json([outcome.as_dict() for outcome in outcomes])
    if args.dry_run:
        print("Dry run: nothing was written.", file=sys.stderr)
    if not outcomes:
        print("No .xlsx files found to import.", file=sys.stderr)
    return EXIT_REFUSED if any(outcome.failed for outcome in outcomes) else EXIT_OK


def cmd_sync(args: argparse.Namespace, db: Database) -> int:
    from skp_desktop.services import sync  # SQLAlchemy's ORM queries: only when asked for

    if same_database(args.source, db):
        raise UsageError(f"--from names the database given with --db ({db.display_name})")
    source = open_database(args.source, actor=args.actor, initialise=False, must_exist=True)
    origin = source.display_name  # never the password a URL may hold
    try:
        outcomes = sync.synchronise(
            source, db, actor=args.actor, services=args.services, dry_run=args.dry_run
        )
    finally:
        source.dispose()
    if args.json:
        _print_json([outcome.as_dict() for outcome in outcomes])
    else:
        for outcome in outcomes:
            print(outcome.line)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    told = ", ".join(f"{n} {status.lower()}" for status, n in counts.items()) or "no returns"
    verb = "Would synchronise" if args.dry_run else "Synchronised"
    print(f"{verb} {origin} into {db.display_name}: {told}.", file=sys.stderr)
    if args.dry_run:
        print("Dry run: nothing was written.", file=sys.stderr)
    refused = next((o for o in outcomes if o.refused_by_server), None)
    if refused is not None:
        # the login's roles, not the data: the administrator can change them (environment)
        print(f"skp-returns: {refused.reason}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    return EXIT_REFUSED if any(outcome.failed for outcome in outcomes) else EXIT_OK


def cmd_completeness(args: argparse.Namespace, db: Database) -> int:
    report = completeness_service.completeness(db, first=args.first, last=args.last)
    cells = report.expected_cells()  # a quarter whose return asks for nothing is not listed
    if args.json:
        _print_json([cell.as_dict() for cell in cells])
    else:
        _print_table(
            ["SERVICE", "PERIOD", "STATE", "REVISION", "DUE", "OVERDUE"],
            [
                [
                    cell.service.code,
                    cell.period.code,
                    cell.state,
                    cell.revision,
                    cell.due.isoformat(),
                    f"{cell.days_overdue} days" if cell.overdue else "",
                ]
                for cell in cells
            ],
        )
        print(report.summary(), file=sys.stderr)
    return EXIT_OK


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: give YYYY-MM-DD") from None


def cmd_due(args: argparse.Namespace, db: Database) -> int:
    due = due_dates.set_due_date(
        db, args.period, None if args.clear else args.date, args.actor, reason=args.reason
    )
    how = "set by the coordinator" if due.is_set else "the usual date"
    print(f"Returns for {due.period.label} are due by {due.due.isoformat()} ({how}).")
    return EXIT_OK


def cmd_comparator(args: argparse.Namespace, db: Database) -> int:
    if args.clear == (args.value is not None):
        raise UsageError("give the comparator's VALUE, or --clear (not both)")
    held = comparators.set_comparator(
        db,
        args.indicator,
        args.series,
        args.period,
        None if args.clear else args.value,
        args.actor,
        source=args.source,
    )
    name = comparators.series_name(args.series, [e.series for e in held])
    entry = next(
        (e for e in held if e.series == name and args.period.strip().upper() == e.period.code),
        None,
    )
    code = args.indicator.strip().upper()
    if entry is None:
        print(f"{code}: no {name} comparator for {args.period} now.")
    else:
        print(f"{code}: {name} {entry.period.code} = {entry.as_dict()['value']}")
    return EXIT_OK


def cmd_accept(args: argparse.Namespace, db: Database) -> int:
    view = review.accept_return(
        db, service=args.service, period=args.period, actor=args.actor, revision=args.revision
    )
    print(f"Accepted {view.service.code} {view.period} revision {view.revision}.")
    return EXIT_OK


def cmd_return(args: argparse.Namespace, db: Database) -> int:
    view = review.return_with_query(
        db,
        service=args.service,
        period=args.period,
        reason=args.reason,
        actor=args.actor,
        revision=args.revision,
    )
    print(f"Returned {view.service.code} {view.period} revision {view.revision} with a query.")
    return EXIT_OK


def cmd_merge_export(args: argparse.Namespace, db: Database) -> int:
    result = merge_service.merge_export(db, out=args.out, first=args.first, last=args.last)
    print(f"Wrote {result.path}: {result.describe()} (sha256 {result.sha256})")
    return _left_out([item.line for item in result.unbacked])


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


def cmd_backups(args: argparse.Namespace, db: None) -> int:
    found = backups_service.list_backups(args.db)
    rows = [
        {
            "path": b.path,
            "label": b.label,
            "made_at": b.made_at.isoformat(timespec="seconds"),
            "size": b.size,
        }
        for b in found
    ]
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"No backups of {backups_service.database_file(args.db)} yet.", file=sys.stderr)
        return EXIT_OK
    _print_table(
        ["MADE (UTC)", "LABEL", "SIZE", "PATH"],
        [[r["made_at"], r["label"], _size(r["size"]), r["path"]] for r in rows],
    )
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, db: None) -> int:
    target = backups_service.database_file(args.db)
    holder = backups_service.app_holding(args.db)
    if holder:
        raise StoreUnavailable(
            f"SKP Returns has {target} open ({holder}). Close it first, or restore from the app "
            "(File ▸ Restore a backup). Nothing was changed."
        )
    before = backups_service.restore(args.db, args.source)
    print(f"Restored {target} from {args.source}.")
    if before is not None:
        print(f"The database as it was is kept as {before.path}.")
    return EXIT_OK


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
        for year, value in _pairs(args.target, "--target").items():
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


def cmd_definitions_export(args: argparse.Namespace, db: Database) -> int:
    made = definitions_service.export_definitions_pack(
        db, args.out, actor=args.actor, version=args.version
    )
    print(
        f"Wrote {made.path}: definitions version {made.version} from {made.applies_from}, "
        f"{made.indicators} indicators (payload sha256 {made.payload_sha256}), signed by "
        f"{made.signed_by}"
    )
    _notice(made.notice)
    return EXIT_OK


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


def cmd_keys_show(args: argparse.Namespace, db: Database) -> int:
    info = trust.show_key(db)
    if args.json:
        _print_json([info.as_dict()])
    else:
        print(f"fingerprint  {info.fingerprint}")
        print(f"public_key   {info.public_key}")
        print(f"key_file     {info.key_file}")
        print(f"this database trusts it: {info.enrolled_here or 'no'}")
    if info.made_now:
        print(f"skp-returns: note: a new signing key was made in {info.key_file}", file=sys.stderr)
    return EXIT_OK


def cmd_keys_export(args: argparse.Namespace, db: Database | None) -> int:
    path, info = trust.export_enrolment(args.out, name=args.actor)
    print(f"Wrote {path}: the public key of {args.actor}, fingerprint {info.fingerprint}")
    print(
        "Send the file to the coordinator and read them the fingerprint over the phone.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_keys_trust(args: argparse.Namespace, db: Database) -> int:
    key, done = trust.trust_key(
        db,
        args.file,
        services=args.services or [],
        fingerprint_given=args.fingerprint,
        actor=args.actor,
    )
    print(f"{key.fingerprint}\t{key.name}\t{done}")
    return EXIT_OK


def cmd_keys_list(args: argparse.Namespace, db: Database) -> int:
    keys = trust.list_keys(db)
    if args.json:
        _print_json([key.as_dict() for key in keys])
        return EXIT_OK
    _print_table(
        ["FINGERPRINT", "NAME", "TRUSTED FOR", "TRUSTED AT", "REVOKED"],
        [
            [
                key.fingerprint,
                key.name,
                key.trusted_for,
                key.as_dict()["trusted_at"],
                key.as_dict()["revoked_at"] or "",
            ]
            for key in keys
        ],
    )
    return EXIT_OK


def cmd_keys_revoke(args: argparse.Namespace, db: Database) -> int:
    key = trust.revoke_key(db, args.fingerprint, reason=args.reason, actor=args.actor)
    print(f"Revoked {key.fingerprint} ({key.name}): files it signs are refused from now on.")
    return EXIT_OK


def cmd_keys_rotate(args: argparse.Namespace, db: Database) -> int:
    done = trust.rotate_installation_key(db, actor=args.actor)
    print(f"New key {done.new_fingerprint} replaces {done.old_fingerprint} ({done.key_file})")
    print(
        "Run `skp-returns keys export --out FILE` and send the file to the coordinator: it is "
        "signed by the old key, so `keys trust FILE` takes it without a phone call, and files "
        "signed by the new key are accepted where the old one was."
        + (
            " This database now trusts the new key in the old one's place."
            if done.replaced_here
            else ""
        ),
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_self_test(args: argparse.Namespace, db: Database | None) -> int:
    """Check the installation in a temporary folder; never opens the user's database."""
    from skp_desktop.services import selftest

    report = selftest.run_self_test(emit=selftest.print_lines())
    return EXIT_OK if report.ok else EXIT_REFUSED


# --- parser ------------------------------------------------------------------------------


# --- the whole partnership: organisations, services, forms, context figures (issue 18) -----

partnership = _lazy("skp_desktop.services.partnership")


def cmd_organisations(args: argparse.Namespace, db: Database) -> int:
    organisations = partnership.list_organisations(db)
    if args.json:
        _print_json([o.as_dict() for o in organisations])
    else:
        _print_table(
            ["CODE", "NAME", "SERVICES"],
            [
                [
                    o.code,
                    o.name,
                    ", ".join(
                        s.code + (f" (retired from {s.retired_from})" if s.retired_from else "")
                        for s in o.services
                    )
                    or "(none yet)",
                ]
                for o in organisations
            ],
        )
    return EXIT_OK


def _print_service(record: Any, verb: str) -> None:
    retired = f", retired from {record.retired_from}" if record.retired_from else ""
    print(f"{verb} {record.code}: {record.name} ({record.organisation}{retired}).")


def cmd_service_add(args: argparse.Namespace, db: Database) -> int:
    record = partnership.add_service(
        db, code=args.code, name=args.name, organisation=args.organisation, actor=args.actor
    )
    _print_service(record, "Added")
    return EXIT_OK


def cmd_service_rename(args: argparse.Namespace, db: Database) -> int:
    record = partnership.rename_service(db, code=args.code, name=args.name, actor=args.actor)
    _print_service(record, "Renamed")
    return EXIT_OK


def cmd_service_retire(args: argparse.Namespace, db: Database) -> int:
    if args.clear == (args.first is not None):
        raise UsageError("give --from PERIOD, or --clear to ask the service for returns again")
    record = partnership.retire_service(
        db, code=args.code, retired_from=None if args.clear else args.first, actor=args.actor
    )
    _print_service(record, "Retired" if record.retired_from else "Brought back")
    return EXIT_OK


def _form_file(path: str) -> dict[str, Any]:
    """A form file (the shape of forms/<CODE>.toml, in TOML or JSON), read but not yet checked."""
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
        kind = source.suffix[1:].upper()
        raise ValidationError(f"{source.name} is not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{source.name}: expected a table with title, intro and sections")
    return data


def cmd_service_form(args: argparse.Namespace, db: Database) -> int:
    if args.from_file and args.reset:
        raise UsageError("give --from-file FILE or --reset, not both")
    if args.from_file or args.reset:
        form = None if args.reset else _form_file(args.from_file)
        partnership.set_service_form(db, code=args.code, form=form, actor=args.actor)
    layout = partnership.service_form(db, args.code)
    print(json.dumps(partnership.layout_data(layout), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_context(args: argparse.Namespace, db: Database) -> int:
    if args.clear == (args.value is not None):
        raise UsageError("give the figure VALUE, or --clear (not both)")
    figure = partnership.set_context_figure(
        db,
        code=args.code,
        period=args.period,
        value=None if args.clear else args.value,
        actor=args.actor,
        source=args.source,
    )
    code = args.code.strip().upper()
    if figure is None:
        print(f"{code}: no figure for {args.period} now.")
    else:
        print(f"{code}: {figure.period.code} = {figure.as_dict()['value']}")
    return EXIT_OK


def cmd_strategic_assessment(args: argparse.Namespace, db: Database) -> int:
    assessment = _lazy("skp_desktop.services.strategic_assessment")
    result = assessment.write_assessment(db, year=args.year, out=args.out)
    print(f"Wrote {result.path}: {result.describe()}")
    return EXIT_OK


def _add_partnership_commands(
    command: Callable[[str, Callable[..., int], str], argparse.ArgumentParser],
) -> None:
    """organisations, service add|rename|retire|form, context, strategic-assessment."""
    p = command("organisations", cmd_organisations, "the five organisations and their services")
    p.add_argument("--json", action="store_true")
    p = command("service", cmd_service_add, "add, rename, retire a service or lay out its form")
    actions = p.add_subparsers(dest="service_action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    q = actions.add_parser("add", help="add a service to one of the organisations")
    q.set_defaults(handler=cmd_service_add)
    q.add_argument("--code", required=True, help="new code, e.g. LFB-KINGSTON")
    q.add_argument("--name", required=True, help="what people call it")
    q.add_argument("--organisation", required=True, help="RBK, MPS, LFB, PS or ICB")
    q = actions.add_parser("rename", help="give a service a new name (the code stays)")
    q.set_defaults(handler=cmd_service_rename)
    q.add_argument("--code", required=True)
    q.add_argument("--name", required=True)
    q = actions.add_parser("retire", help="stop asking a service for returns from a quarter on")
    q.set_defaults(handler=cmd_service_retire)
    q.add_argument("--code", required=True)
    q.add_argument("--from", dest="first", metavar="P", help="first quarter without a return")
    q.add_argument("--clear", action="store_true", help="ask the service for returns again")
    q = actions.add_parser("form", help="print a service's return form, or set it from a file")
    q.set_defaults(handler=cmd_service_form)
    q.add_argument("--code", required=True)
    q.add_argument("--from-file", metavar="FILE.toml|.json", help="title, intro and sections")
    q.add_argument("--reset", action="store_true", help="back to the bundled form")
    p = command("context", cmd_context, "record a context measure's figure for a period")
    p.add_argument("--code", required=True, help="context measure, e.g. CTX-ASB")
    p.add_argument("--period", required=True, help="e.g. FY2025-26-Q4")
    p.add_argument("--source", help="where the figure comes from")
    p.add_argument("--clear", action="store_true", help="remove the figure")
    p.add_argument("value", nargs="?", metavar="VALUE", help="the figure, e.g. 19.1")
    p = command(
        "strategic-assessment",
        cmd_strategic_assessment,
        "write the annual strategic assessment for a financial year as PDF or Excel",
    )
    p.add_argument("--year", required=True, help="financial year, e.g. FY2025-26")
    p.add_argument("--out", required=True, metavar="FILE.pdf|FILE.xlsx")


def build_parser() -> argparse.ArgumentParser:
    """The `skp-returns` argument parser (docs/contracts.md)."""
    parser = _Parser(prog="skp-returns", description="SKP Returns on the command line.")
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = command("init", cmd_init, "create or upgrade the database and load the default catalogue")
    p.add_argument("--demo", action="store_true", help="add clearly labelled demo history")
    p = command("services", cmd_services, "list organisations and services")
    p.add_argument("--json", action="store_true")
    p = command("catalogue", cmd_catalogue, "list indicator definitions")
    p.add_argument("--service")
    p.add_argument("--json", action="store_true")

    def return_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--service", required=True, help="service code, e.g. HIGHWAYS")
        p.add_argument("--period", required=True, help="period code, e.g. FY2024-25-Q1")

    p = command("enter", cmd_enter, "record values in the draft return (all or nothing)")
    return_args(p)
    p.add_argument("--reason")
    p.add_argument("--comment", action="append", metavar="CODE=TEXT")
    p.add_argument(
        "values", nargs="*", metavar="CODE=VALUE", help="a number, NUM/DEN for rates, or [x] / [z]"
    )
    p = command("show", cmd_show, "show a return with RAG, direction of travel and checks")
    return_args(p)
    p.add_argument("--json", action="store_true")
    p = command("submit", cmd_submit, "check and lock the draft revision")
    return_args(p)
    p.add_argument("--explain", action="append", metavar="CODE=TEXT")
    p = command("reopen", cmd_reopen, "start the next revision as a draft")
    return_args(p)
    p.add_argument("--reason", required=True)
    p = command(
        "answer",
        cmd_answer,
        "answer the coordinator's queries in the draft of the next revision (all or nothing)",
    )
    return_args(p)
    p.add_argument("answers", nargs="*", metavar="CODE=TEXT", help="the answer to CODE's query")
    p = command("history", cmd_history, "audit events, newest first")
    p.add_argument("--service")
    p.add_argument("--period")
    p.add_argument("--indicator")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true")
    command("verify", cmd_verify, "recompute the audit chain and replay it against the values")
    p = command("chart", cmd_chart, "write an indicator's trend chart as PNG, SVG or PDF")
    p.add_argument("--indicator", required=True)
    p.add_argument("--service")
    p.add_argument("--out", required=True, metavar="FILE.png|.svg|.pdf")
    p = command("board-pack", cmd_board_pack, "write the board pack for a quarter as one PDF")
    p.add_argument("--period", required=True, help="quarter code, e.g. FY2026-27-Q1")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--service", help="only this service's indicators")
    scope.add_argument("--theme", help="only this theme's indicators, e.g. SAFER-P3")
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    p = command("export-return", cmd_export_return, "write the submitted return as an Excel file")
    return_args(p)
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p = command(
        "feedback",
        cmd_feedback,
        "write a returned return with its queries as a feedback file for the service to import",
    )
    return_args(p)
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p = command("template", cmd_template, "write a blank return to fill in Excel or LibreOffice")
    return_args(p)
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p = command("import", cmd_import, "import return files, or folders of them")
    p.add_argument(
        "--dry-run", action="store_true", help="say what each file would do; write nothing"
    )
    p.add_argument(
        "--accept-modified",
        action="store_true",
        help="import a return edited after export as a new revision of its visible values",
    )
    p.add_argument(
        "--accept-unsigned",
        action="store_true",
        help="take files that carry no signature (format 1, or cut out), marked unsigned; "
        "needs --reason",
    )
    p.add_argument("--reason", metavar="TEXT", help="why unsigned files are taken (recorded)")
    p.add_argument("--json", action="store_true")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".xlsx files, or folders of them")
    p = command(
        "merge-export",
        cmd_merge_export,
        "write the partnership workbook from the accepted returns (default: the last four "
        "quarters, up to the one due now)",
    )
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p.add_argument("--from", dest="first", metavar="P", help="first quarter, e.g. FY2024-25-Q1")
    p.add_argument("--to", dest="last", metavar="P", help="last quarter, e.g. FY2024-25-Q4")
    p = command(
        "completeness",
        cmd_completeness,
        "each service's return per quarter: missing, draft, submitted, accepted or returned, "
        "with its due date (as set with `due`, else the last day of the month after the "
        "quarter) and whether it is overdue; a quarter whose return asks for nothing is not "
        "listed (default: the last four quarters, up to the one due now)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--from", dest="first", metavar="P", help="first quarter, e.g. FY2024-25-Q1")
    p.add_argument("--to", dest="last", metavar="P", help="last quarter, e.g. FY2024-25-Q4")
    p = command(
        "backups",
        cmd_backups,
        "list the backups of the (SQLite) database, newest first: made once a day of use, "
        "before every upgrade and restore, and on request in the app",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(needs_db=False)  # listing must work when the database itself is damaged
    p = command(
        "restore",
        cmd_restore,
        "check a backup and put it in place of the (SQLite) database; the database as it was "
        "is kept as a backup first",
    )
    p.add_argument("--from", dest="source", required=True, metavar="BACKUP", help="backup file")
    p.set_defaults(needs_db=False)  # never opened: it may be damaged, and must be closed
    p = command(
        "sync",
        cmd_sync,
        "copy the return revisions that the --db database lacks from another database: push "
        "a laptop's file into the shared database, or pull the shared one into a laptop's "
        "file before going offline; one line per revision, with the statuses of import",
    )
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="SOURCE",
        help="the database to copy from: a SQLite file or a postgresql:// URL",
    )
    p.add_argument(
        "--service",
        dest="services",
        action="append",
        metavar="S",
        help="only this service's returns (repeat for several; default: every service)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="say what each revision would do; write nothing"
    )
    p.add_argument("--json", action="store_true")
    p = command(
        "due",
        cmd_due,
        "set the date a quarter's returns are due by, or --clear it to go back to the usual "
        "date (the last day of the month after the quarter)",
    )
    p.add_argument("--period", required=True, help="quarter code, e.g. FY2024-25-Q1")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", type=_iso_date, metavar="YYYY-MM-DD")
    when.add_argument("--clear", action="store_true", help="use the usual date again")
    p.add_argument("--reason", help="why (recorded in the history)")
    p = command(
        "comparator",
        cmd_comparator,
        "set or --clear an indicator's comparator figure (e.g. the London average) for a "
        "period, in the indicator's own unit",
    )
    p.add_argument("--indicator", required=True, help="indicator code, e.g. SAFER-P3-B1")
    p.add_argument("--series", required=True, help="e.g. London or England")
    p.add_argument("--period", required=True, help="period code, e.g. FY2024-25-Q1")
    p.add_argument("--source", help="where the figure comes from")
    p.add_argument("--clear", action="store_true", help="remove the figure")
    p.add_argument("value", nargs="?", metavar="VALUE", help="the figure, e.g. 81.4")
    p = command("accept", cmd_accept, "accept the latest (submitted) revision of a return")
    return_args(p)
    p.add_argument("--revision", type=int, help="refuse unless this is still the latest revision")
    p = command(
        "return", cmd_return, "return the latest (submitted) revision of a return with a query"
    )
    return_args(p)
    p.add_argument("--reason", required=True, help="the query: what the service should check")
    p.add_argument("--revision", type=int, help="refuse unless this is still the latest revision")
    p = command(
        "publish",
        cmd_publish,
        "publish a new definitions version that applies from a period: changes, new "
        "indicators and yearly targets from a TOML or JSON file, or one indicator's fields",
    )
    p.add_argument("--from-file", metavar="FILE.toml|.json", help="changes, new and targets")
    p.add_argument("--indicator", metavar="CODE", help="the indicator --set and --target change")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="e.g. title=...")
    p.add_argument("--target", action="append", metavar="FY=VALUE", help="e.g. FY2025-26=95")
    p.add_argument("--applies-from", metavar="P", help="first period, e.g. FY2025-26-Q1")
    p.add_argument("--note", metavar="TEXT", help="why the definitions change (required)")
    p.add_argument("--dry-run", action="store_true", help="check and say what would change")
    p = command(
        "definitions-export",
        cmd_definitions_export,
        "write a definitions version (the newest unless --version) as a signed definitions pack",
    )
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p.add_argument("--version", type=int, metavar="N")
    p = command(
        "definitions-import",
        cmd_definitions_import,
        "import a definitions pack; an older pack than the newest held is refused",
    )
    p.add_argument("--dry-run", action="store_true", help="say what it would do; write nothing")
    p.add_argument(
        "--fingerprint",
        metavar="F",
        help="the coordinator's key fingerprint, confirmed by phone: pins it on the first pack",
    )
    p.add_argument("path", metavar="FILE.xlsx")
    keys_help = "this installation's signing key, and the keys trusted here"
    keys = sub.add_parser("keys", help=keys_help, description=keys_help)
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", parser_class=_Parser)
    keys_sub.required = True

    def keys_command(
        name: str, handler: Callable[..., int], help_text: str
    ) -> argparse.ArgumentParser:
        k = keys_sub.add_parser(name, help=help_text, description=help_text)
        k.set_defaults(handler=handler)
        return k

    k = keys_command(
        "show", cmd_keys_show, "this installation's fingerprint, public key and key file"
    )
    k.add_argument("--json", action="store_true")
    k = keys_command("export", cmd_keys_export, "write this installation's enrolment file")
    k.add_argument("--out", required=True, metavar="FILE")
    k.set_defaults(needs_db=False)
    k = keys_command(
        "trust",
        cmd_keys_trust,
        "enrol the key of an enrolment file for services, once its fingerprint is confirmed",
    )
    k.add_argument("file", metavar="FILE")
    k.add_argument("--service", dest="services", action="append", metavar="S")
    k.add_argument("--fingerprint", metavar="F", help="as its owner read it out by phone")
    k = keys_command("list", cmd_keys_list, "the keys this database trusts, and those revoked")
    k.add_argument("--json", action="store_true")
    k = keys_command("revoke", cmd_keys_revoke, "stop believing a key from now on")
    k.add_argument("fingerprint", metavar="F")
    k.add_argument("--reason", required=True, metavar="TEXT")
    keys_command("rotate", cmd_keys_rotate, "make a new key, vouched for by the old one")
    p = command("self-test", cmd_self_test, "check the installation in a temporary folder")
    p.set_defaults(needs_db=False)
    _add_partnership_commands(command)
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


if __name__ == "__main__":
    raise SystemExit(main())
