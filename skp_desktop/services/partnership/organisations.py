"""The partnership's organisations and their services: listed, and a service added, renamed or
retired from a quarter (or brought back), each one transaction and one audit event. The
`_in` forms work inside a caller's transaction (a definitions pack's import)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.catalogue import get_service, service_info
from skp_desktop.services.database import Database
from skp_desktop.services.dto import ServiceInfo
from skp_desktop.services.entries import SOURCE_TYPED
from skp_desktop.services.partnership.events import canonical_json
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import Organisation, Service

SERVICE_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,31}")
MAX_NAME = 200


@dataclass(frozen=True)
class ServiceRecord:
    """A service as the coordinator manages it."""

    code: str
    name: str
    organisation: str  # code
    organisation_name: str
    retired_from: str | None  # period code, or None while in use

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "retired_from": self.retired_from}


@dataclass(frozen=True)
class OrganisationInfo:
    """One of the partnership's responsible authorities, with its services."""

    code: str
    name: str
    services: tuple[ServiceRecord, ...]

    def as_dict(self) -> dict[str, object]:
        """As `organisations --json` prints it (docs/contracts.md)."""
        return {
            "code": self.code,
            "name": self.name,
            "services": [s.as_dict() for s in self.services],
        }


def _record(service: Service) -> ServiceRecord:
    return ServiceRecord(
        code=service.code,
        name=service.name,
        organisation=service.organisation.code,
        organisation_name=service.organisation.name,
        retired_from=service.retired_from,
    )


def list_organisations(db: Database) -> list[OrganisationInfo]:
    """Every organisation, in catalogue order, each with its services by name (none is fine)."""
    with db.reading() as session:
        organisations = session.scalars(select(Organisation).order_by(Organisation.id)).all()
        services = session.scalars(select(Service).order_by(Service.name)).all()
        by_org: dict[int, list[ServiceRecord]] = {}
        for service in services:
            by_org.setdefault(service.organisation_id, []).append(_record(service))
        return [
            OrganisationInfo(o.code, o.name, tuple(by_org.get(o.id, ()))) for o in organisations
        ]


def list_service_records(db: Database) -> list[ServiceRecord]:
    """Every service with its organisation code and whether it is retired."""
    return [s for o in list_organisations(db) for s in o.services]


def _organisation(session: Session, code: str) -> Organisation:
    wanted = code.strip().upper()
    organisation = session.scalar(select(Organisation).where(Organisation.code == wanted))
    if organisation is None:
        known = session.scalars(select(Organisation.code).order_by(Organisation.id))
        raise NotFoundError(
            f"There is no organisation '{code}'. Known organisations: {', '.join(known)}."
        )
    return organisation


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise ValidationError("Give the service a name.", field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"A service name has at most {MAX_NAME} characters.", field="name")
    return name


def service_code(text: str) -> str:
    """A new service's code, checked: capitals, digits and hyphens, 2 to 32 characters."""
    code = text.strip().upper()
    if not SERVICE_CODE.fullmatch(code):
        raise ValidationError(
            f"'{text}' cannot be a service code: use 2 to 32 capital letters, digits and "
            "hyphens, starting with a letter (e.g. LFB-KINGSTON).",
            field="code",
        )
    return code


def add_service_in(
    session: Session,
    *,
    code: str,
    name: str,
    organisation: str,
    actor: str,
    source: str = "command line",
    file_sha256: str | None = None,
) -> Service:
    """Add a service inside the caller's transaction (also used by the definitions pack)."""
    code = service_code(code)
    name = _name(name)
    owner = _organisation(session, organisation)
    if session.scalar(select(Service).where(Service.code == code)) is not None:
        raise ValidationError(f"There is already a service {code}.", field="code")
    service = Service(code=code, name=name, organisation=owner)
    session.add(service)
    session.flush()
    append_event(
        session,
        actor=actor,
        action=AuditAction.SERVICE_ADD,
        service=code,
        new=canonical_json({"name": name, "organisation": owner.code}),
        source=source,
        file_sha256=file_sha256,
    )
    return service


def add_service(
    db: Database,
    *,
    code: str,
    name: str,
    organisation: str,
    actor: str,
    source: str = SOURCE_TYPED,
) -> ServiceRecord:
    """Add a service to one of the organisations; audited as `service.add` with `source`
    (where the change was made: the app, the command line)."""
    with db.transaction() as session:
        return _record(
            add_service_in(
                session,
                code=code,
                name=name,
                organisation=organisation,
                actor=actor,
                source=source,
            )
        )


def rename_service_in(
    session: Session,
    service: Service,
    name: str,
    *,
    actor: str,
    source: str = "command line",
    file_sha256: str | None = None,
) -> bool:
    """Rename inside the caller's transaction; False when the name is already that."""
    name = _name(name)
    if service.name == name:
        return False
    append_event(
        session,
        actor=actor,
        action=AuditAction.SERVICE_RENAME,
        service=service.code,
        old=canonical_json({"name": service.name}),
        new=canonical_json({"name": name}),
        source=source,
        file_sha256=file_sha256,
    )
    service.name = name
    return True


def rename_service(
    db: Database, *, code: str, name: str, actor: str, source: str = SOURCE_TYPED
) -> ServiceRecord:
    """Give a service a new name (its code, returns and history stay); `service.rename`."""
    with db.transaction() as session:
        service = get_service(session, code)
        rename_service_in(session, service, name, actor=actor, source=source)
        return _record(service)


def retirement_period(code: str) -> Period:
    """The first quarter a retired service no longer sends a return for."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(f"--from {code}: {exc.message}") from None
    if period.kind is PeriodKind.YEAR:
        return parse_period(f"{period.code}-Q1")
    if period.kind is not PeriodKind.QUARTER:
        raise NotFoundError(
            f"--from {code}: a service is retired from a quarter, e.g. {period.quarter().code}."
        )
    return period


def retire_service_in(
    session: Session,
    service: Service,
    retired_from: str | None,
    *,
    actor: str,
    source: str = "command line",
    file_sha256: str | None = None,
) -> bool:
    """Retire (or, with None, bring back) inside the caller's transaction; False if no change."""
    period = retirement_period(retired_from).code if retired_from else None
    if service.retired_from == period:
        return False
    append_event(
        session,
        actor=actor,
        action=AuditAction.SERVICE_RETIRE,
        service=service.code,
        period=period,
        old=canonical_json({"retired_from": service.retired_from}),
        new=canonical_json({"retired_from": period}),
        source=source,
        file_sha256=file_sha256,
    )
    service.retired_from = period
    return True


def retire_service(
    db: Database,
    *,
    code: str,
    retired_from: str | None,
    actor: str,
    source: str = SOURCE_TYPED,
) -> ServiceRecord:
    """Stop asking a service for returns from a quarter on (None: ask again); its history
    stays. Audited as `service.retire`."""
    with db.transaction() as session:
        service = get_service(session, code)
        retire_service_in(session, service, retired_from, actor=actor, source=source)
        return _record(service)


def is_retired(retired_from: str | None, period: Period) -> bool:
    """Whether a service retired from `retired_from` sends no return for `period`."""
    return retired_from is not None and period.start >= parse_period(retired_from).start


def service_infos_in(session: Session) -> list[ServiceInfo]:
    """Every service as ServiceInfo (the shape `services --json` keeps)."""
    return [service_info(s) for s in session.scalars(select(Service).order_by(Service.code))]
