"""What `verify` replays: the `service.*` and `context.set` events taken in, and the services,
forms and context figures held compared with what their history says."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.values import canonical_text
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.catalogue import read_catalogue
from skp_desktop.services.partnership.context_figures import context_figures_in
from skp_desktop.services.partnership.service_forms import stored_forms
from skp_desktop.store.models import Service


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
