"""Indicator definitions: reading the version in force, publishing a new one, and the pack.

A definitions version is a full copy of every indicator's definition, in force from a period
on (`applies_from`). Publishing makes version n+1 from the newest one with the coordinator's
changes applied; importing a definitions pack makes the pack's version. Either way:

- Returns keep the version they were made with (`returns.definitions_version_id`): a
  submitted, accepted or returned revision is always read with the definitions it was made
  with, so history never changes under it.
- A return started for a period at or after `applies_from` uses the new version
  (`definitions_version_for`).
- An open **draft** for a period at or after `applies_from` moves to the new version in the
  same transaction, because a draft is not yet a return anybody has received and it must be
  submitted against the definitions in force. This is never silent: each move is an audit
  event (`definitions.draft`), the result lists the drafts moved, and the app names them in
  the confirmation before publishing. Its values are kept as they are; the new checks apply
  the next time it is opened or submitted.
- Targets are yearly (the `targets` table, one row per indicator and financial year) and not
  versioned: a target may be set or changed only for years that start at or after
  `applies_from`, so the RAG of returns already made is not rewritten (an imported pack, the
  coordinator's word, may set any year; each change is audited with old and new value).

Everything is one transaction and audited: `definitions.publish` or `definitions.import`
(the version, its period and a summary), `definitions.change` per changed field,
`definitions.add` per new indicator, `definitions.target` per target.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skp_desktop import __version__
from skp_desktop.domain.definition_edits import (
    FIELD_LABELS,
    SPEC_FIELDS,
    DefinitionsRefused,
    FieldProblem,
    IndicatorSpec,
    PlannedVersion,
    describe_field_value,
    plan_version,
)
from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.domain.errors import NotFoundError, StoreUnavailable, ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.values import canonical_text, format_decimal
from skp_desktop.domain.vocabulary import PACK_FILE_STATUS, AuditAction, PackStatus, ReturnState
from skp_desktop.excel.definitions_pack import (
    DefinitionsPack,
    PackFile,
    PackTarget,
    pack_payload,
    read_definitions_pack,
    write_definitions_pack,
)
from skp_desktop.excel.rejection import RejectedFile
from skp_desktop.excel.safe_reader import load_file
from skp_desktop.services import trust
from skp_desktop.services.catalogue import definitions_version_for, indicator_infos, rule_fields
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.entries import SOURCE_TYPED
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.services.partnership import apply_pack_services, pack_services_of
from skp_desktop.store.audit import append_event
from skp_desktop.store.engine import lock_definitions
from skp_desktop.store.models import (
    DefinitionsVersion,
    ImportedFile,
    Indicator,
    IndicatorDefinition,
    Return,
    Service,
    Target,
    Theme,
)

# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    """A published definitions version."""

    number: int
    applies_from: str
    applies_from_label: str
    published_at: datetime
    published_by: str
    note: str | None


@dataclass(frozen=True)
class DefinitionsState:
    """What the Definitions place shows: the newest version's indicators, targets, choices."""

    latest: VersionInfo
    versions: tuple[VersionInfo, ...]  # newest first
    indicators: tuple[IndicatorSpec, ...]  # in catalogue order
    targets: Mapping[str, Mapping[str, Decimal]]  # code -> {FY2025-26: value}
    services: tuple[tuple[str, str], ...]  # (code, name)
    themes: tuple[tuple[str, str], ...]

    def spec(self, code: str) -> IndicatorSpec | None:
        return next((s for s in self.indicators if s.code == code), None)


@dataclass(frozen=True)
class InForce:
    """The definitions in force for a period."""

    period: str
    version: VersionInfo
    indicators: tuple[IndicatorInfo, ...]

    def indicator(self, code: str) -> IndicatorInfo:
        return next(i for i in self.indicators if i.code == code)


