"""Judging a definitions pack's signer: this installation's key or the coordinator's key pinned
here (or a rotation it signed); the first pack a database imports pins its signer once the
fingerprint, confirmed out of band, is given."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.signatures import normalise_fingerprint
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.excel.file_signature import BROKEN, UNSIGNED, FileSignature
from skp_desktop.excel.rejection import RejectedFile, problem
from skp_desktop.services.trust.file_signer import BROKEN_REASON, SIGNED, SignerVerdict, refuse
from skp_desktop.services.trust.key_rows import (
    ROLE_COORDINATOR,
    ROLE_OWN,
    add_key,
    find_key,
    iso,
    rotate_key,
    state_json,
)
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import SigningKey as KeyRow


class PinNeeded(RejectedFile):
    """A pack signed by a key this database could pin as the coordinator's, once confirmed."""


def judge_pack_signature(
    session: Session,
    signature: FileSignature,
    *,
    pin: str | None,
    actor: str,
    dry_run: bool,
) -> tuple[SignerVerdict, str | None]:
    """Whether a definitions pack is the coordinator's: signed by this installation's key or
    the pinned coordinator key (or a rotation it signed). With no key pinned yet, the pack's
    key is pinned when `pin` (the fingerprint confirmed out of band) names it. Returns the
    verdict and what was done about trust, in words; RejectedFile when refused."""
    if signature.status == UNSIGNED:
        raise refuse(
            "not signed: a definitions pack must be signed by the coordinator (it was made by an "
            "older SKP Returns, or its signature was cut out): ask the coordinator for the pack "
            "again"
        )
    if signature.status == BROKEN:
        raise refuse(BROKEN_REASON)
    assert signature.signed_by is not None and signature.public_key is not None
    fp = signature.signed_by
    if pin is not None and normalise_fingerprint(pin) != fp:
        raise refuse(
            f"the pack is signed by {fp}, not by the fingerprint given ({pin}): it is not the "
            "coordinator's pack, or the fingerprint was misheard. Nothing was imported"
        )
    row = find_key(session, fp)
    if row is not None and row.revoked_at is None and row.role in (ROLE_OWN, ROLE_COORDINATOR):
        return SignerVerdict(SIGNED, fp, row.name), None
    if row is not None and row.revoked_at is not None:
        raise refuse(
            f"the pack is signed by a key revoked on {iso(row.revoked_at)} "
            f"({row.revoke_reason}): fingerprint {fp}"
        )
    pinned = session.scalar(
        select(KeyRow).where(KeyRow.role == ROLE_COORDINATOR, KeyRow.revoked_at.is_(None))
    )
    rotation = signature.rotation
    if pinned is not None:
        if rotation is not None and rotation.old_fingerprint == pinned.fingerprint:
            if not dry_run:
                rotate_key(
                    session,
                    pinned,
                    signature.public_key,
                    actor=actor,
                    at=datetime.now(UTC),
                    how="a definitions pack signed by the new key",
                )
            return (
                SignerVerdict(SIGNED, fp, pinned.name, rotated_from=pinned.fingerprint),
                f"the coordinator's key {pinned.fingerprint} was replaced by {fp}, as a rotation "
                "signed by the pinned key says",
            )
        raise refuse(
            f"the pack is signed by {fp}, not by the coordinator's key pinned here "
            f"({pinned.fingerprint}, {pinned.name}): it is not from the coordinator. If the "
            "coordinator really has a new key, they send a rotation signed by the old one"
        )
    if pin is None:
        raise PinNeeded(
            [
                problem(
                    f"the pack is signed by {fp}, and this database has not pinned the "
                    "coordinator's key yet: confirm that fingerprint with the coordinator by "
                    "phone, then import the pack with --fingerprint (in the app: Definitions, "
                    "Import pack…, which asks)"
                )
            ]
        )
    name = "the coordinator"
    if not dry_run:
        now = datetime.now(UTC)
        pinned = add_key(
            session,
            public_key=signature.public_key,
            name=name,
            role=ROLE_COORDINATOR,
            services=(),
            actor=actor,
            at=now,
        )
        append_event(
            session,
            actor=actor,
            action=AuditAction.KEY_PIN,
            new=state_json(pinned),
            reason=f"fingerprint {fp} confirmed with the coordinator; pinned on the first pack",
            at=now,
        )
    return SignerVerdict(SIGNED, fp, name), f"pinned the coordinator's key {fp}"
