"""Returns as Excel files: export a submitted return, write a blank template, export a
returned one as a feedback file, import files.

Import reads and checks every file before touching the database, then decides its status
(docs/contracts.md, "Importing"): ACCEPTED files are stored in their own transaction, with the
original bytes and one audit event per value; every other status leaves the database as it was.
A feedback file (the coordinator's queries on a returned revision) marks that revision returned
with its queries, storing it first when the database does not hold it; a return file that
answers queries records the answers with the revision.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from skp_desktop import __version__
from skp_desktop.domain.errors import NotFoundError, StateError, StoreUnavailable, ValidationError
from skp_desktop.domain.periods import Period
from skp_desktop.domain.rag import direction_label
from skp_desktop.domain.validation import EntryValues, Severity
from skp_desktop.domain.values import Symbol, canonical_text, format_decimal, from_canonical
from skp_desktop.domain.vocabulary import (
    FAILED_IMPORTS,
    AuditAction,
    ImportStatus,
    ReturnState,
    Step,
    allows,
)
from skp_desktop.excel.file_signature import Signer
from skp_desktop.excel.payload import canonical_payload, payload_digest
from skp_desktop.excel.rejection import RejectedFile
from skp_desktop.excel.return_data import (
    KIND_FEEDBACK,
    KIND_RETURN,
    KIND_TEMPLATE,
    SIGNED_KINDS,
    EntryData,
    QueryLine,
    QuerySet,
    ReturnFile,
    ReturnHeader,
    ReturnLine,
)
from skp_desktop.excel.return_reader import FileMeta, ImportedReturn, interpret, read_meta
from skp_desktop.excel.return_writer import write_feedback_file, write_return_file
from skp_desktop.excel.safe_reader import REFORMAT, RawWorkbook, load_file, read_return_workbook
from skp_desktop.excel.template_writer import write_template_file
from skp_desktop.services import trust
from skp_desktop.services.catalogue import DefinitionsSnapshot, version_in_force
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo, ReturnView
from skp_desktop.services.entries import VALUE_FIELDS, describe_value_json
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.services.queries import (
    queries_up_to,
    record_answer,
    record_queries,
)
from skp_desktop.services.returns import (
    due_indicators,
    get_return,
    problems_with_history,
    return_period,
)
from skp_desktop.store.audit import append_event, append_events
from skp_desktop.store.models import (
    DefinitionsVersion,
    ImportedFile,
    Indicator,
    Return,
    ReturnSignature,
    Service,
    Value,
)

log = logging.getLogger(__name__)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """A return file or template written."""

    path: Path
    kind: str
    service: str
    period: str
    revision: int | None
    payload_sha256: str | None
    signed_by: str | None = None  # this installation's key's fingerprint
    notice: str | None = None  # e.g. that a signing key was made just now and needs enrolling


@dataclass(frozen=True)
class ValueChange:
    """What importing a file would change in one indicator, as people read it."""

    code: str
    old: str
    new: str


@dataclass(frozen=True)
class ImportProblem:
    """One reason a file was refused, located by sheet and cell where there is one."""

    sheet: str | None
    cell: str | None
    message: str


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file (or would happen, in a dry run)."""

    status: str
    file: str
    service: str | None = None
    period: str | None = None
    revision: int | None = None
    reason: str | None = None
    changes: tuple[ValueChange, ...] = ()
    warnings: tuple[str, ...] = ()
    problems: tuple[ImportProblem, ...] = ()
    file_sha256: str | None = None
    kind: str | None = None
    modified_cells: tuple[str, ...] = ()
    queries: tuple[tuple[str, str], ...] = ()  # a feedback file's (code, question)
    answers: tuple[tuple[str, str], ...] = ()  # a return file's (code, answer)
    signature: str | None = None  # signed, template or unsigned (trust.SignerVerdict.status)
    signed_by: str | None = None  # the signer's fingerprint
    signer: str | None = None  # the signer's name as enrolled here, or why it was taken unsigned

    @property
    def signature_text(self) -> str:
        """Who signed the file, in words for the Import page; empty when not known."""
        if self.signature == trust.SIGNED:
            return f"signed by {self.signer} ({self.signed_by})"
        if self.signature == trust.TEMPLATE:
            return f"a template issued here, filled in by hand (issued with {self.signed_by})"
        if self.signature == trust.UNSIGNED_TAKEN:
            return f"UNSIGNED, taken because: {self.signer}"
        return ""

    @property
    def failed(self) -> bool:
        return self.status in FAILED_IMPORTS

    @property
    def line(self) -> str:
        """`STATUS<TAB>file<TAB>service period revision`, or the reason for REJECTED."""
        if self.status == ImportStatus.REJECTED:
            detail = self.reason or ""
        else:
            detail = f"{self.service} {self.period} {self.revision}"
        return f"{self.status}\t{self.file}\t{detail}"

    def as_dict(self) -> dict[str, Any]:
        """The outcome as the `--json` output shows it."""
        return {
            "status": self.status,
            "file": self.file,
            "service": self.service,
            "period": self.period,
            "revision": self.revision,
            "reason": self.reason,
            "changes": [{"code": c.code, "old": c.old, "new": c.new} for c in self.changes],
            "warnings": list(self.warnings),
            "problems": [
                {"sheet": p.sheet, "cell": p.cell, "message": p.message} for p in self.problems
            ],
            "sha256": self.file_sha256,
            "kind": self.kind,
            "modified_cells": list(self.modified_cells),
            "queries": [{"code": c, "question": q} for c, q in self.queries],
            "answers": [{"code": c, "answer": a} for c, a in self.answers],
            "signature": self.signature,
            "signed_by": self.signed_by,
            "signer": self.signer,
        }


