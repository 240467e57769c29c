"""The definitions a database holds, as the parts of definitions/ read them: the versions, the
newest one, every indicator as a version defines it, the yearly targets, the codes of the
services and themes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.definition_edits import IndicatorSpec
from skp_desktop.domain.errors import NotFoundError
from skp_desktop.domain.periods import parse_period
from skp_desktop.services.catalogue import rule_fields
from skp_desktop.store.models import (
    DefinitionsVersion,
    Indicator,
    IndicatorDefinition,
    Service,
    Target,
    Theme,
)


@dataclass(frozen=True)
class VersionInfo:
    """A published definitions version."""

    number: int
    applies_from: str
    applies_from_label: str
    published_at: datetime
    published_by: str
    note: str | None


def version_info(version: DefinitionsVersion) -> VersionInfo:
    return VersionInfo(
        number=version.number,
        applies_from=version.applies_from,
        applies_from_label=parse_period(version.applies_from).label,
        published_at=version.published_at,
        published_by=version.published_by,
        note=version.note,
    )


def latest_version(session: Session) -> DefinitionsVersion:
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


def specs_at(session: Session, version: DefinitionsVersion) -> list[IndicatorSpec]:
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


def held_targets(session: Session) -> dict[tuple[str, str], Decimal]:
    rows = session.execute(
        select(Indicator.code, Target.applies_from, Target.value).join(
            Indicator, Indicator.id == Target.indicator_id
        )
    )
    return {(code, year): Decimal(value) for code, year, value in rows}


def codes_of(session: Session, model: type[Service] | type[Theme]) -> list[str]:
    return list(session.scalars(select(model.code).order_by(model.id)))
