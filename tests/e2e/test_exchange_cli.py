"""`export-return`, `template` and `import` through the real console script, and LibreOffice.

The LibreOffice test opens and saves a return file with a real `soffice --headless
--convert-to xlsx` and imports the result: it must still be the same return. It installs
LibreOffice Calc (Debian package `libreoffice-calc-nogui`) when it is missing and it can.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from .support import Call, Cli, Result, copy_database

pytestmark = pytest.mark.e2e

PERIOD = "FY2026-27-Q1"
RETURN = ("--service", "COMMSAFETY", "--period", PERIOD)
LONG = ("Training reached schools, the police and housing officers. " * 90)[:5000]
LIBREOFFICE_PACKAGE = "libreoffice-calc-nogui"
IMPORT_KEYS = {"status", "file", "service", "period", "revision", "reason", "changes"}


@dataclass(frozen=True)
class Exported:
    cli: Cli
    source: Path  # the database the return was made in
    blank: Path  # a catalogue-only database, to copy for each import
    file: Path
    template: Path
    runs: dict[str, Result]


@pytest.fixture(scope="module")
def exported(module_cli: Cli, blank_template: Path) -> Exported:
    """A Community Safety return entered, submitted and exported, and a blank template."""
    root = module_cli.root
    source = copy_database(blank_template, root / "source.sqlite3")
    runs = {
        "enter": module_cli.run(
            source,
            "enter",
            *RETURN,
            "--comment",
            "SAFER-P3-S1==1+1",
            "--comment",
            f"SAFER-P3-S2={LONG}",
            "SAFER-P3-S1=12/80",
            "SAFER-P3-S2=40",
        )
    }
    runs["draft"] = module_cli.run(source, "export-return", *RETURN, "--out", str(root / "d.xlsx"))
    runs["submit"] = module_cli.run(source, "submit", *RETURN)
    file, blank_file = root / "out" / "community safety.xlsx", root / "out" / "blank.xlsx"
    file.parent.mkdir()
    runs["export"], runs["template"] = module_cli.run_many(
        [
            Call(source, ("export-return", *RETURN, "--out", str(file))),
            Call(source, ("template", *RETURN, "--out", str(blank_file))),
        ]
    )
    for name in ("enter", "submit", "export", "template"):
        assert runs[name].returncode == 0, str(runs[name])
    return Exported(module_cli, source, blank_template, file, blank_file, runs)


def fresh(exported: Exported, name: str) -> Path:
    return copy_database(exported.blank, exported.cli.root / "dbs" / f"{name}.sqlite3")


def test_export_and_template_say_what_they_wrote(exported: Exported) -> None:
    assert exported.runs["export"].stdout.startswith(f"Wrote {exported.file}: COMMSAFETY {PERIOD}")
    assert "revision 1" in exported.runs["export"].stdout
    assert exported.runs["template"].stdout.startswith(f"Wrote {exported.template}: blank")
    book = openpyxl.load_workbook(exported.file)
    assert book.sheetnames == ["Return", "Instructions", "Definitions", "_meta"]


def test_a_draft_is_not_exported(exported: Exported) -> None:
    draft = exported.runs["draft"]
    assert draft.returncode == 1, str(draft)
    assert "only a submitted return can be exported" in draft.stderr
    assert draft.stdout == ""
    assert not (exported.cli.root / "d.xlsx").exists()


def test_import_prints_one_line_per_file_and_a_copy_is_a_duplicate(exported: Exported) -> None:
    db = fresh(exported, "lines")
    first = exported.cli.run(db, "import", str(exported.file))
    assert first.returncode == 0, str(first)
    assert first.stdout == f"ACCEPTED\t{exported.file}\tCOMMSAFETY {PERIOD} 1\n"
    again = exported.cli.run(db, "import", str(exported.file.parent))
    assert again.returncode == 1, str(again)  # the folder holds the blank template too
    lines = sorted(again.stdout.splitlines())
    assert lines[0] == f"DUPLICATE\t{exported.file}\tCOMMSAFETY {PERIOD} 1"
    status, name, reason = lines[1].split("\t")
    assert (status, name) == ("REJECTED", str(exported.template))
    assert "sheet Return, cell D12: nothing entered" in reason
    show = exported.cli.run(db, "show", *RETURN, "--json").json()
    assert {row["code"]: row["commentary"] for row in show} == {
        "SAFER-P3-S1": "=1+1",
        "SAFER-P3-S2": LONG,
    }
    assert exported.cli.run(db, "verify").returncode == 0


def test_a_dry_run_in_json_writes_nothing(exported: Exported) -> None:
    db = fresh(exported, "dry")
    before = db.read_bytes()
    run = exported.cli.run(
        db, "import", "--dry-run", "--json", str(exported.file), str(exported.file)
    )
    assert run.returncode == 0, str(run)
    outcomes = json.loads(run.stdout)
    assert [o["status"] for o in outcomes] == ["ACCEPTED", "DUPLICATE"]
    assert set(outcomes[0]) >= IMPORT_KEYS
    assert {c["code"] for c in outcomes[0]["changes"]} == {"SAFER-P3-S1", "SAFER-P3-S2"}
    assert "Dry run: nothing was written." in run.stderr
    assert db.read_bytes() == before
    assert exported.cli.run(db, "show", *RETURN, "--json").json()[0]["revision"] is None


def test_an_edited_file_is_refused_or_taken_as_a_new_revision(exported: Exported) -> None:
    db = fresh(exported, "edited")
    edited = exported.cli.root / "edited.xlsx"
    book = openpyxl.load_workbook(exported.file)
    book["Return"]["F13"].value = 41
    book.save(edited)
    refused = exported.cli.run(db, "import", str(edited))
    assert refused.returncode == 1
    assert refused.stdout.startswith(f"REJECTED\t{edited}\tsheet Return, cell F13: shows 41")
    taken = exported.cli.run(db, "import", "--accept-modified", str(edited))
    assert taken.stdout == f"ACCEPTED\t{edited}\tCOMMSAFETY {PERIOD} 2\n", str(taken)
    history = exported.cli.run(db, "history", "--indicator", "SAFER-P3-S2", "--json").json()
    assert "accepted as modified" in history[0]["reason"]


def test_usage_errors(exported: Exported) -> None:
    db = fresh(exported, "usage")
    missing = exported.cli.run(db, "import", str(exported.cli.root / "nowhere.xlsx"))
    assert missing.returncode == 2 and "No such file or folder" in missing.stderr
    no_folder = exported.cli.run(
        exported.source, "export-return", *RETURN, "--out", "/nonexistent/folder/x.xlsx"
    )
    assert no_folder.returncode == 2 and "does not exist" in no_folder.stderr


# --- LibreOffice ---------------------------------------------------------------------------


def soffice() -> str:
    """The soffice program, installing LibreOffice Calc first when it is missing and we can."""
    found = shutil.which("soffice")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([apt, "update"], env=environment, capture_output=True, check=False)
        subprocess.run(
            [apt, "install", "-y", LIBREOFFICE_PACKAGE],
            env=environment,
            capture_output=True,
            check=False,
        )
        found = shutil.which("soffice")
        if found:
            return found
    pytest.skip(
        f"LibreOffice (soffice) is not installed and cannot be installed here (needs root and "
        f"apt-get): install it with `apt-get install {LIBREOFFICE_PACKAGE}`"
    )


def resave_with_libreoffice(files: list[Path], out: Path) -> list[Path]:
    """Open and save each file in LibreOffice Calc, as a person doing nothing else would."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out.parent / "libreoffice-profile"
    done = subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ, HOME=str(out.parent)),
    )
    results = [out / f.name for f in files]
    assert all(r.exists() for r in results), done.stdout + done.stderr
    for original, result in zip(files, results, strict=True):
        assert result.read_bytes() != original.read_bytes()  # LibreOffice rewrote every part
    return results


