"""Frozen results that use cases hand to the command line and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from skp_desktop.domain.definitions import Definition
from skp_desktop.domain.rag import Direction, Rag
from skp_desktop.domain.validation import Problem, Severity
from skp_desktop.domain.values import format_number
from skp_desktop.domain.vocabulary import ReturnState


@dataclass(frozen=True)
class ServiceInfo:
    """A service that submits returns, with its organisation."""

    code: str
    name: str
    organisation: str
    organisation_code: str


@dataclass(frozen=True)
class BaselineInfo:
    """Where we are now: the figure an indicator is measured from."""

    value: Decimal
    unit: str
    period: str | None
    note: str | None
    comparators_note: str | None
    source: str | None


@dataclass(frozen=True)
class IndicatorInfo:
    """One indicator as the catalogue defines it, with the rules that check its values."""

    code: str
    kind: str
    title: str
    service: str | None
    service_name: str | None
    theme: str
    theme_name: str
    definition_text: str | None
    source: str | None
    source_document: str | None
    baseline: BaselineInfo | None
    rules: Definition
    definitions_version: int

    @property
    def target(self) -> Decimal | None:
        return self.rules.target


@dataclass(frozen=True)
class QueryInfo:
    """The coordinator's query on one indicator of a returned revision, and its answer."""

    code: str
    question: str
    asked_revision: int
    asked_by: str
    asked_at: datetime
    source: str | None = None  # where the query came from, e.g. "imported from feedback.xlsx"
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    answer_revision: int | None = None  # the revision that answers it

    @property
    def answered(self) -> bool:
        return bool(self.answer and self.answer.strip())


@dataclass(frozen=True)
class ReturnQueries:
    """The queries of a service's latest returned revision for a period, with their answers."""

    service: str
    period: str
    asked_revision: int  # the returned revision
    return_uuid: str
    reason: str | None  # what the coordinator said about the return as a whole
    returned_by: str | None
    returned_at: datetime | None
    queries: tuple[QueryInfo, ...] = ()
    source: str | None = None  # set when the queries came in a feedback file

    @property
    def returned_how(self) -> str:
        """Who returned it, or the feedback file it came in: "by Cora", "(imported from …)"."""
        if self.source:
            return f"({self.source})"
        return f"by {self.returned_by}" if self.returned_by else ""

    @property
    def unanswered(self) -> tuple[QueryInfo, ...]:
        return tuple(q for q in self.queries if not q.answered)

    def query(self, code: str) -> QueryInfo | None:
        return next((q for q in self.queries if q.code == code), None)


@dataclass(frozen=True)
class ReturnRow:
    """One indicator's line in a return."""

    indicator: IndicatorInfo
    section: str
    help: str | None
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    symbol: str | None
    commentary: str | None
    explanation: str | None
    rag: Rag | None
    previous_value: Decimal | None
    year_earlier_value: Decimal | None
    direction_previous: Direction | None
    direction_year: Direction | None
    problems: tuple[Problem, ...] = ()
    # The coordinator's query on this indicator in the latest returned revision up to this one.
    query: QueryInfo | None = None

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)

    @property
    def needs_explanation(self) -> bool:
        return bool(self.warnings) and not (self.explanation or "").strip()


@dataclass(frozen=True)
class SignatureInfo:
    """Who signed the file a revision was imported from: `status` is signed, template (a
    template issued here, values typed into it) or unsigned (`note` says why it was taken)."""

    status: str
    signed_by: str | None
    signer_name: str | None
    note: str | None

    @property
    def describe(self) -> str:
        if self.status == "signed":
            return f"signed by {self.signer_name} ({self.signed_by})"
        if self.status == "template":
            return "entered in a template issued here, not signed by the service"
        return f"UNSIGNED, taken because: {self.note}"


@dataclass(frozen=True)
class ReturnView:
    """A service's return for a period: its latest revision, or an empty one not yet started."""

    service: ServiceInfo
    period: str
    period_label: str
    revision: int | None
    state: str
    return_uuid: str | None
    definitions_version: int
    updated_at: datetime | None
    rows: tuple[ReturnRow, ...] = field(default_factory=tuple)
    # The queries of the latest returned revision up to this one (this one, when it is returned).
    queries: ReturnQueries | None = None
    # How the revision's file was signed, when it was imported from one (services/trust/).
    signature: SignatureInfo | None = None

    @property
    def open_queries(self) -> tuple[QueryInfo, ...]:
        """Queries this revision still has to answer (none once it is submitted)."""
        if self.queries is None or self.state != ReturnState.DRAFT:
            return ()
        if self.revision is None or self.revision <= self.queries.asked_revision:
            return ()
        return self.queries.unanswered

    @property
    def exists(self) -> bool:
        return self.revision is not None

    @property
    def error_count(self) -> int:
        return sum(len(row.errors) for row in self.rows)

    @property
    def warning_count(self) -> int:
        return sum(len(row.warnings) for row in self.rows)

    @property
    def unexplained_warning_count(self) -> int:
        return sum(1 for row in self.rows if row.needs_explanation)

    def row(self, code: str) -> ReturnRow:
        for row in self.rows:
            if row.code == code:
                return row
        raise KeyError(code)


class AuditEntry(NamedTuple):
    """One audit event as people read it.

    A named tuple rather than a frozen dataclass: as immutable, and several times cheaper to
    make, which counts when a page of the history is a thousand of them.
    """

    id: int
    at: datetime
    actor: str
    action: str
    service: str | None
    period: str | None
    revision: int | None
    indicator: str | None
    old: str | None
    new: str | None
    reason: str | None
    source: str | None


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found: nothing (ok) or each altered event and value."""

    events_checked: int
    values_checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class HistoryFilter:
    """Which audit events to show; every field narrows the list, None means any."""

    service: str | None = None
    period: str | None = None
    indicator: str | None = None
    actor: str | None = None
    action: str | None = None
    since: date | None = None  # from the start of this day (UTC)
    until: date | None = None  # to the end of this day (UTC)
    text: str | None = None  # found in the old or new value, the reason or the source

    def describe(self) -> str:
        """The filter in words, for export headers and empty states."""
        parts = [f"{name} {value}" for name, value in self.__dict__.items() if value]
        return ", ".join(parts) or "all events"


@dataclass(frozen=True)
class TimelineStep:
    """One change in a value's life: what it became, who, when, why, and from where."""

    event: AuditEntry
    revision: int | None
    old_text: str
    new_text: str
    definitions_version: int | None
    file_name: str | None = None
    file_sha256: str | None = None
    file_id: int | None = None


@dataclass(frozen=True)
class Timeline:
    """Every revision and edit of one indicator in one service's return for a period."""

    service: str
    period: str
    indicator: str
    title: str
    steps: tuple[TimelineStep, ...] = field(default_factory=tuple)


def plain_figure(value: Decimal | None, decimals: int) -> str:
    """A figure as a plain-text table shows it: to the indicator's decimals, no thousands
    separators ("" when there is none)."""
    return "" if value is None else format_number(value, decimals).replace(",", "")
