"""Importing a definitions pack: its signer judged, its version checked against the newest held,
its services and forms brought in, and its version installed as publishing does; all or
nothing, refused in words that say why."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from skp_desktop.domain.definition_edits import (
    SPEC_FIELDS,
    DefinitionsRefused,
    FieldProblem,
    PlannedVersion,
    plan_version,
)
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.vocabulary import PACK_FILE_STATUS, AuditAction, PackStatus
from skp_desktop.excel.definitions_pack import PackFile, pack_payload, read_definitions_pack
from skp_desktop.excel.rejection import RejectedFile
from skp_desktop.excel.safe_reader import load_file
from skp_desktop.services import trust
from skp_desktop.services.database import Database
from skp_desktop.services.definitions.held_versions import (
    codes_of,
    held_targets,
    latest_version,
    specs_at,
)
from skp_desktop.services.definitions.pack_export import definitions_only, pack_of
from skp_desktop.services.definitions.publishing import (
    PublishResult,
    check_writable,
    drafts_from,
    install_version,
    publish_result,
)
from skp_desktop.services.partnership import apply_pack_services
from skp_desktop.store.engine import lock_definitions
from skp_desktop.store.models import DefinitionsVersion, ImportedFile, Return, Service, Theme


@dataclass(frozen=True)
class PackImport:
    """What importing a pack did (or would do, in a dry run)."""

    status: str  # IMPORTED, UP TO DATE, REFUSED
    file: str
    version: int | None = None
    applies_from: str | None = None
    reason: str | None = None
    result: PublishResult | None = None
    problems: tuple[str, ...] = ()
    file_sha256: str | None = None
    written: bool = False
    signed_by: str | None = None  # the pack's signer (a valid signature), refused or not
    trust_note: str | None = None  # e.g. that the coordinator's key was pinned
    needs_pin: bool = False  # refused only because no coordinator key is pinned here yet

    @property
    def refused(self) -> bool:
        return self.status == PackStatus.REFUSED

    @property
    def line(self) -> str:
        """`STATUS<TAB>file<TAB>version N from P`, or the reason."""
        if self.status == PackStatus.REFUSED:
            detail = self.reason or ""
        else:
            detail = f"version {self.version} from {self.applies_from}"
        return f"{self.status}\t{self.file}\t{detail}"


def _refused(file: str, reason: str, sha: str | None, problems: Sequence[str] = ()) -> PackImport:
    return PackImport(
        status=PackStatus.REFUSED,
        file=file,
        reason=reason,
        problems=tuple(problems) or (reason,),
        file_sha256=sha,
    )


def _pack_plan(
    session: Session, read: PackFile
) -> tuple[str, DefinitionsVersion, PlannedVersion | None, str | None]:
    """(status, newest held, plan to install or None, reason) for a checked pack."""
    pack = read.pack
    latest = latest_version(session)
    if pack.version < latest.number:
        return (
            PackStatus.REFUSED,
            latest,
            None,
            f"the pack is definitions version {pack.version}, older than version "
            f"{latest.number} which this database already holds: an older pack never replaces "
            "newer definitions (ask the coordinator for the current pack)",
        )
    if pack.version == latest.number:
        held = pack_payload(definitions_only(pack_of(session, latest)))
        if held == pack_payload(definitions_only(pack)):
            return (
                PackStatus.UP_TO_DATE,
                latest,
                None,
                f"definitions version {pack.version} is already held",
            )
        return (
            PackStatus.REFUSED,
            latest,
            None,
            f"this database already holds a different definitions version {pack.version}: "
            "the two were published separately, so they conflict; ask the coordinator which "
            "is right",
        )
    held_specs = {s.code: s for s in specs_at(session, latest)}
    given = {s.code: s for s in pack.indicators}
    problems: list[FieldProblem] = []
    for code in held_specs:
        if code not in given:
            problems.append(
                FieldProblem(
                    code,
                    "code",
                    "this database has the indicator but the pack does not: the pack was made "
                    "from another catalogue",
                )
            )
    changes: dict[str, dict[str, object]] = {}
    new: list[dict[str, object]] = []
    for spec in pack.indicators:
        fields_given = {name: spec.value_of(name) for name in SPEC_FIELDS}
        if spec.code in held_specs:
            changes[spec.code] = fields_given
        else:
            new.append(fields_given)
    targets: dict[str, dict[str, object]] = {}
    for item in pack.targets:
        targets.setdefault(item.code, {})[item.year] = item.value
    try:
        plan = plan_version(
            list(held_specs.values()),
            applies_from=pack.applies_from,
            latest_applies_from=latest.applies_from,
            note=pack.note,
            changes=changes,
            new_indicators=new,
            targets=targets,
            current_targets=held_targets(session),
            services=sorted({*codes_of(session, Service), *(s.code for s in pack.services)}),
            themes=codes_of(session, Theme),
            require_note=False,
            guard_past_targets=False,  # the coordinator's pack is the word on every year
        )
    except DefinitionsRefused as exc:
        problems.extend(exc.problems)
    if problems:
        raise DefinitionsRefused(problems)
    return PackStatus.IMPORTED, latest, plan, None


def import_definitions_pack(
    db: Database,
    path: str | os.PathLike[str],
    *,
    actor: str,
    dry_run: bool = False,
    fingerprint: str | None = None,
) -> PackImport:
    """Import a definitions pack: its version, content and targets, all or nothing.

    An older pack than the newest version held, or the same number with other content, is
    refused; the same version with the same content is UP TO DATE and changes nothing. A pack
    whose cells disagree with its signed payload is refused naming the cell. The pack must be
    signed by the coordinator: this installation's key, or the key pinned here; the first pack
    a database imports pins its signer when `fingerprint` (confirmed out of band) names it.
    """
    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"No such file: {source}")
    shown = source.name
    sha: str | None = None
    try:
        data = load_file(source)
        sha = hashlib.sha256(data).hexdigest()
        read = read_definitions_pack(data, file_name=source.name)
    except RejectedFile as exc:
        return _refused(shown, exc.reason_text(), sha, [str(p) for p in exc.problems])
    except OSError as exc:
        return _refused(shown, f"the file cannot be read: {exc.strerror or exc}", sha)
    pack = read.pack
    if not dry_run:
        check_writable(db)
    signer = read.signature.signed_by if read.signature.valid else None
    try:
        with db.reading() if dry_run else db.transaction(locks_its_returns=True) as session:
            if not dry_run:  # every change of a return waits: the drafts to move are all here
                lock_definitions(session.connection())
            try:
                verdict, trust_note = trust.judge_pack_signature(
                    session, read.signature, pin=fingerprint, actor=actor, dry_run=dry_run
                )
            except RejectedFile as exc:
                return replace(
                    _refused(shown, exc.reason_text(), sha, [str(p) for p in exc.problems]),
                    signed_by=signer,
                    needs_pin=isinstance(exc, trust.PinNeeded),
                )
            status, latest, plan, reason = _pack_plan(session, read)
            held_number = latest.number
            who = f" exported by {read.exported_by}" if read.exported_by else ""
            if status != PackStatus.REFUSED and not dry_run:
                # before the definitions: a new indicator may belong to a service it brings
                try:
                    changed = apply_pack_services(
                        session, pack, actor=actor, source=f"imported from {shown}{who}", sha=sha
                    )
                except (ValidationError, NotFoundError) as exc:  # e.g. an unknown organisation
                    raise DefinitionsRefused(
                        [FieldProblem(None, "services", f"the pack's services: {exc}")]
                    ) from None
                if plan is None and changed:
                    reason = f"{reason}; {changed}"
            if plan is None:
                return PackImport(
                    status=status,
                    file=shown,
                    version=pack.version,
                    applies_from=pack.applies_from,
                    reason=reason,
                    problems=(reason,) if status == PackStatus.REFUSED and reason else (),
                    file_sha256=sha,
                    signed_by=signer,
                    trust_note=trust_note,
                )
            if dry_run:
                drafts: Sequence[Return] = drafts_from(session, plan)
            else:
                drafts = install_version(
                    session,
                    plan,
                    number=pack.version,
                    previous=latest,
                    actor=actor,
                    action=AuditAction.DEFINITIONS_IMPORT,
                    source=f"imported from {shown}{who}, {verdict.describe}",
                    file_sha256=sha,
                )
                session.add(
                    ImportedFile(
                        file_name=shown[:400],
                        sha256=sha,
                        size=len(data),
                        content=data,
                        imported_at=datetime.now(UTC),
                        imported_by=actor,
                        status=PACK_FILE_STATUS,
                        detail=f"definitions version {pack.version} from {pack.applies_from}",
                    )
                )
            result = publish_result(pack.version, latest.number, plan, drafts, written=not dry_run)
    except DefinitionsRefused as exc:
        return _refused(
            shown,
            f"the pack's definitions cannot be used here: {exc.message}",
            sha,
            [str(p) for p in exc.problems],
        )
    skipped = ""
    if pack.version > held_number + 1:
        skipped = (
            f" Versions {held_number + 1} to {pack.version - 1} were never imported here: "
            f"periods before {parse_period(pack.applies_from).label} keep version "
            f"{held_number}'s definitions."
        )
    return PackImport(
        status=PackStatus.IMPORTED,
        file=shown,
        version=pack.version,
        applies_from=pack.applies_from,
        reason=result.describe() + skipped,
        result=result,
        file_sha256=sha,
        written=not dry_run,
        signed_by=signer,
        trust_note=trust_note,
    )
