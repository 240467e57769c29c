"""Which keys this database trusts: this installation's own at `init`, a service's key enrolled
(`keys trust`), listed (`keys list`) and revoked (`keys revoke`); and every key as `verify`
compares it with its audit events."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.domain.signatures import decode_bytes, normalise_fingerprint
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.trust.enrolment import read_enrolment
from skp_desktop.services.trust.key_rows import (
    ROLE_OWN,
    ROLE_SERVICE,
    TrustedKey,
    add_key,
    as_trusted_key,
    describe_trust,
    find_key,
    iso,
    key_state,
    rotate_key,
    state_json,
)
from skp_desktop.services.trust.own_key import installation_key
from skp_desktop.store.audit import append_event
from skp_desktop.store.engine import Database
from skp_desktop.store.models import Service, SigningKeyService
from skp_desktop.store.models import SigningKey as KeyRow


def list_keys(db: Database) -> list[TrustedKey]:
    """Every key this database knows, oldest first."""
    with db.reading() as session:
        return [as_trusted_key(row) for row in session.scalars(select(KeyRow).order_by(KeyRow.id))]


def _service_codes(session: Session, given: Sequence[str]) -> list[str]:
    known = dict(session.execute(select(Service.code, Service.name)).all())
    codes = [code.strip().upper() for code in given]
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise NotFoundError(
            f"Unknown service {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return codes


def enrol_installation_key(db: Database, *, actor: str) -> TrustedKey | None:
    """Enrol this installation's key for every service on a database that trusts no key yet,
    so that its own exports import here; None when it already trusts some key."""
    with db.transaction() as session:
        if session.scalar(select(KeyRow.id).limit(1)) is not None:
            return None
        own = installation_key()
        codes = list(session.scalars(select(Service.code)))
        now = datetime.now(UTC)
        row = add_key(
            session,
            public_key=own.key.public_key,
            name=f"this installation ({actor})",
            role=ROLE_OWN,
            services=codes,
            actor=actor,
            at=now,
        )
        append_event(
            session,
            actor=actor,
            action=AuditAction.KEY_TRUST,
            new=state_json(row),
            reason="this installation's own key, enrolled when the database was made",
            source=f"key file {own.path.name}",
            at=now,
        )
        return as_trusted_key(row)


def trust_key(
    db: Database,
    path: str | os.PathLike[str],
    *,
    services: Sequence[str],
    fingerprint_given: str | None,
    actor: str,
) -> tuple[TrustedKey, str]:
    """Enrol the key of an enrolment file for `services`, once its fingerprint, confirmed out
    of band, is given; a file whose rotation is signed by a key held here needs neither: the
    new key takes the old one's place. Returns the key and what was done, in words."""
    enrolment = read_enrolment(path)
    now = datetime.now(UTC)
    with db.transaction() as session:
        existing = find_key(session, enrolment.fingerprint)
        if existing is not None and existing.revoked_at is not None:
            raise StateError(
                f"The key {enrolment.fingerprint} was revoked on {iso(existing.revoked_at)} "
                f"({existing.revoke_reason}): a revoked key is never trusted again. Ask for a "
                "new key (keys rotate, or a new installation) and enrol that."
            )
        old = find_key(session, enrolment.rotation.old_fingerprint) if enrolment.rotation else None
        if fingerprint_given is None and not services:
            if existing is not None:
                return as_trusted_key(existing), "already enrolled: nothing changed"
            if enrolment.rotation is None or old is None or old.revoked_at is not None:
                raise ValidationError(
                    f"{Path(path).name} is a new key ({enrolment.fingerprint}, "
                    f"{enrolment.name}), not a rotation of a key enrolled here: confirm its "
                    "fingerprint with its owner by phone and give it with --fingerprint, and "
                    "the services it signs for with --service"
                )
            row = rotate_key(session, old, enrolment.public_key, actor=actor, at=now, how="file")
            return as_trusted_key(
                row
            ), f"replaces {old.fingerprint} (a rotation signed by the old key)"
        if fingerprint_given is None:
            raise ValidationError(
                "--fingerprint is needed: confirm the key's fingerprint with its owner by "
                "phone, then give it"
            )
        if normalise_fingerprint(fingerprint_given) != enrolment.fingerprint:
            raise ValidationError(
                f"the fingerprint given, {fingerprint_given}, is not the fingerprint of the key "
                f"in {Path(path).name} ({enrolment.fingerprint}): the file is not the one its "
                "owner made, or the fingerprint was misheard. Nothing was enrolled."
            )
        if not services:
            raise ValidationError("--service is needed: the services this key signs returns for")
        codes = _service_codes(session, services)
        if existing is not None:
            if existing.role != ROLE_SERVICE:
                raise StateError(
                    f"The key {existing.fingerprint} is {describe_trust(existing)} here already."
                )
            added = sorted(set(codes) - {item.service for item in existing.services})
            if not added:
                return as_trusted_key(
                    existing
                ), "already enrolled for those services: nothing changed"
            existing.services += [SigningKeyService(service=code) for code in added]
            session.flush()
            row, done = existing, f"now also enrolled for {', '.join(added)}"
        else:
            row = add_key(
                session,
                public_key=enrolment.public_key,
                name=enrolment.name,
                role=ROLE_SERVICE,
                services=codes,
                actor=actor,
                at=now,
            )
            done = f"enrolled for {', '.join(sorted(set(codes)))}"
        append_event(
            session,
            actor=actor,
            action=AuditAction.KEY_TRUST,
            new=state_json(row),
            reason=f"fingerprint {enrolment.fingerprint} confirmed by the coordinator",
            source=f"enrolment file {Path(path).name}",
            at=now,
        )
        return as_trusted_key(row), done


def revoke_key(db: Database, fp: str, *, reason: str, actor: str) -> TrustedKey:
    """Stop believing a key: files it signs are refused from now on (kept ones stay)."""
    if not reason.strip():
        raise ValidationError("--reason is needed: say why the key is revoked")
    wanted = normalise_fingerprint(fp)
    with db.transaction() as session:
        row = find_key(session, wanted)
        if row is None:
            raise NotFoundError(f"No key with fingerprint {fp} is known here (see keys list).")
        if row.revoked_at is not None:
            raise StateError(
                f"The key {row.fingerprint} was already revoked on {iso(row.revoked_at)}."
            )
        now = datetime.now(UTC)
        row.revoked_at, row.revoked_by, row.revoke_reason = now, actor, reason.strip()
        session.flush()
        append_event(
            session,
            actor=actor,
            action=AuditAction.KEY_REVOKE,
            new=state_json(row),
            reason=reason.strip(),
            at=now,
        )
        return as_trusted_key(row)


def held_trust(session: Session) -> dict[str, dict[str, Any]]:
    """Every key as its audit events would record it, by fingerprint (for `verify`)."""
    return {row.fingerprint: key_state(row) for row in session.scalars(select(KeyRow))}


def public_keys(session: Session) -> Mapping[str, bytes]:
    """Every key's public bytes by fingerprint (for `verify`)."""
    found = {}
    for fp, text in session.execute(select(KeyRow.fingerprint, KeyRow.public_key)):
        raw = decode_bytes(text)
        if raw is not None:
            found[fp] = raw
    return found
