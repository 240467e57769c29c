"""Reading the definitions: what the Definitions place shows (the newest version with its
targets and every version) and the definitions in force for a period."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.definition_edits import IndicatorSpec
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.services.catalogue import definitions_version_for, indicator_infos
from skp_desktop.services.database import Database
from skp_desktop.services.definitions.held_versions import (
    VersionInfo,
    held_targets,
    latest_version,
    specs_at,
    version_info,
)
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.store.models import DefinitionsVersion, Service, Theme


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


def _choices(session: Session, model: type[Service] | type[Theme]) -> list[tuple[str, str]]:
    return [(c, n) for c, n in session.execute(select(model.code, model.name).order_by(model.id))]


def definitions_state(db: Database) -> DefinitionsState:
    """The newest definitions with their targets and every version, for the Definitions place."""
    with db.reading() as session:
        latest = latest_version(session)
        versions = session.scalars(
            select(DefinitionsVersion).order_by(DefinitionsVersion.number.desc())
        ).all()
        targets: dict[str, dict[str, Decimal]] = {}
        for (code, year), value in sorted(
            held_targets(session).items(), key=lambda i: parse_period(i[0][1]).start
        ):
            targets.setdefault(code, {})[year] = value
        return DefinitionsState(
            latest=version_info(latest),
            versions=tuple(version_info(v) for v in versions),
            indicators=tuple(specs_at(session, latest)),
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
            version=version_info(version),
            indicators=tuple(indicator_infos(session, period=the_period, include_context=True)),
        )