def test_a_file_saved_again_by_libreoffice_is_the_same_return(exported: Exported) -> None:
    root = exported.cli.root / "libreoffice"
    root.mkdir()
    filled = root / "in" / "filled.xlsx"
    filled.parent.mkdir()
    book = openpyxl.load_workbook(exported.template)
    sheet = book["Return"]
    sheet["D12"], sheet["E12"], sheet["F13"], sheet["J13"] = 9, 60, 17, "=2+2 is text"
    sheet["J13"].data_type = "s"  # typed after a quote in Excel: text, not a formula
    book.save(filled)
    resaved, resaved_filled = resave_with_libreoffice([exported.file, filled], root / "out")

    first_original = fresh(exported, "lo-original-first")
    run = exported.cli.run(first_original, "import", str(exported.file), str(resaved))
    assert run.stdout.splitlines() == [
        f"ACCEPTED\t{exported.file}\tCOMMSAFETY {PERIOD} 1",
        f"DUPLICATE\t{resaved}\tCOMMSAFETY {PERIOD} 1",
    ], str(run)

    first_resaved = fresh(exported, "lo-resaved-first")
    run = exported.cli.run(first_resaved, "import", str(resaved), str(exported.file))
    assert run.stdout.splitlines() == [
        f"ACCEPTED\t{resaved}\tCOMMSAFETY {PERIOD} 1",
        f"DUPLICATE\t{exported.file}\tCOMMSAFETY {PERIOD} 1",
    ], str(run)
    show = exported.cli.run(first_resaved, "show", *RETURN, "--json").json()
    assert [row["commentary"] for row in show] == ["=1+1", LONG]
    # the signature covers cell values, not the zip: LibreOffice's re-save keeps it valid
    signer = exported.cli.run(first_resaved, "keys", "show", "--json").json()[0]["fingerprint"]
    assert {(row["signature"], row["signed_by"]) for row in show} == {("signed", signer)}

    template_db = fresh(exported, "lo-template")
    run = exported.cli.run(template_db, "import", str(resaved_filled))
    assert run.stdout == f"ACCEPTED\t{resaved_filled}\tCOMMSAFETY {PERIOD} 1\n", str(run)
    show = exported.cli.run(template_db, "show", *RETURN, "--json").json()
    assert [(row["value"], row["commentary"]) for row in show] == [(15, None), (17, "=2+2 is text")]
