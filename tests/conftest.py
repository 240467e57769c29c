"""Fixtures shared by every test folder: an isolated environment and ready databases.

`db` is a SQLite database unless the test is marked `both_engines`: then it runs twice, on
SQLite and on a PostgreSQL database copied from a template on a throwaway server that the
session starts from the installed binaries (tests/postgres_server.py). Without the binaries or
the psycopg driver the PostgreSQL runs are skipped, saying why; `-m "not postgresql"` leaves
them out.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import TEMPLATE, PostgresServer, Unavailable, running_server
from postgres_server import switch as postgres_switch

from skp_desktop.services.database import Database, open_database

# GUI tests run on the offscreen platform even when pytest is called without `make test`.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_engines: the `db` fixture runs the test on SQLite and on PostgreSQL"
    )
    config.addinivalue_line("markers", "postgresql: needs the throwaway PostgreSQL server")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_engines"):
        metafunc.parametrize(
            "engine",
            ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
            indirect=True,
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    """A run of the unit tests only collects garbage less often.

    By then the program, SQLAlchemy, openpyxl and matplotlib are loaded: over 200,000 objects
    that live to the end, which every full collection walked again (35 times, a tenth of the
    unit run's CPU). Frozen, they are never walked; fewer, larger young collections do the
    rest. Not for the GUI tests, where when a cycle holding a widget is freed is up to the
    collector and is left as it is.
    """
    unit = Path(__file__).parent / "unit"
    if session.items and all(unit in item.path.parents for item in session.items):
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)


@pytest.fixture(scope="session", autouse=True)
def _installation_key_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One signing key for the whole run, outside the real user data folder (SKP_KEY_DIR).

    Every test database is made with it enrolled as this installation's own key (as a fresh
    database is), so files a test exports import into any other test database; a test that
    plays another laptop points SKP_KEY_DIR elsewhere (tests/unit/signing_support.py).
    """
    folder = tmp_path_factory.mktemp("installation-key")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKP_KEY_DIR", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real user data, log or settings folders."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("SKP_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("SKP_ACTOR", "tester")
    monkeypatch.delenv("SKP_DB", raising=False)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated and loaded with the default catalogue once per test run."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = open_database(path)
    db.dispose()
    return path


@pytest.fixture
def database_file(template_database: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template database for one test."""
    target = tmp_path / "skp.sqlite3"
    shutil.copyfile(template_database, target)
    return target


@pytest.fixture(scope="session")
def _postgres() -> Iterator[PostgresServer | str]:
    """The session's server, started on first use; or why there is none."""
    try:
        with running_server() as server:
            yield server
    except Unavailable as exc:
        yield str(exc)


@pytest.fixture(scope="session")
def postgres_server(_postgres: PostgresServer | str) -> PostgresServer:
    """A throwaway PostgreSQL server; the test is skipped (with the reason) if there is none."""
    if isinstance(_postgres, str):
        if postgres_switch() == "require":
            pytest.fail(f"no PostgreSQL server, and SKP_TEST_POSTGRES=require: {_postgres}")
        pytest.skip(f"no PostgreSQL server: {_postgres}")
    return _postgres


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The template database: migrated and loaded with the default catalogue, once."""
    with postgres_server.connect() as admin:
        admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
    open_database(postgres_server.url(TEMPLATE)).dispose()  # no connection may stay open
    return TEMPLATE


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """The URL of a fresh PostgreSQL copy of the template database for one test."""
    name = postgres_server.create_database(postgres_template)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine `db` runs on: "sqlite" unless the test is marked `both_engines`."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_target(engine: str, request: pytest.FixtureRequest) -> str:
    """What `--db` would be given for a fresh database: a SQLite path or a PostgreSQL URL."""
    if engine == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("database_file"))


@pytest.fixture
def db(db_target: str) -> Iterator[Database]:
    """An open database with the default catalogue and no returns."""
    database = open_database(db_target)
    yield database
    database.dispose()
