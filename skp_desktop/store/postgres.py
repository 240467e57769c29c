"""PostgreSQL: connection rules, the locks writers take, and error messages.

Only the engine factory (engine.py) calls this; nothing above the store knows which engine
holds the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from skp_desktop.domain.errors import StoreUnavailable

DRIVER = "postgresql+psycopg"
# Key of the transaction-level advisory lock that serialises appends to the audit chain (any
# constant will do; this one is "SKP" in ASCII). Advisory locks are per database, so databases
# never share it. Migration 0006's trigger takes the same lock for every event inserted.
CHAIN_LOCK_KEY = 0x534B50
# Key of the lock on the definitions in force: shared by every change of a return (which reads
# the version in force), exclusive for publishing a version (which moves the drafts over).
DEFINITIONS_LOCK_KEY = 0x534B5044  # "SKPD"
# How long a writer waits for another's transaction before it is told the database is busy.
LOCK_TIMEOUT = "30s"
CONNECT_TIMEOUT_SECONDS = 10
APPLICATION_NAME = "skp-returns"


class PermissionRefused(StoreUnavailable):
    """The server refused a change to this login (its role's grants or row-level security)."""


class RuleRefused(PermissionRefused):
    """One of the shared database's own rules (migration 0006) refused the change; the message
    names the rule and says why. The data was refused, not the environment."""

    def __init__(self, rule: str, what: str) -> None:
        super().__init__(
            f"The shared database refused this (its rule \u201c{rule}\u201d): {what}. "
            "Nothing was changed."
        )
        self.rule = rule
        self.what = what


class ChangesCrossed(StoreUnavailable):
    """The server undid this transaction because it crossed another one (a deadlock or a
    serialisation failure): nothing of it was kept, and running it again is safe when it did
    nothing but change the database (store/engine.retried)."""


class LoginRefused(StoreUnavailable):
    """The server refused the login itself: a wrong or missing password, or an unknown user."""


def normalise_url(url: URL) -> URL:
    """`postgresql://` and `postgres://` mean the psycopg 3 driver the app ships with."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername=DRIVER)
    return url


def create_postgres_engine(
    url: URL, *, read_only: bool, reading_option: str, locking_option: str
) -> Engine:
    """An engine with the connection rules: a lock timeout, a connect timeout, a name.

    A write transaction takes the chain's lock at BEGIN, one writer at a time as SQLite's
    BEGIN IMMEDIATE gives, unless it is run with `locking_option` (the changes of returns,
    which people make all day long): it then locks each return it changes (lock_return), and
    the chain is locked only from its first event's INSERT to the commit (by migration 0006's
    trigger, which links the event to the chain: store/audit.py), so that writers of different
    returns run side by side and wait for each other only to append their events.
    """
    if url.drivername == DRIVER:
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise StoreUnavailable(
                "This copy of SKP Returns cannot reach PostgreSQL: the psycopg driver is not "
                "installed (pip install 'psycopg[binary]')."
            ) from exc
    connect_args: dict[str, object] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if "application_name" not in url.query:
        connect_args["application_name"] = APPLICATION_NAME
    options: dict[str, object] = {}
    if read_only:
        # The server itself refuses every write in a read-only transaction.
        options["postgresql_readonly"] = True
    engine = create_engine(
        url, pool_pre_ping=True, connect_args=connect_args, execution_options=options
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        # A session setting, made outside any transaction so it is not rolled back.
        dbapi_connection.autocommit = True  # type: ignore[attr-defined]
        try:
            with dbapi_connection.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        finally:
            dbapi_connection.autocommit = False  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # One writer at a time for the rare writes that lock nothing finer (settings, keys,
        # services): whatever they read is read after the previous writer committed. The lock
        # ends with the transaction.
        options = connection.get_execution_options()
        if read_only or options.get(reading_option, False) or options.get(locking_option, False):
            return
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})")

    return engine


def lock_return(connection: Connection, service_id: int, period: str) -> None:
    """Lock one service's return for one period (every revision, and the next one not made
    yet) until the transaction ends, with the definitions in force shared.

    What one lock at BEGIN used to give, per return: two saves of one draft read each other's
    values (no lost update), one revision n is made, the next revision number is read after the
    last one was made, and a state moves on from the state it was in (submit against accept).
    An advisory lock rather than FOR UPDATE on the row: revision 1 has no row to lock until it
    is made, and the lock needs no UPDATE grant. The two int4 keys (service id, hash of the
    period) are a space of their own, apart from the one-key locks above."""
    connection.exec_driver_sql(
        f"SELECT pg_advisory_xact_lock_shared({DEFINITIONS_LOCK_KEY}), "
        "pg_advisory_xact_lock(%(service_id)s, hashtext(%(period)s))",
        {"service_id": service_id, "period": period},
    )


def lock_definitions(connection: Connection) -> None:
    """Lock the definitions in force against every change of a return until the transaction
    ends: publishing a version then finds every draft it must move, none made meanwhile."""
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({DEFINITIONS_LOCK_KEY})")


def reading_options() -> dict[str, object]:
    """Execution options of a reader: one consistent snapshot over several queries, no writes."""
    return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


def check_connection(engine: Engine, where: str) -> None:
    """Connect once, so that a wrong address or login is said plainly before anything else."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise unavailable(exc, where) or StoreUnavailable(
            f"Cannot open the database {where}: {_first_line(exc)}"
        ) from exc


