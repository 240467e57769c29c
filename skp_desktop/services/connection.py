"""Connecting to the partnership's shared database: its URL from a form, and a first test.

The password lives only in the URL object handed to open_database; what is remembered (recent
databases, the window's status line) is the URL without it, and it is asked again when the
server wants it.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import TypeGuard

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from skp_desktop.domain.errors import ValidationError
from skp_desktop.store import migrate
from skp_desktop.store.engine import LoginRefused, PermissionRefused, open_engine
from skp_desktop.store.postgres import DRIVER

__all__ = [
    "DEFAULT_PORT",
    "ROLE_WORDS",
    "SSL_MODES",
    "ConnectionCheck",
    "LoginRefused",
    "ServerAddress",
    "address_of",
    "check_connection",
    "is_server",
    "remembered",
    "server_url",
]

DEFAULT_PORT = 5432
# libpq's sslmode values, with what each means for people (the first is libpq's default).
SSL_MODES = {
    "prefer": "Encrypt if the server offers it (prefer)",
    "require": "Always encrypt (require)",
    "verify-full": "Encrypt and check the server's certificate and name (verify-full)",
    "verify-ca": "Encrypt and check the server's certificate (verify-ca)",
    "disable": "Never encrypt (disable)",
}


@dataclass(frozen=True)
class ServerAddress:
    """Where the shared database is and who connects: everything but the password."""

    host: str = ""
    port: int = DEFAULT_PORT
    database: str = "skp"
    user: str = ""
    ssl_mode: str = "prefer"


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def default_address() -> ServerAddress:
    """The form's starting values: the usual port and database name, and the login name."""
    return ServerAddress(user=_login_name())


def server_url(address: ServerAddress, password: str = "") -> URL:
    """The SQLAlchemy URL (psycopg 3) for a server; URL.create quotes special characters.

    A host that is a folder (starting with /) is a Unix socket's folder: libpq takes it, and
    the port that names the socket file, in the query.
    """
    database = address.database.strip()
    user = address.user.strip()
    if not database:
        raise ValidationError("Give the name of the database on the server.", field="database")
    if not user:
        raise ValidationError("Give your user name on the server.", field="user")
    if not 0 < address.port < 65536:
        raise ValidationError("The port is a number from 1 to 65535.", field="port")
    if address.ssl_mode not in SSL_MODES:
        raise ValidationError(f"Unknown SSL mode '{address.ssl_mode}'.", field="ssl_mode")
    host = address.host.strip()
    query: dict[str, str] = {}
    if host.startswith("/"):
        query.update(host=host, port=str(address.port))
        host, port = "", None
    else:
        port = address.port
    if address.ssl_mode != "prefer":
        query["sslmode"] = address.ssl_mode
    return URL.create(
        DRIVER,
        username=user,
        password=password or None,
        host=host or None,
        port=port,
        database=database,
        query=query,
    )


def is_server(target: object) -> TypeGuard[str | URL]:
    """Whether a database target (a path, a URL text or a URL) names a server, not a file."""
    if isinstance(target, URL):
        return target.get_backend_name() != "sqlite"
    return isinstance(target, str) and "://" in target and not target.startswith("sqlite")


def address_of(target: str | URL) -> ServerAddress:
    """The form's fields for a server URL (e.g. a recent database); the password is dropped."""
    try:
        url = target if isinstance(target, URL) else make_url(target)
    except ArgumentError as exc:
        raise ValidationError(f"'{target}' is not a database address.") from exc
    host = url.host or str(url.query.get("host") or "")
    port = url.port or int(str(url.query.get("port") or DEFAULT_PORT))
    return ServerAddress(
        host=host,
        port=port,
        database=url.database or "",
        user=url.username or "",
        ssl_mode=str(url.query.get("sslmode") or "prefer"),
    )


def remembered(url: URL) -> str:
    """The URL as it may be kept in settings and shown: never with the password."""
    return url._replace(password=None).render_as_string(hide_password=False)


# The login's role as the shared database's rules (migration 0006) name it, said for people.
ROLE_WORDS = {
    "owner": "the database's owner (sets it up; may do what a coordinator may)",
    "coordinator": "coordinator (accepts and returns returns, publishes definitions, sets due "
    "dates and comparators)",
    "service manager": "service manager (enters, submits and reopens your services' returns, "
    "answers queries)",
    "auditor": "auditor (reads and verifies; changes nothing)",
    "none": "none in SKP Returns (ask the administrator for one)",
}


@dataclass(frozen=True)
class ConnectionCheck:
    """What a test connection found."""

    database: str  # as shown to people, without the password
    server_version: str
    user: str
    schema: str  # "ready", "empty", "older", or "no access" (a login in no SKP Returns role)
    # What the server's rules (migration 0006) say of this login, when the database has them:
    role: str = ""  # "owner", "coordinator", "service manager", "auditor" or "none"
    actor: str = ""  # the name the history records for what this login does

    @property
    def usable(self) -> bool:
        """Whether Connect can go on (an empty or older database needs its owner's login)."""
        return self.schema != "no access"

    @property
    def message(self) -> str:
        """One sentence or two for the connection dialog."""
        said = {
            "ready": "It holds SKP Returns: Connect opens it.",
            "empty": "It is empty: connecting as its owner sets SKP Returns up in it.",
            "older": "It was made by an older SKP Returns: its owner must connect once to "
            "upgrade it.",
            "no access": "This login has no part in SKP Returns there yet: ask the database's "
            "administrator to give it a role (service manager, coordinator or auditor).",
        }[self.schema]
        text = (
            f"Connected to {self.database} as {self.user} (PostgreSQL {self.server_version}). "
            f"{said}"
        )
        if self.role:
            text += f" {self.role_sentence}"
        return text

    @property
    def role_sentence(self) -> str:
        """What this login may do there, and the name the history gives it."""
        what = ROLE_WORDS.get(self.role, self.role)
        return (
            f"Your role there: {what}. The server records what you do as {self.actor}, "
            "whatever name this computer gives."
        )


def check_connection(url: URL) -> ConnectionCheck:
    """Connect once and look, changing nothing; StoreUnavailable says plainly what failed
    (LoginRefused for a wrong or missing password)."""
    db = open_engine(url)  # a server is connected to here: its refusal is said for people
    try:
        version, user = db.server_login() or ("", "")
        try:
            current = migrate.current_revision(db)
        except PermissionRefused:  # reading the schema's version is every role's right
            return ConnectionCheck(db.display_name, version, user, "no access")
        if current is None:
            schema = "empty"
        elif migrate.needs_upgrade(db):
            schema = "older"
        else:
            schema = "ready"
        identity = db.server_identity() if schema == "ready" else None
        if identity is None:
            return ConnectionCheck(db.display_name, version, user, schema)
        return ConnectionCheck(
            db.display_name, version, user, schema, identity.role, identity.actor
        )
    finally:
        db.dispose()
