"""The program's vocabulary (domain/vocabulary.py) is stated once and used everywhere: the
workflow's rules, the strings stored, and the server's list of who may record each action."""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
from pathlib import Path

import pytest

from skp_desktop.domain.vocabulary import (
    MISSING,
    NOT_DUE,
    NOT_STARTED,
    PACK_FILE_STATUS,
    AuditAction,
    ImportStatus,
    PackStatus,
    ReturnState,
    Step,
    allows,
)

PACKAGE = Path(__file__).parents[2] / "skp_desktop"
VOCABULARY = PACKAGE / "domain" / "vocabulary.py"
MIGRATIONS = PACKAGE / "store" / "migrations" / "versions"


def test_members_are_the_strings_stored_and_written() -> None:
    # A member is its string: compared with a stored value, in JSON and in messages.
    assert ReturnState.DRAFT == "draft"
    assert json.dumps({"state": ReturnState.SUBMITTED}) == '{"state": "submitted"}'
    assert f"{AuditAction.VALUE_SET}" == "value.set"
    assert ReturnState("accepted") is ReturnState.ACCEPTED
    assert "returned" in frozenset(ReturnState)
    assert ImportStatus("REJECTED") is ImportStatus.REJECTED


@pytest.mark.parametrize(
    ("state", "steps"),
    [
        (NOT_STARTED, {Step.EDIT}),
        (ReturnState.DRAFT, {Step.EDIT, Step.SUBMIT}),
        (ReturnState.SUBMITTED, {Step.REOPEN, Step.EXPORT, Step.REVIEW}),
        (ReturnState.ACCEPTED, {Step.REOPEN, Step.EXPORT}),
        (ReturnState.RETURNED, {Step.REOPEN, Step.EXPORT_FEEDBACK}),
        (MISSING, set()),
        (None, set()),
    ],
)
def test_each_state_allows_what_the_workflow_says(state: str | None, steps: set[Step]) -> None:
    assert {step for step in Step if allows(state, step)} == steps
    if state in set(ReturnState):
        assert {step for step in Step if ReturnState(state).allows(step)} == steps


def _server_rules_actions() -> list[str]:
    """The actions migrations list in ACTION_ROLES (0006, and any later one that adds rows)."""
    listed = []
    for path in sorted(MIGRATIONS.glob("0*.py")):
        spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        listed += [action for action, _roles, _rule in getattr(module, "ACTION_ROLES", ())]
    return listed


def test_the_server_says_who_may_record_every_action_the_program_records() -> None:
    # An action missing from the server's table is refused on PostgreSQL to everyone but the
    # owner; one listed twice would fail the INSERT.
    listed = _server_rules_actions()
    assert len(listed) == len(set(listed))
    assert set(listed) == set(AuditAction)


def _audit_literals(tree: ast.Module) -> list[tuple[int, str]]:
    """Each audit action's string written as a literal (docstrings may name them)."""
    words = {member.value for member in AuditAction}
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in words
        and id(node) not in docstrings
    ]


@functools.cache
def _scanned() -> list[tuple[Path, list[tuple[int, str]], list[tuple[int, str]]]]:
    """Every module of the program but the vocabulary itself, parsed once for both checks:
    (path, audit action literals, compared state literals). The trees are not kept: a quarter
    of a million nodes alive to the end of the run slow every later garbage collection."""
    scanned = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != VOCABULARY:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            scanned.append((path, _audit_literals(tree), _compared_literals(tree)))
    return scanned


def _literals_outside_the_vocabulary() -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)}:{line}: {word!r}"
        for path, audit_literals, _compared in _scanned()
        for line, word in audit_literals
    ]


def test_every_audit_action_the_code_records_is_named_from_the_vocabulary() -> None:
    assert _literals_outside_the_vocabulary() == []


# The words a state or status is stored as, which code compares by member, never by literal.
STATE_WORDS = {
    *(member.value for member in (*ReturnState, *ImportStatus, *PackStatus)),
    MISSING,
    NOT_DUE,
    NOT_STARTED,
    PACK_FILE_STATUS,
}


def _compared_literals(tree: ast.Module) -> list[tuple[int, str]]:
    """`x == "draft"`, `status != "IMPORTED"`, `state in ("missing", "draft")`: each state or
    status word compared as a literal (words shown to people are not comparisons)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                items = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                found += [
                    (node.lineno, item.value)
                    for item in items
                    if isinstance(item, ast.Constant) and item.value in STATE_WORDS
                ]
    return found


def test_states_and_statuses_are_compared_by_their_members() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {word!r}"
        for path, _audit, compared_literals in _scanned()
        if MIGRATIONS not in path.parents  # migrations stay frozen
        for line, word in compared_literals
    ]
    assert found == []


def test_the_comparison_check_would_catch_a_literal() -> None:
    source = 'if view.state == "draft" or status in ("REJECTED", "x") or "draft" != s: pass'
    assert _compared_literals(ast.parse(source)) == [(1, "draft"), (1, "REJECTED"), (1, "draft")]
    shown = 'label = "draft"; ok = state == ReturnState.DRAFT'
    assert _compared_literals(ast.parse(shown)) == []
