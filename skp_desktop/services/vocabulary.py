"""The program's vocabulary (return states, import statuses, audit actions) for the command
line, which reaches the rest of the app through services/ only (docs/architecture.md); these
are domain/vocabulary.py's own enums, not copies."""

from __future__ import annotations

from skp_desktop.domain.vocabulary import (
    NOT_STARTED,
    AuditAction,
    ImportStatus,
    PackStatus,
    ReturnState,
    Step,
    allows,
)

__all__ = [
    "NOT_STARTED",
    "AuditAction",
    "ImportStatus",
    "PackStatus",
    "ReturnState",
    "Step",
    "allows",
]
