"""Comparator series: figures an indicator is compared with, such as the London and England
averages the source documents compare Kingston against.

The coordinator enters them (the source documents say how Kingston compares, never the figures,
so the default catalogue has none). A figure is in the indicator's own unit, for a period the
indicator reports on; each change is an audit event `comparator.set` whose `old` and `new` are
canonical JSON: {"series": …, "value": decimal text or null, "source": text or null}.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.charts.series import ComparatorSeries
from skp_desktop.domain.definitions import Definition, Frequency, is_due
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.values import canonical_text, format_number, from_canonical, parse_number
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.catalogue import indicator_infos
from skp_desktop.services.database import Database
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import ComparatorValue, Indicator

# The comparisons the source documents make ("lower than the London and England averages"):
# offered first, and always columns of the partnership workbook's Summary.
STANDARD_SERIES = ("London", "England")
MAX_SERIES_NAME = 60
MAX_SOURCE = 500


@dataclass(frozen=True)
class ComparatorEntry:
    """One comparator figure as held."""

    indicator: str
    series: str
    period: Period
    value: Decimal
    source: str | None
    set_by: str
    set_at: datetime

    def as_dict(self) -> dict[str, object]:
        """As the command line prints it (decimal text, never a float)."""
        return {
            "series": self.series,
            "period": self.period.code,
            "value": canonical_text(self.value),
            "source": self.source,
        }


@dataclass(frozen=True)
class ComparatorChange:
    """Set (a number, as typed or a Decimal) or clear (None) one comparator figure."""

    series: str
    period: str
    value: Decimal | str | None
    source: str | None = None


def event_text(series: str, value: str | None, source: str | None) -> str:
    """What a `comparator.set` event records as its old or new state (canonical JSON)."""
    return json.dumps(
        {"series": series, "source": source, "value": value},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def series_name(text: str, known: Sequence[str] = ()) -> str:
    """A series name as stored: spaces tidied, and spelt as a known one when it is one."""
    name = " ".join(text.split())
    if not name:
        raise ValidationError("Name the comparator series, e.g. London or England.", field="series")
    if len(name) > MAX_SERIES_NAME:
        raise ValidationError(
            f"A series name has at most {MAX_SERIES_NAME} characters.", field="series"
        )
    for candidate in (*STANDARD_SERIES, *known):
        if candidate.casefold() == name.casefold():
            return candidate
    return name


def _indicator(session: Session, code: str) -> Indicator:
    indicator = session.scalar(select(Indicator).where(Indicator.code == code.strip().upper()))
    if indicator is None:
        raise NotFoundError(f"There is no indicator '{code}'.")
    return indicator


def _rules(session: Session, indicator: Indicator, period: Period) -> Definition:
    infos = indicator_infos(session, period=period, include_context=True)
    info = next((i for i in infos if i.code == indicator.code), None)
    if info is None:
        raise NotFoundError(f"{indicator.code} is not in the definitions in force for {period}.")
    return info.rules


def comparator_period(code: str, rules: Definition) -> Period:
    """The period a comparator figure is for: one on which the indicator reports."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(f"--period {code}: {exc.message}") from None
    if period.kind is PeriodKind.YEAR and rules.frequency is Frequency.ANNUAL:
        raise NotFoundError(
            f"--period {code}: {rules.code} is reported once a year with the year-end return; "
            f"give {period.code}-Q4."
        )
    if not is_due(rules.frequency, period):
        raise NotFoundError(
            f"--period {code}: {rules.code} is reported {rules.frequency.value}, so it has no "
            f"figure for {period.label} to compare with."
        )
    return period


def _value(change: ComparatorChange, rules: Definition, period: Period) -> Decimal | None:
    if change.value is None or (isinstance(change.value, str) and not change.value.strip()):
        return None
    field = f"{change.series} {period.code}"
    if isinstance(change.value, Decimal):
        if not change.value.is_finite():
            raise ValidationError("A comparator must be a number.", field=field)
        number = change.value
    else:
        number = parse_number(change.value, field=field)
    low, high = rules.effective_min, rules.effective_max
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = [
            f"at least {format_number(low, rules.decimals)}" if low is not None else "",
            f"at most {format_number(high, rules.decimals)}" if high is not None else "",
        ]
        raise ValidationError(
            f"{canonical_text(number)} is outside what {rules.code} can be "
            f"({' and '.join(b for b in bounds if b)}): a comparator is given in the "
            f"indicator's own unit ({rules.unit.value}).",
            field=field,
        )
    return number


