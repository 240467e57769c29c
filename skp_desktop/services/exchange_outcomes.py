"""What exporting and importing return files give back: the results the command line prints and
the Import page shows (export, import and sync share them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.domain.vocabulary import (
    FAILED_IMPORTS,
    ImportStatus,
)
from skp_desktop.services import trust


@dataclass(frozen=True)
class ExportResult:
    """A return file or template written."""

    path: Path
    kind: str
    service: str
    period: str
    revision: int | None
    payload_sha256: str | None
    signed_by: str | None = None  # this installation's key's fingerprint
    notice: str | None = None  # e.g. that a signing key was made just now and needs enrolling


@dataclass(frozen=True)
class ValueChange:
    """What importing a file would change in one indicator, as people read it."""

    code: str
    old: str
    new: str


@dataclass(frozen=True)
class ImportProblem:
    """One reason a file was refused, located by sheet and cell where there is one."""

    sheet: str | None
    cell: str | None
    message: str


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file (or would happen, in a dry run)."""

    status: str
    file: str
    service: str | None = None
    period: str | None = None
    revision: int | None = None
    reason: str | None = None
    changes: tuple[ValueChange, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[ImportProblem, ...] = ()
    file_sha256: str | None = None
    kind: str | None = None
    modified_cells: tuple[str, ...] = ()
    queries: tuple[tuple[str, str], ...] = ()  # a feedback file's (code, question)
    answers: tuple[tuple[str, str], ...] = ()  # a return file's (code, answer)
    signature: str | None = None  # signed, template or unsigned (trust.SignerVerdict.status)
    signed_by: str | None = None  # the signer's fingerprint
    signer: str | None = None  # the signer's name as enrolled here, or why it was taken unsigned

    @property
    def signature_text(self) -> str:
        """Who signed the file, in words for the Import page; empty when not known."""
        if self.signature == trust.SIGNED:
            return f"signed by {self.signer} ({self.signed_by})"
        if self.signature == trust.TEMPLATE:
            return f"a template issued here, filled in by hand (issued with {self.signed_by})"
        if self.signature == trust.UNSIGNED_TAKEN:
            return f"UNSIGNED, taken because: {self.signer}"
        return ""

    @property
    def failed(self) -> bool:
        return self.status in FAILED_IMPORTS

    @property
    def line(self) -> str:
        """`STATUS<TAB>file<TAB>service period revision`, or the reason for REJECTED."""
        if self.status == ImportStatus.REJECTED:
            detail = self.reason or ""
        else:
            detail = f"{self.service} {self.period} {self.revision}"
        return f"{self.status}\t{self.file}\t{detail}"

    def as_dict(self) -> dict[str, Any]:
        """The outcome as the `--json` output shows it."""
        return {
            "status": self.status,
            "file": self.file,
            "service": self.service,
            "period": self.period,
            "revision": self.revision,
            "reason": self.reason,
            "changes": [{"code": c.code, "old": c.old, "new": c.new} for c in self.changes],
            "warnings": list(self.warnings),
            "problems": [
                {"sheet": p.sheet, "cell": p.cell, "message": p.message} for p in self.problems
            ],
            "sha256": self.file_sha256,
            "kind": self.kind,
            "modified_cells": list(self.modified_cells),
            "queries": [{"code": c, "question": q} for c, q in self.queries],
            "answers": [{"code": c, "answer": a} for c, a in self.answers],
            "signature": self.signature,
            "signed_by": self.signed_by,
            "signer": self.signer,
        }


class ImportStopped(StoreUnavailable):
    """The database could not take a file (disk full, read-only, locked): the batch stopped.

    `outcomes` are the files dealt with before it, each stored whole; `file` is the one that
    was being stored, and is not in the database at all.
    """

    def __init__(self, problem: StoreUnavailable, file: str, outcomes: Sequence[ImportOutcome]):
        done = sum(1 for outcome in outcomes if outcome.status == ImportStatus.ACCEPTED)
        super().__init__(
            f"{problem}\nThe import stopped at {file}, which is not in the database; "
            f"{len(outcomes)} file{'s' if len(outcomes) != 1 else ''} before it "
            f"{'were' if len(outcomes) != 1 else 'was'} dealt with ({done} imported). Run the "
            "same import again once this is put right: files already imported are reported "
            "DUPLICATE."
        )
        self.problem = problem
        self.file = file
        self.outcomes = tuple(outcomes)