class ImportStopped(StoreUnavailable):
    """The database could not take a file (disk full, read-only, locked): the batch stopped.

    `outcomes` are the files dealt with before it, each stored whole; `file` is the one that
    was being stored, and is not in the database at all.
    """

    def __init__(self, problem: StoreUnavailable, file: str, outcomes: Sequence[ImportOutcome]):
        done = sum(1 for outcome in outcomes if outcome.status == ImportStatus.ACCEPTED)
        super().__init__(
            f"{problem}\nThe import stopped at {file}, which is not in the database; "
            f"{len(outcomes)} file{'s' if len(outcomes) != 1 else ''} before it "
            f"{'were' if len(outcomes) != 1 else 'was'} dealt with ({done} imported). Run the "
            "same import again once this is put right: files already imported are reported "
            "DUPLICATE."
        )
        self.problem = problem
        self.file = file
        self.outcomes = tuple(outcomes)


# --- export --------------------------------------------------------------------------------


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


# --- import --------------------------------------------------------------------------------


# Spreadsheets in a folder that are not .xlsx: each is reported REJECTED with the reason a single
# such file gets, so a return sent in the wrong format never silently looks "missing".
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xls", ".xlsm", ".xlsb", ".ods", ".csv"})


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files to import: files as given, and the spreadsheet-like files inside folders
    (sorted): .xlsx, and .xls, .xlsm, .xlsb, .ods, .csv, which are refused saying why."""
    given = [Path(p) for p in paths]
    missing = [str(p) for p in given if not p.exists()]
    if missing:
        raise NotFoundError(f"No such file or folder: {', '.join(missing)}")
    files: list[Path] = []
    for path in given:
        if path.is_dir():
            files.extend(
                sorted(
                    child
                    for child in path.iterdir()
                    if child.suffix.lower() in SPREADSHEET_SUFFIXES
                    and child.is_file()
                    and not child.name.startswith("~$")  # Excel's lock file for an open book
                )
            )
        else:
            files.append(path)
    return files


@dataclass(frozen=True)
class _Held:
    """A revision held (or accepted earlier in this batch) and the digest of its content."""

    revision: int
    digest: str
    entries: Mapping[str, EntryData]


# What the import runs for every file, built once: building a statement costs more than
# running it. Reads go straight to the connection: nothing is pending in the session then.
_DEFINITIONS_STAMP = select(func.count(), func.max(DefinitionsVersion.id))
_HELD = (
    select(
        Return.revision,
        Indicator.code,
        Value.numerator,
        Value.denominator,
        Value.value,
        Value.symbol,
        Value.commentary,
        Value.explanation,
    )
    .select_from(Return)
    .outerjoin(Value, Value.return_id == Return.id)  # a revision with no values is held too
    .outerjoin(Indicator, Indicator.id == Value.indicator_id)
    .where(Return.service_id == bindparam("service_id"), Return.period == bindparam("period"))
)
_UUID_TAKEN = select(Return.id).where(Return.uuid == bindparam("uuid"))
_INSERT_RETURN = insert(Return)
_SUBMIT_RETURN = (
    update(Return).where(Return.id == bindparam("return_id")).values(state=bindparam("state"))
)
_INSERT_FILE = insert(ImportedFile)
_INSERT_VALUE = insert(Value)
_INSERT_SIGNATURE = insert(ReturnSignature)


@dataclass
class _Catalogue:
    """Services and definitions, read once for a batch instead of once per file.

    Importing never changes them; whoever publishes a definitions version meanwhile adds a row
    to definitions_versions, which each file's transaction checks first (one small query)
    before anything kept is used. Rows are kept as plain copies attached to no session: a
    rolled-back file would expire ORM objects, and the import only reads their columns.
    """

    stamp: tuple[int, int | None] | None = None  # (count, newest id) of definitions versions
    services: dict[str, Service] = field(default_factory=dict)
    versions: list[DefinitionsVersion] = field(default_factory=list)  # in number order
    snapshots: dict[int, DefinitionsSnapshot] = field(default_factory=dict)  # by version id

    def check(self, session: Session) -> None:
        """Forget everything kept when the definitions versions have changed since."""
        count, newest = session.connection().execute(_DEFINITIONS_STAMP).one()
        if (count, newest) == self.stamp:
            return
        self.stamp = (count, newest)
        self.snapshots.clear()
        self.services = {
            code: Service(id=id_, code=code, name=name, organisation_id=organisation)
            for id_, code, name, organisation in session.execute(
                select(Service.id, Service.code, Service.name, Service.organisation_id)
            )
        }
        self.versions = [
            DefinitionsVersion(id=id_, number=number, applies_from=applies_from)
            for id_, number, applies_from in session.execute(
                select(
                    DefinitionsVersion.id,
                    DefinitionsVersion.number,
                    DefinitionsVersion.applies_from,
                ).order_by(DefinitionsVersion.number)
            )
        ]

    def snapshot(self, session: Session, version: DefinitionsVersion) -> DefinitionsSnapshot:
        """The version's indicators, read on first use."""
        if version.id not in self.snapshots:
            self.snapshots[version.id] = DefinitionsSnapshot.load(session, version)
        return self.snapshots[version.id]


