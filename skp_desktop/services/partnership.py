"""The whole partnership: its five organisations, the services the coordinator adds, renames,
retires and lays out forms for, and later figures of the context measures.

Every change is one transaction and one audit event, which services/audit.verify replays
(`replay_problems` below):

- `service.add` (service = code; new = {"name", "organisation"} as canonical JSON)
- `service.rename` (old and new = {"name"})
- `service.retire` (period = the first period without returns; old and new =
  {"retired_from": code or null}; null brings the service back)
- `service.form` (new = the form as canonical JSON, services/forms.layout_json; null: back
  to the bundled forms/<CODE>.toml)
- `context.set` (indicator, period; old and new = {"source", "value"}; value null = cleared)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.definitions import Frequency, is_due
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.values import canonical_text, format_number, parse_number
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.excel.pack_services import PackForm, PackService
from skp_desktop.services.catalogue import (
    get_service,
    indicator_infos,
    read_catalogue,
    service_info,
)
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo, ServiceInfo
from skp_desktop.services.entries import SOURCE_TYPED
from skp_desktop.services.form_editing import FormChoices
from skp_desktop.services.forms import (
    FormLayout,
    form_for,
    layout_from_data,
    layout_from_json,
    layout_json,
)
from skp_desktop.services.forms import (  # re-exported: the command line prints a form
    layout_data as layout_data,
)
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import (
    ContextValue,
    Indicator,
    Organisation,
    Service,
    ServiceForm,
)

SERVICE_ACTIONS = (
    AuditAction.SERVICE_ADD,
    AuditAction.SERVICE_RENAME,
    AuditAction.SERVICE_RETIRE,
    AuditAction.SERVICE_FORM,
)
SERVICE_CODE = re.compile(r"[A-Z][A-Z0-9-]{1,31}")
MAX_NAME = 200
MAX_SOURCE = 500


def canonical_json(data: Any) -> str:
    """Canonical JSON (sorted keys, no spaces), as audit events record old and new."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- organisations and services ----------------------------------------------------------


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


# --- forms -------------------------------------------------------------------------------


def _service_codes_of(session: Session, service: Service) -> list[str]:
    return [
        code
        for (code,) in session.execute(
            select(Indicator.code)
            .where(Indicator.service_id == service.id)
            .order_by(Indicator.position)
        )
    ]


def service_form_in(session: Session, service: Service) -> FormLayout | None:
    """The service's form: the coordinator's, else the bundled file's, else None."""
    stored = session.get(ServiceForm, service.id)
    if stored is not None:
        return layout_from_json(service.code, stored.layout)
    return form_for(service.code)


def _form_or_default_in(session: Session, service: Service) -> FormLayout:
    layout = service_form_in(session, service)
    if layout is not None:
        return layout
    infos = indicator_infos(session, service=service)
    return layout_from_data(
        service.code,
        {
            "title": f"{service.name} return",
            "sections": _theme_sections(infos),
        },
    )


def service_form(db: Database, code: str) -> FormLayout:
    """The form a service's return is laid out with (one section per theme when none is set)."""
    with db.reading() as session:
        return _form_or_default_in(session, get_service(session, code))


def form_choices(db: Database, code: str) -> FormChoices:
    """What the form editor shows for a service: its form, whether the coordinator set it, and
    every indicator it may put on it (the service's own, as `set_service_form` allows)."""
    with db.reading() as session:
        service = get_service(session, code)
        titles = {info.code: info.title for info in indicator_infos(session, service=service)}
        indicators = {c: titles.get(c, c) for c in _service_codes_of(session, service)}
        return FormChoices(
            service=service.code,
            service_name=service.name,
            layout=_form_or_default_in(session, service),
            custom=session.get(ServiceForm, service.id) is not None,
            indicators=indicators,
        )


def _theme_sections(infos: Iterable[IndicatorInfo]) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for info in infos:
        if not sections or sections[-1]["title"] != info.theme_name:
            sections.append({"title": info.theme_name, "indicators": []})
        sections[-1]["indicators"].append({"code": info.code})
    return sections


