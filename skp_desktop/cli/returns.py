"""A service manager's return: enter, show, submit, reopen, answer."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import Any

from skp_desktop.cli.common import (
    RETURN,
    UsageError,
    entries,
    pairs,
    print_json,
    print_table,
    returns,
    review,
)
from skp_desktop.cli.registry import EXIT_OK, arg, command
from skp_desktop.services.database import Database
from skp_desktop.services.dto import ReturnView, plain_figure


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
    print_table(
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


@command(
    "enter",
    "record values in the draft return (all or nothing)",
    *RETURN,
    arg("--reason"),
    arg("--comment", action="append", metavar="CODE=TEXT"),
    arg(
        "values", nargs="*", metavar="CODE=VALUE", help="a number, NUM/DEN for rates, or [x] / [z]"
    ),
)
def cmd_enter(args: argparse.Namespace, db: Database) -> int:
    changes = []
    for item in args.values:
        code, sep, text = item.partition("=")
        if not sep or not code.strip():
            raise UsageError(f"values are given as CODE=VALUE, got '{item}'")
        changes.append(
            entries.EntryChange(code.strip().upper(), entries.parse_command_line_value(text))
        )
    for code, text in pairs(args.comment, "--comment").items():
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


@command(
    "show",
    "show a return with RAG, direction of travel and checks",
    *RETURN,
    arg("--json", action="store_true"),
)
def cmd_show(args: argparse.Namespace, db: Database) -> int:
    view = returns.get_return(db, args.service, args.period)
    if args.json:
        print_json(_return_rows(view))
    else:
        _print_return(view)
    return EXIT_OK


@command(
    "submit",
    "check and lock the draft revision",
    *RETURN,
    arg("--explain", action="append", metavar="CODE=TEXT"),
)
def cmd_submit(args: argparse.Namespace, db: Database) -> int:
    view = returns.submit_return(
        db,
        service=args.service,
        period=args.period,
        actor=args.actor,
        explanations=pairs(args.explain, "--explain"),
    )
    print(f"Submitted {view.service.code} {view.period} revision {view.revision}.")
    return EXIT_OK


@command("reopen", "start the next revision as a draft", *RETURN, arg("--reason", required=True))
def cmd_reopen(args: argparse.Namespace, db: Database) -> int:
    view = returns.reopen_return(
        db, service=args.service, period=args.period, reason=args.reason, actor=args.actor
    )
    print(f"Reopened {view.service.code} {view.period} as revision {view.revision} (draft).")
    return EXIT_OK


@command(
    "answer",
    "answer the coordinator's queries in the draft of the next revision (all or nothing)",
    *RETURN,
    arg("answers", nargs="*", metavar="CODE=TEXT", help="the answer to CODE's query"),
)
def cmd_answer(args: argparse.Namespace, db: Database) -> int:
    answers = pairs(args.answers, "answer")
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
