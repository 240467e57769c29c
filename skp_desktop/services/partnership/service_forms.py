"""A service's return form: the coordinator's layout, else the bundled forms/<CODE>.toml, else
one section per theme; what the form editor is offered; a form set or dropped
(`service.form`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.catalogue import get_service, indicator_infos
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.entries import SOURCE_TYPED
from skp_desktop.services.form_editing import FormChoices
from skp_desktop.services.forms import (
    FormLayout,
    form_for,
    layout_from_data,
    layout_from_json,
    layout_json,
)
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import Indicator, Service, ServiceForm


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
