"""A return form being edited by the coordinator (issue 18), without Qt.

`FormDraft` is immutable: every edit returns a new draft, so the editor's undo stack only has
to keep drafts, and a refused save loses nothing (the draft on screen is still the one typed).
`problems()` says, in the coordinator's words, what would stop a save before it is tried;
`data()` is what `partnership.set_service_form` takes, which checks it all again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from skp_desktop.services.forms import MAX_FORM_TEXT, FormLayout, layout_data


@dataclass(frozen=True)
class DraftItem:
    """An indicator's place on the form being edited."""

    code: str
    help: str = ""


@dataclass(frozen=True)
class DraftSection:
    title: str
    items: tuple[DraftItem, ...] = ()


@dataclass(frozen=True)
class Place:
    """Where an indicator sits: its section's index and its index in that section."""

    section: int
    index: int


def _clean(text: str | None) -> str:
    return (text or "").strip()


@dataclass(frozen=True)
class FormDraft:
    """A service's return form as the coordinator is editing it."""

    title: str
    intro: str
    sections: tuple[DraftSection, ...]

    @classmethod
    def from_layout(cls, layout: FormLayout) -> FormDraft:
        data = layout_data(layout)
        return cls(
            title=layout.title,
            intro=layout.intro or "",
            sections=tuple(
                DraftSection(
                    section["title"],
                    tuple(DraftItem(i["code"], i["help"] or "") for i in section["indicators"]),
                )
                for section in data["sections"]
            ),
        )

    # --- reading -------------------------------------------------------------------------

    def codes(self) -> list[str]:
        return [item.code for section in self.sections for item in section.items]

    def place_of(self, code: str) -> Place | None:
        for s, section in enumerate(self.sections):
            for i, item in enumerate(section.items):
                if item.code == code:
                    return Place(s, i)
        return None

    def item(self, code: str) -> DraftItem | None:
        place = self.place_of(code)
        return None if place is None else self.sections[place.section].items[place.index]

    def data(self) -> dict[str, object]:
        """The draft in the shape `set_service_form` takes (that of forms/<CODE>.toml)."""
        return {
            "title": _clean(self.title) or None,
            "intro": _clean(self.intro) or None,
            "sections": [
                {
                    "title": _clean(section.title),
                    "indicators": [
                        {"code": item.code, "help": _clean(item.help) or None}
                        for item in section.items
                    ],
                }
                for section in self.sections
            ],
        }

    def problems(self, allowed: Iterable[str] | None = None) -> list[str]:
        """What stops this draft being saved, each said once; empty when it can be saved.
        `allowed`: the codes the service may show (None: not checked here)."""
        said: list[str] = []
        known = None if allowed is None else set(allowed)
        if not self.sections:
            said.append("The form has no section: add one, then put indicators in it.")
        titles: dict[str, int] = {}
        seen: dict[str, str] = {}
        for number, section in enumerate(self.sections, start=1):
            title = _clean(section.title)
            name = f"Section {number}" + (f" ({title})" if title else "")
            if not title:
                said.append(f"{name} has no title: rename it.")
            elif title.casefold() in titles:
                said.append(
                    f"{name} has the same title as section {titles[title.casefold()]}: "
                    "give each section its own title."
                )
            else:
                titles[title.casefold()] = number
            if len(title) > MAX_FORM_TEXT:
                said.append(f"{name}'s title is longer than {MAX_FORM_TEXT} characters.")
            if not section.items:
                said.append(f"{name} has no indicator: add one or remove the section.")
            for item in section.items:
                if item.code in seen:
                    said.append(
                        f"{item.code} is on the form twice (in {seen[item.code]} and in "
                        f"{title or f'section {number}'}): remove one."
                    )
                else:
                    seen[item.code] = title or f"section {number}"
                if known is not None and item.code not in known:
                    said.append(f"{item.code} is not one of this service's indicators.")
                if len(_clean(item.help)) > MAX_FORM_TEXT:
                    said.append(f"{item.code}'s help is longer than {MAX_FORM_TEXT} characters.")
        for label, text in (("The title", self.title), ("The introduction", self.intro)):
            if len(_clean(text)) > MAX_FORM_TEXT:
                said.append(f"{label} is longer than {MAX_FORM_TEXT} characters.")
        return said

    def missing(self, allowed: Iterable[str]) -> list[str]:
        """The service's indicators not on the form (its return would list them last)."""
        on_form = set(self.codes())
        return [code for code in allowed if code not in on_form]

    # --- editing: every method returns a new draft ----------------------------------------

    def with_title(self, title: str) -> FormDraft:
        return replace(self, title=title)

    def with_intro(self, intro: str) -> FormDraft:
        return replace(self, intro=intro)

    def _with_section(self, at: int, section: DraftSection) -> FormDraft:
        sections = list(self.sections)
        sections[at] = section
        return replace(self, sections=tuple(sections))

    def add_section(self, title: str, at: int | None = None) -> FormDraft:
        """A new empty section, at `at` (the end when None)."""
        sections = list(self.sections)
        sections.insert(len(sections) if at is None else at, DraftSection(title.strip()))
        return replace(self, sections=tuple(sections))

    def rename_section(self, at: int, title: str) -> FormDraft:
        return self._with_section(at, replace(self.sections[at], title=title.strip()))

    def remove_section(self, at: int) -> FormDraft:
        """The section goes, and its indicators leave the form with it."""
        return replace(self, sections=self.sections[:at] + self.sections[at + 1 :])

    def move_section(self, at: int, step: int) -> FormDraft:
        to = at + step
        if not 0 <= to < len(self.sections):
            return self
        sections = list(self.sections)
        sections[at], sections[to] = sections[to], sections[at]
        return replace(self, sections=tuple(sections))

    def add_indicator(self, section: int, code: str, help_text: str = "") -> FormDraft:
        """`code` at the end of a section (the checks say if it is on the form already)."""
        target = self.sections[section]
        return self._with_section(
            section, replace(target, items=(*target.items, DraftItem(code, help_text)))
        )

    def _take(self, code: str) -> tuple[FormDraft, DraftItem, Place] | None:
        place = self.place_of(code)
        if place is None:
            return None
        section = self.sections[place.section]
        item = section.items[place.index]
        rest = section.items[: place.index] + section.items[place.index + 1 :]
        return self._with_section(place.section, replace(section, items=rest)), item, place

    def remove_indicator(self, code: str) -> FormDraft:
        taken = self._take(code)
        return self if taken is None else taken[0]

    def _put(self, item: DraftItem, place: Place) -> FormDraft:
        section = self.sections[place.section]
        items = list(section.items)
        items.insert(place.index, item)
        return self._with_section(place.section, replace(section, items=tuple(items)))

    def move_indicator(self, code: str, step: int) -> FormDraft:
        """One place up (step -1) or down (+1); past the top or bottom of its section it goes
        to the end of the section before or the start of the section after."""
        taken = self._take(code)
        if taken is None:
            return self
        rest, item, place = taken
        index = place.index + step
        if 0 <= index <= len(rest.sections[place.section].items):
            return rest._put(item, Place(place.section, index))
        section = place.section + (1 if step > 0 else -1)
        if not 0 <= section < len(self.sections):
            return self
        at = len(rest.sections[section].items) if step < 0 else 0
        return rest._put(item, Place(section, at))

    def move_to_section(self, code: str, section: int) -> FormDraft:
        """To the end of another section."""
        taken = self._take(code)
        if taken is None or taken[2].section == section:
            return self
        rest, item, _place = taken
        return rest._put(item, Place(section, len(rest.sections[section].items)))

    def with_help(self, code: str, help_text: str) -> FormDraft:
        place = self.place_of(code)
        if place is None:
            return self
        section = self.sections[place.section]
        items = list(section.items)
        items[place.index] = replace(items[place.index], help=help_text)
        return self._with_section(place.section, replace(section, items=tuple(items)))


@dataclass(frozen=True)
class FormChoices:
    """What the form editor needs about one service: its form now, whether the coordinator
    set it (else it is the bundled or the default one), and the indicators it may show."""

    service: str
    service_name: str
    layout: FormLayout
    custom: bool
    indicators: Mapping[str, str]  # code -> title, in catalogue order
