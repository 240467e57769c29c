"""The engine factory: with postgres.py, the only place that knows SQLite from PostgreSQL."""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote

from sqlalchemy import Connection, Engine, TextClause, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.store import postgres
from skp_desktop.store.postgres import ChangesCrossed as ChangesCrossed  # re-exported
from skp_desktop.store.postgres import LoginRefused as LoginRefused  # re-exported
from skp_desktop.store.postgres import PermissionRefused as PermissionRefused  # re-exported
from skp_desktop.store.postgres import RuleRefused as RuleRefused  # re-exported
from skp_desktop.store.postgres import ServerIdentity as ServerIdentity  # re-exported
from skp_desktop.store.return_reads import Fetch
from skp_desktop.store.sqlite_snapshot import BUSY_TIMEOUT_MS, read_only_uri
from skp_desktop.store.sqlite_snapshot import unwritable_reason as unwritable_reason  # re-exported

READ_ONLY_OPTION = "skp_reading"
# A write transaction that locks each return it changes (lock_return) and the audit chain only
# at its first event, instead of the chain's lock from BEGIN (PostgreSQL; see postgres.py).
LOCKS_ITS_RETURNS_OPTION = "skp_locks_its_returns"
# How many times a use case crossed by another on the server is run in all (retried).
CROSSED_ATTEMPTS = 4

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


def database_url(target: str | os.PathLike[str]) -> URL:
    """A SQLAlchemy URL for a `--db` argument: a URL as given, anything else a SQLite file path."""
    text = os.fspath(target)
    if "://" in text:
        return postgres.normalise_url(make_url(text))
    return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser().resolve()))


