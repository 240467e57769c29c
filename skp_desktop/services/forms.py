"""Return layouts: which indicators a service's return shows, in what order, with what help."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

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
