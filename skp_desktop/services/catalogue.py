"""The catalogue: organisations, services, themes and indicator definitions."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.domain.periods import Period, parse_period
from skp_desktop.domain.values import canonical_text
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.locations import resources_dir
from skp_desktop.services.dto import IndicatorInfo, ServiceInfo
from skp_desktop.services.return_view import (
    indicator_info,
    services_of,
    target_in_force,
    themes_of,
    unknown_service,
    version_in_force,
)
from skp_desktop.services.return_view import (  # re-exported: catalogue.X keeps working
    rule_fields as rule_fields,
)
from skp_desktop.store.audit import append_event
from skp_desktop.store.engine import Database, connection_fetch
from skp_desktop.store.models import (
    Baseline,
    DefinitionsVersion,
    Indicator,
    IndicatorDefinition,
    Organisation,
    Service,
    Target,
    Theme,
)

CATALOGUE_FILE = "catalogue.toml"


def catalogue_path() -> Path:
    """The default catalogue bundled in `resources/`."""
    return resources_dir() / CATALOGUE_FILE


def read_catalogue(path: Path | None = None) -> tuple[dict[str, Any], str]:
    """The parsed catalogue file and the SHA-256 of its bytes."""
    data = (path or catalogue_path()).read_bytes()
    return tomllib.loads(data.decode("utf-8")), hashlib.sha256(data).hexdigest()


def _dec(value: object) -> str | None:
    if value is None or value == "":
        return None
    return canonical_text(Decimal(str(value)))


def ensure_default_catalogue(db: Database, *, actor: str) -> bool:
    """Load the default catalogue unless this database already has definitions; True if loaded."""
    with db.transaction() as session:
        if session.scalar(select(func.count()).select_from(DefinitionsVersion)):
            return False
        catalogue, digest = read_catalogue()
        _load(session, catalogue, actor=actor)
        append_event(
            session,
            actor=actor,
            action=AuditAction.CATALOGUE_LOAD,
            new=f"definitions version {catalogue['catalogue']['version']}",
            source=f"{CATALOGUE_FILE} sha256:{digest}",
            reason="default catalogue from the Council Plan and the SKP Plan",
        )
        return True


def _load(session: Session, catalogue: dict[str, Any], *, actor: str) -> None:
    header = catalogue["catalogue"]
    applies_from = parse_period(header["applies_from"])
    version = DefinitionsVersion(
        number=int(header["version"]),
        applies_from=applies_from.code,
        published_at=datetime.now(UTC),
        published_by=actor,
        note=header.get("title"),
    )
    session.add(version)
    orgs = {}
    for item in catalogue["organisations"]:
        orgs[item["code"]] = Organisation(
            code=item["code"], name=item["name"], source=item.get("source")
        )
    session.add_all(orgs.values())
    services = {}
    for item in catalogue["services"]:
        services[item["code"]] = Service(
            code=item["code"],
            name=item["name"],
            organisation=orgs[item["organisation"]],
            source=item.get("source"),
        )
    session.add_all(services.values())
    themes = {}
    for item in catalogue["themes"]:
        themes[item["code"]] = Theme(
            code=item["code"],
            kind=item["kind"],
            name=item["name"],
            commitment=item.get("commitment"),
            source=item.get("source"),
        )
    session.add_all(themes.values())
    session.flush()
    documents = {d["id"]: d.get("title", d["id"]) for d in catalogue.get("documents", [])}
    items = [(i, "indicator") for i in catalogue["indicators"]]
    items += [(i, "context") for i in catalogue.get("context_measures", [])]
    target_year = applies_from.financial_year().code
    for position, (item, kind) in enumerate(items):
        indicator = Indicator(
            code=item["code"],
            kind=kind,
            theme=themes[item["theme"]],
            service=services.get(item.get("service", "")),
            position=position,
        )
        session.add(indicator)
        unit = Unit(item["unit"])
        session.add(
            IndicatorDefinition(
                indicator=indicator,
                version=version,
                title=item["title"],
                level=item.get("level", Level.BOROUGH.value),
                unit=unit.value,
                polarity=Polarity(item.get("polarity", Polarity.NEUTRAL.value)).value,
                frequency=Frequency(item.get("frequency", Frequency.ANNUAL.value)).value,
                decimals=int(item.get("decimals", 0 if unit is Unit.COUNT else 1)),
                has_fraction=bool(item.get("has_fraction", False)),
                numerator_label=item.get("numerator_label"),
                denominator_label=item.get("denominator_label"),
                min_value=_dec(item.get("min_value")),
                max_value=_dec(item.get("max_value")),
                amber_tolerance=_dec(item.get("amber_tolerance")) or "0",
                change_warning_percent=_dec(item.get("change_warning_percent", 25)),
                small_number_threshold=item.get("small_number_threshold"),
                definition=item.get("definition"),
                source=item.get("source"),
                source_document=documents.get(item.get("document", ""), item.get("document")),
            )
        )
        if "target" in item:
            session.add(
                Target(
                    indicator=indicator,
                    applies_from=target_year,
                    value=_dec(item["target"]),
                    source=item.get("source"),
                )
            )
        baseline = item.get("baseline")
        if baseline:
            session.add(
                Baseline(
                    indicator=indicator,
                    value=_dec(baseline["value"]),
                    unit=baseline.get("unit", unit.value),
                    period=baseline.get("period") or None,
                    note=baseline.get("note"),
                    comparators_note=baseline.get("comparators_note"),
                    source=baseline.get("source"),
                )
            )
    session.flush()


# --- reading -----------------------------------------------------------------------------


# Built once: SQLAlchemy then reuses its compiled SQL without working out a cache key for a new
# statement on each call, which costs more than running the query.
_SERVICE = (
    select(Service)
    .where(Service.code == bindparam("code"))
    .options(joinedload(Service.organisation))  # service_info shows it
)


def get_service(session: Session, code: str) -> Service:
    """The service with this code, or a NotFoundError listing the known codes."""
    service = session.scalar(_SERVICE, {"code": code.strip().upper()})
    if service is None:
        raise unknown_service(code, session.scalars(select(Service.code).order_by(Service.code)))
    return service


def service_info(service: Service) -> ServiceInfo:
    return ServiceInfo(
        code=service.code,
        name=service.name,
        organisation=service.organisation.name,
        organisation_code=service.organisation.code,
    )


def definitions_version_for(session: Session, period: Period | None) -> DefinitionsVersion:
    """The definitions in force for a period: the newest version applying from it or before."""
    versions = session.scalars(select(DefinitionsVersion).order_by(DefinitionsVersion.number))
    return version_in_force(versions, period)


def target_for(session: Session, indicator_id: int, period: Period | None) -> Decimal | None:
    """The target in force for a period (the newest when no period is given)."""
    rows = session.scalars(
        select(Target).where(Target.indicator_id == indicator_id).order_by(Target.applies_from)
    ).all()
    return target_in_force([(row.applies_from, row.value) for row in rows], period)


def indicator_infos(
    session: Session,
    *,
    service: Service | None = None,
    period: Period | None = None,
    include_context: bool = False,
    version: DefinitionsVersion | None = None,
) -> list[IndicatorInfo]:
    """Indicators with the definitions in force for `period` (the newest when None).

    `version` reads them as that definitions version instead: a return is read with the
    version it was made with, even when a later one is now in force for its period.
    """
    version = version or definitions_version_for(session, period)
    query = (
        select(IndicatorDefinition, Indicator)
        .join(Indicator, IndicatorDefinition.indicator_id == Indicator.id)
        .where(IndicatorDefinition.definitions_version_id <= version.id)
        .order_by(Indicator.position, IndicatorDefinition.definitions_version_id)
    )
    if service is not None:
        query = query.where(Indicator.service_id == service.id)
    if not include_context:
        query = query.where(Indicator.kind == "indicator")
    latest: dict[int, tuple[IndicatorDefinition, Indicator]] = {}
    for definition, indicator in session.execute(query):
        latest[indicator.id] = (definition, indicator)  # later versions overwrite earlier
    infos = []
    for definition, indicator in latest.values():
        infos.append(_info(session, definition, indicator, period, version.number))
    return infos


def _info(
    session: Session,
    row: IndicatorDefinition,
    indicator: Indicator,
    period: Period | None,
    version_number: int,
) -> IndicatorInfo:
    baseline = session.scalar(select(Baseline).where(Baseline.indicator_id == indicator.id))
    target = target_for(session, indicator.id, period)
    return _info_of(row, indicator, baseline, version_number, target)


def _info_of(
    row: IndicatorDefinition,
    indicator: Indicator,
    baseline: Baseline | None,
    version_number: int,
    target: Decimal | None,
) -> IndicatorInfo:
    """The info of a definition read with its indicator, and the indicator's own service and
    theme (loaded if need be)."""
    return indicator_info(
        row,
        indicator,
        baseline,
        version_number,
        target,
        service=indicator.service,
        theme=indicator.theme,
    )


@dataclass(frozen=True)
class DefinitionsSnapshot:
    """One definitions version's indicators (not context measures) with their targets, read in
    a few queries: indicator_infos for any service and period, answered from memory.

    An import of many files reads it once per batch instead of some twenty queries per file;
    it holds no session, so it outlives the transaction that read it.
    """

    version_id: int
    # (service id, indicator id, info without its target), in catalogue order
    infos: tuple[tuple[int | None, int, IndicatorInfo], ...]
    # (applies_from, value) by indicator id, in applies_from order: plain values, since a
    # rolled-back transaction would expire ORM rows kept from it
    targets: Mapping[int, tuple[tuple[str, str], ...]]
    ids: Mapping[str, int]  # indicator id by code
    # infos with a target, made once each (by indicator id and target)
    targeted: dict[tuple[int, str | None], IndicatorInfo] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def load(cls, session: Session, version: DefinitionsVersion) -> DefinitionsSnapshot:
        """Read the version as indicator_infos(version=version) would, for every service."""
        # Services and themes in the identity map first: the infos' lazy loads then ask nothing.
        session.scalars(select(Service)).all()
        session.scalars(select(Theme)).all()
        query = (
            select(IndicatorDefinition, Indicator)
            .join(Indicator, IndicatorDefinition.indicator_id == Indicator.id)
            .where(IndicatorDefinition.definitions_version_id <= version.id)
            .where(Indicator.kind == "indicator")
            .order_by(Indicator.position, IndicatorDefinition.definitions_version_id)
        )
        latest: dict[int, tuple[IndicatorDefinition, Indicator]] = {}
        for definition, indicator in session.execute(query):
            latest[indicator.id] = (definition, indicator)  # later versions overwrite earlier
        baselines = {row.indicator_id: row for row in session.scalars(select(Baseline))}
        targets: dict[int, list[tuple[str, str]]] = {}
        rows = session.execute(
            select(Target.indicator_id, Target.applies_from, Target.value).order_by(
                Target.applies_from
            )
        )
        for indicator_id, applies_from, value in rows:
            targets.setdefault(indicator_id, []).append((applies_from, value))
        return cls(
            version_id=version.id,
            infos=tuple(
                (
                    indicator.service_id,
                    indicator.id,
                    _info_of(
                        definition, indicator, baselines.get(indicator.id), version.number, None
                    ),
                )
                for definition, indicator in latest.values()
            ),
            targets={key: tuple(pairs) for key, pairs in targets.items()},
            ids={indicator.code: indicator.id for _, indicator in latest.values()},
        )

    def indicator_infos(self, service: Service, period: Period) -> list[IndicatorInfo]:
        """indicator_infos(session, service=service, period=period, version=<this version>)."""
        infos = []
        for service_id, indicator_id, info in self.infos:
            if service_id != service.id:
                continue
            target = target_in_force(self.targets.get(indicator_id, ()), period)
            key = (indicator_id, None if target is None else str(target))  # 95 is not 95.0
            if key not in self.targeted:
                self.targeted[key] = replace(info, rules=replace(info.rules, target=target))
            infos.append(self.targeted[key])
        return infos


# --- use cases ---------------------------------------------------------------------------


def list_services(db: Database) -> list[ServiceInfo]:
    """Every service with its organisation, by organisation then name."""
    with db.reading_connection() as connection:
        return services_of(connection_fetch(connection))


def list_indicators(
    db: Database, *, service: str | None = None, include_context: bool = False
) -> list[IndicatorInfo]:
    """The catalogue's indicators (for one service when given), with current targets."""
    with db.reading() as session:
        owner = get_service(session, service) if service else None
        return indicator_infos(session, service=owner, include_context=include_context)


def list_themes(db: Database) -> list[tuple[str, str, str]]:
    """Themes that have indicators, as (code, kind, name), in catalogue order."""
    with db.reading_connection() as connection:
        return themes_of(connection_fetch(connection))
