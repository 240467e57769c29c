"""A key as the database stores it (`signing_keys`), shared by the modules of trust/: its
roles, the key as `keys list` shows it, its state as audit events record it, adding a key
and a rotation putting a new key in an old one's place."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.signatures import encode_bytes, fingerprint
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import SigningKey as KeyRow
from skp_desktop.store.models import SigningKeyService

# Every audit action trust/ records: the one place they are named (the server's rules on
# which role may append which action list them too).
TRUST_ACTIONS = (
    AuditAction.KEY_TRUST,
    AuditAction.KEY_REVOKE,
    AuditAction.KEY_ROTATE,
    AuditAction.KEY_PIN,
)

ROLE_OWN, ROLE_SERVICE, ROLE_COORDINATOR = "own", "service", "coordinator"


@dataclass(frozen=True)
class TrustedKey:
    """A key this database knows, as `keys list` shows it."""

    fingerprint: str
    name: str
    role: str
    services: tuple[str, ...]
    trusted_at: datetime
    trusted_by: str
    revoked_at: datetime | None
    revoke_reason: str | None
    replaced_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "name": self.name,
            "role": self.role,
            "services": list(self.services),
            "trusted_at": iso(self.trusted_at),
            "trusted_by": self.trusted_by,
            "revoked_at": iso(self.revoked_at),
            "revoke_reason": self.revoke_reason,
            "replaced_by": self.replaced_by,
        }

    @property
    def trusted_for(self) -> str:
        """What the key may sign, in words."""
        if self.role == ROLE_OWN:
            return "every service, templates, feedback and packs"
        if self.role == ROLE_COORDINATOR:
            return "the coordinator: definitions packs and feedback"
        return ", ".join(self.services) or "no service"


def iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def as_trusted_key(row: KeyRow) -> TrustedKey:
    return TrustedKey(
        fingerprint=row.fingerprint,
        name=row.name,
        role=row.role,
        services=tuple(item.service for item in row.services),
        trusted_at=row.trusted_at,
        trusted_by=row.trusted_by,
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
        replaced_by=row.replaced_by,
    )


def find_key(session: Session, fp: str) -> KeyRow | None:
    return session.scalar(select(KeyRow).where(KeyRow.fingerprint == fp))


def describe_trust(row: KeyRow) -> str:
    if row.revoked_at is not None:
        return f"revoked: {row.revoke_reason or ''}".strip()
    return as_trusted_key(row).trusted_for


def key_state(row: KeyRow) -> dict[str, Any]:
    """A key as its audit events record it (and `verify` replays it)."""
    return {
        "fingerprint": row.fingerprint,
        "public_key": row.public_key,
        "name": row.name,
        "role": row.role,
        "services": sorted(item.service for item in row.services),
        "revoked": row.revoked_at is not None,
        "replaced_by": row.replaced_by,
    }


def state_json(row: KeyRow, **extra: Any) -> str:
    return json.dumps({**key_state(row), **extra}, sort_keys=True, separators=(",", ":"))


def add_key(
    session: Session,
    *,
    public_key: bytes,
    name: str,
    role: str,
    services: Iterable[str],
    actor: str,
    at: datetime,
) -> KeyRow:
    row = KeyRow(
        fingerprint=fingerprint(public_key),
        public_key=encode_bytes(public_key),
        name=name[:200],
        role=role,
        trusted_at=at,
        trusted_by=actor,
    )
    row.services = [SigningKeyService(service=code) for code in sorted(set(services))]
    session.add(row)
    session.flush()
    return row


def rotate_key(
    session: Session, old: KeyRow, new_public_key: bytes, *, actor: str, at: datetime, how: str
) -> KeyRow:
    """The new key takes the old one's place (role and services); the old one is retired."""
    new_fp = fingerprint(new_public_key)
    row = add_key(
        session,
        public_key=new_public_key,
        name=old.name,
        role=old.role,
        services=[item.service for item in old.services],
        actor=actor,
        at=at,
    )
    old.revoked_at, old.revoked_by = at, actor
    old.revoke_reason = f"replaced by {new_fp} (key rotation)"
    old.replaced_by = new_fp
    session.flush()
    append_event(
        session,
        actor=actor,
        action=AuditAction.KEY_ROTATE,
        old=state_json(old),
        new=state_json(row, replaces=old.fingerprint),
        reason=f"a rotation signed by {old.fingerprint} names {new_fp}",
        source=how,
        at=at,
    )
    return row