@dataclass(frozen=True)
class Publication:
    """What the coordinator asks to publish; values are text as typed (or TOML/JSON values)."""

    applies_from: str
    note: str
    changes: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    new_indicators: Sequence[Mapping[str, object]] = ()
    targets: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishResult:
    """A version published (or, with `written` False, what publishing would do)."""

    version: int
    previous: int
    applies_from: str
    applies_from_label: str
    changes: tuple[str, ...]  # "SAFER-P4-S1 title: 'A' → 'B'"
    added: tuple[str, ...]  # "SAFER-P4-S7 (title)"
    targets: tuple[str, ...]  # "SAFER-P4-S1 FY2025-26 target: blank → 95"
    drafts_moved: tuple[str, ...]  # "Highways 2025/26 Q1 (Apr–Jun 2025) revision 1"
    written: bool

    def describe(self) -> str:
        """One paragraph: the version, when it applies, and what it changes."""
        verb = "Published" if self.written else "Would publish"
        parts = [
            f"{verb} definitions version {self.version}, in force from {self.applies_from_label}."
        ]
        if self.changes:
            parts.append(f"{len(self.changes)} change(s): " + "; ".join(self.changes) + ".")
        if self.added:
            parts.append("New: " + "; ".join(self.added) + ".")
        if self.targets:
            parts.append("Targets: " + "; ".join(self.targets) + ".")
        if self.drafts_moved:
            moved = "Moved" if self.written else "Will move"
            parts.append(
                f"{moved} {len(self.drafts_moved)} draft(s) to the new definitions: "
                + "; ".join(self.drafts_moved)
                + "."
            )
        return " ".join(parts)


@dataclass(frozen=True)
class PackExport:
    """A definitions pack written."""

    path: Path
    version: int
    applies_from: str
    indicators: int
    payload_sha256: str
    file_sha256: str
    signed_by: str | None = None
    notice: str | None = None  # e.g. that a signing key was made just now


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


# --- reading -------------------------------------------------------------------------------


def _version_info(version: DefinitionsVersion) -> VersionInfo:
    return VersionInfo(
        number=version.number,
        applies_from=version.applies_from,
        applies_from_label=parse_period(version.applies_from).label,
        published_at=version.published_at,
        published_by=version.published_by,
        note=version.note,
    )


def _latest(session: Session) -> DefinitionsVersion:
    version = session.scalar(
        select(DefinitionsVersion).order_by(DefinitionsVersion.number.desc()).limit(1)
    )
    if version is None:
        raise NotFoundError("This database has no indicator definitions yet: run init.")
    return version


def _spec(indicator: Indicator, row: IndicatorDefinition) -> IndicatorSpec:
    return IndicatorSpec(
        code=indicator.code,
        kind=indicator.kind,
        theme=indicator.theme.code,
        service=indicator.service.code if indicator.service else None,
        **rule_fields(row),
        definition=row.definition,
        source=row.source,
        source_document=row.source_document,
    )


def _specs_at(session: Session, version: DefinitionsVersion) -> list[IndicatorSpec]:
    """Every indicator (context measures too) as `version` defines it, in catalogue order."""
    rows = session.execute(
        select(IndicatorDefinition, Indicator)
        .join(Indicator, IndicatorDefinition.indicator_id == Indicator.id)
        .where(IndicatorDefinition.definitions_version_id <= version.id)
        .order_by(Indicator.position, Indicator.id, IndicatorDefinition.definitions_version_id)
    )
    latest: dict[int, IndicatorSpec] = {}
    for row, indicator in rows:
        latest[indicator.id] = _spec(indicator, row)  # later versions overwrite earlier
    return list(latest.values())


def _held_targets(session: Session) -> dict[tuple[str, str], Decimal]:
    rows = session.execute(
        select(Indicator.code, Target.applies_from, Target.value).join(
            Indicator, Indicator.id == Target.indicator_id
        )
    )
    return {(code, year): Decimal(value) for code, year, value in rows}


def _choices(session: Session, model: type[Service] | type[Theme]) -> list[tuple[str, str]]:
    return [(c, n) for c, n in session.execute(select(model.code, model.name).order_by(model.id))]


