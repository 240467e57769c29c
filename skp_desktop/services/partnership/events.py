"""What the audit events of partnership/ share: the service actions, named once, and the
canonical JSON their old and new values are recorded in."""

from __future__ import annotations

import json
from typing import Any

from skp_desktop.domain.vocabulary import AuditAction

SERVICE_ACTIONS = (
    AuditAction.SERVICE_ADD,
    AuditAction.SERVICE_RENAME,
    AuditAction.SERVICE_RETIRE,
    AuditAction.SERVICE_FORM,
)


def canonical_json(data: Any) -> str:
    """Canonical JSON (sorted keys, no spaces), as audit events record old and new."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