def describe_url(url: URL) -> str:
    """What to show people for a database: the file for SQLite, the server without password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    # unquoted, so that a socket folder in ?host= reads as a path
    return unquote(url.render_as_string(hide_password=True))


@dataclass
class Database:
    """An open database: the engine and a session factory, one session per use case."""

    engine: Engine
    url: URL
    read_only: bool = False
    # Why a database that was not asked for read-only had to be opened so (e.g. its folder
    # cannot be written to); None when read-only was asked for, or not read-only at all.
    read_only_reason: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    @property
    def display_name(self) -> str:
        return describe_url(self.url)

    @contextmanager
    def _environment_errors(self) -> Iterator[None]:
        """A driver error about the environment (locked, full, refused) as StoreUnavailable,
        said for people; any other driver error is a bug and goes up as it is."""
        try:
            yield
        except DBAPIError as exc:
            problem = _unavailable(exc, self)
            if problem is None:
                raise
            if type(problem) is PermissionRefused:
                problem = self._with_role(problem)
            raise problem from exc

    def _with_role(self, problem: PermissionRefused) -> PermissionRefused:
        """A refusal by the server's grants, saying which role the login has there."""
        try:  # not through _environment_errors: a refusal here must not be explained again
            with self._reader().connect() as connection:
                identity = postgres.server_identity(connection)
        except DBAPIError:
            return problem
        if identity is None:
            return problem
        return PermissionRefused(f"{problem} {postgres.role_said(identity)}")

    @cached_property
    def _sessions(self) -> sessionmaker[Session]:
        # Made once: each sessionmaker defines a Session subclass, and setting up its events
        # cost more than a small transaction (an import makes one per file).
        return sessionmaker(self.engine, expire_on_commit=False)

    @cached_property
    def _return_sessions(self) -> sessionmaker[Session]:
        engine = self.engine.execution_options(**{LOCKS_ITS_RETURNS_OPTION: True})
        return sessionmaker(engine, expire_on_commit=False)

    def _maker(self, locks_its_returns: bool) -> sessionmaker[Session]:
        return self._return_sessions if locks_its_returns else self._sessions

    @contextmanager
    def transaction(self, *, locks_its_returns: bool = False) -> Iterator[Session]:
        """One all-or-nothing unit of work: committed on success, rolled back on any error.

        On PostgreSQL it holds the audit chain's lock from BEGIN, one writer at a time, unless
        `locks_its_returns`: a change of returns then locks each return before it reads it
        (lock_return) and the chain from its first event (store/audit.py), and writers of
        other returns go on meanwhile. SQLite: BEGIN IMMEDIATE either way.
        """
        with (
            self._environment_errors(),
            self._maker(locks_its_returns)() as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def rehearsal(self, *, locks_its_returns: bool = False) -> Iterator[Session]:
        """A unit of work that is always rolled back: a dry run that takes the real run's
        steps, locks and server checks (grants, row-level security) and keeps none of them."""
        with self._environment_errors(), self._maker(locks_its_returns)() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def savepoint(self, session: Session) -> Iterator[None]:
        """A step inside `session`'s transaction that an error undoes alone; a driver error
        about the environment (e.g. a refused permission) is raised as StoreUnavailable."""
        with self._environment_errors(), session.begin_nested():
            yield

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A consistent snapshot for reading only: it takes no write lock, so readers never
        hold up a writer (on SQLite, a plain BEGIN instead of BEGIN IMMEDIATE)."""
        maker = sessionmaker(self._reader(), expire_on_commit=False)
        with self._environment_errors(), maker() as session:
            try:
                yield session
            finally:
                session.rollback()  # nothing to keep, and nothing may have been written

    @contextmanager
    def reading_connection(self) -> Iterator[Connection]:
        """A Core connection for reading only, for the hottest queries (no ORM session)."""
        with self._environment_errors(), self._reader().connect() as connection:
            try:
                yield connection
            finally:
                connection.rollback()

    def server_login(self) -> tuple[str, str] | None:
        """The server's version and the login in use, e.g. ("16.4", "hana"); None for SQLite."""
        if not self.is_postgresql:
            return None
        with self.reading_connection() as connection:
            return postgres.server_details(connection)

    def server_identity(self) -> postgres.ServerIdentity | None:
        """Who the shared database says this login is (name in the history, role); None for
        SQLite, where the program is told who acts."""
        if not self.is_postgresql:
            return None
        with self.reading_connection() as connection:
            return postgres.server_identity(connection)

    def _reader(self) -> Engine:
        # PostgreSQL: REPEATABLE READ, so that verify's several queries see one moment.
        options: dict[str, object] = {READ_ONLY_OPTION: True}
        if self.is_postgresql:
            options.update(postgres.reading_options())
        return self.engine.execution_options(**options)

    def dispose(self) -> None:
        self.engine.dispose()


def _unavailable(exc: DBAPIError, db: Database) -> StoreUnavailable | None:
    """The environment problem behind a driver error, said for people; None for a bug."""
    where = db.display_name
    if db.is_postgresql:
        return postgres.unavailable(exc, where)
    if not isinstance(exc, OperationalError):
        return None
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(
            f"The database {where} is busy: another program is writing to it. "
            "Try again in a moment; if it stays locked, close other copies of SKP Returns."
        )
    if "readonly" in text or "read-only" in text:
        if db.read_only_reason:
            return StoreUnavailable(
                f"The database {where} is open read-only because {db.read_only_reason}: "
                "nothing was changed. To make changes, copy it to a folder you can write to and "
                "use the copy."
            )
        if db.read_only:
            return StoreUnavailable(
                f"The database {where} is open read-only: nothing was changed. Open it again "
                "without read-only mode to make changes."
            )
        return StoreUnavailable(
            f"The database {where} cannot be written here (the file or its folder is "
            "read-only): nothing was changed. Copy it to a folder you can write to, or open it "
            "read-only to look and export."
        )
    if "disk" in text and ("full" in text or "i/o" in text):
        return StoreUnavailable(
            f"The disk holding {where} is full or failing. Free some space and try again; "
            "nothing was saved from the last action."
        )
    if "unable to open" in text:
        return StoreUnavailable(
            f"The database {where} cannot be opened: check that the folder exists and that "
            "you may write to it."
        )
    return None


def create_database_engine(url: URL, *, read_only: bool = False) -> Engine:
    """An engine with the project's connection rules (WAL, foreign keys, durable commits)."""
    if url.get_backend_name() == "postgresql":
        return postgres.create_postgres_engine(
            url,
            read_only=read_only,
            reading_option=READ_ONLY_OPTION,
            locking_option=LOCKS_ITS_RETURNS_OPTION,
        )
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    path = url.database
    if path and path != ":memory:" and not read_only:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"The folder for the database {path} cannot be made ({exc.strerror or exc}): "
                "choose a folder you can write to."
            ) from exc

    if read_only and path:
        # mode=ro: SQLite itself refuses every write, whatever the code above it does.
        uri = read_only_uri(Path(path))
        engine = create_engine(
            "sqlite+pysqlite://",
            creator=lambda: sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            ),
        )
    else:
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # We issue BEGIN ourselves (below), so the driver must not open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a value the app has acknowledged survives a power cut.
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so two writers never read the same
        # audit-chain head; readers (and a read-only file) take a plain snapshot.
        reading = read_only or connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