def set_service_form_in(
    session: Session,
    service: Service,
    data: Mapping[str, Any] | None,
    *,
    actor: str,
    source: str = "command line",
    file_sha256: str | None = None,
    check_codes: bool = True,
) -> bool:
    """Set (or, with None, drop) the coordinator's form inside the caller's transaction."""
    stored = session.get(ServiceForm, service.id)
    old: str | None
    new: str | None
    if data is None:
        if stored is None:
            return False
        old, new = stored.layout, None
        session.delete(stored)
    else:
        known = _service_codes_of(session, service) if check_codes else None
        new = layout_json(layout_from_data(service.code, data, known))
        old = stored.layout if stored is not None else None
        if old == new:
            return False
        if stored is None:
            session.add(
                ServiceForm(
                    service_id=service.id, layout=new, set_at=datetime.now(UTC), set_by=actor
                )
            )
        else:
            stored.layout, stored.set_at, stored.set_by = new, datetime.now(UTC), actor
    append_event(
        session,
        actor=actor,
        action=AuditAction.SERVICE_FORM,
        service=service.code,
        old=old,
        new=new,
        source=source,
        file_sha256=file_sha256,
    )
    session.flush()
    return True


def set_service_form(
    db: Database,
    *,
    code: str,
    form: Mapping[str, Any] | None,
    actor: str,
    source: str = SOURCE_TYPED,
) -> FormLayout | None:
    """Lay out a service's return form (sections, order, help); None goes back to the bundled
    form. Every indicator named must be the service's. Audited as `service.form`."""
    with db.transaction() as session:
        service = get_service(session, code)
        set_service_form_in(session, service, form, actor=actor, source=source)
        return service_form_in(session, service)


def stored_forms(session: Session) -> dict[str, str]:
    """The forms the coordinator set, as canonical JSON by service code."""
    return {
        code: layout
        for code, layout in session.execute(
            select(Service.code, ServiceForm.layout).join(
                Service, Service.id == ServiceForm.service_id
            )
        )
    }


# --- context measures ---------------------------------------------------------------------


@dataclass(frozen=True)
class ContextFigure:
    """A context measure's figure for one period (a later "Where are we now?" figure)."""

    code: str
    period: Period
    value: Decimal
    source: str | None
    set_by: str
    set_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "period": self.period.code,
            "value": self.value,
            "source": self.source,
        }


def _context_info(session: Session, code: str, period: Period | None) -> tuple[Indicator, Any]:
    wanted = code.strip().upper()
    indicator = session.scalar(select(Indicator).where(Indicator.code == wanted))
    if indicator is None or indicator.kind != "context":
        known = session.scalars(
            select(Indicator.code).where(Indicator.kind == "context").order_by(Indicator.position)
        )
        what = "an indicator, not a context measure" if indicator else "not known"
        raise NotFoundError(
            f"{wanted} is {what}. Context measures: {', '.join(known)}. "
            "(An indicator's figure is entered in its service's return.)"
        )
    infos = indicator_infos(session, period=period, include_context=True)
    info = next(i for i in infos if i.code == indicator.code)
    return indicator, info


