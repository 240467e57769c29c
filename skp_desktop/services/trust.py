"""Keys and trust: this installation's signing key, enrolment files, and which keys a
database believes for what (issue 16).

The private key lives in one file in the user's data folder (`keys/signing-key.pem`, or
`$SKP_KEY_DIR`), readable by the user only; it is never put in a database, a backup, a sync,
an export or a log. A database holds public keys only, in `signing_keys`:

- `own`: this installation's key, enrolled when the database was made; it signs for every
  service, and the templates, feedback files and definitions packs this database issues.
- `service`: a key the coordinator enrolled (`keys trust`) for the services it may sign for.
- `coordinator`: the coordinator's key, pinned on a service's database by its first pack.

Every change of trust is an audit event (TRUST_ACTIONS) that `verify` replays.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.domain.signatures import (
    SigningKey,
    decode_bytes,
    encode_bytes,
    fingerprint,
    normalise_fingerprint,
    signed_text,
    verify_signature,
)
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.excel.file_signature import (
    BROKEN,
    UNSIGNED,
    FileSignature,
    KeyRotation,
    Signer,
    make_rotation,
    read_rotation,
)
from skp_desktop.excel.rejection import RejectedFile, problem
from skp_desktop.locations import user_data_dir
from skp_desktop.store.audit import append_event
from skp_desktop.store.engine import Database
from skp_desktop.store.models import Service, SigningKeyService
from skp_desktop.store.models import SigningKey as KeyRow

# Every audit action this module records: the one place they are named (the server's rules on
# which role may append which action list them too).
TRUST_ACTIONS = (
    AuditAction.KEY_TRUST,
    AuditAction.KEY_REVOKE,
    AuditAction.KEY_ROTATE,
    AuditAction.KEY_PIN,
)

ROLE_OWN, ROLE_SERVICE, ROLE_COORDINATOR = "own", "service", "coordinator"
KEY_FILE_NAME = "signing-key.pem"
ROTATION_FILE_NAME = "key-rotation.json"  # the statement the previous key signed, if rotated
ENROLMENT_FORMAT = "skp-key"
ENROLMENT_LIMIT = 64 * 1024  # an enrolment file is a few hundred bytes

# How a stored revision's file was signed (return_signatures.status).
SIGNED, TEMPLATE, UNSIGNED_TAKEN = "signed", "template", "unsigned"


# --- this installation's key ------------------------------------------------------------


_FOLDER_FOR_NOW: list[Path] = []  # key_folder_for_now's folder, while it lasts


@contextlib.contextmanager
def key_folder_for_now(folder: Path) -> Iterator[Path]:
    """Use the key in `folder` for a while (the self-test's throwaway key)."""
    _FOLDER_FOR_NOW.append(folder)
    try:
        yield folder
    finally:
        _FOLDER_FOR_NOW.remove(folder)


def key_folder() -> Path:
    """Where the private key lives: `$SKP_KEY_DIR`, else `keys/` in the user data folder."""
    if _FOLDER_FOR_NOW:
        return _FOLDER_FOR_NOW[-1]
    given = os.environ.get("SKP_KEY_DIR", "").strip()
    return Path(given) if given else user_data_dir() / "keys"


def key_file() -> Path:
    return key_folder() / KEY_FILE_NAME


@dataclass(frozen=True)
class InstallationKey:
    """This installation's key, where it is kept, and whether it was made just now."""

    key: SigningKey
    path: Path
    made_now: bool
    rotation: str | None = None  # the previous key's statement naming this one

    @property
    def signer(self) -> Signer:
        return Signer(self.key, self.rotation)

    @property
    def notice(self) -> str | None:
        """What to tell the user when the key was made just now."""
        if not self.made_now:
            return None
        return (
            f"A signing key was made for this computer (fingerprint {self.key.fingerprint}), "
            f"kept in {self.path}. The coordinator must enrol it before files signed with it "
            "are accepted: run `skp-returns keys export --out my-key.skpkey`, send that file, "
            "and read them the fingerprint over the phone. Files signed with an earlier key "
            "stay valid."
        )


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (0600), atomically, never over a stranger's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder not ours (SKP_KEY_DIR): the file is 0600
        path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def installation_key(*, create: bool = True) -> InstallationKey:
    """This installation's key, made on first use; StateError when the file is unusable."""
    path = key_file()
    rotation_path = path.with_name(ROTATION_FILE_NAME)
    if path.exists():
        try:
            key = SigningKey.from_pem(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise StateError(
                f"The signing key {path} cannot be read ({exc.__class__.__name__}). Move the "
                "file away and run the command again: a new key is made, which the coordinator "
                "must enrol; files signed before stay valid."
            ) from None
        rotation = rotation_path.read_text("utf-8") if rotation_path.exists() else None
        if rotation is not None:
            parsed = read_rotation(rotation)
            rotation = rotation if parsed and parsed.new_fingerprint == key.fingerprint else None
        return InstallationKey(key, path, made_now=False, rotation=rotation)
    if not create:
        raise NotFoundError(f"There is no signing key at {path} yet.")
    key = SigningKey.generate()
    _write_private(path, key.to_pem())
    rotation_path.unlink(missing_ok=True)
    return InstallationKey(key, path, made_now=True)


@dataclass(frozen=True)
class KeyInfo:
    """What `keys show` prints."""

    fingerprint: str
    public_key: str
    key_file: str
    made_now: bool
    enrolled_here: str | None = None  # how this database trusts it, if it does

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "key_file": self.key_file,
            "enrolled_here": self.enrolled_here,
        }


def show_key(db: Database | None = None) -> KeyInfo:
    """This installation's key (made now if there is none) and how `db` trusts it."""
    own = installation_key()
    enrolled = None
    if db is not None:
        with db.reading() as session:
            row = _row(session, own.key.fingerprint)
            if row is not None:
                enrolled = _describe_trust(row)
    return KeyInfo(
        own.key.fingerprint, encode_bytes(own.key.public_key), str(own.path), own.made_now, enrolled
    )


# --- enrolment files ---------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """A public key as an enrolment file gives it, its self-signature checked."""

    name: str
    public_key: bytes
    fingerprint: str
    made_at: str
    rotation: KeyRotation | None = None


def _enrolment_fields(
    name: str, public_key: bytes, made_at: str, rotation: str | None
) -> dict[str, Any]:
    fields = {
        "format": ENROLMENT_FORMAT,
        "format_version": "1",
        "name": name,
        "fingerprint": fingerprint(public_key),
        "public_key": encode_bytes(public_key),
        "made_at": made_at,
    }
    if rotation:
        fields["key_rotation"] = rotation
    return fields


def export_enrolment(out: str | os.PathLike[str], *, name: str) -> tuple[Path, KeyInfo]:
    """Write this installation's enrolment file: its public key, name and fingerprint, signed
    by the key itself (and, after a rotation, by the key before it)."""
    from skp_desktop.services.output_files import check_output, writing

    target = Path(out)
    check_output(target, what="enrolment file")
    own = installation_key()
    made_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = _enrolment_fields(name, own.key.public_key, made_at, own.rotation)
    fields["signature"] = own.key.sign_fields(fields)
    with writing(target, "enrolment file"):
        target.write_text(json.dumps(fields, indent=2, ensure_ascii=False) + "\n", "utf-8")
    info = KeyInfo(fields["fingerprint"], fields["public_key"], str(own.path), own.made_now)
    return target, info


def read_enrolment(path: str | os.PathLike[str]) -> Enrolment:
    """An enrolment file, checked; ValidationError saying what is wrong with it."""
    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"No such file: {source}")
    if source.stat().st_size > ENROLMENT_LIMIT:
        raise ValidationError(f"{source.name} is too big to be an enrolment file")
    try:
        data = json.loads(source.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise ValidationError(
            f"{source.name} is not an enrolment file: ask for the file `skp-returns keys export` "
            "writes"
        ) from None
    if not isinstance(data, dict) or data.get("format") != ENROLMENT_FORMAT:
        raise ValidationError(f"{source.name} is not an SKP Returns enrolment file")
    if not all(isinstance(value, str) for value in data.values()):
        raise ValidationError(f"{source.name} is damaged: every field must be text")
    public_key = decode_bytes(data.get("public_key"))
    signature = decode_bytes(data.get("signature"))
    if public_key is None or signature is None:
        raise ValidationError(f"{source.name} is damaged: its key or signature is garbled")
    fields = {key: value for key, value in data.items() if key != "signature"}
    if not verify_signature(public_key, signature, signed_text(fields)):
        raise ValidationError(
            f"{source.name} was changed after it was made: its signature does not match"
        )
    if normalise_fingerprint(data.get("fingerprint", "")) != fingerprint(public_key):
        raise ValidationError(f"{source.name} is damaged: its fingerprint is not its key's")
    rotation = None
    if data.get("key_rotation"):
        rotation = read_rotation(data["key_rotation"])
        if rotation is None or rotation.new_fingerprint != fingerprint(public_key):
            raise ValidationError(
                f"{source.name} carries a key rotation that does not verify: it was changed"
            )
    name = (data.get("name") or "").strip()[:200] or "unnamed"
    return Enrolment(name, public_key, fingerprint(public_key), data.get("made_at", ""), rotation)


# --- the trust table ---------------------------------------------------------------------


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
            "trusted_at": _iso(self.trusted_at),
            "trusted_by": self.trusted_by,
            "revoked_at": _iso(self.revoked_at),
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


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def _dto(row: KeyRow) -> TrustedKey:
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


def _row(session: Session, fp: str) -> KeyRow | None:
    return session.scalar(select(KeyRow).where(KeyRow.fingerprint == fp))


def _describe_trust(row: KeyRow) -> str:
    if row.revoked_at is not None:
        return f"revoked: {row.revoke_reason or ''}".strip()
    return _dto(row).trusted_for


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


def _state_json(row: KeyRow, **extra: Any) -> str:
    return json.dumps({**key_state(row), **extra}, sort_keys=True, separators=(",", ":"))


def list_keys(db: Database) -> list[TrustedKey]:
    """Every key this database knows, oldest first."""
    with db.reading() as session:
        return [_dto(row) for row in session.scalars(select(KeyRow).order_by(KeyRow.id))]


def _add_key(
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
        row = _add_key(
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
            new=_state_json(row),
            reason="this installation's own key, enrolled when the database was made",
            source=f"key file {own.path.name}",
            at=now,
        )
        return _dto(row)


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
        existing = _row(session, enrolment.fingerprint)
        if existing is not None and existing.revoked_at is not None:
            raise StateError(
                f"The key {enrolment.fingerprint} was revoked on {_iso(existing.revoked_at)} "
                f"({existing.revoke_reason}): a revoked key is never trusted again. Ask for a "
                "new key (keys rotate, or a new installation) and enrol that."
            )
        old = _row(session, enrolment.rotation.old_fingerprint) if enrolment.rotation else None
        if fingerprint_given is None and not services:
            if existing is not None:
                return _dto(existing), "already enrolled: nothing changed"
            if enrolment.rotation is None or old is None or old.revoked_at is not None:
                raise ValidationError(
                    f"{Path(path).name} is a new key ({enrolment.fingerprint}, "
                    f"{enrolment.name}), not a rotation of a key enrolled here: confirm its "
                    "fingerprint with its owner by phone and give it with --fingerprint, and "
                    "the services it signs for with --service"
                )
            row = _rotate(session, old, enrolment.public_key, actor=actor, at=now, how="file")
            return _dto(row), f"replaces {old.fingerprint} (a rotation signed by the old key)"
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
                    f"The key {existing.fingerprint} is {_describe_trust(existing)} here already."
                )
            added = sorted(set(codes) - {item.service for item in existing.services})
            if not added:
                return _dto(existing), "already enrolled for those services: nothing changed"
            existing.services += [SigningKeyService(service=code) for code in added]
            session.flush()
            row, done = existing, f"now also enrolled for {', '.join(added)}"
        else:
            row = _add_key(
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
            new=_state_json(row),
            reason=f"fingerprint {enrolment.fingerprint} confirmed by the coordinator",
            source=f"enrolment file {Path(path).name}",
            at=now,
        )
        return _dto(row), done


def revoke_key(db: Database, fp: str, *, reason: str, actor: str) -> TrustedKey:
    """Stop believing a key: files it signs are refused from now on (kept ones stay)."""
    if not reason.strip():
        raise ValidationError("--reason is needed: say why the key is revoked")
    wanted = normalise_fingerprint(fp)
    with db.transaction() as session:
        row = _row(session, wanted)
        if row is None:
            raise NotFoundError(f"No key with fingerprint {fp} is known here (see keys list).")
        if row.revoked_at is not None:
            raise StateError(
                f"The key {row.fingerprint} was already revoked on {_iso(row.revoked_at)}."
            )
        now = datetime.now(UTC)
        row.revoked_at, row.revoked_by, row.revoke_reason = now, actor, reason.strip()
        session.flush()
        append_event(
            session,
            actor=actor,
            action=AuditAction.KEY_REVOKE,
            new=_state_json(row),
            reason=reason.strip(),
            at=now,
        )
        return _dto(row)


def _rotate(
    session: Session, old: KeyRow, new_public_key: bytes, *, actor: str, at: datetime, how: str
) -> KeyRow:
    """The new key takes the old one's place (role and services); the old one is retired."""
    new_fp = fingerprint(new_public_key)
    row = _add_key(
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
        old=_state_json(old),
        new=_state_json(row, replaces=old.fingerprint),
        reason=f"a rotation signed by {old.fingerprint} names {new_fp}",
        source=how,
        at=at,
    )
    return row


@dataclass(frozen=True)
class Rotation:
    """What `keys rotate` did."""

    old_fingerprint: str
    new_fingerprint: str
    key_file: str
    replaced_here: bool  # the database's own key was replaced too


def rotate_installation_key(db: Database | None, *, actor: str) -> Rotation:
    """Make a new key for this installation, with a statement signed by the old key naming it
    (carried in every file the new key signs and in its enrolment file), and put it in the old
    key's place on `db` when `db` held the old one as its own."""
    old = installation_key()
    new = SigningKey.generate()
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = make_rotation(old.key, new, at)
    replaced = False
    if db is not None and not db.read_only:
        with db.transaction() as session:
            row = _row(session, old.key.fingerprint)
            if row is not None and row.revoked_at is None:
                _rotate(
                    session,
                    row,
                    new.public_key,
                    actor=actor,
                    at=datetime.now(UTC),
                    how="keys rotate",
                )
                replaced = True
    _write_private(old.path.with_name(ROTATION_FILE_NAME), statement.encode("utf-8"))
    _write_private(old.path, new.to_pem())
    return Rotation(old.key.fingerprint, new.fingerprint, str(old.path), replaced)


# --- judging a file's signature ----------------------------------------------------------


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


class PinNeeded(RejectedFile):
    """A pack signed by a key this database could pin as the coordinator's, once confirmed."""


def _refuse(message: str) -> RejectedFile:
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
            row = _row(session, fp)
            self.rows[fp] = None if row is None else _dto(row)
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
        raise _refuse(UNSIGNED_REASON)
    if signature.status == BROKEN:
        raise _refuse(BROKEN_REASON)
    assert signature.signed_by is not None
    fp = signature.signed_by
    key = cache.get(session, fp)
    rotated_from = None
    if key is None and signature.rotation is not None:
        old = _row(session, signature.rotation.old_fingerprint)
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
                key = _dto(
                    _rotate(
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
        raise _refuse(
            f"the template was not issued by this database (it is signed by {who}): fill in "
            f"a template made here for {service_name}"
        )
    if key is None:
        raise _refuse(
            f"signed by a key nobody here has enrolled: fingerprint {fp}. If it is "
            f"{service_name}'s, confirm the fingerprint with them by phone and enrol it "
            "(keys trust), then import the file again"
        )
    if key.revoked_at is not None:
        if key.replaced_by:
            raise _refuse(
                f"signed by a key that was replaced on {_iso(key.revoked_at)} by "
                f"{key.replaced_by}: fingerprint {fp}. Ask for the file again, signed by the "
                "new key"
            )
        raise _refuse(
            f"signed by a key revoked on {_iso(key.revoked_at)} ({key.revoke_reason}): "
            f"fingerprint {fp}"
        )
    if kind == "template":
        return SignerVerdict(TEMPLATE, fp, key.name)
    if kind == "feedback":
        if key.role not in (ROLE_OWN, ROLE_COORDINATOR):
            raise _refuse(
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
    raise _refuse(
        f"signed by a key enrolled for {enrolled_for}, not {service_name}: fingerprint {fp} "
        f"({key.name})"
    )


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
        raise _refuse(
            "not signed: a definitions pack must be signed by the coordinator (it was made by an "
            "older SKP Returns, or its signature was cut out): ask the coordinator for the pack "
            "again"
        )
    if signature.status == BROKEN:
        raise _refuse(BROKEN_REASON)
    assert signature.signed_by is not None and signature.public_key is not None
    fp = signature.signed_by
    if pin is not None and normalise_fingerprint(pin) != fp:
        raise _refuse(
            f"the pack is signed by {fp}, not by the fingerprint given ({pin}): it is not the "
            "coordinator's pack, or the fingerprint was misheard. Nothing was imported"
        )
    row = _row(session, fp)
    if row is not None and row.revoked_at is None and row.role in (ROLE_OWN, ROLE_COORDINATOR):
        return SignerVerdict(SIGNED, fp, row.name), None
    if row is not None and row.revoked_at is not None:
        raise _refuse(
            f"the pack is signed by a key revoked on {_iso(row.revoked_at)} "
            f"({row.revoke_reason}): fingerprint {fp}"
        )
    pinned = session.scalar(
        select(KeyRow).where(KeyRow.role == ROLE_COORDINATOR, KeyRow.revoked_at.is_(None))
    )
    rotation = signature.rotation
    if pinned is not None:
        if rotation is not None and rotation.old_fingerprint == pinned.fingerprint:
            if not dry_run:
                _rotate(
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
        raise _refuse(
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
        pinned = _add_key(
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
            new=_state_json(pinned),
            reason=f"fingerprint {fp} confirmed with the coordinator; pinned on the first pack",
            at=now,
        )
    return SignerVerdict(SIGNED, fp, name), f"pinned the coordinator's key {fp}"


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
