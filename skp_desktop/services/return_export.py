"""Return files out: export a submitted return, write a blank template, export a returned one
as a feedback file (docs/contracts.md, the return file). Each is signed with this installation's
key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from skp_desktop import __version__
from skp_desktop.domain.errors import NotFoundError, StateError
from skp_desktop.domain.rag import direction_label
from skp_desktop.domain.values import format_decimal
from skp_desktop.domain.vocabulary import (
    Step,
    allows,
)
from skp_desktop.excel.file_signature import Signer
from skp_desktop.excel.return_data import (
    KIND_FEEDBACK,
    KIND_RETURN,
    KIND_TEMPLATE,
    EntryData,
    QueryLine,
    QuerySet,
    ReturnFile,
    ReturnHeader,
    ReturnLine,
)
from skp_desktop.excel.return_writer import write_feedback_file, write_return_file
from skp_desktop.excel.template_writer import write_template_file
from skp_desktop.services import trust
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo, ReturnView
from skp_desktop.services.exchange_outcomes import (
    ExportResult,
)
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.services.returns import (
    get_return,
)


def _baseline_text(info: IndicatorInfo) -> str | None:
    baseline = info.baseline
    if baseline is None:
        return None
    text = f"{format_decimal(baseline.value)} ({baseline.unit})"
    return f"{text}, {baseline.period}" if baseline.period else text


def _lines(view: ReturnView, *, blank: bool) -> tuple[ReturnLine, ...]:
    lines = []
    for row in view.rows:
        info = row.indicator
        entry = (
            EntryData(code=row.code)
            if blank
            else EntryData(
                code=row.code,
                numerator=row.numerator,
                denominator=row.denominator,
                value=row.value,
                symbol=row.symbol,
                commentary=row.commentary,
                explanation=row.explanation,
            )
        )
        lines.append(
            ReturnLine(
                rules=info.rules,
                entry=entry,
                rag=None if blank or row.rag is None else row.rag.value,
                direction=None
                if blank
                else direction_label(row.value, row.previous_value, info.rules.polarity),
                definition_text=info.definition_text,
                baseline=_baseline_text(info),
                source=info.source or info.source_document,
                help=row.help,
            )
        )
    return tuple(lines)


def _header(view: ReturnView, *, kind: str, actor: str) -> ReturnHeader:
    template = kind == KIND_TEMPLATE
    return ReturnHeader(
        kind=kind,
        service=view.service.code,
        service_name=view.service.name,
        period=view.period,
        period_label=view.period_label,
        status="blank template" if template else view.state,
        definitions_version=view.definitions_version,
        exported_at=datetime.now(UTC).replace(microsecond=0),
        exported_by=actor,
        app_version=__version__,
        return_id=None if template else view.return_uuid,
        revision=None if template else view.revision,
    )


def _write(
    data: ReturnFile, out: Path, writer: Callable[[ReturnFile, Path, Signer], str | None]
) -> ExportResult:
    """Write `data` with `writer`, signed by this installation's key, saying plainly why a
    file could not be written."""
    own = trust.installation_key()
    with writing(out, "workbook"):
        digest = writer(data, out, own.signer)
    header = data.header
    return ExportResult(
        path=out,
        kind=header.kind,
        service=header.service,
        period=header.period,
        revision=header.revision,
        payload_sha256=digest,
        signed_by=own.key.fingerprint,
        notice=own.notice,
    )


def export_return(
    db: Database, *, service: str, period: str, out: str | os.PathLike[str], actor: str
) -> ExportResult:
    """Write the submitted return as an Excel return file; a draft is refused."""
    target = Path(out)
    check_output(target, what=".xlsx file")
    view = get_return(db, service, period)
    if not view.exists:
        raise StateError(
            f"{view.service.name} has no return for {view.period_label} yet: there is nothing "
            "to export."
        )
    if not allows(view.state, Step.EXPORT):
        raise StateError(
            f"Revision {view.revision} of {view.service.name}'s return for {view.period_label} "
            f"is {view.state}: only a submitted return can be exported. Submit it first."
        )
    data = ReturnFile(
        _header(view, kind=KIND_RETURN, actor=actor),
        _lines(view, blank=False),
        answers=_answers(view),
    )
    return _write(data, target, write_return_file)


def _answers(view: ReturnView) -> QuerySet | None:
    """The answers this revision gives to the queries on the revision before, if any."""
    queries = view.queries
    if queries is None or view.revision is None or view.revision <= queries.asked_revision:
        return None
    lines = tuple(
        QueryLine(query.code, query.question, query.answer)
        for query in queries.queries
        if query.answered
    )
    return QuerySet(revision=queries.asked_revision, lines=lines) if lines else None


def _utc_text(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def export_feedback(
    db: Database, *, service: str, period: str, out: str | os.PathLike[str], actor: str
) -> ExportResult:
    """Write a returned return with the coordinator's queries as a feedback file for the
    service to import."""
    target = Path(out)
    check_output(target, what=".xlsx file")
    view = get_return(db, service, period)
    if not view.exists:
        raise StateError(
            f"{view.service.name} has no return for {view.period_label}: there is no feedback "
            "to send."
        )
    queries = view.queries
    if (
        not allows(view.state, Step.EXPORT_FEEDBACK)
        or queries is None
        or queries.asked_revision != view.revision
    ):
        raise StateError(
            f"Revision {view.revision} of {view.service.name}'s return for {view.period_label} "
            f"is {view.state}: only a returned return has feedback to send. Return it with a "
            "query first."
        )
    data = ReturnFile(
        _header(view, kind=KIND_FEEDBACK, actor=actor),
        _lines(view, blank=False),
        queries=QuerySet(
            revision=queries.asked_revision,
            lines=tuple(QueryLine(q.code, q.question) for q in queries.queries),
            reason=queries.reason,
            asked_by=queries.returned_by,
            asked_at=_utc_text(queries.returned_at),
        ),
    )
    return _write(data, target, write_feedback_file)


def write_template(
    db: Database, *, service: str, period: str, out: str | os.PathLike[str], actor: str
) -> ExportResult:
    """Write a blank return for the service and period, to fill in Excel or LibreOffice."""
    target = Path(out)
    check_output(target, what=".xlsx file")
    view = get_return(db, service, period)
    if not view.rows:
        raise NotFoundError(
            f"The {view.service.name} return for {view.period_label} asks for no indicators."
        )
    data = ReturnFile(_header(view, kind=KIND_TEMPLATE, actor=actor), _lines(view, blank=True))
    return _write(data, target, write_template_file)
