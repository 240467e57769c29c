"""Importing return files, or folders of them (docs/contracts.md, "Importing").

Every file is read and checked before the database is touched, then given its status:
ACCEPTED files are stored in their own transaction, with the original bytes and one audit
event per value; every other status leaves the database as it was. A return file that answers
queries records the answers with the revision; a feedback file goes to feedback_import.py.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.errors import NotFoundError, StoreUnavailable, ValidationError
from skp_desktop.domain.periods import Period
from skp_desktop.domain.vocabulary import (
    ImportStatus,
)
from skp_desktop.excel.payload import canonical_payload, payload_digest
from skp_desktop.excel.rejection import RejectedFile
from skp_desktop.excel.return_data import (
    KIND_FEEDBACK,
    KIND_TEMPLATE,
    QuerySet,
)
from skp_desktop.excel.return_reader import FileMeta, ImportedReturn, interpret, read_meta
from skp_desktop.excel.safe_reader import REFORMAT, RawWorkbook, load_file, read_return_workbook
from skp_desktop.services import trust
from skp_desktop.services.database import Database
from skp_desktop.services.exchange_outcomes import (
    ImportOutcome,
    ImportProblem,
    ImportStopped,
)
from skp_desktop.services.feedback_import import judge_feedback
from skp_desktop.services.import_store import (
    Batch,
    CatalogueCache,
    Held,
    changes_between,
    full_entries,
    held_revisions,
    signer_fields,
    store_revision,
    warnings_for,
)
from skp_desktop.services.return_view import version_in_force
from skp_desktop.services.returns import (
    due_indicators,
    return_period,
)
from skp_desktop.store.engine import lock_return
from skp_desktop.store.models import (
    DefinitionsVersion,
    Service,
)

log = logging.getLogger(__name__)


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
    signature verifies with a key trusted here for what it is (services/trust/file_signer.py);
    `accept_unsigned` (the coordinator's reason) takes unsigned files, marked as such.
    """
    if accept_unsigned is not None and not accept_unsigned.strip():
        raise ValidationError("--accept-unsigned needs --reason: say why unsigned files are taken")
    files = collect_files(paths)
    batch = Batch()
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
    batch: Batch,
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
        # Not run again if the server undid it (ChangesCrossed, said as busy): the batch
        # remembers what each file stored. Locks: the return, then the chain (store/postgres).
        with db.transaction(locks_its_returns=True) as session:
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
    session: Session, meta: FileMeta, catalogue: CatalogueCache
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


def _decide(imported: ImportedReturn, digest: str, held: Sequence[Held]) -> _Decision:
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


def _judge_and_store(
    session: Session,
    path: Path,
    data: bytes,
    sha: str,
    *,
    workbook_entries: Callable[[Mapping[str, Any], str], ImportedReturn],
    meta: FileMeta,
    batch: Batch,
    actor: str,
    dry_run: bool,
    accept_unsigned: str | None = None,
) -> ImportOutcome:
    service, period, version = _lookup(session, meta, batch.catalogue)
    # Before anything of the return is read: another change of it finishes first.
    lock_return(session.connection(), service.id, period.code)
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
    entries = full_entries(codes, {entry.code: entry for entry in imported.entries})
    digest = payload_digest(canonical_payload(entries.values()))
    held = held_revisions(session, service, period, codes) + batch.held(service.code, period.code)
    if meta.kind == KIND_FEEDBACK:
        return judge_feedback(
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
        changes=changes_between(codes, latest.entries if latest else None, entries),
        warnings=warnings_for(session, service, period, infos, entries),
        file_sha256=sha,
        kind=meta.kind,
        modified_cells=imported.modified_cells,
        answers=_answer_pairs(imported.answers),
        **signer_fields(verdict),
    )
    if decision.status != ImportStatus.ACCEPTED:
        return outcome
    batch.add(service.code, period.code, Held(decision.revision, digest, entries))
    if not dry_run:
        store_revision(
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


def _answer_pairs(answers: QuerySet | None) -> tuple[tuple[str, str], ...]:
    return tuple((line.code, line.answer or "") for line in (answers.lines if answers else ()))