def open_engine(
    target: str | os.PathLike[str] | URL,
    *,
    read_only: bool = False,
    read_only_reason: str | None = None,
) -> Database:
    """Open (without migrating) the database at a path or URL.

    `read_only_reason` opens it read-only and says why (when read-only was not asked for).
    """
    url = postgres.normalise_url(target) if isinstance(target, URL) else database_url(target)
    read_only = read_only or read_only_reason is not None
    engine = create_database_engine(url, read_only=read_only)
    database = Database(engine, url, read_only, read_only_reason)
    if database.is_postgresql:
        try:
            postgres.check_connection(database.engine, database.display_name)
        except BaseException:
            database.dispose()
            raise
    return database


def lock_return(connection: Connection, service_id: int, period: str) -> None:
    """Lock one service's return for one period for a change, until the transaction ends.

    PostgreSQL: postgres.lock_return (writers of other returns go on). SQLite: nothing more,
    since BEGIN IMMEDIATE already made this the only writer of the file.
    """
    if connection.dialect.name == "postgresql":
        _must_lock_finely(connection)
        postgres.lock_return(connection, service_id, period)


def lock_definitions(connection: Connection) -> None:
    """Lock the definitions in force against every change of a return (SQLite: already held)."""
    if connection.dialect.name == "postgresql":
        _must_lock_finely(connection)
        postgres.lock_definitions(connection)


def _must_lock_finely(connection: Connection) -> None:
    # A transaction holding the chain's lock from BEGIN that then waited for a return's lock
    # would deadlock with a save holding that return and waiting for the chain: the locks are
    # taken returns first, chain last, by every writer.
    if not connection.get_execution_options().get(LOCKS_ITS_RETURNS_OPTION, False):
        raise RuntimeError(
            "a change of returns runs in db.transaction(locks_its_returns=True): it holds no "
            "chain lock from BEGIN, so that it can lock its returns first"
        )


def retried(work: Callable[P, T]) -> Callable[P, T]:
    """A use case run again when the server undid its transaction because it crossed another
    (a deadlock or a serialisation failure: ChangesCrossed), up to CROSSED_ATTEMPTS times.

    Only for use cases whose every effect is their one transaction (nothing written to a file,
    nothing remembered outside the database), which is what makes running them again safe:
    the undone attempt left nothing behind. The locks' order (store/postgres.py) makes a
    crossing rare; this makes one that happens invisible.
    """

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, CROSSED_ATTEMPTS + 1):
            try:
                return work(*args, **kwargs)
            except ChangesCrossed:
                if attempt == CROSSED_ATTEMPTS:
                    raise
                log.info("%s crossed another change on the server; run again", work.__name__)
        raise AssertionError("unreachable")

    return run


@cache
def _statement(sql: str) -> TextClause:
    # Made once per statement: text() parses its parameters each time it is made.
    return text(sql)


def connection_fetch(connection: Connection) -> Fetch:
    """store/return_reads' Fetch over a SQLAlchemy connection (inside the caller's
    transaction: a session's changes are seen once it has flushed them)."""

    def fetch(sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        return connection.execute(_statement(sql), params).all()

    return fetch


class like_ignoring_case(FunctionElement[bool]):
    """`column LIKE pattern` ignoring case, as people expect of a search: ILIKE on PostgreSQL.

    On SQLite, plain LIKE: it already ignores ASCII case, and SQLite's lower() folds ASCII only,
    so the matches are those of `lower(x) LIKE lower(p)` (what `ilike` gives) without lower()
    on every row of a search that reads millions of events (three times faster).
    """

    inherit_cache = True
    name = "like_ignoring_case"


@compiles(like_ignoring_case)
def _ilike(element: like_ignoring_case, compiler: Any, **kw: Any) -> str:
    column, pattern = list(element.clauses)
    return f"{compiler.process(column, **kw)} ILIKE {compiler.process(pattern, **kw)}"


@compiles(like_ignoring_case, "sqlite")
def _sqlite_like(element: like_ignoring_case, compiler: Any, **kw: Any) -> str:
    column, pattern = list(element.clauses)
    return f"{compiler.process(column, **kw)} LIKE {compiler.process(pattern, **kw)}"