def context_period(code: str, frequency: Frequency) -> Period:
    """The period a context figure is for: a quarter (a year means its year-end quarter)."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(f"--period {code}: {exc.message}") from None
    if period.kind is PeriodKind.YEAR:
        period = parse_period(f"{period.code}-Q4")
    if period.kind is PeriodKind.MONTH:
        raise NotFoundError(f"--period {code}: give a quarter, e.g. {period.quarter().code}.")
    if not is_due(frequency, period):
        raise NotFoundError(
            f"--period {code}: this measure is {frequency.value}; give the year-end quarter "
            f"{period.financial_year().code}-Q4."
        )
    return period


def set_context_figure(
    db: Database,
    *,
    code: str,
    period: str,
    value: str | Decimal | None,
    actor: str,
    source: str | None = None,
    audit_source: str = SOURCE_TYPED,
) -> ContextFigure | None:
    """Record (or, with None, clear) a context measure's figure for a period; `context.set`.

    `source` is where the figure comes from (kept with it); `audit_source` where the change
    was made (the app, the command line), as the audit event records it. Returns the figure
    now held (None once cleared)."""
    with db.transaction() as session:
        indicator, info = _context_info(session, code, None)
        the_period = context_period(period, info.rules.frequency)
        rules = info.rules
        row = session.scalar(
            select(ContextValue).where(
                ContextValue.indicator_id == indicator.id, ContextValue.period == the_period.code
            )
        )
        old = _context_event(row.value, row.source) if row else None
        cleaned_source = " ".join((source or "").split())[:MAX_SOURCE] or None
        if value is None:
            if row is None:
                return None
            session.delete(row)
            new = _context_event(None, None)
            result = None
        else:
            number = (
                value
                if isinstance(value, Decimal)
                else parse_number(value, field=f"{indicator.code} {the_period.code}")
            )
            low, high = rules.effective_min, rules.effective_max
            if (low is not None and number < low) or (high is not None and number > high):
                raise ValidationError(
                    f"{canonical_text(number)} is outside what {indicator.code} can be "
                    f"({rules.unit.value}"
                    + (
                        f", at least {format_number(low, rules.decimals)}"
                        if low is not None
                        else ""
                    )
                    + (
                        f", at most {format_number(high, rules.decimals)}"
                        if high is not None
                        else ""
                    )
                    + ").",
                    field=f"{indicator.code} {the_period.code}",
                )
            text = canonical_text(number)
            now = datetime.now(UTC)
            if row is None:
                row = ContextValue(
                    indicator_id=indicator.id,
                    period=the_period.code,
                    value=text,
                    source=cleaned_source,
                    set_at=now,
                    set_by=actor,
                )
                session.add(row)
            elif row.value == text and (cleaned_source is None or row.source == cleaned_source):
                return _figure(indicator.code, row)
            else:
                row.value, row.set_at, row.set_by = text, now, actor
                if cleaned_source is not None:
                    row.source = cleaned_source
            new = _context_event(row.value, row.source)
            result = row
        append_event(
            session,
            actor=actor,
            action=AuditAction.CONTEXT_SET,
            indicator=indicator.code,
            period=the_period.code,
            old=old,
            new=new,
            source=audit_source,
        )
        session.flush()
        return _figure(indicator.code, result) if result is not None else None


def _context_event(value: str | None, source: str | None) -> str:
    return canonical_json({"source": source, "value": value})


def _figure(code: str, row: ContextValue) -> ContextFigure:
    return ContextFigure(
        code=code,
        period=parse_period(row.period),
        value=Decimal(row.value),
        source=row.source,
        set_by=row.set_by,
        set_at=row.set_at,
    )


def context_figures_in(session: Session) -> dict[str, list[ContextFigure]]:
    """Every context figure held, by measure code, in period order."""
    figures: dict[str, list[ContextFigure]] = {}
    for code, row in session.execute(
        select(Indicator.code, ContextValue).join(
            Indicator, Indicator.id == ContextValue.indicator_id
        )
    ):
        figures.setdefault(code, []).append(_figure(code, row))
    for rows in figures.values():
        rows.sort(key=lambda f: f.period.start)
    return figures


def context_figures(db: Database) -> dict[str, list[ContextFigure]]:
    """Every context figure held, by measure code, in period order."""
    with db.reading() as session:
        return context_figures_in(session)


def context_measures(db: Database) -> list[IndicatorInfo]:
    """The context measures of the definitions in force, in catalogue order."""
    with db.reading() as session:
        return [i for i in indicator_infos(session, include_context=True) if i.kind == "context"]


# --- what verify replays -------------------------------------------------------------------


@dataclass
class PartnershipReplay:
    """What the `service.*` and `context.set` events say the database should hold."""

    added: set[str] = field(default_factory=set)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # code: name, org, retired
    forms: dict[str, str | None] = field(default_factory=dict)
    context: dict[tuple[str, str], tuple[str, str | None] | None] = field(default_factory=dict)

    def note(
        self,
        action: str,
        service: str | None,
        indicator: str | None,
        period: str | None,
        new_text: str | None,
    ) -> None:
        """Take in one event (anything unreadable is left to verify_chain to name)."""
        try:
            if action == AuditAction.CONTEXT_SET and indicator and period:
                new = json.loads(new_text or "")
                value = new.get("value")
                self.context[(indicator, period)] = (
                    None if value is None else (str(value), new.get("source"))
                )
                return
            if not service:
                return
            if action == AuditAction.SERVICE_FORM:
                self.forms[service] = new_text
                return
            new = json.loads(new_text or "")
            state = self.services.setdefault(service, {})
            if action == AuditAction.SERVICE_ADD:
                self.added.add(service)
                state.update(name=new["name"], organisation=new["organisation"])
            elif action == AuditAction.SERVICE_RENAME:
                state["name"] = new["name"]
            elif action == AuditAction.SERVICE_RETIRE:
                state["retired_from"] = new["retired_from"]
        except (ValueError, TypeError, KeyError, AttributeError):
            return


def replay_problems(session: Session, replay: PartnershipReplay) -> list[str]:
    """Services, forms and context figures held against what their history says."""
    problems = []
    try:
        default_codes = {s["code"] for s in read_catalogue()[0].get("services", [])}
    except OSError:
        default_codes = set()
    for service in session.scalars(select(Service).order_by(Service.code)):
        recorded = replay.services.get(service.code, {})
        if service.code not in default_codes and service.code not in replay.added:
            problems.append(f"service {service.code} has no history: it was added outside the app")
            continue
        for key, held in (
            ("name", service.name),
            ("organisation", service.organisation.code),
            ("retired_from", service.retired_from),
        ):
            if key in recorded:
                expected = recorded[key]
            elif key == "retired_from":
                expected = None  # no service starts retired
            else:
                continue  # a default service's name and organisation come from the catalogue
            if held != expected:
                problems.append(
                    f"service {service.code}'s {key.replace('_', ' ')} is {held or 'not set'} "
                    f"but its history says {expected or 'not set'}: it was changed outside "
                    "the app"
                )
    held_forms = stored_forms(session)
    for code in sorted(set(held_forms) | {c for c, f in replay.forms.items() if f}):
        if held_forms.get(code) != replay.forms.get(code):
            problems.append(
                f"the return form of {code} differs from its history: it was changed outside "
                "the app"
            )
    held_context = {
        (code, figure.period.code): (canonical_text(figure.value), figure.source)
        for code, figures in context_figures_in(session).items()
        for figure in figures
    }
    recorded_context = {k: v for k, v in replay.context.items() if v is not None}
    for figure_key in sorted(set(held_context) | set(recorded_context)):
        held_figure = held_context.get(figure_key)
        recorded_figure = recorded_context.get(figure_key)
        if held_figure != recorded_figure:
            problems.append(
                f"the figure of {figure_key[0]} for {figure_key[1]} is "
                f"{held_figure[0] if held_figure else 'not held'} but its history says "
                f"{recorded_figure[0] if recorded_figure else 'not set'}: it was changed "
                "outside the app"
            )
    return problems


def service_infos_in(session: Session) -> list[ServiceInfo]:
    """Every service as ServiceInfo (the shape `services --json` keeps)."""
    return [service_info(s) for s in session.scalars(select(Service).order_by(Service.code))]


# --- services and forms in the definitions pack --------------------------------------------


def pack_services_of(session: Session) -> tuple[tuple[PackService, ...], tuple[PackForm, ...]]:
    """Every service (with its organisation and retirement) and every form the coordinator
    set, as a definitions pack carries them."""
    services = tuple(
        PackService(s.code, s.name, s.organisation.code, s.retired_from)
        for s in session.scalars(select(Service).order_by(Service.code))
    )
    forms = tuple(PackForm(code, layout) for code, layout in sorted(stored_forms(session).items()))
    return services, forms


def apply_pack_services(
    session: Session, pack: Any, *, actor: str, source: str, sha: str | None
) -> str | None:
    """Bring the services and forms a pack carries into this database, inside the import's
    transaction, each change audited as the coordinator's own would be. A pack without
    services (an older one) changes nothing. Returns what changed, in words, or None."""
    if not pack.services:
        return None
    held = {s.code: s for s in session.scalars(select(Service))}
    added = renamed = retired = 0
    for item in pack.services:
        service = held.get(item.code)
        if service is None:
            held[item.code] = add_service_in(
                session,
                code=item.code,
                name=item.name,
                organisation=item.organisation,
                actor=actor,
                source=source,
                file_sha256=sha,
            )
            added += 1
            service = held[item.code]
        elif rename_service_in(
            session, service, item.name, actor=actor, source=source, file_sha256=sha
        ):
            renamed += 1
        if retire_service_in(
            session, service, item.retired_from, actor=actor, source=source, file_sha256=sha
        ):
            retired += 1
    forms = {f.service: f.layout for f in pack.forms}
    laid_out = 0
    for code, service in sorted(held.items()):
        data = json.loads(forms[code]) if code in forms else None
        if set_service_form_in(
            session,
            service,
            data,
            actor=actor,
            source=source,
            file_sha256=sha,
            check_codes=False,  # the pack's own indicators may be installed after this
        ):
            laid_out += 1
    words = [
        f"{n} service{'s' if n != 1 else ''} {what}"
        for n, what in ((added, "added"), (renamed, "renamed"), (retired, "retired or back"))
        if n
    ]
    if laid_out:
        words.append(f"{laid_out} form{'s' if laid_out != 1 else ''} laid out")
    return ", ".join(words) or None
