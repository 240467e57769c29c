"""A generated partnership at scale, for the ten-year and load benchmarks.

`partnership_file(years)` gives a SQLite database, built once from a seed and kept in
`bench/cache/` (ignored by git) under the generator's version: 15 services across the five
organisations (the ten of the catalogue, and five GENERATED BENCH DATA services for the fire
brigade, probation and the ICB, who have none yet) × `years` financial years ending
FY2025-26, quarterly and monthly returns, revisions (returned with queries, answered,
reopened), imported files, and an audit chain of about 210,000 events a year (2.1 million for
ten years) that `verify` passes: every return and value held is what its newest event says.

Bulk paths build it (rows written straight into the tables, events hashed here with
store/audit.py's own hash); the app's own code reads it. `copy_to_postgresql` puts the same
rows on a PostgreSQL database the app has migrated (a bulk COPY with the server's rules off
while copying, as a restore would; `verify` then checks them).

`python -m bench.partnership [YEARS]` builds (or finds) the file and prints what it holds.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Bump when what is generated changes: the cache is keyed by it.
GENERATOR_VERSION = 3  # 3: services added through the app, with their history
# Bump when what copy_to_postgresql puts on the server changes (bench/load.py keeps the server's
# data folder under it).
COPY_VERSION = 2  # 2: the keys the file trusts copied with the history that records them
SEED = 20
LAST_YEAR = 2025  # FY2025-26 is the newest financial year generated
CACHE = Path(__file__).resolve().parent / "cache"
# value.set events per value typed (spread evenly): people save as they type, correct and
# come back, and thirty of them for ten years make a long chain. This is what gives about
# 210,000 events a year: the catalogue's returns hold few values.
EDITS = (450, 2700)
VARIANTS = 32  # the entries an edit picks from, per indicator (made once: entries cost more)
GENERATED = "GENERATED BENCH DATA, not a real service"
COORDINATORS = ("coordinator.anna", "coordinator.ben")

# (organisation, code, name, [(indicator code, unit, frequency, has_fraction, theme)])
NEW_SERVICES: tuple[tuple[str, str, str, list[tuple[str, str, str, bool, str]]], ...] = (
    (
        "LFB",
        "GEN-LFB-PREVENT",
        "Fire prevention (generated bench data)",
        [
            ("GEN-LFB-P1", "count", "monthly", False, "SKP-D1"),
            ("GEN-LFB-P2", "percent", "monthly", True, "SKP-D1"),
            ("GEN-LFB-P3", "count", "quarterly", False, "SKP-D1"),
        ],
    ),
    (
        "LFB",
        "GEN-LFB-RESPONSE",
        "Fire response (generated bench data)",
        [
            ("GEN-LFB-R1", "count", "monthly", False, "SKP-D2"),
            ("GEN-LFB-R2", "percent", "monthly", True, "SKP-D2"),
        ],
    ),
    (
        "PS",
        "GEN-PROBATION",
        "Probation in Kingston (generated bench data)",
        [
            ("GEN-PS-1", "percent", "quarterly", True, "SKP-D3"),
            ("GEN-PS-2", "count", "quarterly", False, "SKP-D3"),
            ("GEN-PS-3", "percent", "monthly", True, "SKP-D3"),
        ],
    ),
    (
        "ICB",
        "GEN-ICB-MH",
        "Mental health crisis care (generated bench data)",
        [
            ("GEN-ICB-M1", "count", "quarterly", False, "SKP-D4"),
            ("GEN-ICB-M2", "percent", "quarterly", True, "SKP-D4"),
        ],
    ),
    (
        "ICB",
        "GEN-ICB-UEC",
        "Urgent care for violence injuries (generated bench data)",
        [
            ("GEN-ICB-U1", "count", "monthly", False, "SKP-D5"),
            ("GEN-ICB-U2", "rate per 10,000", "quarterly", True, "SKP-D5"),
        ],
    ),
)


def first_year(years: int) -> int:
    return LAST_YEAR - years + 1


def cache_path(years: int) -> Path:
    """The cached file: a new generator or a new schema makes a new one."""
    from skp_desktop.store.schema_head import SCHEMA_HEAD

    name = f"partnership-v{GENERATOR_VERSION}-schema{SCHEMA_HEAD}-seed{SEED}-{years}y.sqlite3"
    return CACHE / name


def partnership_file(years: int) -> Path:
    """The cached database of `years` financial years, built first when it is not there yet."""
    path = cache_path(years)
    if not path.exists():
        _upgrade_older_schema(path, years)
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        for stale in CACHE.glob(f"partnership-v*-{years}y.sqlite3*"):
            stale.unlink()  # an older generator's file
        building = path.with_name(path.name + ".building")
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            leftover.unlink(missing_ok=True)
        start = time.perf_counter()
        stats = build_sqlite(building, years)
        os.replace(building, path)
        print(
            f"partnership: built {path.name} in {time.perf_counter() - start:.0f} s: {stats}",
            file=sys.stderr,
        )
    return path


def _upgrade_older_schema(path: Path, years: int) -> None:
    """The same generator's file made at an older schema, upgraded to `path` by the app's own
    migrations (as a partnership's file is when the app is updated): seconds or minutes, where
    building it again takes up to twenty."""
    from skp_desktop.services.database import open_database

    older = sorted(
        CACHE.glob(f"partnership-v{GENERATOR_VERSION}-schema*-seed{SEED}-{years}y.sqlite3")
    )
    if not older:
        return
    upgrading = path.with_name(path.name + ".upgrading")
    os.replace(older[-1], upgrading)
    start = time.perf_counter()
    open_database(upgrading).dispose()
    os.replace(upgrading, path)
    for backup in (CACHE / "backups").glob(f"{upgrading.name}-*"):
        backup.unlink()  # the app's copy from before the upgrade: the cache can be built again
    print(
        f"partnership: {older[-1].name} upgraded to {path.name} in "
        f"{time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )


# --------------------------------------------------------------------------- the catalogue


def add_generated_services(db: Any) -> None:
    """The five generated services and their indicators, with definitions in version 1.

    The catalogue has no service for the fire brigade, probation or the ICB; a partnership at
    scale would. Each is named as generated bench data.
    """
    from sqlalchemy import func, select

    from skp_desktop.services.partnership import add_service_in
    from skp_desktop.store.models import (
        DefinitionsVersion,
        Indicator,
        IndicatorDefinition,
        Service,
        Theme,
    )

    with db.transaction() as session:
        if session.scalar(select(Service).where(Service.code == NEW_SERVICES[0][1])):
            return
        version = session.scalars(select(DefinitionsVersion).order_by(DefinitionsVersion.number))
        version_id = version.first().id
        position = (session.scalar(select(func.max(Indicator.position))) or 0) + 1
        for org_code, code, name, indicators in NEW_SERVICES:
            # through the app, so that `verify` finds each service's history (`service.add`)
            service = add_service_in(
                session, code=code, name=name, organisation=org_code, actor="bench.setup"
            )
            service.source = GENERATED
            for ind_code, unit, frequency, fraction, theme_code in indicators:
                theme = session.scalar(select(Theme).where(Theme.code == theme_code))
                indicator = Indicator(
                    code=ind_code, kind="indicator", theme=theme, service=service, position=position
                )
                position += 1
                session.add(indicator)
                session.flush()
                session.add(
                    IndicatorDefinition(
                        indicator_id=indicator.id,
                        definitions_version_id=version_id,
                        title=f"{ind_code} ({GENERATED})",
                        level="service",
                        unit=unit,
                        polarity="higher is better" if unit == "percent" else "lower is better",
                        frequency=frequency,
                        decimals=1 if fraction else 0,
                        has_fraction=fraction,
                        numerator_label="people helped" if fraction else None,
                        denominator_label="people referred" if fraction else None,
                        min_value="0",
                        max_value="100" if unit == "percent" else None,
                        amber_tolerance="2",
                        change_warning_percent=None,
                        small_number_threshold=None,
                        definition=GENERATED,
                        source=GENERATED,
                        source_document=None,
                    )
                )


# --------------------------------------------------------------------------- the history


@dataclass
class _Rows:
    """Rows to write, in the columns of each table, with ids given here."""

    returns: list[tuple[Any, ...]] = field(default_factory=list)
    values: list[tuple[Any, ...]] = field(default_factory=list)
    files: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)


RETURN_COLUMNS = [
    "id",
    "uuid",
    "service_id",
    "period",
    "revision",
    "state",
    "definitions_version_id",
    "created_at",
    "created_by",
    "updated_at",
    "submitted_at",
    "submitted_by",
    "reopen_reason",
    "payload_sha256",
]
VALUE_COLUMNS = [
    "id",
    "return_id",
    "indicator_id",
    "numerator",
    "denominator",
    "value",
    "symbol",
    "commentary",
    "explanation",
    "updated_at",
    "updated_by",
]
FILE_COLUMNS = [
    "id",
    "file_name",
    "sha256",
    "size",
    "content",
    "imported_at",
    "imported_by",
    "status",
    "detail",
    "return_id",
]


def _stamp(at: datetime) -> str:
    """A time as SQLite holds it (naive UTC text, store/types.py)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class _Chain:
    """Appends hashed events to the rows, carrying the head."""

    def __init__(self, head: str, next_id: int, rows: _Rows) -> None:
        from skp_desktop.store.audit import HASHED_FIELDS, hash_values

        self.head, self.next_id, self.rows = head, next_id, rows
        self._fields, self._hash = HASHED_FIELDS, hash_values
        self.count = 0

    def add(self, at: datetime, **given: Any) -> None:
        given["prev_hash"], given["at"] = self.head, _stamp(at)
        values = [given.get(name) for name in self._fields]
        digest = self._hash(values)
        values[1] = given["at"]  # hash_values swapped in the canonical form
        self.rows.events.append((self.next_id, *values, digest))
        self.head = digest
        self.next_id += 1
        self.count += 1


class _Entries:
    """Valid entries per indicator, made with the app's own entry rules (services/entries)."""

    def __init__(self, infos: list[Any]) -> None:
        from skp_desktop.services.entries import EntryText, apply_entry_text, finish_entry
        from skp_desktop.services.setup import _demo_value

        self._state, self._apply, self._finish = EntryText, apply_entry_text, finish_entry
        self._demo = _demo_value
        self.infos = {info.code: info for info in infos}
        pool = random.Random(f"{SEED}-variants")
        self._variants = {
            code: [self.make(code, n, pool, None).as_json() for n in range(VARIANTS)]
            for code in self.infos
        }

    def variant(self, code: str, rng: random.Random) -> str:
        """A valid entry's JSON, for an edit that a later one overwrites."""
        return rng.choice(self._variants[code])

    def make(self, code: str, step: int, rng: random.Random, comment: str | None) -> Any:
        info = self.infos[code]
        state = self._state()
        # the demo's figures drift with the step; ten years of drift would leave valid ranges
        fields = dict(self._demo(info, step % 12, rng))
        if comment:
            fields["commentary"] = comment
        for name, text in fields.items():
            refusal = self._apply(state, info, name, text)
            assert refusal is None, (code, fields, refusal)
        refused = self._finish(state, info)
        assert not refused, (code, fields, refused)
        return state


def _periods(years: int) -> Iterator[Any]:
    """Each month and quarter of the years in time order (a quarter after its last month)."""
    from skp_desktop.domain.periods import parse_period

    for year in range(first_year(years), LAST_YEAR + 1):
        fy = f"FY{year}-{(year + 1) % 100:02d}"
        for quarter in range(1, 5):
            q = parse_period(f"{fy}-Q{quarter}")
            for offset in range(3):
                month = (3 + (quarter - 1) * 3 + offset) % 12 + 1
                calendar = year if month >= 4 else year + 1
                yield parse_period(f"{calendar}-{month:02d}")
            yield q


def _generate(db: Any, years: int) -> tuple[_Rows, dict[str, int]]:
    """Every row of the partnership's history, deterministic from SEED."""
    from sqlalchemy import func, select

    from skp_desktop.domain.definitions import is_due
    from skp_desktop.services.catalogue import list_indicators, list_services
    from skp_desktop.store.models import AuditEvent, DefinitionsVersion, Indicator, Service

    rng = random.Random(f"{SEED}-{years}")
    with db.reading() as session:
        head_id, head = session.execute(
            select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        ).one()
        service_ids = dict(session.execute(select(Service.code, Service.id)).all())
        indicator_ids = dict(session.execute(select(Indicator.code, Indicator.id)).all())
        version_id = session.scalar(select(func.min(DefinitionsVersion.id)))
    services = [s.code for s in list_services(db)]
    infos = {code: list_indicators(db, service=code) for code in services}
    entries = {code: _Entries(infos[code]) for code in services}
    rows = _Rows()
    chain = _Chain(head, head_id + 1, rows)
    next_return, next_value, next_file = 1, 1, 1
    managers = {code: [f"manager.{code.lower()}.{n}" for n in (1, 2)] for code in services}
    stats = {"returns": 0, "revisions": 0, "values": 0, "files": 0, "queries": 0, "answers": 0}
    step = 0
    for period in _periods(years):
        step += 1
        opened = datetime.combine(period.end, datetime.min.time(), UTC) + timedelta(days=3)
        for code in services:
            due = [i.code for i in infos[code] if is_due(i.rules.frequency, period)]
            if not due:
                continue
            stats["returns"] += 1
            at = opened + timedelta(hours=rng.randint(0, 200), seconds=rng.randint(0, 3599))
            manager = rng.choice(managers[code])
            coordinator = rng.choice(COORDINATORS)
            # What happens to this return: most are accepted at r1; some are returned with
            # queries and put right in r2 (a few in r3); some come in as imported files.
            returned_times = 0 if rng.random() < 0.8 else (1 if rng.random() < 0.8 else 2)
            imported = rng.random() < 0.3
            held: dict[str, Any] = {}
            asked: list[str] = []
            for revision in range(1, returned_times + 2):
                stats["revisions"] += 1
                ret_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                ret_id, next_return = next_return, next_return + 1
                context = {
                    "service": code,
                    "period": period.code,
                    "revision": revision,
                    "return_uuid": ret_uuid,
                }
                created = at
                file_sha = None
                if imported and revision == 1:
                    content = f"{GENERATED}: return file {code} {period.code}".encode()
                    file_sha = hashlib.sha256(content).hexdigest()
                    source = f"imported from {code.lower()}-{period.code}.xlsx"
                    chain.add(
                        at,
                        actor=coordinator,
                        action="return.import",
                        new="submitted",
                        source=source,
                        file_sha256=file_sha,
                        **context,
                    )
                    for ind in due:
                        held[ind] = entries[code].make(ind, step, rng, None)
                        chain.add(
                            at,
                            actor=coordinator,
                            action="value.set",
                            indicator=ind,
                            new=held[ind].as_json(),
                            source=source,
                            file_sha256=file_sha,
                            **context,
                        )
                    rows.files.append(
                        (
                            next_file,
                            f"{code.lower()}-{period.code}.xlsx",
                            file_sha,
                            len(content),
                            content,
                            _stamp(at),
                            coordinator,
                            "ACCEPTED",
                            f"{GENERATED}",
                            ret_id,
                        )
                    )
                    next_file += 1
                    stats["files"] += 1
                    edited = []
                else:
                    if revision == 1:
                        chain.add(at, actor=manager, action="return.create", new="draft", **context)
                    else:
                        chain.add(
                            at,
                            actor=manager,
                            action="return.reopen",
                            old=f"revision {revision - 1} returned",
                            new="draft",
                            reason="answering the coordinator's queries",
                            **context,
                        )
                        for ind, state in held.items():  # the values carried over
                            chain.add(
                                at,
                                actor=manager,
                                action="value.set",
                                indicator=ind,
                                new=state.as_json(),
                                source="typed in the app",
                                **context,
                            )
                        for ind in asked:  # the queries on the returned revision, answered
                            stats["answers"] += 1
                            chain.add(
                                at,
                                actor=manager,
                                action="query.answer",
                                indicator=ind,
                                new="checked: the figure is right",
                                **context,
                            )
                    edited = due if revision == 1 else rng.sample(due, 1)
                for ind in edited:
                    old = held[ind].as_json() if ind in held else None
                    edits = rng.randint(*EDITS)
                    for number in range(edits):
                        at += timedelta(seconds=rng.randint(1, 20))
                        if number < edits - 1:
                            new = entries[code].variant(ind, rng)
                        else:
                            comment = "steady" if rng.random() < 0.2 else None
                            held[ind] = entries[code].make(ind, step, rng, comment)
                            new = held[ind].as_json()
                        chain.add(
                            at,
                            actor=manager,
                            action="value.set",
                            indicator=ind,
                            old=old,
                            new=new,
                            source="typed in the app",
                            **context,
                        )
                        old = new
                at += timedelta(minutes=rng.randint(1, 90))
                if not (imported and revision == 1):
                    chain.add(
                        at,
                        actor=manager,
                        action="return.submit",
                        old="draft",
                        new="submitted",
                        **context,
                    )
                submitted_at, submitted_by = at, (coordinator if file_sha else manager)
                at += timedelta(hours=rng.randint(2, 72))
                final = revision == returned_times + 1
                state_name = "accepted" if final else "returned"
                chain.add(
                    at,
                    actor=coordinator,
                    action="return.accept" if final else "return.return",
                    old="submitted",
                    new=state_name,
                    reason=None if final else "please check the figures queried",
                    **context,
                )
                if not final:
                    asked = rng.sample(due, min(2, len(due)))
                    for ind in asked:
                        stats["queries"] += 1
                        chain.add(
                            at,
                            actor=coordinator,
                            action="query.ask",
                            indicator=ind,
                            reason=f"{ind} moved a lot since last period: is it right?",
                            **context,
                        )
                rows.returns.append(
                    (
                        ret_id,
                        ret_uuid,
                        service_ids[code],
                        period.code,
                        revision,
                        state_name,
                        version_id,
                        _stamp(created),
                        manager,
                        _stamp(at),
                        _stamp(submitted_at),
                        submitted_by,
                        None if revision == 1 else "answering the coordinator's queries",
                        None,
                    )
                )
                for ind, state in held.items():
                    rows.values.append(
                        (
                            next_value,
                            ret_id,
                            indicator_ids[ind],
                            state.numerator,
                            state.denominator,
                            state.value,
                            state.symbol,
                            state.commentary,
                            state.explanation,
                            _stamp(at),
                            manager,
                        )
                    )
                    next_value += 1
                    stats["values"] += 1
                if not final:
                    at += timedelta(hours=rng.randint(2, 48))
    stats["events"] = chain.count
    return rows, stats


def _write_sqlite(path: Path, rows: _Rows) -> None:
    from skp_desktop.store.audit import HASHED_FIELDS

    raw = sqlite3.connect(path)
    raw.execute("PRAGMA synchronous=OFF")  # building: a crash means building again
    for table, columns, data in (
        ("returns", RETURN_COLUMNS, rows.returns),
        ('"values"', VALUE_COLUMNS, rows.values),
        ("imported_files", FILE_COLUMNS, rows.files),
        ("audit_events", ["id", *HASHED_FIELDS, "hash"], rows.events),
    ):
        marks = ", ".join("?" * len(columns))
        raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", data)
    raw.commit()
    raw.execute("ANALYZE")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()


def build_sqlite(path: Path, years: int) -> dict[str, int]:
    """Build the database of `years` financial years at `path` (made new)."""
    from skp_desktop.services.database import open_database

    db = open_database(path, actor="bench.setup")
    try:
        add_generated_services(db)
        rows, stats = _generate(db, years)
    finally:
        db.dispose()
    _write_sqlite(path, rows)
    return stats


# --------------------------------------------------------------------------- PostgreSQL

_TIMES = {
    "returns": {"created_at", "updated_at", "submitted_at"},
    "values": {"updated_at"},
    "imported_files": {"imported_at"},
    "audit_events": {"at"},
    "signing_keys": {"trusted_at", "revoked_at"},
    "signing_key_services": set(),
}


def copy_to_postgresql(source: Path, url: str) -> None:
    """The partnership of a cached file on an empty PostgreSQL database, as its owner.

    The app migrates it and adds the generated services (the same ids as in the file, both
    being made the same way from empty); then the history's rows go in with COPY, the server's
    triggers off while they do (a superuser's bulk load, as restoring a dump is), and the
    sequences are moved past them. The keys trusted are the file's too (the key that made it),
    as its history records them, not the one the app enrolled on the empty database (whose
    event the copied history replaces), so that `verify` finds the keys as recorded.
    """
    from sqlalchemy import text

    from skp_desktop.services.database import open_database
    from skp_desktop.store.audit import HASHED_FIELDS

    db = open_database(url, actor="bench.setup")
    try:
        add_generated_services(db)
    finally:
        db.dispose()
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    raw = sqlite3.connect(source)
    from skp_desktop.store.models import SigningKey, SigningKeyService

    tables = (
        ("returns", RETURN_COLUMNS),
        ("values", VALUE_COLUMNS),
        ("imported_files", FILE_COLUMNS),
        ("audit_events", ["id", *HASHED_FIELDS, "hash"]),
        ("signing_keys", [c.name for c in SigningKey.__table__.columns]),
        ("signing_key_services", [c.name for c in SigningKeyService.__table__.columns]),
    )
    with psycopg.connect(
        host=parsed.query.get("host"),
        port=parsed.query.get("port"),
        dbname=parsed.database,
        user=parsed.username,
    ) as pg:
        pg.execute("SET session_replication_role = replica")
        # Secondary indexes are made again after the rows are in: much faster than keeping
        # them up to date row by row (the unique ones stay, and check the chain as it loads).
        indexes = pg.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename IN "
            "('audit_events', 'values', 'returns', 'imported_files') AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).fetchall()
        for name, _definition in indexes:
            pg.execute(f'DROP INDEX "{name}"')
        pg.execute(
            'DELETE FROM audit_events; DELETE FROM "values"; DELETE FROM imported_files; '
            "DELETE FROM returns; DELETE FROM signing_key_services; DELETE FROM signing_keys"
        )
        for table, columns in tables:
            times = [i for i, name in enumerate(columns) if name in _TIMES[table]]
            names = ", ".join(f'"{c}"' for c in columns)
            order = "id" if "id" in columns else names
            with pg.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in raw.execute(f'SELECT {names} FROM "{table}" ORDER BY {order}'):
                    row = list(row)
                    for i in times:
                        if row[i] is not None:
                            row[i] = row[i] + "+00"
                    copy.write_row(row)
            if "id" in columns:
                pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
        for _name, definition in indexes:
            pg.execute(definition)
        pg.execute("SET session_replication_role = origin")
        pg.commit()
        pg.autocommit = True
        pg.execute("VACUUM ANALYZE")
    raw.close()
    del text


def main() -> int:
    os.environ.setdefault("SKP_LOG_DIR", tempfile.mkdtemp())
    years = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    path = partnership_file(years)
    raw = sqlite3.connect(path)
    for table in ("services", "returns", '"values"', "imported_files", "audit_events"):
        print(table.strip('"'), raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