def definitions_state(db: Database) -> DefinitionsState:
    """The newest definitions with their targets and every version, for the Definitions place."""
    with db.reading() as session:
        latest = _latest(session)
        versions = session.scalars(
            select(DefinitionsVersion).order_by(DefinitionsVersion.number.desc())
        ).all()
        targets: dict[str, dict[str, Decimal]] = {}
        for (code, year), value in sorted(
            _held_targets(session).items(), key=lambda i: parse_period(i[0][1]).start
        ):
            targets.setdefault(code, {})[year] = value
        return DefinitionsState(
            latest=_version_info(latest),
            versions=tuple(_version_info(v) for v in versions),
            indicators=tuple(_specs_at(session, latest)),
            targets=targets,
            services=tuple(_choices(session, Service)),
            themes=tuple(_choices(session, Theme)),
        )


def definitions_in_force(db: Database, period: str) -> InForce:
    """The definitions version in force for a period, with its indicators and their targets."""
    try:
        the_period = parse_period(period)
    except ValidationError as exc:
        raise NotFoundError(exc.message) from None
    with db.reading() as session:
        version = definitions_version_for(session, the_period)
        return InForce(
            period=the_period.code,
            version=_version_info(version),
            indicators=tuple(indicator_infos(session, period=the_period, include_context=True)),
        )


# --- publishing ----------------------------------------------------------------------------


def _codes(session: Session, model: type[Service] | type[Theme]) -> list[str]:
    return list(session.scalars(select(model.code).order_by(model.id)))


def _plan(session: Session, publication: Publication) -> tuple[DefinitionsVersion, PlannedVersion]:
    latest = _latest(session)
    plan = plan_version(
        _specs_at(session, latest),
        applies_from=publication.applies_from,
        latest_applies_from=latest.applies_from,
        note=publication.note,
        changes=publication.changes,
        new_indicators=publication.new_indicators,
        targets=publication.targets,
        current_targets=_held_targets(session),
        services=_codes(session, Service),
        themes=_codes(session, Theme),
    )
    if not plan.changes_anything:
        raise DefinitionsRefused(
            [
                FieldProblem(
                    None,
                    "changes",
                    f"nothing to publish: every definition and target is as version "
                    f"{latest.number} has it",
                )
            ]
        )
    return latest, plan


def _drafts_from(session: Session, plan: PlannedVersion) -> list[Return]:
    drafts = session.scalars(
        select(Return).where(Return.state == ReturnState.DRAFT).order_by(Return.period, Return.id)
    ).all()
    start = plan.applies_from.start
    return [d for d in drafts if parse_period(d.period).start >= start]


def _draft_text(ret: Return) -> str:
    return f"{ret.service.name} {parse_period(ret.period).label} revision {ret.revision}"


def _change_texts(plan: PlannedVersion) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    changes = tuple(
        f"{c.code} {FIELD_LABELS[c.field]}: {describe_field_value(c.old)} → "
        f"{describe_field_value(c.new)}"
        for c in plan.changes
    )
    titles = {s.code: s.title for s in plan.specs}
    added = tuple(f"{code} ({titles[code]})" for code in plan.added)
    targets = tuple(
        f"{t.code} {t.year} target: {_number(t.old)} → {_number(t.new)}" for t in plan.targets
    )
    return changes, added, targets


def _number(value: Decimal | None) -> str:
    return "blank" if value is None else format_decimal(value)


def _result(
    number: int,
    previous: int,
    plan: PlannedVersion,
    drafts: Sequence[Return],
    *,
    written: bool,
) -> PublishResult:
    changes, added, targets = _change_texts(plan)
    return PublishResult(
        version=number,
        previous=previous,
        applies_from=plan.applies_from.code,
        applies_from_label=plan.applies_from.label,
        changes=changes,
        added=added,
        targets=targets,
        drafts_moved=tuple(_draft_text(d) for d in drafts),
        written=written,
    )


def _summary(number: int, plan: PlannedVersion) -> str:
    changed = sorted({c.code for c in plan.changes})
    parts = [f"definitions version {number}, applies from {plan.applies_from.code}"]
    if changed:
        parts.append(
            f"{len(plan.changes)} change(s) to {len(changed)} indicator(s) ({', '.join(changed)})"
        )
    if plan.added:
        parts.append(f"{len(plan.added)} new indicator(s) ({', '.join(plan.added)})")
    if plan.targets:
        parts.append(f"{len(plan.targets)} target(s)")
    return ": ".join(parts[:1]) + (": " + "; ".join(parts[1:]) if parts[1:] else "")


