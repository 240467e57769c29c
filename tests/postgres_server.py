"""A throwaway PostgreSQL server for the tests, made from the installed server binaries.

`initdb` into a fresh folder under the system temporary folder, `pg_ctl start` listening only
on a Unix socket in that folder (no TCP port, so nothing else on the machine can reach it or
collide with it), trust authentication, durability switched off (the data is thrown away), and
`pg_ctl stop` plus removal of the folder at the end of the session. Logins in the group
PASSWORD_GROUP must give their password (scram-sha-256), so that a wrong one can be tested
(`password_login`).

PostgreSQL refuses to run as root: when the tests run as root, the server runs as the
`postgres` account (made by the Debian/Ubuntu `postgresql` package), else `nobody`, and the
folder is handed to that account. Tests connect as the superuser `skp_admin` over the socket.

The binaries are found in `$SKP_TEST_PG_BIN`, on PATH, or in /usr/lib/postgresql/<newest>/bin.
Without them (or without the psycopg driver) the PostgreSQL tests are skipped with the reason.
`SKP_TEST_POSTGRES=0` skips them on purpose; `SKP_TEST_POSTGRES=require` fails them instead
of skipping (for CI that installs PostgreSQL and must not silently lose these tests).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "skp_admin"
TEMPLATE = "skp_template"
PASSWORD_GROUP = "skp_password_logins"  # pg_hba.conf asks these logins for their password
PORT = 5432  # only names the socket file (.s.PGSQL.5432) in our own folder


class Unavailable(Exception):
    """PostgreSQL cannot be started here; the message says why (the tests skip with it)."""


def _version(folder: str) -> tuple[int, str]:
    name = Path(folder).parent.name
    return (int(name), name) if name.isdigit() else (0, name)


def find_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres."""
    given = os.environ.get("SKP_TEST_PG_BIN")
    candidates = [Path(given)] if given else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version)
    candidates += [Path(p) for p in reversed(versions)]
    for folder in candidates:
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise Unavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: install the "
        "'postgresql' package (apt-get install postgresql) or set SKP_TEST_PG_BIN"
    )


def _server_account() -> str | None:
    """The account to run the server as: None for ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise Unavailable("running as root and there is no 'postgres' or 'nobody' account")


@dataclass
class PostgresServer:
    """One running throwaway server and the databases made on it."""

    folder: Path
    binaries: Path
    account: str | None
    made: list[str] = field(default_factory=list)

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """A SQLAlchemy URL (psycopg 3) for a database on this server, over the socket."""
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}&port={PORT}"

    def connect(self, database: str = "postgres", user: str = SUPERUSER, autocommit: bool = True):  # type: ignore[no-untyped-def]
        """A plain psycopg connection (autocommit, for CREATE DATABASE and the like)."""
        import psycopg

        return psycopg.connect(
            host=self.socket_dir, port=PORT, dbname=database, user=user, autocommit=autocommit
        )

    def create_database(self, template: str = TEMPLATE, name: str | None = None) -> str:
        """A new database copied from a template (a file copy: a fraction of a second)."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with self.connect() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        self.made.append(name)
        return name

    def password_login(self, name: str, password: str, *groups: str) -> None:
        """A login that the server asks for its password (made once; the password is reset),
        also in `groups` (e.g. skp_coordinator, made by the migrations)."""
        from psycopg import sql

        with self.connect() as admin:
            for role, login in ((PASSWORD_GROUP, False), (name, True)):
                if not admin.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", [role]
                ).fetchone():
                    admin.execute(
                        sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN")).format(
                            sql.Identifier(role)
                        )
                    )
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )
            for group in (PASSWORD_GROUP, *groups):
                admin.execute(
                    sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(name))
                )

    def drop_database(self, name: str) -> None:
        with self.connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binaries / args[0]), *args[1:]],
            user=self.account,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )

    def start(self, *, durable: bool = False) -> None:
        """initdb and start; `durable` keeps a real server's fsync settings (for benchmarks)."""
        data = self.folder / "data"
        made = self._run(
            "initdb",
            "--pgdata",
            str(data),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if made.returncode != 0:
            raise Unavailable(f"initdb failed: {made.stderr.strip() or made.stdout.strip()}")
        # The first matching line wins: members of the group give a password, the rest trust.
        hba = data / "pg_hba.conf"
        hba.write_text(f"local all +{PASSWORD_GROUP} scram-sha-256\n" + hba.read_text())
        settings = [
            "-c listen_addresses=''",
            f"-k {self.socket_dir}",
            f"-p {PORT}",
            "-c max_connections=60",
            "-c shared_buffers=32MB",
        ]
        if not durable:
            # Throwaway data: durability costs time and buys nothing here.
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options = " ".join(settings)
        started = self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(data),
            "--wait",
            "--timeout",
            "60",
            "--log",
            str(self.folder / "server.log"),
            "-o",
            options,
        )
        if started.returncode != 0:
            log = self.folder / "server.log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unavailable(f"pg_ctl start failed: {started.stderr.strip()} {detail}")

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "--pgdata", str(self.folder / "data"), "-m", "immediate")


def switch() -> str:
    """`SKP_TEST_POSTGRES`: "off", "require", or "auto" (the default: run when possible)."""
    value = os.environ.get("SKP_TEST_POSTGRES", "auto").strip().lower()
    if value in ("0", "no", "off", "false"):
        return "off"
    return "require" if value == "require" else "auto"


@contextlib.contextmanager
def running_server(*, durable: bool = False) -> Iterator[PostgresServer]:
    """Start a server in a new temporary folder; stop it and remove the folder afterwards."""
    if switch() == "off":
        raise Unavailable("PostgreSQL tests are switched off (SKP_TEST_POSTGRES=0)")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise Unavailable(
            "the psycopg driver is not installed: pip install 'psycopg[binary]'"
        ) from exc
    server = new_server()
    try:
        server.start(durable=durable)
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


def new_server() -> PostgresServer:
    """A server not yet started, in a new temporary folder owned by the account it runs as;
    the caller removes the folder."""
    binaries = find_binaries()
    account = _server_account()
    # Not pytest's tmp_path: its parents are private to us, and the server may run as another
    # account; also a Unix socket path must stay under about 100 characters.
    folder = Path(tempfile.mkdtemp(prefix="skp-pg-"))
    if account is not None:
        info = pwd.getpwnam(account)
        os.chown(folder, info.pw_uid, info.pw_gid)
    folder.chmod(0o700)
    return PostgresServer(folder, binaries, account)
