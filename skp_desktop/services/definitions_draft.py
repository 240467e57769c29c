"""The definitions editor's unpublished draft, without Qt.

The coordinator edits indicators one at a time and publishes them all as one version. What is
not yet published lives here: the pending fields and yearly targets of each indicator, the new
indicators, the chosen applies-from period and note, and what publishing would say about them.
Every change is checked at once with `plan_version`, the rules publishing itself uses, so the
form (ui/pages/definitions_page.py) only shows this model and forwards what is typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from skp_desktop.domain.definition_edits import (
    EDITABLE_FIELDS,
    IDENTITY_FIELDS,
    DefinitionsRefused,
    FieldProblem,
    IndicatorSpec,
    PlannedVersion,
    parse_code,
    parse_field,
    plan_version,
    spec_problems_by_field,
)
from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.values import canonical_text

if TYPE_CHECKING:
    from skp_desktop.services.definitions import DefinitionsState, Publication

NO_SERVICE = ""  # the "no service" choice of a context measure


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


class DefinitionsDraft:
    """The changes not yet published, keyed by indicator code (or "new:N" for a new one)."""

    def __init__(self) -> None:
        self.state: DefinitionsState | None = None
        self.applies_from = ""  # a period code, e.g. FY2025-26-Q1
        self.note = ""
        self._base: dict[str, IndicatorSpec | None] = {}  # None: a new indicator
        self._fields: dict[str, dict[str, object]] = {}
        self._targets: dict[str, dict[str, str]] = {}
        self._extra_years: dict[str, set[str]] = {}
        self._order: list[str] = []
        self._new_count = 0
        self._problems: list[FieldProblem] = []
        self._problem_keys: dict[str, str] = {}  # problem's indicator label -> key
        self._plan: PlannedVersion | None = None

    # --- what is held ------------------------------------------------------------------------

    def load(self, state: DefinitionsState) -> None:
        """The newest published definitions; changes not yet published are kept."""
        self.state = state
        for spec in state.indicators:
            self._base[spec.code] = spec
        held = [s.code for s in state.indicators]
        new = [k for k in self._order if self._base.get(k) is None and k not in held]
        self._order = held + new
        self.check()

    def clear(self) -> None:
        """Forget every pending change and the indicators read (another database)."""
        self.state = None
        self._base.clear()
        self._fields.clear()
        self._targets.clear()
        self._extra_years.clear()
        self._order = []
        self._problems = []
        self._plan = None
        self.note = ""

    def discard(self) -> None:
        """Every unpublished change dropped: the published definitions again."""
        state = self.state
        self.clear()
        if state is not None:
            self.load(state)

    @property
    def keys(self) -> tuple[str, ...]:
        """The indicators in list order: the published ones, then the new ones."""
        return tuple(self._order)

    def base(self, key: str) -> IndicatorSpec | None:
        """The published spec of an indicator; None for a new one."""
        return self._base.get(key)

    def is_new(self, key: str) -> bool:
        return key in self._base and self._base[key] is None

    def values(self, key: str) -> dict[str, object]:
        """What the form shows: the published spec with the pending changes over it."""
        base = self._base.get(key)
        values: dict[str, object] = {}
        if base is not None:
            values = {name: base.value_of(name) for name in IDENTITY_FIELDS + EDITABLE_FIELDS}
        values.update(self._fields.get(key, {}))
        return values

    def pending(self, key: str) -> bool:
        """Whether a published indicator has changed fields or targets not yet published."""
        return bool(self._fields.get(key) or self._targets.get(key))

    def status(self, key: str) -> str:
        """'new', 'changed' or '' for the list."""
        if self.is_new(key):
            return "new"
        return "changed" if self.pending(key) else ""

    @property
    def dirty(self) -> bool:
        """Whether there are changes not yet published."""
        return (
            any(self._fields.values())
            or any(self._targets.values())
            or any(self._base.get(k) is None for k in self._order)
        )

    # --- editing -----------------------------------------------------------------------------

    def add_indicator(self, like: str | None = None) -> str:
        """A new indicator with the usual choices (service and theme of `like`); its key."""
        if self.state is None:
            raise ValueError("the definitions are not read yet")
        self._new_count += 1
        key = f"new:{self._new_count}"
        self._base[key] = None
        model = self._base.get(like or "")
        self._fields[key] = {
            "code": "",
            "kind": "indicator",
            "service": model.service if model and model.service else NO_SERVICE,
            "theme": model.theme if model else self.state.themes[0][0],
            "frequency": Frequency.QUARTERLY.value,
            "has_fraction": False,
            "title": "",
            "unit": Unit.PERCENT.value,
            "polarity": Polarity.HIGHER_IS_BETTER.value,
            "level": Level.SERVICE.value,
            "decimals": 1,
        }
        self._order.append(key)
        self.check()
        return key

    def set_fields(self, key: str, given: Mapping[str, object]) -> None:
        """The form's fields as typed. A published indicator keeps only the editable fields
        that differ from what is published; a new one keeps them all."""
        base = self._base.get(key)
        if base is None:
            self._fields[key] = {**self._fields.get(key, {}), **given}
        else:
            changed = {
                name: raw
                for name, raw in {**self._fields.get(key, {}), **given}.items()
                if name in EDITABLE_FIELDS and not _same(name, raw, base.value_of(name))
            }
            self._fields[key] = changed
        self.check()

    def set_field(self, key: str, name: str, raw: object) -> None:
        """One field as typed, e.g. set_field("SAFER-P4-S1", "title", "Repeat victims")."""
        if self._base.get(key) is not None and name in IDENTITY_FIELDS:
            raise ValueError(f"the {name} of a published indicator cannot change")
        self.set_fields(key, {name: raw})

    def revert(self, key: str) -> None:
        """Drop an indicator's pending changes; a new indicator goes altogether."""
        if self.is_new(key):
            self._order.remove(key)
            self._base.pop(key, None)
        self._fields.pop(key, None)
        self._targets.pop(key, None)
        self._extra_years.pop(key, None)
        self.check()

    def set_applies_from(self, code: str) -> None:
        self.applies_from = code
        self.check()

    def set_note(self, text: str) -> None:
        self.note = text
        self.check()

    # --- targets -----------------------------------------------------------------------------

    def code_of(self, key: str) -> str | None:
        """The indicator's code; None while a new one has no valid code yet."""
        base = self._base.get(key)
        if base is not None:
            return base.code
        try:
            return parse_code(self._fields.get(key, {}).get("code"))
        except ValidationError:
            return None

    def held_targets(self, key: str) -> dict[str, Decimal]:
        """The published targets of an indicator, by year (FY2025-26)."""
        if self.state is None or self._base.get(key) is None:
            return {}
        return dict(self.state.targets.get(key, {}))

    def target_years(self, key: str) -> list[str]:
        """The years the targets table shows: held, edited or added, in order."""
        years = set(self.held_targets(key)) | set(self._targets.get(key, {}))
        years |= self._extra_years.get(key, set())
        return sorted(years, key=lambda year: parse_period(year).start)

    def held_target_text(self, key: str, year: str) -> str:
        held = self.held_targets(key)
        return canonical_text(held[year]) if year in held else ""

    def target_text(self, key: str, year: str) -> str:
        """A year's target as the table shows it: as typed, else as published."""
        return self._targets.get(key, {}).get(year, self.held_target_text(key, year))

    def set_target(self, key: str, year: str, text: str) -> None:
        """A year's target as typed; blank removes a published target."""
        edits = self._targets.setdefault(key, {})
        if text == self.held_target_text(key, year):
            edits.pop(year, None)
        else:
            edits[year] = text
        self.check()

    def clear_target(self, key: str, year: str) -> None:
        self.set_target(key, year, "")

    def add_target_year(self, key: str) -> str:
        """The first financial year from the applies-from period on without a row; its code."""
        chosen = parse_period(self.applies_from or "FY2024-25")
        start = chosen.financial_year()
        if chosen.start > start.start:
            start = start.next()
        present = set(self.target_years(key))
        year = start
        while year.code in present:
            year = year.next()
        self._extra_years.setdefault(key, set()).add(year.code)
        return year.code

    # --- checking ----------------------------------------------------------------------------

    def publication(self) -> Publication:
        """The changes as the definitions service takes them."""
        from skp_desktop.services.definitions import Publication

        changes = {
            key: dict(fields)
            for key, fields in self._fields.items()
            if self._base.get(key) is not None and fields
        }
        new = [dict(self._fields[k]) for k in self._order if self._base.get(k) is None]
        targets: dict[str, dict[str, object]] = {}
        for key, edits in self._targets.items():
            code = self.code_of(key)
            if code and edits:
                targets.setdefault(code, {}).update(edits)
        return Publication(
            applies_from=self.applies_from,
            note=self.note,
            changes=changes,
            new_indicators=new,
            targets=targets,
        )

    def check(self) -> None:
        """Check everything pending with the rules publishing uses."""
        state = self.state
        if state is None:
            return
        self._problem_keys = {}
        for index, key in enumerate((k for k in self._order if self.is_new(k)), start=1):
            self._problem_keys[self.code_of(key) or f"new indicator {index}"] = key
        for key in self._order:
            if not self.is_new(key):
                self._problem_keys.setdefault(key, key)
        publication = self.publication()
        self._problems = []
        self._plan = None
        try:
            self._plan = plan_version(
                state.indicators,
                applies_from=publication.applies_from,
                latest_applies_from=state.latest.applies_from,
                note=publication.note,
                changes=publication.changes,
                new_indicators=publication.new_indicators,
                targets=publication.targets,
                current_targets={
                    (code, year): value
                    for code, years in state.targets.items()
                    for year, value in years.items()
                },
                services=[code for code, _ in state.services],
                themes=[code for code, _ in state.themes],
            )
        except DefinitionsRefused as exc:
            self._problems = list(exc.problems)

    def refused(self, problems: list[FieldProblem]) -> None:
        """Problems found when publishing itself (the database may have moved on)."""
        self._problems = list(problems)

    @property
    def plan(self) -> PlannedVersion | None:
        """The version publishing would make; None while something is wrong."""
        return self._plan

    @property
    def problems(self) -> tuple[FieldProblem, ...]:
        return tuple(self._problems)

    @property
    def can_publish(self) -> bool:
        """Something to publish and nothing wrong."""
        return self._plan is not None and self._plan.changes_anything and not self._problems

    def problems_of(self, key: str) -> list[FieldProblem]:
        """The problems of one indicator (its fields and targets)."""
        return [p for p in self._problems if self._problem_keys.get(p.indicator or "") == key]

    def field_problems(self, key: str) -> dict[str, str]:
        """The first problem of each field of one indicator, for the form."""
        return spec_problems_by_field(self.problems_of(key))

    def target_problems(self, key: str) -> list[FieldProblem]:
        """One indicator's target problems (field 'target FY2025-26', or 'target')."""
        return [p for p in self.problems_of(key) if p.field.startswith("target")]

    def publication_problems(self) -> dict[str, str]:
        """Problems of the version itself: 'applies_from' and 'note'."""
        return {p.field: p.message for p in self._problems if p.indicator is None}

    def summary(self) -> str:
        """One sentence under the Publish button: what would be published, or what is wrong."""
        plan = self._plan
        if plan is None:
            count = sum(1 for p in self._problems if p.field != "note")
            if count:
                return (
                    f"✗ {_plural(count, 'problem')} to put right before publishing "
                    "(shown beside each field)."
                )
            return "Write a note saying why the definitions change." if self.dirty else ""
        if not plan.changes_anything:
            return "No changes yet: edit an indicator, or add one."
        parts = []
        if plan.changes:
            changed = len({c.code for c in plan.changes})
            parts.append(
                f"{_plural(len(plan.changes), 'change')} to {_plural(changed, 'indicator')}"
            )
        if plan.added:
            parts.append(_plural(len(plan.added), "new indicator"))
        if plan.targets:
            parts.append(_plural(len(plan.targets), "target"))
        number = self.state.latest.number + 1 if self.state is not None else 0
        return (
            f"Ready to publish version {number} from {plan.applies_from.label}: "
            + ", ".join(parts)
            + "."
        )


def _same(name: str, raw: object, published: object) -> bool:
    try:
        return bool(parse_field(name, raw) == published)
    except ValidationError:
        return False
