"""The services and return forms a definitions pack carries (issue 18), in its signed payload.

A service the coordinator added (say the fire brigade's) reaches a new laptop with the pack,
with the form its return is laid out with, so that the laptop can fill in that return. The keys
`services` and `forms` are in the payload only when the pack has them, so a pack without them
has exactly the payload it had before; an older app ignores them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.periods import parse_period


@dataclass(frozen=True)
class PackService:
    """A service as the pack carries it: its organisation by code, retired from a period."""

    code: str
    name: str
    organisation: str
    retired_from: str | None = None


@dataclass(frozen=True)
class PackForm:
    """A service's return form, as canonical JSON (services/forms.layout_json)."""

    service: str
    layout: str


def services_content(
    services: tuple[PackService, ...], forms: tuple[PackForm, ...]
) -> dict[str, Any]:
    """The payload keys for services and forms (none when the pack has neither)."""
    content: dict[str, Any] = {}
    if services:
        content["services"] = sorted(
            (
                {
                    "code": s.code,
                    "name": s.name,
                    "organisation": s.organisation,
                    "retired_from": s.retired_from,
                }
                for s in services
            ),
            key=lambda item: item["code"],
        )
    if forms:
        content["forms"] = sorted(
            ({"service": f.service, "layout": json.loads(f.layout)} for f in forms),
            key=lambda item: item["service"],
        )
    return content


def _bad(message: str) -> ValidationError:
    return ValidationError(f"the payload {message}", field="payload")


def parse_services(data: dict[str, Any]) -> tuple[tuple[PackService, ...], tuple[PackForm, ...]]:
    """The services and forms of a parsed payload; ValidationError when not the right shape."""
    raw_services = data.get("services", [])
    raw_forms = data.get("forms", [])
    if not isinstance(raw_services, list) or not isinstance(raw_forms, list):
        raise _bad("has services or forms that are not lists")
    services = []
    for item in raw_services:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("code", "name", "organisation")
        ):
            raise _bad("holds a service without code, name and organisation")
        retired = item.get("retired_from")
        if retired is not None:
            if not isinstance(retired, str):
                raise _bad(f"has service {item['code'][:40]} retired from something not a period")
            try:
                retired = parse_period(retired).code
            except ValidationError:
                raise _bad(f"has service {item['code'][:40]} retired from no period") from None
        services.append(PackService(item["code"], item["name"], item["organisation"], retired))
    forms = []
    for item in raw_forms:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("service"), str)
            or not isinstance(item.get("layout"), dict)
        ):
            raise _bad("holds a form without its service and layout")
        layout = json.dumps(
            item["layout"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        forms.append(PackForm(item["service"], layout))
    return tuple(services), tuple(forms)
