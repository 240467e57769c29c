"""Return layouts: which indicators a service's return shows, in what order, with what help."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from skp_desktop.domain.errors import ValidationError
from skp_desktop.locations import forms_dir


@dataclass(frozen=True)
class FormItem:
    """One indicator's place on a form."""

    code: str
    section: str
    help: str | None


@dataclass(frozen=True)
class FormLayout:
    """A service's return form: its title, introduction and indicators in order."""

    service: str
    title: str
    intro: str | None
    items: tuple[FormItem, ...]

    def position(self, code: str) -> int | None:
        for index, item in enumerate(self.items):
            if item.code == code:
                return index
        return None

    def item(self, code: str) -> FormItem | None:
        index = self.position(code)
        return None if index is None else self.items[index]


@cache
def form_for(service_code: str) -> FormLayout | None:
    """The service's layout from `forms/<CODE>.toml`, or None when it has no form file."""
    path = forms_dir() / f"{service_code}.toml"
    if not path.is_file():
        return None
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    items = []
    for section in data.get("sections", []):
        for entry in section.get("indicators", []):
            items.append(FormItem(entry["code"], section["title"], entry.get("help")))
    return FormLayout(
        service=data.get("service", service_code),
        title=data.get("title", service_code),
        intro=data.get("intro"),
        items=tuple(items),
    )


# --- forms the coordinator sets (the service_forms table, and the definitions pack) -------

MAX_FORM_TEXT = 4000  # a title, introduction or help text


def layout_data(layout: FormLayout) -> dict[str, Any]:
    """A layout as plain data in the shape of forms/<CODE>.toml (sections in order)."""
    sections: list[dict[str, Any]] = []
    for item in layout.items:
        if not sections or sections[-1]["title"] != item.section:
            sections.append({"title": item.section, "indicators": []})
        sections[-1]["indicators"].append({"code": item.code, "help": item.help})
    return {"title": layout.title, "intro": layout.intro, "sections": sections}


def layout_json(layout: FormLayout) -> str:
    """A layout as canonical JSON (sorted keys, no spaces): how it is stored and audited."""
    return json.dumps(
        layout_data(layout), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def _text(value: object, where: str, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"{where} is empty: give it some text.", field=where)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be text.", field=where)
    if len(value) > MAX_FORM_TEXT:
        raise ValidationError(f"{where} has more than {MAX_FORM_TEXT} characters.", field=where)
    return value.strip()


def layout_from_data(
    service_code: str, data: Mapping[str, Any], known_codes: Iterable[str] | None = None
) -> FormLayout:
    """A layout read from plain data (a TOML form file, or stored JSON), checked: every section
    titled, every indicator named once and, when `known_codes` is given, one of them."""
    if not isinstance(data, Mapping):
        raise ValidationError("A form is a table with title, intro and sections.", field="form")
    unknown = set(data) - {"service", "title", "intro", "sections"}
    if unknown:
        raise ValidationError(
            f"A form has no '{sorted(unknown)[0]}': use title, intro and sections.", field="form"
        )
    known = None if known_codes is None else set(known_codes)
    sections = data.get("sections") or []
    if not isinstance(sections, list):
        raise ValidationError("sections must be a list of tables.", field="sections")
    items: list[FormItem] = []
    seen: set[str] = set()
    for number, section in enumerate(sections, start=1):
        where = f"section {number}"
        if not isinstance(section, Mapping):
            raise ValidationError(f"{where} must be a table.", field=where)
        title = _text(section.get("title"), f"{where} title", required=True)
        for entry in section.get("indicators") or []:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("code"), str):
                raise ValidationError(f"{where}: each indicator needs a code.", field=where)
            code = entry["code"].strip().upper()
            if code in seen:
                raise ValidationError(f"{code} is on the form twice.", field=code)
            if known is not None and code not in known:
                raise ValidationError(
                    f"{code} is not one of {service_code}'s indicators "
                    f"({', '.join(sorted(known)) or 'it has none yet'}).",
                    field=code,
                )
            seen.add(code)
            help_text = _text(entry.get("help"), f"{code} help", required=False)
            items.append(FormItem(code, title or "", help_text))
    return FormLayout(
        service=service_code,
        title=_text(data.get("title"), "title", required=False) or service_code,
        intro=_text(data.get("intro"), "intro", required=False),
        items=tuple(items),
    )


def layout_from_json(service_code: str, text: str) -> FormLayout:
    """A stored layout (layout_json's output)."""
    return layout_from_data(service_code, json.loads(text))
