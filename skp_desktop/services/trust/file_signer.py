"""Judging who signed a return, a feedback file or a filled template at import: believed
(SIGNED, TEMPLATE, or UNSIGNED_TAKEN with the coordinator's reason) or refused in words a
coordinator understands; a valid rotation from a key trusted here is recorded on the way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.excel.file_signature import BROKEN, UNSIGNED, FileSignature
from skp_desktop.excel.rejection import RejectedFile, problem
from skp_desktop.services.trust.key_rows import (
    ROLE_COORDINATOR,
    ROLE_OWN,
    ROLE_SERVICE,
    TrustedKey,
    as_trusted_key,
    find_key,
    iso,
    rotate_key,
)
from skp_desktop.store.models import Service

# How a stored revision's file was signed (return_signatures.status).
SIGNED, TEMPLATE, UNSIGNED_TAKEN = "signed", "template", "unsigned"


@dataclass(frozen=True)
class SignerVerdict:
    """Whom a file is believed to come from: SIGNED (by `fingerprint`), TEMPLATE (a template
    this database issued: its values were typed into it) or UNSIGNED_TAKEN (`note` says why)."""

    status: str
    fingerprint: str | None = None
    name: str | None = None
    note: str | None = None
    rotated_from: str | None = None

    @property
    def describe(self) -> str:
        """In words, for the import's audit event and the Import page."""
        if self.status == SIGNED:
            return f"signed by {self.fingerprint} ({self.name})"
        if self.status == TEMPLATE:
            return (
                f"entered in a template issued here (signed by {self.fingerprint}), not signed "
                "by the service"
            )
        return f"UNSIGNED, taken because: {self.note}"


UNSIGNED_REASON = (
    "not signed: the file carries no signature (it was made by an older SKP Returns, or its "
    "signature was cut out). Ask for the file as SKP Returns exports it now; if you know where "
    "it came from, import it with --accept-unsigned --reason TEXT"
)
BROKEN_REASON = "the signature does not match the file: it was changed after it was signed"


def refuse(message: str) -> RejectedFile:
    return RejectedFile([problem(message)])


def _names(session: Session, codes: Iterable[str]) -> str:
    known = dict(session.execute(select(Service.code, Service.name)).all())
    return " and ".join(known.get(code, code) for code in codes) or "no service"


@dataclass
class KeyCache:
    """Keys read once per import batch; forgotten whenever a file's transaction changed them."""

    rows: dict[str, TrustedKey | None] = field(default_factory=dict)

    def get(self, session: Session, fp: str) -> TrustedKey | None:
        if fp not in self.rows:
            row = find_key(session, fp)
            self.rows[fp] = None if row is None else as_trusted_key(row)
        return self.rows[fp]


def judge_file_signature(
    session: Session,
    signature: FileSignature,
    *,
    kind: str,
    service: str,
    service_name: str,
    accept_unsigned: str | None,
    actor: str,
    dry_run: bool,
    cache: KeyCache | None = None,
) -> SignerVerdict:
    """Whether a return, feedback file or filled template is believed, or RejectedFile saying
    why in words a coordinator understands. A valid rotation from a key trusted here is
    recorded (unless `dry_run`) in the caller's transaction."""
    cache = cache or KeyCache()
    if signature.status == UNSIGNED:
        if accept_unsigned:
            return SignerVerdict(UNSIGNED_TAKEN, note=accept_unsigned)
        raise refuse(UNSIGNED_REASON)
    if signature.status == BROKEN:
        raise refuse(BROKEN_REASON)
    assert signature.signed_by is not None
    fp = signature.signed_by
    key = cache.get(session, fp)
    rotated_from = None
    if key is None and signature.rotation is not None:
        old = find_key(session, signature.rotation.old_fingerprint)
        if old is not None and old.revoked_at is None:
            rotated_from = old.fingerprint
            if dry_run:
                key = TrustedKey(
                    fp,
                    old.name,
                    old.role,
                    tuple(s.service for s in old.services),
                    datetime.now(UTC),
                    actor,
                    None,
                    None,
                    None,
                )
            else:
                assert signature.public_key is not None
                key = as_trusted_key(
                    rotate_key(
                        session,
                        old,
                        signature.public_key,
                        actor=actor,
                        at=datetime.now(UTC),
                        how="a file signed by the new key",
                    )
                )
                cache.rows.clear()
    if kind == "template" and (key is None or key.role != ROLE_OWN):
        who = f"{fp}, {key.name}" if key is not None else f"{fp}, a key unknown here"
        raise refuse(
            f"the template was not issued by this database (it is signed by {who}): fill in "
            f"a template made here for {service_name}"
        )
    if key is None:
        raise refuse(
            f"signed by a key nobody here has enrolled: fingerprint {fp}. If it is "
            f"{service_name}'s, confirm the fingerprint with them by phone and enrol it "
            "(keys trust), then import the file again"
        )
    if key.revoked_at is not None:
        if key.replaced_by:
            raise refuse(
                f"signed by a key that was replaced on {iso(key.revoked_at)} by "
                f"{key.replaced_by}: fingerprint {fp}. Ask for the file again, signed by the "
                "new key"
            )
        raise refuse(
            f"signed by a key revoked on {iso(key.revoked_at)} ({key.revoke_reason}): "
            f"fingerprint {fp}"
        )
    if kind == "template":
        return SignerVerdict(TEMPLATE, fp, key.name)
    if kind == "feedback":
        if key.role not in (ROLE_OWN, ROLE_COORDINATOR):
            raise refuse(
                f"feedback must be signed by the coordinator's key, and this file is signed by "
                f"{fp} ({key.name}), which is not the coordinator's key pinned here"
            )
        return SignerVerdict(SIGNED, fp, key.name, rotated_from=rotated_from)
    if key.role == ROLE_OWN or (key.role == ROLE_SERVICE and service in key.services):
        return SignerVerdict(SIGNED, fp, key.name, rotated_from=rotated_from)
    if key.role == ROLE_COORDINATOR:
        enrolled_for = "the coordinator's definitions packs and feedback"
    else:
        enrolled_for = _names(session, key.services)
    raise refuse(
        f"signed by a key enrolled for {enrolled_for}, not {service_name}: fingerprint {fp} "
        f"({key.name})"
    )