def _stored(value: Any) -> Any:
    if isinstance(value, Decimal):
        return canonical_text(value)
    if isinstance(value, Unit | Polarity | Level | Frequency):
        return value.value
    return value


def _install(
    session: Session,
    plan: PlannedVersion,
    *,
    number: int,
    previous: DefinitionsVersion,
    actor: str,
    action: str,
    source: str,
    file_sha256: str | None = None,
) -> list[Return]:
    """Write the planned version, its targets, the drafts it takes over, and the events."""
    now = datetime.now(UTC)
    version = DefinitionsVersion(
        number=number,
        applies_from=plan.applies_from.code,
        published_at=now,
        published_by=actor[:100],
        note=plan.note or None,
    )
    session.add(version)
    session.flush()
    indicators = {i.code: i for i in session.scalars(select(Indicator))}
    themes = {t.code: t for t in session.scalars(select(Theme))}
    services = {s.code: s for s in session.scalars(select(Service))}
    position = (session.scalar(select(func.max(Indicator.position))) or 0) + 1
    for spec in plan.specs:
        indicator = indicators.get(spec.code)
        if indicator is None:
            indicator = Indicator(
                code=spec.code,
                kind=spec.kind,
                theme=themes[spec.theme],
                service=services.get(spec.service or ""),
                position=position,
            )
            position += 1
            session.add(indicator)
            indicators[spec.code] = indicator
        session.add(
            IndicatorDefinition(
                indicator=indicator,
                version=version,
                **{
                    name: _stored(spec.value_of(name))
                    for name in SPEC_FIELDS
                    if name not in ("code", "kind", "theme", "service")
                },
            )
        )
    session.flush()
    for change in plan.targets:
        indicator = indicators[change.code]
        row = session.scalar(
            select(Target).where(
                Target.indicator_id == indicator.id, Target.applies_from == change.year
            )
        )
        if change.new is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                Target(
                    indicator=indicator,
                    applies_from=change.year,
                    value=canonical_text(change.new),
                    source=f"definitions version {number}",
                )
            )
        else:
            row.value = canonical_text(change.new)
            row.source = f"definitions version {number}"
    drafts = _drafts_from(session, plan)

    # every event of the version says who, when and from which file
    event = partial(
        append_event, session, actor=actor, at=now, source=source, file_sha256=file_sha256
    )
    event(
        action=action,
        old=f"definitions version {previous.number}",
        new=_summary(number, plan),
        reason=plan.note or None,
    )
    for field_change in plan.changes:
        label = FIELD_LABELS[field_change.field]
        event(
            action=AuditAction.DEFINITIONS_CHANGE,
            indicator=field_change.code,
            old=f"{label}: {describe_field_value(field_change.old)}",
            new=f"{label}: {describe_field_value(field_change.new)}",
            reason=f"definitions version {number}, applies from {plan.applies_from.code}",
        )
    titles = {s.code: s.title for s in plan.specs}
    for code in plan.added:
        event(
            action=AuditAction.DEFINITIONS_ADD,
            indicator=code,
            new=titles[code],
            reason=f"definitions version {number}, applies from {plan.applies_from.code}",
        )
    for change in plan.targets:
        event(
            action=AuditAction.DEFINITIONS_TARGET,
            indicator=change.code,
            period=change.year,
            old=None if change.old is None else canonical_text(change.old),
            new=None if change.new is None else canonical_text(change.new),
            reason=f"definitions version {number}",
        )
    for draft in drafts:
        old_number = draft.definitions_version.number
        draft.definitions_version = version
        event(
            action=AuditAction.DEFINITIONS_DRAFT,
            service=draft.service.code,
            period=draft.period,
            revision=draft.revision,
            return_uuid=draft.uuid,
            old=f"definitions version {old_number}",
            new=f"definitions version {number}",
            reason=f"the draft is for a period from {plan.applies_from.code} on, where version "
            f"{number} applies",
        )
    session.flush()
    return drafts


