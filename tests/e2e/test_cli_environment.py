"""`--db` that cannot be used is an environment problem: exit 3 and a message saying what to do."""

from __future__ import annotations

import os

import pytest

from .support import Call, Cli

pytestmark = pytest.mark.e2e


def test_db_that_is_not_a_database_or_is_a_folder(cli: Cli) -> None:
    junk = cli.root / "junk.sqlite3"
    junk_bytes = os.urandom(4096)
    junk.write_bytes(junk_bytes)
    text = cli.root / "notes.sqlite3"
    text.write_text("hello, this is not a database at all\n")
    folder = cli.root / "a-folder"
    folder.mkdir()

    junk_result, text_result, folder_result = cli.run_many(
        [
            Call(junk, ("services", "--json")),
            Call(text, ("catalogue",)),
            Call(folder, ("services",)),
        ]
    )

    for result, path in ((junk_result, junk), (text_result, text)):
        assert result.returncode == 3, str(result)
        assert result.stdout == ""
        assert result.stderr.startswith(f"skp-returns: {path} is not an SKP Returns database")
        assert "Restore a backup, or choose another file." in result.stderr
        assert "Traceback" not in result.stderr
    # the file was left as it was: not initialised over, not truncated
    assert junk.read_bytes() == junk_bytes
    assert text.read_text() == "hello, this is not a database at all\n"

    assert folder_result.returncode == 3, str(folder_result)
    assert folder_result.stdout == ""
    assert folder_result.stderr == f"skp-returns: {folder} is a folder, not a database file.\n"
    assert list(folder.iterdir()) == []

    # --db was honoured: nothing appeared in the (temporary) user data folder
    assert not list(cli.home.rglob("*.sqlite3"))


def test_db_in_a_folder_that_does_not_exist_is_a_usage_error_and_makes_no_folders(
    cli: Cli,
) -> None:
    missing = cli.root / "mistyped" / "deeper" / "skp.sqlite3"
    result = cli.run(missing, "services")
    assert result.returncode == 2, str(result)
    assert result.stdout == ""
    assert f"There is no folder {missing.parent}" in result.stderr
    assert not (cli.root / "mistyped").exists()
