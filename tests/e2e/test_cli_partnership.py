"""`organisations`, `service add|rename|retire|form` and `context` in the real script (issue 18)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .support import Call, Cli, copy_database

pytestmark = pytest.mark.e2e


def _db(cli: Cli, blank_template: Path) -> Path:
    return copy_database(blank_template, cli.root / "coordinator.sqlite3")


def test_organisations_lists_all_five_with_or_without_services(
    cli: Cli, blank_template: Path
) -> None:
    db = _db(cli, blank_template)
    rows = cli.run(db, "organisations", "--json").json()
    assert [(r["code"], r["name"]) for r in rows] == [
        ("RBK", "Royal Borough of Kingston upon Thames Council"),
        ("MPS", "Metropolitan Police Service Kingston"),
        ("LFB", "London Fire Brigade"),
        ("PS", "Probation Service"),
        ("ICB", "South West London Integrated Care Board"),
    ]
    assert [s["code"] for s in rows[1]["services"]] == ["MPS-KINGSTON"]
    assert rows[2]["services"] == rows[3]["services"] == rows[4]["services"] == []
    assert set(rows[0]["services"][0]) == {"code", "name", "retired_from"}
    table = cli.run(db, "organisations")
    assert table.returncode == 0
    assert "London Fire Brigade" in table.stdout and "(none yet)" in table.stdout


def test_the_coordinator_adds_renames_and_retires_a_service(cli: Cli, blank_template: Path) -> None:
    db = _db(cli, blank_template)
    added = cli.run(
        db,
        "service",
        "add",
        "--code",
        "ICB-KINGSTON",
        "--name",
        "Kingston place",
        "--organisation",
        "icb",
    )
    assert added.returncode == 0, str(added)
    assert added.stdout == "Added ICB-KINGSTON: Kingston place (ICB).\n"
    renamed = cli.run(
        db, "service", "rename", "--code", "ICB-KINGSTON", "--name", "SWL ICB Kingston"
    )
    assert renamed.stdout == "Renamed ICB-KINGSTON: SWL ICB Kingston (ICB).\n"
    retired = cli.run(db, "service", "retire", "--code", "ICB-KINGSTON", "--from", "FY2026-27-Q1")
    assert retired.stdout == (
        "Retired ICB-KINGSTON: SWL ICB Kingston (ICB, retired from FY2026-27-Q1).\n"
    )
    services = cli.run(db, "services", "--json").json()
    assert {
        "code": "ICB-KINGSTON",
        "name": "SWL ICB Kingston",
        "organisation": "South West London Integrated Care Board",
    } in services
    assert all(set(s) == {"code", "name", "organisation"} for s in services)
    history = cli.run(db, "history", "--service", "ICB-KINGSTON", "--json").json()
    assert [e["action"] for e in history] == ["service.retire", "service.rename", "service.add"]
    assert {e["source"] for e in history} == {"command line"}
    assert cli.run(db, "verify").returncode == 0


def test_service_commands_refuse_with_the_usual_exit_statuses(
    cli: Cli, blank_template: Path
) -> None:
    db = _db(cli, blank_template)
    unknown_org = cli.run(
        db, "service", "add", "--code", "X-1", "--name", "X", "--organisation", "FIRE"
    )
    assert unknown_org.returncode == 2 and "Known organisations" in unknown_org.stderr
    taken = cli.run(
        db, "service", "add", "--code", "HIGHWAYS", "--name", "X", "--organisation", "RBK"
    )
    assert taken.returncode == 1 and "already a service HIGHWAYS" in taken.stderr
    unknown = cli.run(db, "service", "rename", "--code", "NOPE", "--name", "X")
    assert unknown.returncode == 2
    neither = cli.run(db, "service", "retire", "--code", "HIGHWAYS")
    assert neither.returncode == 2
    assert cli.run(db, "service").returncode == 2  # an action is required


def test_service_form_prints_sets_and_resets_a_form(cli: Cli, blank_template: Path) -> None:
    db = _db(cli, blank_template)
    shown = cli.run(db, "service", "form", "--code", "HIGHWAYS")
    assert shown.returncode == 0, str(shown)
    bundled = json.loads(shown.stdout)
    codes = [i["code"] for s in bundled["sections"] for i in s["indicators"]]
    form = cli.root / "highways.toml"
    form.write_text(
        'title = "Highways"\n[[sections]]\ntitle = "All"\nindicators = ['
        + ", ".join(f'{{ code = "{c}", help = "Help on {c}" }}' for c in reversed(codes))
        + "]\n",
        encoding="utf-8",
    )
    done = cli.run(db, "service", "form", "--code", "HIGHWAYS", "--from-file", str(form))
    assert done.returncode == 0, str(done)
    assert [i["code"] for i in json.loads(done.stdout)["sections"][0]["indicators"]] == codes[::-1]
    shown = cli.run(db, "show", "--service", "HIGHWAYS", "--period", "FY2024-25-Q4", "--json")
    assert [r["code"] for r in shown.json()] == codes[::-1]
    form.write_text('[[sections]]\ntitle = "X"\nindicators = [{ code = "SAFER-P3-B1" }]\n')
    refused = cli.run(db, "service", "form", "--code", "HIGHWAYS", "--from-file", str(form))
    assert refused.returncode == 1 and "not one of HIGHWAYS's indicators" in refused.stderr
    reset = cli.run(db, "service", "form", "--code", "HIGHWAYS", "--reset")
    assert json.loads(reset.stdout) == bundled
    missing = cli.run(db, "service", "form", "--code", "HIGHWAYS", "--from-file", "nope.toml")
    assert missing.returncode == 2
    assert cli.run(db, "verify").returncode == 0


def test_context_records_a_figure_and_catalogue_shows_the_measures(
    cli: Cli, blank_template: Path
) -> None:
    db = _db(cli, blank_template)
    done = cli.run(
        db,
        "context",
        "--code",
        "CTX-ASB",
        "--period",
        "FY2025-26-Q4",
        "19.1",
        "--source",
        "MPS crime data",
    )
    assert done.returncode == 0, str(done)
    assert done.stdout == "CTX-ASB: FY2025-26-Q4 = 19.1\n"
    event = cli.run(db, "history", "--indicator", "CTX-ASB", "--json").json()[0]
    assert event["action"] == "context.set"
    assert json.loads(event["new"]) == {"source": "MPS crime data", "value": "19.1"}
    assert event["source"] == "command line"
    rows = {r["code"]: r for r in cli.run(db, "catalogue", "--json").json()}
    assert rows["CTX-ASB"]["kind"] == "context" and rows["SAFER-P3-B1"]["kind"] == "indicator"
    assert (
        cli.run(db, "context", "--code", "SAFER-P3-B1", "--period", "FY2025-26-Q4", "1").returncode
        == 2
    )
    assert cli.run(db, "context", "--code", "CTX-ASB", "--period", "FY2025-26-Q4").returncode == 2
    assert (
        cli.run(db, "context", "--code", "CTX-ASB", "--period", "FY2025-26-Q4", "x").returncode == 1
    )
    cleared = cli.run(db, "context", "--code", "CTX-ASB", "--period", "FY2025-26-Q4", "--clear")
    assert cleared.stdout == "CTX-ASB: no figure for FY2025-26-Q4 now.\n"
    assert cli.run(db, "verify").returncode == 0


def test_strategic_assessment_writes_a_pdf_or_a_workbook(
    cli: Cli, demo_template: Any, tmp_path: Path
) -> None:
    db = copy_database(demo_template.path, tmp_path / "demo.sqlite3")
    pdf, xlsx, quarter, png = cli.run_many(
        [
            Call(
                db,
                ("strategic-assessment", "--year", "FY2025-26", "--out", str(tmp_path / "a.pdf")),
            ),
            Call(
                copy_database(db, tmp_path / "b.sqlite3"),
                ("strategic-assessment", "--year", "fy2025-26", "--out", str(tmp_path / "a.xlsx")),
            ),
            Call(
                copy_database(db, tmp_path / "c.sqlite3"),
                (
                    "strategic-assessment",
                    "--year",
                    "FY2025-26-Q4",
                    "--out",
                    str(tmp_path / "q.pdf"),
                ),
            ),
            Call(
                copy_database(db, tmp_path / "d.sqlite3"),
                ("strategic-assessment", "--year", "FY2025-26", "--out", str(tmp_path / "a.png")),
            ),
        ]
    )
    assert pdf.returncode == 0, str(pdf)
    assert re.fullmatch(
        rf"Wrote {re.escape(str(tmp_path / 'a.pdf'))}: strategic assessment for 2025/26, 28 "
        r"indicators and context measures in 9 sections on \d+ pages\n",
        pdf.stdout,
    ), pdf.stdout
    assert (tmp_path / "a.pdf").read_bytes()[:5] == b"%PDF-"
    assert xlsx.returncode == 0, str(xlsx)
    assert (tmp_path / "a.xlsx").is_file()
    assert quarter.returncode == 2 and "financial year" in quarter.stderr
    assert png.returncode == 2 and not (tmp_path / "a.png").exists()


def test_a_new_service_reaches_its_laptop_in_the_pack_and_its_return_comes_back_merged(
    cli: Cli, blank_template: Path, tmp_path: Path
) -> None:
    """Two computers, two keys, nothing but the real script and the files between them."""
    import openpyxl

    from .test_cli_keys import laptop_cli

    fire, visits, period = "LFB-KINGSTON", "SKP-D1-LFB1", "FY2025-26-Q1"
    coordinator = copy_database(blank_template, tmp_path / "coordinator.sqlite3")
    (tmp_path / "new.toml").write_text(
        "[[new]]\n"
        f'code = "{visits}"\ntheme = "SKP-D1"\nservice = "{fire}"\n'
        'title = "Home fire safety visits made"\nunit = "count"\n'
        'polarity = "higher is better"\nfrequency = "quarterly"\n',
        encoding="utf-8",
    )
    (tmp_path / "form.toml").write_text(
        'title = "LFB Kingston return"\n[[sections]]\ntitle = "Prevention"\n'
        f'indicators = [{{ code = "{visits}", help = "Visits completed this quarter." }}]\n',
        encoding="utf-8",
    )
    pack = tmp_path / "pack.xlsx"
    for args in (
        ("service", "add", "--code", fire, "--name", "Kingston fire station",
         "--organisation", "LFB"),
        ("publish", "--from-file", str(tmp_path / "new.toml"), "--applies-from", period,
         "--note", "The fire brigade joins the returns"),
        ("service", "form", "--code", fire, "--from-file", str(tmp_path / "form.toml")),
        ("definitions-export", "--out", str(pack)),
    ):  # fmt: skip
        done = cli.run(coordinator, *args)
        assert done.returncode == 0, str(done)
    coordinator_key = cli.run(coordinator, "keys", "show", "--json").json()[0]["fingerprint"]

    # the fire station's laptop: a fresh database and a key of its own
    station = laptop_cli(tmp_path)
    laptop = copy_database(blank_template, tmp_path / "station.sqlite3")
    imported = station.run(
        laptop, "definitions-import", "--fingerprint", coordinator_key, str(pack)
    )
    assert imported.returncode == 0 and imported.stdout.startswith("IMPORTED"), str(imported)
    lfb = next(
        o for o in station.run(laptop, "organisations", "--json").json() if o["code"] == "LFB"
    )
    assert [s["code"] for s in lfb["services"]] == [fire]
    sent = tmp_path / "lfb.xlsx"
    for args in (
        ("enter", "--service", fire, "--period", period, f"{visits}=42"),
        ("submit", "--service", fire, "--period", period),
        ("export-return", "--service", fire, "--period", period, "--out", str(sent)),
        ("keys", "export", "--out", str(tmp_path / "station.skpkey")),
    ):
        done = station.run(laptop, *args)
        assert done.returncode == 0, str(done)
    form = json.loads(station.run(laptop, "service", "form", "--code", fire).stdout)
    assert form["title"] == "LFB Kingston return"  # the coordinator's form came in the pack
    assert form["sections"] == [
        {"title": "Prevention", "indicators": [
            {"code": visits, "help": "Visits completed this quarter."}]}
    ]  # fmt: skip
    shown = station.run(laptop, "show", "--service", fire, "--period", period, "--json").json()
    assert [(r["code"], r["value"], r["status"]) for r in shown] == [(visits, 42, "submitted")]
    station_key = station.run(laptop, "keys", "show", "--json").json()[0]["fingerprint"]
    assert station.run(laptop, "verify").returncode == 0

    # back at the coordinator's: trust the station for its service, import, accept, merge
    merged = tmp_path / "merged.xlsx"
    for args in (
        ("keys", "trust", str(tmp_path / "station.skpkey"), "--service", fire,
         "--fingerprint", station_key),
        ("import", str(sent)),
        ("accept", "--service", fire, "--period", period),
        ("merge-export", "--out", str(merged), "--from", period, "--to", period),
        ("verify",),
    ):  # fmt: skip
        done = cli.run(coordinator, *args)
        assert done.returncode == 0, str(done)
        if args[0] == "import":
            assert done.stdout.startswith("ACCEPTED"), str(done)
    data = openpyxl.load_workbook(merged)["Data"]
    rows = [list(row) for row in data.iter_rows(values_only=True)]
    assert any(fire in row and visits in row and 42 in row for row in rows), rows