@dataclass
class _Batch:
    """What this batch accepted, so a dry run judges later files as the real run would."""

    accepted: dict[tuple[str, str], list[_Held]] = field(default_factory=dict)
    feedback: set[tuple[str, str, int, str]] = field(default_factory=set)  # and queries digest
    catalogue: _Catalogue = field(default_factory=_Catalogue)
    keys: trust.KeyCache = field(default_factory=trust.KeyCache)

    def held(self, service: str, period: str) -> list[_Held]:
        return self.accepted.get((service, period), [])

    def add(self, service: str, period: str, held: _Held) -> None:
        self.accepted.setdefault((service, period), []).append(held)


@dataclass(frozen=True)
class _Decision:
    status: str
    revision: int
    reason: str | None = None


def import_files(
    db: Database,
    paths: Iterable[str | os.PathLike[str]],
    *,
    actor: str,
    dry_run: bool = False,
    accept_modified: bool = False,
    accept_unsigned: str | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
) -> list[ImportOutcome]:
    """Import return files and folders of them, one transaction per file; see docs/contracts.md.

    `dry_run` decides every status and change without writing anything. `progress(done,
    total, file)` is called before each file; `cancelled()` stops before the next file;
    `on_outcome(outcome)` after each file, once its transaction is committed. When the
    database cannot take a file (full disk, read-only, locked) the batch stops with
    ImportStopped, which carries the outcomes so far. A file is believed only when its
    signature verifies with a key trusted here for what it is (services/trust.py);
    `accept_unsigned` (the coordinator's reason) takes unsigned files, marked as such.
    """
    if accept_unsigned is not None and not accept_unsigned.strip():
        raise ValidationError("--accept-unsigned needs --reason: say why unsigned files are taken")
    files = collect_files(paths)
    batch = _Batch()
    outcomes: list[ImportOutcome] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skp-import-read") as pool:
        ahead = _ReadAhead(pool, files)
        for index, path in enumerate(files):
            if cancelled is not None and cancelled():
                break
            if progress is not None:
                progress(index, len(files), path)
            try:
                outcome = _import_one(
                    db,
                    path,
                    ahead.take(index),
                    batch,
                    actor=actor,
                    dry_run=dry_run,
                    accept_modified=accept_modified,
                    accept_unsigned=accept_unsigned,
                    before_commit=partial(ahead.start, index + 1),
                )
            except StoreUnavailable as exc:
                raise ImportStopped(exc, str(path), outcomes) from exc
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    if progress is not None:
        progress(len(outcomes), len(files), files[-1] if files else Path())
    return outcomes