def set_comparators(
    db: Database, indicator: str, changes: Sequence[ComparatorChange], actor: str
) -> list[ComparatorEntry]:
    """Set or clear comparator figures of one indicator, all or nothing; each change audited.

    A change to what is already held records nothing. Returns every figure now held.
    """
    now = datetime.now(UTC)
    with db.transaction() as session:
        the_indicator = _indicator(session, indicator)
        rows = {
            (row.series, row.period): row
            for row in session.scalars(
                select(ComparatorValue).where(ComparatorValue.indicator_id == the_indicator.id)
            )
        }
        known = sorted({series for series, _ in rows})
        seen: set[tuple[str, str]] = set()
        for change in changes:
            name = series_name(change.series, known)
            rules = _rules(session, the_indicator, _any_period(change.period))
            period = comparator_period(change.period, rules)
            number = _value(change, rules, period)
            source = " ".join((change.source or "").split())[:MAX_SOURCE] or None
            key = (name, period.code)
            if key in seen:
                raise ValidationError(
                    f"{name} for {period.label} is given twice: give each figure once.",
                    field=f"{name} {period.code}",
                )
            seen.add(key)
            row = rows.get(key)
            old = event_text(name, row.value, row.source) if row is not None else None
            if number is None:
                if row is None:
                    continue
                session.delete(row)
                del rows[key]
                new = event_text(name, None, None)
            else:
                text = canonical_text(number)
                if (
                    row is not None
                    and row.value == text
                    and (source is None or row.source == source)
                ):
                    continue
                if row is None:
                    row = ComparatorValue(
                        indicator_id=the_indicator.id,
                        series=name,
                        period=period.code,
                        value=text,
                        source=source,
                        set_at=now,
                        set_by=actor,
                    )
                    session.add(row)
                    rows[key] = row
                else:
                    row.value, row.set_at, row.set_by = text, now, actor
                    if source is not None:
                        row.source = source
                new = event_text(name, row.value, row.source)
            append_event(
                session,
                actor=actor,
                action=AuditAction.COMPARATOR_SET,
                period=period.code,
                indicator=the_indicator.code,
                old=old,
                new=new,
                at=now,
            )
        session.flush()
        return _entries(the_indicator.code, rows.values())


def _any_period(code: str) -> Period:
    try:
        return parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(f"--period {code}: {exc.message}") from None


def set_comparator(
    db: Database,
    indicator: str,
    series: str,
    period: str,
    value: Decimal | str | None,
    actor: str,
    *,
    source: str | None = None,
) -> list[ComparatorEntry]:
    """Set one comparator figure (None clears it); see set_comparators."""
    return set_comparators(db, indicator, [ComparatorChange(series, period, value, source)], actor)


def _entries(code: str, rows: Iterable[ComparatorValue]) -> list[ComparatorEntry]:
    entries = []
    for row in rows:
        value = from_canonical(row.value)
        assert value is not None
        entries.append(
            ComparatorEntry(
                indicator=code,
                series=row.series,
                period=parse_period(row.period),
                value=value,
                source=row.source,
                set_by=row.set_by,
                set_at=row.set_at,
            )
        )
    return sorted(entries, key=lambda e: (_series_order(e.series), e.period.sort_key))


def _series_order(name: str) -> tuple[int, str]:
    return (STANDARD_SERIES.index(name), "") if name in STANDARD_SERIES else (99, name)


def comparators_in(
    session: Session, codes: Sequence[str] | None = None
) -> dict[str, list[ComparatorEntry]]:
    """Every comparator figure held, by indicator code (of `codes` only, when given)."""
    query = select(Indicator.code, ComparatorValue).join(
        Indicator, Indicator.id == ComparatorValue.indicator_id
    )
    if codes is not None:
        query = query.where(Indicator.code.in_(list(codes)))
    rows: dict[str, list[ComparatorValue]] = {}
    for code, row in session.execute(query):
        rows.setdefault(code, []).append(row)
    return {code: _entries(code, held) for code, held in rows.items()}


def list_comparators(db: Database, indicator: str | None = None) -> list[ComparatorEntry]:
    """Comparator figures held, of one indicator or of all, by indicator, series and period."""
    with db.reading() as session:
        codes = [_indicator(session, indicator).code] if indicator else None
        found = comparators_in(session, codes)
        order = {
            code: i
            for i, code in enumerate(
                session.scalars(select(Indicator.code).order_by(Indicator.position, Indicator.code))
            )
        }
    return [entry for code in sorted(found, key=lambda c: order.get(c, 0)) for entry in found[code]]


def comparator_series(entries: Sequence[ComparatorEntry]) -> tuple[ComparatorSeries, ...]:
    """The figures of one indicator as the series a chart draws, London and England first."""
    by_name: dict[str, list[tuple[Period, Decimal]]] = {}
    for entry in entries:
        by_name.setdefault(entry.series, []).append((entry.period, entry.value))
    return tuple(
        ComparatorSeries(name, tuple(sorted(points, key=lambda p: p[0].sort_key)))
        for name, points in sorted(by_name.items(), key=lambda item: _series_order(item[0]))
    )
