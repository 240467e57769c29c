"""What a return file holds, as plain data: the writers take it, the reader gives entries back.

The excel layer knows nothing of the database; services/exchange.py maps its DTOs to these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from skp_desktop.domain.definitions import Definition

FORMAT = "skp-return"
FORMAT_VERSION = "2"  # 2: signed (excel/file_signature.py); 1 is still read, as unsigned
READABLE_FORMAT_VERSIONS = (1, 2)
KIND_RETURN = "return"
KIND_TEMPLATE = "template"
# A returned revision sent back to the service with the coordinator's queries (an addition).
KIND_FEEDBACK = "feedback"
# Kinds whose figures are signed in `payload` and must agree with the visible cells.
SIGNED_KINDS = (KIND_RETURN, KIND_FEEDBACK)

RETURN_SHEET = "Return"
INSTRUCTIONS_SHEET = "Instructions"
DEFINITIONS_SHEET = "Definitions"
META_SHEET = "_meta"

# The indicator table of the Return sheet, in order (docs/contracts.md, format version 1).
COLUMNS = (
    "Code",
    "Indicator",
    "Unit",
    "Numerator",
    "Denominator",
    "Value",
    "Target",
    "RAG",
    "Direction",
    "Commentary",
    "Explanation",
)
# The columns whose cells are read back on import; the others are for people.
INPUT_COLUMNS = ("Numerator", "Denominator", "Value", "Commentary", "Explanation")
# Added at the right end of the table when a file carries queries (feedback) or answers (the
# next revision's return); checked against the signed `queries` or `answers` on import.
QUERY_COLUMN = "Query"
ANSWER_COLUMN = "Answer"
QUERY_COLUMNS = (QUERY_COLUMN, ANSWER_COLUMN)

# _meta keys in the order they are written; payload_2, payload_3, … follow payload when long.
META_KEYS = (
    "format",
    "format_version",
    "kind",
    "return_id",
    "service",
    "period",
    "revision",
    "definitions_version",
    "exported_at",
    "exported_by",
    "app_version",
    "payload",
    "payload_sha256",
    "queries",  # feedback files: the coordinator's queries, signed by queries_sha256
    "queries_sha256",
    "answers",  # a return answering queries: the service's answers, signed by answers_sha256
    "answers_sha256",
    "signed_by",  # format 2: the signer's fingerprint, public key and Ed25519 signature
    "public_key",
    "key_rotation",  # after `keys rotate`: the old key's statement naming the new one
    "signature",
)

# Excel's limit on the characters in one cell.
CELL_CHARACTER_LIMIT = 32_767


@dataclass(frozen=True)
class EntryData:
    """One indicator's entry as the payload carries it: numbers, or a symbol, and texts."""

    code: str
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    value: Decimal | None = None
    symbol: str | None = None
    commentary: str | None = None
    explanation: str | None = None

    @property
    def is_blank(self) -> bool:
        """Whether nothing at all was entered for the indicator."""
        return all(
            part is None or part == ""
            for part in (
                self.numerator,
                self.denominator,
                self.value,
                self.symbol,
                self.commentary,
                self.explanation,
            )
        )


@dataclass(frozen=True)
class ReturnHeader:
    """Who and what a return file is about; written to the header block and to `_meta`."""

    kind: str  # KIND_RETURN, KIND_FEEDBACK or KIND_TEMPLATE
    service: str
    service_name: str
    period: str
    period_label: str
    status: str
    definitions_version: int
    exported_at: datetime
    exported_by: str
    app_version: str
    return_id: str | None = None  # None for a template
    revision: int | None = None  # None for a template: the importer numbers it


@dataclass(frozen=True)
class ReturnLine:
    """One indicator's row: its definition, the entry, and what people read beside it."""

    rules: Definition
    entry: EntryData
    rag: str | None = None  # "Green", "Amber", "Red"
    direction: str | None = None  # e.g. "↑ improving"
    definition_text: str | None = None
    baseline: str | None = None  # as shown, e.g. "78.0 (2023/24)"
    source: str | None = None
    help: str | None = None

    @property
    def code(self) -> str:
        return self.rules.code


@dataclass(frozen=True)
class QueryLine:
    """The coordinator's question on one indicator, and the service's answer when it has one."""

    code: str
    question: str
    answer: str | None = None


@dataclass(frozen=True)
class QuerySet:
    """The queries a returned revision was sent back with (and, in the next return, answered)."""

    revision: int  # the revision the queries were asked on
    lines: tuple[QueryLine, ...]
    reason: str | None = None  # what the coordinator said about the return as a whole
    asked_by: str | None = None
    asked_at: str | None = None  # ISO 8601 UTC

    def line(self, code: str) -> QueryLine | None:
        """The query on an indicator, if there is one."""
        return next((line for line in self.lines if line.code == code), None)


@dataclass(frozen=True)
class ReturnFile:
    """Everything a return file, a feedback file or a blank template shows."""

    header: ReturnHeader
    lines: tuple[ReturnLine, ...]
    queries: QuerySet | None = None  # a feedback file's queries
    answers: QuerySet | None = None  # a return's answers to the previous revision's queries
