"""The services and forms a definitions pack carries: read from this database for an export,
and brought into it, audited, inside a pack's import."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.excel.pack_services import PackForm, PackService
from skp_desktop.services.partnership.organisations import (
    add_service_in,
    rename_service_in,
    retire_service_in,
)
from skp_desktop.services.partnership.service_forms import set_service_form_in, stored_forms
from skp_desktop.store.models import Service


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
