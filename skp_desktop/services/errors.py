"""The errors use cases raise, for the command line, which reaches the rest of the app through
services/ only (docs/architecture.md); they are domain's own classes, not copies."""

from __future__ import annotations

from skp_desktop.domain.errors import (
    NotFoundError,
    SkpError,
    StateError,
    StoreUnavailable,
    TamperingDetected,
    ValidationError,
)
from skp_desktop.store.engine import RuleRefused

__all__ = [
    "NotFoundError",
    "RuleRefused",
    "SkpError",
    "StateError",
    "StoreUnavailable",
    "TamperingDetected",
    "ValidationError",
]