def server_details(connection: Connection) -> tuple[str, str]:
    """The server's version and the login connected, e.g. ("16.4", "hana")."""
    version, user = connection.exec_driver_sql(
        "SELECT current_setting('server_version'), current_user"
    ).one()
    return str(version).split()[0], str(user)


@dataclass(frozen=True)
class ServerIdentity:
    """Who the server says this connection is: the history's name for it, and its role."""

    login: str
    actor: str  # the name its audit events are recorded under (skp_actor(), migration 0006)
    role: str  # "owner", "coordinator", "service manager", "auditor" or "none"


def server_identity(connection: Connection) -> ServerIdentity | None:
    """The login's name and role as the server's rules (migration 0006) see them; None for a
    database made by an older version, without those rules."""
    if connection.exec_driver_sql("SELECT to_regprocedure('skp_actor()')").scalar() is None:
        return None
    login, actor, role = connection.exec_driver_sql(
        "SELECT session_user, skp_actor(), skp_login_role()"
    ).one()
    return ServerIdentity(str(login), str(actor), str(role))


_ROLE_RIGHTS = {
    "owner": "the database's owner",
    "coordinator": "a coordinator",
    "service manager": "a service manager, who writes only the returns of the services "
    "mapped to it",
    "auditor": "an auditor, who only reads",
    "none": "in no SKP Returns role",
}


def role_said(identity: ServerIdentity) -> str:
    """One sentence: the login's role there, for a refusal by the server's grants."""
    return f"{identity.login} is {_ROLE_RIGHTS.get(identity.role, identity.role)} there."


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_RULE_PREFIX = 'SKP rule "'


def _rule_refusal(detail: str) -> RuleRefused | None:
    """A refusal raised by skp_refuse() on the server: 'SKP rule "<rule>": <what>'."""
    if not detail.startswith(_RULE_PREFIX):
        return None
    rule, sep, what = detail[len(_RULE_PREFIX) :].partition('": ')
    return RuleRefused(rule, what) if sep else None


def unavailable(exc: DBAPIError, where: str) -> StoreUnavailable | None:
    """What to tell people about a server error that is about the environment, not a bug."""
    code = getattr(exc.orig, "sqlstate", None) or ""
    detail = _first_line(exc)
    lowered = detail.lower()
    if code == "25006":
        return StoreUnavailable(
            f"The database {where} is open read-only here: nothing can be changed."
        )
    if code == "42501":
        rule = _rule_refusal(detail)
        if rule is not None:
            return rule
        return PermissionRefused(
            f"Your login may not make this change in {where} ({detail}). The partnership's "
            "database administrator decides who may write what: ask them if you need to."
        )
    if code in ("40001", "40P01"):
        return ChangesCrossed(
            f"The database {where} is busy: this change crossed another person's at the same "
            "moment and was undone. Try again; nothing was saved from the last action."
        )
    if code == "55P03":
        return StoreUnavailable(
            f"The database {where} is busy: other people are saving changes. Try again in a "
            "moment; nothing was saved from the last action."
        )
    if code == "53100":
        return StoreUnavailable(
            f"The server holding {where} has run out of disk space. Tell its administrator; "
            "nothing was saved from the last action."
        )
    # A failed connection carries no SQLSTATE: the server's reason is in the message.
    if not code and "no password supplied" in lowered:
        return LoginRefused(
            f"The server asks for a password for {where}: give it (or keep it in ~/.pgpass)."
        )
    if code in ("28P01", "28000") or (
        not code
        and (
            "password authentication failed" in lowered
            or "no pg_hba.conf entry" in lowered
            or ("role" in lowered and "does not exist" in lowered)
        )
    ):
        return LoginRefused(
            f"The server refused the login for {where} ({detail}). Check the user name and "
            "password (or ~/.pgpass)."
        )
    if code == "3D000" or (not code and "database" in lowered and "does not exist" in lowered):
        return StoreUnavailable(
            f"There is no database {where} on the server ({detail}). Check its name, or ask "
            "the administrator to create it."
        )
    if (
        code.startswith("08")
        or code in ("57P01", "57P02", "57P03")
        or (
            not code
            and any(
                word in lowered for word in ("connection", "could not connect", "server closed")
            )
        )
    ):
        return StoreUnavailable(
            f"Cannot reach the database server for {where} ({detail}). Check the address, "
            "that the server is running and that this computer is on the network (or VPN)."
        )
    return None