def _rejected(
    file: str, exc: ValidationError, sha: str | None, meta: FileMeta | None = None
) -> ImportOutcome:
    problems = exc.problems if isinstance(exc, RejectedFile) else (exc,)
    reason = exc.reason_text() if isinstance(exc, RejectedFile) else exc.message
    return ImportOutcome(
        status=ImportStatus.REJECTED,
        file=file,
        # What the file says it is, as written, so people can tell whose file was refused.
        service=meta.service[:40] if meta else None,
        period=meta.period[:40] if meta else None,
        revision=meta.revision if meta else None,
        kind=meta.kind if meta else None,
        reason=reason,
        problems=tuple(ImportProblem(p.sheet, p.cell, p.message) for p in problems),
        file_sha256=sha,
    )


@dataclass(frozen=True)
class _Read:
    """A file as far as it can be read and checked without the database, or why it cannot."""

    data: bytes | None = None
    sha: str | None = None
    workbook: RawWorkbook | None = None
    meta: FileMeta | None = None
    error: Exception | None = None  # raised while reading: the file's turn raises it again


class _ReadAhead:
    """Reads files in a second thread, each started just before the previous file commits.

    A durable commit mostly waits for the disk with the GIL released, and reading the next
    file is plain Python: together they take little more than either. Started any earlier,
    the reader would hold the GIL each time the database call of a file being judged let go of
    it, and slow that down as much as it gains.
    """

    def __init__(self, pool: ThreadPoolExecutor, files: Sequence[Path]) -> None:
        self.pool = pool
        self.files = files
        self.started: dict[int, Future[_Read]] = {}

    def start(self, index: int) -> None:
        if index < len(self.files) and index not in self.started:
            self.started[index] = self.pool.submit(_read, self.files[index])

    def take(self, index: int) -> _Read:
        self.start(index)
        return self.started.pop(index).result()


def _read(path: Path) -> _Read:
    data = sha = workbook = None
    try:
        data = load_file(path)
        sha = hashlib.sha256(data).hexdigest()
        if path.suffix.lower() == ".csv" and not data.startswith(b"PK"):
            raise ValidationError(
                f"this is a CSV file (.csv), not an Excel workbook (.xlsx): the figures cannot be "
                f"checked against a signed return. {REFORMAT}"
            )
        workbook = read_return_workbook(data, file_name=path.name)
        return _Read(data, sha, workbook, read_meta(workbook))
    except Exception as exc:  # judged in the file's turn, as if raised there
        return _Read(data, sha, workbook, error=exc)


def _import_one(
    db: Database,
    path: Path,
    read: _Read,
    batch: _Batch,
    *,
    actor: str,
    dry_run: bool,
    accept_modified: bool,
    accept_unsigned: str | None,
    before_commit: Callable[[], None],
) -> ImportOutcome:
    shown = str(path)
    sha, meta = read.sha, read.meta
    try:
        if read.error is not None:
            raise read.error
        data, workbook = read.data, read.workbook
        assert data is not None and sha is not None and workbook is not None and meta is not None
        with db.transaction() as session:
            outcome = _judge_and_store(
                session,
                path,
                data,
                sha,
                workbook_entries=lambda defs, label: interpret(
                    workbook, meta, defs, return_label=label, accept_modified=accept_modified
                ),
                meta=meta,
                batch=batch,
                actor=actor,
                dry_run=dry_run,
                accept_unsigned=accept_unsigned,
            )
            before_commit()
        return outcome
    except ValidationError as exc:
        batch.keys.rows.clear()  # a rotation recorded in the rolled-back transaction is gone
        return _rejected(shown, exc, sha, meta)
    except OSError as exc:
        return _rejected(
            shown, ValidationError(f"the file cannot be read: {exc.strerror or exc}"), sha
        )
    except StoreUnavailable:
        raise
    except Exception:  # a bad file never stops the batch, even one that finds a bug
        log.exception("unexpected error importing %s", shown)
        return _rejected(
            shown,
            ValidationError(
                "the file could not be imported because of an internal error (a bug): "
                "the details are in the log file"
            ),
            sha,
            meta,
        )


def _lookup(
    session: Session, meta: FileMeta, catalogue: _Catalogue
) -> tuple[Service, Period, DefinitionsVersion]:
    catalogue.check(session)
    service = catalogue.services.get(meta.service.strip().upper())
    if service is None:
        known = ", ".join(session.scalars(select(Service.code).order_by(Service.code)))
        raise RejectedFile(
            [meta.located("service", f"there is no service '{meta.service[:40]}' (known: {known})")]
        )
    try:
        period = return_period(meta.period)
    except NotFoundError as exc:  # not a period code, or a whole year
        raise RejectedFile([meta.located("period", str(exc))]) from None
    if meta.definitions_version is None:
        version = version_in_force(catalogue.versions, period)
    else:
        found = [v for v in catalogue.versions if v.number == meta.definitions_version]
        if not found:
            raise RejectedFile(
                [
                    meta.located(
                        "definitions_version",
                        f"the file was made with definitions version {meta.definitions_version}, "
                        "which this database does not have: publish those definitions first",
                    )
                ]
            )
        version = found[0]
    return service, period, version


