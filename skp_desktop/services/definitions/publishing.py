"""Publishing the next definitions version from the coordinator's changes: previewed, then
installed all or nothing with its targets, the drafts it takes over and its audit events
(definitions/__init__.py says the rules). A pack's import installs its version the same way
(`install_version`, `publish_result`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skp_desktop.domain.definition_edits import (
    FIELD_LABELS,
    SPEC_FIELDS,
    DefinitionsRefused,
    FieldProblem,
    PlannedVersion,
    describe_field_value,
    plan_version,
)
from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.values import canonical_text, format_decimal
from skp_desktop.domain.vocabulary import AuditAction, ReturnState
from skp_desktop.services.database import Database
from skp_desktop.services.definitions.held_versions import (
    codes_of,
    held_targets,
    latest_version,
    specs_at,
)
from skp_desktop.services.entries import SOURCE_TYPED
from skp_desktop.store.audit import append_event
from skp_desktop.store.engine import lock_definitions
from skp_desktop.store.models import (
    DefinitionsVersion,
    Indicator,
    IndicatorDefinition,
    Return,
    Service,
    Target,
    Theme,
)


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


def _plan(session: Session, publication: Publication) -> tuple[DefinitionsVersion, PlannedVersion]:
    latest = latest_version(session)
    plan = plan_version(
        specs_at(session, latest),
        applies_from=publication.applies_from,
        latest_applies_from=latest.applies_from,
        note=publication.note,
        changes=publication.changes,
        new_indicators=publication.new_indicators,
        targets=publication.targets,
        current_targets=held_targets(session),
        services=codes_of(session, Service),
        themes=codes_of(session, Theme),
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


def drafts_from(session: Session, plan: PlannedVersion) -> list[Return]:
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


def publish_result(
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


def install_version(
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
    drafts = drafts_from(session, plan)

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


def check_writable(db: Database) -> None:
    if db.read_only:
        raise StoreUnavailable(
            "The database is open read-only: definitions cannot be changed. Open it for "
            "changes (File, uncheck Read-only mode) to publish or import definitions."
        )


def preview_publication(db: Database, publication: Publication) -> PublishResult:
    """What publishing would do, checked in full, writing nothing (DefinitionsRefused if not)."""
    with db.reading() as session:
        latest, plan = _plan(session, publication)
        return publish_result(
            latest.number + 1, latest.number, plan, drafts_from(session, plan), written=False
        )


def publish_definitions(
    db: Database, publication: Publication, *, actor: str, source: str = SOURCE_TYPED
) -> PublishResult:
    """Publish the next definitions version, all or nothing (see the module's docstring)."""
    check_writable(db)
    with db.transaction(locks_its_returns=True) as session:
        # Every change of a return waits meanwhile: the drafts to move are all here.
        lock_definitions(session.connection())
        latest, plan = _plan(session, publication)
        number = latest.number + 1
        drafts = install_version(
            session,
            plan,
            number=number,
            previous=latest,
            actor=actor,
            action=AuditAction.DEFINITIONS_PUBLISH,
            source=source,
        )
        return publish_result(number, latest.number, plan, drafts, written=True)
