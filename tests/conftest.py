"""Fixtures shared by every test folder: an isolated environment and ready databases."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from skp_desktop.services.database import Database, open_database

# GUI tests run on the offscreen platform even when pytest is called without `make test`.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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


@pytest.fixture
def db(database_file: Path) -> Iterator[Database]:
    """An open database with the default catalogue and no returns."""
    database = open_database(database_file)
    yield database
    database.dispose()