def _entry_of(code: str, row: Any) -> EntryData:
    """An entry from a stored value's columns (a Value, or a row with the same names)."""
    return EntryData(
        code=code,
        numerator=from_canonical(row.numerator),
        denominator=from_canonical(row.denominator),
        value=from_canonical(row.value),
        symbol=row.symbol,
        commentary=row.commentary,
        explanation=row.explanation,
    )


def _full(codes: Sequence[str], entries: Mapping[str, EntryData]) -> dict[str, EntryData]:
    return {code: entries.get(code) or EntryData(code=code) for code in codes}


def _held_revisions(
    session: Session, service: Service, period: Period, codes: Sequence[str]
) -> list[_Held]:
    rows = session.connection().execute(_HELD, {"service_id": service.id, "period": period.code})
    by_revision: dict[int, dict[str, EntryData]] = {}
    for row in rows:
        entries = by_revision.setdefault(row.revision, {})
        if row.code is not None:
            entries[row.code] = _entry_of(row.code, row)
    held = []
    for revision in sorted(by_revision):
        entries = _full(codes, by_revision[revision])
        digest = payload_digest(canonical_payload(entries.values()))
        held.append(_Held(revision, digest, entries))
    return held


def _decide(imported: ImportedReturn, digest: str, held: Sequence[_Held]) -> _Decision:
    meta = imported.meta
    for item in held:
        if item.digest == digest:
            return _Decision(
                ImportStatus.DUPLICATE,
                item.revision,
                f"the same values are held as revision {item.revision}",
            )
    highest = max((item.revision for item in held), default=0)
    if meta.kind == KIND_TEMPLATE:
        return _Decision(ImportStatus.ACCEPTED, highest + 1)
    assert meta.revision is not None
    if imported.modified:
        # A new revision after both the one held and the one the file was exported as.
        return _Decision(ImportStatus.ACCEPTED, max(highest, meta.revision) + 1)
    if meta.revision > highest:
        return _Decision(ImportStatus.ACCEPTED, meta.revision)
    if meta.revision < highest:
        return _Decision(
            ImportStatus.STALE,
            meta.revision,
            f"revision {highest} is already held: this file is older",
        )
    return _Decision(
        ImportStatus.CONFLICT,
        meta.revision,
        f"revision {meta.revision} is already held with different values: compare the two "
        "and decide which stands (reopen the return to record a correction)",
    )


def _stored_fields(entry: EntryData) -> dict[str, str | None]:
    """An entry's fields as a Value row holds them (decimals as canonical text)."""
    fields = {
        "numerator": None if entry.numerator is None else canonical_text(entry.numerator),
        "denominator": None if entry.denominator is None else canonical_text(entry.denominator),
        "value": None if entry.value is None else canonical_text(entry.value),
        "symbol": entry.symbol,
        "commentary": entry.commentary,
        "explanation": entry.explanation,
    }
    assert tuple(fields) == VALUE_FIELDS
    return fields