def _writable(db: Database) -> None:
    if db.read_only:
        raise StoreUnavailable(
            "The database is open read-only: definitions cannot be changed. Open it for "
            "changes (File, uncheck Read-only mode) to publish or import definitions."
        )


def preview_publication(db: Database, publication: Publication) -> PublishResult:
    """What publishing would do, checked in full, writing nothing (DefinitionsRefused if not)."""
    with db.reading() as session:
        latest, plan = _plan(session, publication)
        return _result(
            latest.number + 1, latest.number, plan, _drafts_from(session, plan), written=False
        )


def publish_definitions(
    db: Database, publication: Publication, *, actor: str, source: str = SOURCE_TYPED
) -> PublishResult:
    """Publish the next definitions version, all or nothing (see the module's docstring)."""
    _writable(db)
    with db.transaction(locks_its_returns=True) as session:
        # Every change of a return waits meanwhile: the drafts to move are all here.
        lock_definitions(session.connection())
        latest, plan = _plan(session, publication)
        number = latest.number + 1
        drafts = _install(
            session,
            plan,
            number=number,
            previous=latest,
            actor=actor,
            action=AuditAction.DEFINITIONS_PUBLISH,
            source=source,
        )
        return _result(number, latest.number, plan, drafts, written=True)


# --- the pack ------------------------------------------------------------------------------


def definitions_only(pack: DefinitionsPack) -> DefinitionsPack:
    """The pack without its services and forms: what 'the same definitions version' compares."""
    return replace(pack, services=(), forms=())


def _pack_of(session: Session, version: DefinitionsVersion) -> DefinitionsPack:
    specs = _specs_at(session, version)
    codes = {s.code for s in specs}
    targets = tuple(
        PackTarget(code, year, value)
        for (code, year), value in sorted(_held_targets(session).items())
        if code in codes
    )
    services, forms = pack_services_of(session)
    return DefinitionsPack(
        version=version.number,
        applies_from=version.applies_from,
        note=version.note,
        indicators=tuple(specs),
        targets=targets,
        services=services,
        forms=forms,
    )


def export_definitions_pack(
    db: Database, out: str | os.PathLike[str], *, actor: str, version: int | None = None
) -> PackExport:
    """Write a definitions version (the newest unless given) as a signed definitions pack.

    Targets are yearly and not versioned, so a pack carries the targets held when it is written.
    """
    target = Path(out)
    check_output(target, what=".xlsx file")
    with db.reading() as session:
        chosen: DefinitionsVersion | None
        if version is None:
            chosen = _latest(session)
        else:
            chosen = session.scalar(
                select(DefinitionsVersion).where(DefinitionsVersion.number == version)
            )
            if chosen is None:
                held = ", ".join(
                    str(n)
                    for n in session.scalars(
                        select(DefinitionsVersion.number).order_by(DefinitionsVersion.number)
                    )
                )
                raise NotFoundError(
                    f"There is no definitions version {version}: this database holds {held}."
                )
        pack = _pack_of(session, chosen)
    own = trust.installation_key()
    with writing(target, "definitions pack"):
        digest = write_definitions_pack(
            pack,
            target,
            applies_from_label=parse_period(pack.applies_from).label,
            exported_at=datetime.now(UTC).replace(microsecond=0),
            exported_by=actor,
            app_version=__version__,
            signer=own.signer,
        )
    return PackExport(
        path=target,
        version=pack.version,
        applies_from=pack.applies_from,
        indicators=len(pack.indicators),
        payload_sha256=digest,
        file_sha256=hashlib.sha256(target.read_bytes()).hexdigest(),
        signed_by=own.key.fingerprint,
        notice=own.notice,
    )


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
    latest = _latest(session)
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
        held = pack_payload(definitions_only(_pack_of(session, latest)))
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
    held_specs = {s.code: s for s in _specs_at(session, latest)}
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
            current_targets=_held_targets(session),
            services=sorted({*_codes(session, Service), *(s.code for s in pack.services)}),
            themes=_codes(session, Theme),
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
        _writable(db)
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
                drafts: Sequence[Return] = _drafts_from(session, plan)
            else:
                drafts = _install(
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
            result = _result(pack.version, latest.number, plan, drafts, written=not dry_run)
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
