"""`skp-returns keys …`, `import --accept-unsigned` and `definitions-import --fingerprint`, as
a coordinator and a service manager on two computers would run them (issue 16).

The coordinator's computer signs with the run's key (enrolled in every test database); the
service manager's laptop has a key of its own (SKP_KEY_DIR in its own folder).
"""

from __future__ import annotations

import stat
from pathlib import Path

import openpyxl
import pytest

from .support import Cli, copy_database

pytestmark = pytest.mark.e2e

SERVICE, PERIOD = "COMMSAFETY", "FY2024-25-Q1"


def laptop_cli(root: Path) -> Cli:
    laptop = Cli(root / "laptop")
    laptop.env["SKP_KEY_DIR"] = str(root / "laptop" / "key")
    return laptop


def submitted_return(laptop: Cli, db: Path, out: Path) -> None:
    for args in (
        ("enter", "--service", SERVICE, "--period", PERIOD, "SAFER-P3-S1=10/100", "SAFER-P3-S2=40"),
        ("submit", "--service", SERVICE, "--period", PERIOD),
        ("export-return", "--service", SERVICE, "--period", PERIOD, "--out", str(out)),
    ):
        result = laptop.run(db, *args)
        assert result.returncode == 0, str(result)


def test_enrolment_import_revocation_as_the_partners_do_it(
    cli: Cli, blank_template: Path, tmp_path: Path
) -> None:
    laptop = laptop_cli(tmp_path)
    laptop_db = copy_database(blank_template, tmp_path / "laptop.sqlite3")
    coordinator = copy_database(blank_template, tmp_path / "coordinator.sqlite3")
    sent = tmp_path / "q1.xlsx"
    submitted_return(laptop, laptop_db, sent)

    shown = laptop.run(laptop_db, "keys", "show", "--json").json()
    assert set(shown[0]) == {"fingerprint", "public_key", "key_file", "enrolled_here"}
    fingerprint, key_file = shown[0]["fingerprint"], Path(shown[0]["key_file"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    exported = laptop.run(laptop_db, "keys", "export", "--out", str(tmp_path / "hana.skpkey"))
    assert exported.returncode == 0 and fingerprint in exported.stdout, str(exported)

    # before enrolment: refused, naming the fingerprint, and nothing stored
    refused = cli.run(coordinator, "import", str(sent))
    assert refused.returncode == 1, str(refused)
    assert f"signed by a key nobody here has enrolled: fingerprint {fingerprint}" in refused.stdout

    wrong = cli.run(
        coordinator, "keys", "trust", str(tmp_path / "hana.skpkey"), "--service", SERVICE,
        "--fingerprint", "11111 22222 33333 44444 55555 66666",
    )  # fmt: skip
    assert wrong.returncode == 1 and "is not the fingerprint of the key" in wrong.stderr
    trusted = cli.run(
        coordinator, "keys", "trust", str(tmp_path / "hana.skpkey"), "--service", SERVICE,
        "--fingerprint", fingerprint.replace("-", " "),
    )  # fmt: skip
    assert trusted.returncode == 0, str(trusted)
    listed = cli.run(coordinator, "keys", "list", "--json").json()
    assert {"fingerprint", "name", "services", "trusted_at", "revoked_at"} <= set(listed[0])
    hana = next(k for k in listed if k["fingerprint"] == fingerprint)
    assert (hana["services"], hana["revoked_at"]) == ([SERVICE], None)

    accepted = cli.run(coordinator, "import", str(sent))
    assert accepted.returncode == 0 and accepted.stdout.startswith("ACCEPTED"), str(accepted)
    assert f"signature: {sent}: signed by" in accepted.stderr
    show = cli.run(coordinator, "show", "--service", SERVICE, "--period", PERIOD, "--json").json()
    assert {row["signed_by"] for row in show} == {fingerprint}

    revoked = cli.run(coordinator, "keys", "revoke", fingerprint, "--reason", "laptop lost")
    assert revoked.returncode == 0, str(revoked)
    unknown = cli.run(coordinator, "keys", "revoke", "1234", "--reason", "typo")
    assert unknown.returncode == 2, str(unknown)
    history = cli.run(coordinator, "history", "--json").json()
    actions = [event["action"] for event in history]
    assert actions.count("key.trust") == 2 and actions.count("key.revoke") == 1
    imported = next(e for e in history if e["action"] == "return.import")
    assert fingerprint in imported["source"]
    verify = cli.run(coordinator, "verify")
    assert verify.returncode == 0, str(verify)


def test_an_unsigned_file_is_taken_only_with_a_reason(
    cli: Cli, blank_template: Path, tmp_path: Path
) -> None:
    laptop_db = copy_database(blank_template, tmp_path / "laptop.sqlite3")
    coordinator = copy_database(blank_template, tmp_path / "coordinator.sqlite3")
    sent = tmp_path / "q1.xlsx"
    submitted_return(cli, laptop_db, sent)
    book = openpyxl.load_workbook(sent)
    meta = book["_meta"]
    for row in meta.iter_rows():
        if row[0].value in ("signature", "signed_by", "public_key"):
            row[0].value = row[1].value = None
    book.save(tmp_path / "cut.xlsx")
    cut = str(tmp_path / "cut.xlsx")

    refused = cli.run(coordinator, "import", cut)
    assert refused.returncode == 1 and "not signed" in refused.stdout, str(refused)
    no_reason = cli.run(coordinator, "import", "--accept-unsigned", cut)
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr, str(no_reason)
    taken = cli.run(
        coordinator, "import", "--accept-unsigned", "--reason", "read out by phone", cut
    )
    assert taken.returncode == 0, str(taken)
    show = cli.run(coordinator, "show", "--service", SERVICE, "--period", PERIOD, "--json").json()
    assert {row["signature"] for row in show} == {"unsigned"}
    assert all("read out by phone" in row["signature_note"] for row in show)
    history = cli.run(coordinator, "history", "--json").json()
    imported = next(e for e in history if e["action"] == "return.import")
    assert "UNSIGNED" in imported["reason"] and "read out by phone" in imported["reason"]


def test_a_service_pins_the_coordinators_key_on_its_first_pack(
    cli: Cli, blank_template: Path, tmp_path: Path
) -> None:
    coordinator = copy_database(blank_template, tmp_path / "coordinator.sqlite3")
    cli.env["SKP_KEY_DIR"] = str(tmp_path / "coordinator-key")  # not the laptop database's own
    pack = tmp_path / "pack.xlsx"
    assert cli.run(coordinator, "definitions-export", "--out", str(pack)).returncode == 0
    coordinator_key = cli.run(coordinator, "keys", "show", "--json").json()[0]["fingerprint"]
    laptop = laptop_cli(tmp_path)
    laptop_db = copy_database(blank_template, tmp_path / "laptop.sqlite3")

    unpinned = laptop.run(laptop_db, "definitions-import", str(pack))
    assert unpinned.returncode == 1 and "has not pinned" in unpinned.stdout, str(unpinned)
    pinned = laptop.run(
        laptop_db, "definitions-import", "--fingerprint", coordinator_key, str(pack)
    )
    assert pinned.returncode == 0, str(pinned)
    assert f"pinned the coordinator's key {coordinator_key}" in pinned.stderr
    keys = laptop.run(laptop_db, "keys", "list", "--json").json()
    assert [k["role"] for k in keys if k["fingerprint"] == coordinator_key] == ["coordinator"]
    assert laptop.run(laptop_db, "verify").returncode == 0


def test_a_rotated_key_is_taken_without_a_new_phone_call(
    cli: Cli, blank_template: Path, tmp_path: Path
) -> None:
    laptop = laptop_cli(tmp_path)
    laptop_db = copy_database(blank_template, tmp_path / "laptop.sqlite3")
    coordinator = copy_database(blank_template, tmp_path / "coordinator.sqlite3")
    old = laptop.run(laptop_db, "keys", "show", "--json").json()[0]["fingerprint"]
    laptop.run(laptop_db, "keys", "export", "--out", str(tmp_path / "old.skpkey"))
    trusted = cli.run(
        coordinator, "keys", "trust", str(tmp_path / "old.skpkey"), "--service", SERVICE,
        "--fingerprint", old,
    )  # fmt: skip
    assert trusted.returncode == 0, str(trusted)
    rotated = laptop.run(laptop_db, "keys", "rotate")
    assert rotated.returncode == 0 and f"replaces {old}" in rotated.stdout, str(rotated)
    new = laptop.run(laptop_db, "keys", "show", "--json").json()[0]["fingerprint"]
    assert new != old
    sent = tmp_path / "q1.xlsx"
    submitted_return(laptop, laptop_db, sent)
    accepted = cli.run(coordinator, "import", str(sent))
    assert accepted.returncode == 0, str(accepted)
    listed = {k["fingerprint"]: k for k in cli.run(coordinator, "keys", "list", "--json").json()}
    assert listed[new]["services"] == [SERVICE] and listed[old]["replaced_by"] == new
    assert cli.run(coordinator, "verify").returncode == 0