def _entry_json(entry: EntryData | None) -> str | None:
    """The JSON an audit event records for the entry once stored (entries.value_json)."""
    if entry is None or entry.is_blank:
        return None
    return json.dumps(
        _stored_fields(entry), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def _changes(
    codes: Sequence[str], before: Mapping[str, EntryData] | None, after: Mapping[str, EntryData]
) -> tuple[ValueChange, ...]:
    changes = []
    for code in codes:
        old = _entry_json(before.get(code)) if before else None
        new = _entry_json(after.get(code))
        if old != new:
            changes.append(ValueChange(code, describe_value_json(old), describe_value_json(new)))
    return tuple(changes)


def _warnings(
    session: Session,
    service: Service,
    period: Period,
    infos: Sequence[IndicatorInfo],
    entries: Mapping[str, EntryData],
) -> tuple[str, ...]:
    values = {
        code: EntryValues(
            numerator=entry.numerator,
            denominator=entry.denominator,
            value=None if entry.symbol else entry.value,
            symbol=Symbol(entry.symbol) if entry.symbol else None,
        )
        for code, entry in entries.items()
    }
    found = problems_with_history(session, service, period, infos, values)
    return tuple(
        f"{code}: {p.message}"
        for code, problems in found.items()
        for p in problems
        if p.severity is Severity.WARNING
    )


def _judge_and_store(
    session: Session,
    path: Path,
    data: bytes,
    sha: str,
    *,
    workbook_entries: Callable[[Mapping[str, Any], str], ImportedReturn],
    meta: FileMeta,
    batch: _Batch,
    actor: str,
    dry_run: bool,
    accept_unsigned: str | None = None,
) -> ImportOutcome:
    service, period, version = _lookup(session, meta, batch.catalogue)
    verdict = trust.judge_file_signature(
        session,
        meta.signature,
        kind=meta.kind,
        service=service.code,
        service_name=service.name,
        accept_unsigned=accept_unsigned,
        actor=actor,
        dry_run=dry_run,
        cache=batch.keys,
    )
    snapshot = batch.catalogue.snapshot(session, version_in_force(batch.catalogue.versions, period))
    infos = due_indicators(session, service, period, snapshot=snapshot)
    if not infos:
        raise RejectedFile(
            [
                meta.located(
                    "period", f"the {service.name} return for {period.label} asks for no indicators"
                )
            ]
        )
    codes = [info.code for info in infos]
    imported = workbook_entries(
        {info.code: info.rules for info in infos}, f"the {service.name} return for {period.label}"
    )
    entries = _full(codes, {entry.code: entry for entry in imported.entries})
    digest = payload_digest(canonical_payload(entries.values()))
    held = _held_revisions(session, service, period, codes) + batch.held(service.code, period.code)
    if meta.kind == KIND_FEEDBACK:
        return _judge_feedback(
            session,
            path,
            data,
            sha,
            imported=imported,
            entries=entries,
            digest=digest,
            held=held,
            service=service,
            period=period,
            version=version,
            infos=infos,
            indicator_ids=snapshot.ids,
            batch=batch,
            actor=actor,
            dry_run=dry_run,
            verdict=verdict,
        )
    decision = _decide(imported, digest, held)
    latest = max(held, key=lambda item: item.revision) if held else None
    outcome = ImportOutcome(
        status=decision.status,
        file=str(path),
        service=service.code,
        period=period.code,
        revision=decision.revision,
        reason=decision.reason,
        changes=_changes(codes, latest.entries if latest else None, entries),
        warnings=_warnings(session, service, period, infos, entries),
        file_sha256=sha,
        kind=meta.kind,
        modified_cells=imported.modified_cells,
        answers=_answer_pairs(imported.answers),
        **_signer_fields(verdict),
    )
    if decision.status != ImportStatus.ACCEPTED:
        return outcome
    batch.add(service.code, period.code, _Held(decision.revision, digest, entries))
    if not dry_run:
        _store(
            session,
            path,
            data,
            sha,
            imported=imported,
            entries=entries,
            service=service,
            period=period,
            version=version,
            revision=decision.revision,
            digest=digest,
            actor=actor,
            indicator_ids=snapshot.ids,
            verdict=verdict,
        )
    return outcome


def _signer_fields(verdict: trust.SignerVerdict) -> dict[str, str | None]:
    return {
        "signature": verdict.status,
        "signed_by": verdict.fingerprint,
        "signer": verdict.note if verdict.status == trust.UNSIGNED_TAKEN else verdict.name,
    }


def _return_uuid(session: Session, imported: ImportedReturn) -> str:
    """The file's return_id when it names this very revision and is free, else a new one."""
    given = imported.meta.return_id
    if imported.meta.kind in SIGNED_KINDS and not imported.modified and given:
        try:
            candidate = str(uuid.UUID(given))
        except ValueError:
            candidate = None
        if candidate and session.connection().scalar(_UUID_TAKEN, {"uuid": candidate}) is None:
            return candidate
    return str(uuid.uuid4())


def _audit_reason(imported: ImportedReturn, revision: int, verdict: trust.SignerVerdict) -> str:
    meta = imported.meta
    if verdict.status == trust.UNSIGNED_TAKEN:
        what = "template" if meta.kind == KIND_TEMPLATE else f"{meta.kind} file"
        return (
            f"revision {revision} imported from an UNSIGNED {what}, taken by the coordinator "
            f"because: {verdict.note}"
        )
    if meta.kind == KIND_TEMPLATE:
        return (
            f"filled template imported as revision {revision}: values entered in a template, "
            "not signed by the service"
        )
    if imported.modified:
        cells = ", ".join(imported.modified_cells[:20])
        more = len(imported.modified_cells) - 20
        if more > 0:
            cells += f" and {more} more"
        return (
            f"accepted as modified: revision {meta.revision} was changed after export "
            f"(cells {cells}); the visible values were imported as revision {revision}"
        )
    who = f" exported by {meta.exported_by}" if meta.exported_by else ""
    when = f" at {meta.exported_at}" if meta.exported_at else ""
    what = "feedback file" if meta.kind == KIND_FEEDBACK else "return file"
    return f"revision {revision} imported from a {what}{who}{when}"


def _store(
    session: Session,
    path: Path,
    data: bytes,
    sha: str,
    *,
    imported: ImportedReturn,
    entries: Mapping[str, EntryData],
    service: Service,
    period: Period,
    version: DefinitionsVersion,
    revision: int,
    digest: str,
    actor: str,
    indicator_ids: Mapping[str, int],
    verdict: trust.SignerVerdict,
) -> int:
    """Store the revision, its file, its values and their audit events; returns its id.

    Rows go in as Core INSERTs, values and events each as one statement of many rows: an ORM
    object per value and per event cost more than reading the file.
    """
    now = datetime.now(UTC)
    meta = imported.meta
    reason = _audit_reason(imported, revision, verdict)
    source = f"imported from {path.name}, {verdict.describe}"
    if imported.modified:
        source += " (changed after export, accepted as modified)"
    connection = session.connection()
    return_uuid = _return_uuid(session, imported)
    submitted_by = meta.exported_by if meta.kind == KIND_RETURN and meta.exported_by else actor
    return_id = connection.execute(
        _INSERT_RETURN,
        {
            "uuid": return_uuid,
            "service_id": service.id,
            "period": period.code,
            "revision": revision,
            # made a draft and submitted once its values are in: the shared database's rules
            # let values go only into a draft (migration 0006)
            "state": ReturnState.DRAFT,
            "definitions_version_id": version.id,
            "created_at": now,
            "created_by": actor,
            "updated_at": now,
            "submitted_at": now,
            "submitted_by": submitted_by[:100],
            "payload_sha256": digest,
        },
    ).inserted_primary_key[0]
    connection.execute(
        _INSERT_FILE,
        {
            "file_name": path.name[:400],
            "sha256": sha,
            "size": len(data),
            "content": data,
            "imported_at": now,
            "imported_by": actor,
            "status": ImportStatus.ACCEPTED,
            "detail": reason,
            "return_id": return_id,
        },
    )
    connection.execute(
        _INSERT_SIGNATURE,
        {
            "return_id": return_id,
            "status": verdict.status,
            "signed_by": verdict.fingerprint,
            "signer_name": None if verdict.name is None else verdict.name[:200],
            "note": verdict.note,
        },
    )
    context: dict[str, Any] = {
        "actor": actor,
        "service": service.code,
        "period": period.code,
        "revision": revision,
        "return_uuid": return_uuid,
        "reason": reason,
        "source": source,
        "file_sha256": sha,
        "at": now,
    }
    events: list[dict[str, Any]] = [
        {**context, "action": AuditAction.RETURN_IMPORT, "new": ReturnState.SUBMITTED}
    ]
    values: list[dict[str, Any]] = []
    for code, entry in entries.items():
        if entry.is_blank:
            continue
        values.append(
            {
                **_stored_fields(entry),
                "return_id": return_id,
                "indicator_id": indicator_ids[code],
                "updated_at": now,
                "updated_by": actor,
            }
        )
        events.append(
            {
                **context,
                "action": AuditAction.VALUE_SET,
                "indicator": code,
                "new": _entry_json(entry),
            }
        )
    if values:
        connection.execute(_INSERT_VALUE, values)
    connection.execute(_SUBMIT_RETURN, {"return_id": return_id, "state": ReturnState.SUBMITTED})
    append_events(session, events)
    if imported.answers:
        ret = session.get_one(Return, return_id)
        for line in imported.answers.lines:
            record_answer(
                session,
                ret,
                line.code,
                line.answer,
                previous=None,
                actor=actor,
                at=now,
                source=source,
                file_sha256=sha,
            )
        session.flush()
    return return_id


# --- feedback files ------------------------------------------------------------------------


def _answer_pairs(answers: QuerySet | None) -> tuple[tuple[str, str], ...]:
    return tuple((line.code, line.answer or "") for line in (answers.lines if answers else ()))


def _query_pairs(queries: QuerySet | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((line.code, line.question) for line in (queries.lines if queries else ())))


def _judge_feedback(
    session: Session,
    path: Path,
    data: bytes,
    sha: str,
    *,
    imported: ImportedReturn,
    entries: Mapping[str, EntryData],
    digest: str,
    held: Sequence[_Held],
    service: Service,
    period: Period,
    version: DefinitionsVersion,
    infos: Sequence[IndicatorInfo],
    indicator_ids: Mapping[str, int],
    batch: _Batch,
    actor: str,
    dry_run: bool,
    verdict: trust.SignerVerdict,
) -> ImportOutcome:
    """The status of a feedback file: ACCEPTED marks its revision returned with the queries
    (storing the revision first when it is not held); DUPLICATE when that is already so."""
    meta, queries = imported.meta, imported.queries
    assert meta.revision is not None and queries is not None
    revision = meta.revision
    pairs = _query_pairs(queries)
    key = (service.code, period.code, revision, json.dumps(pairs))
    same = next((item for item in held if item.revision == revision), None)
    stored = session.scalar(
        select(Return).where(
            Return.service_id == service.id,
            Return.period == period.code,
            Return.revision == revision,
        )
    )
    highest = max((item.revision for item in held), default=0)
    status, reason = ImportStatus.ACCEPTED, None
    if key in batch.feedback:
        status, reason = ImportStatus.DUPLICATE, "the same feedback is earlier in this batch"
    elif same is not None and same.digest != digest:
        status, reason = (
            ImportStatus.CONFLICT,
            f"revision {revision} is held here with different values: this feedback is about "
            "another copy of the return; compare the two",
        )
    elif stored is not None and stored.state == ReturnState.RETURNED:
        if _query_pairs_held(session, service, period, revision) == pairs:
            status, reason = (
                ImportStatus.DUPLICATE,
                f"this feedback is already held: revision {revision} is returned with these "
                "queries",
            )
        else:
            status, reason = (
                ImportStatus.CONFLICT,
                f"revision {revision} is already returned here with other queries",
            )
    elif stored is not None and stored.state != ReturnState.SUBMITTED:
        status, reason = (
            ImportStatus.CONFLICT,
            f"revision {revision} is {stored.state} here, not submitted: it cannot be returned",
        )
    elif same is None and revision < highest:
        status, reason = (
            ImportStatus.STALE,
            f"revision {highest} is already held: this feedback is about an older revision",
        )
    outcome = ImportOutcome(
        status=status,
        file=str(path),
        service=service.code,
        period=period.code,
        revision=revision,
        reason=reason,
        changes=_changes(
            [info.code for info in infos],
            same.entries
            if same
            else (max(held, key=lambda h: h.revision).entries if held else None),
            entries,
        ),
        warnings=_warnings(session, service, period, infos, entries),
        file_sha256=sha,
        kind=meta.kind,
        queries=tuple((line.code, line.question) for line in queries.lines),
        **_signer_fields(verdict),
    )
    if status != ImportStatus.ACCEPTED:
        return outcome
    batch.feedback.add(key)
    if same is None:
        batch.add(service.code, period.code, _Held(revision, digest, entries))
    if dry_run:
        return outcome
    now = datetime.now(UTC)
    source = f"imported from {path.name}"
    if stored is None:
        stored_id = _store(
            session,
            path,
            data,
            sha,
            imported=imported,
            entries=entries,
            service=service,
            period=period,
            version=version,
            revision=revision,
            digest=digest,
            actor=actor,
            indicator_ids=indicator_ids,
            verdict=verdict,
        )
        stored = session.get_one(Return, stored_id)
    else:
        session.add(
            ImportedFile(
                file_name=path.name[:400],
                sha256=sha,
                size=len(data),
                content=data,
                imported_at=now,
                imported_by=actor,
                status=ImportStatus.ACCEPTED,
                detail=f"feedback on revision {revision}: returned with "
                f"{len(queries.lines)} quer{'y' if len(queries.lines) == 1 else 'ies'}",
                return_id=stored.id,
            )
        )
    source = f"{source}, {verdict.describe}"
    asked = f"{source}: feedback from {queries.asked_by}" if queries.asked_by else source
    stored.state, stored.updated_at = ReturnState.RETURNED, now
    append_event(
        session,
        actor=actor,
        action=AuditAction.RETURN_RETURN,
        service=service.code,
        period=period.code,
        revision=revision,
        return_uuid=stored.uuid,
        old=ReturnState.SUBMITTED,
        new=ReturnState.RETURNED,
        reason=queries.reason,
        source=asked,
        file_sha256=sha,
        at=now,
    )
    record_queries(
        session,
        stored,
        {line.code: line.question for line in queries.lines},
        actor=actor,
        at=now,
        source=asked,
        file_sha256=sha,
    )
    session.flush()
    return outcome


def _query_pairs_held(
    session: Session, service: Service, period: Period, revision: int
) -> tuple[tuple[str, str], ...]:
    held = queries_up_to(session, service, period.code, revision)
    if held is None or held.asked_revision != revision:
        return ()
    return tuple(sorted((q.code, q.question) for q in held.queries))
