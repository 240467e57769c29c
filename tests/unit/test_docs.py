"""The project's own docs stand alone: docs/contracts.md promises every command and option the
command line has, and no file of the repository points a reader at documents a clone lacks."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import pytest

from skp_desktop.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONTRACTS = DOCS / "contracts.md"
# Where the design documents lived before docs/ (beside the clone, not in it). The seed
# documents the catalogue was traced to are bundled (resources/sources/), checked by digest.
OUTSIDE = re.compile(r"\.\./shared/[\w./-]*\.md|shared/(ARCHITECTURE|CONTRACTS|CONVENTIONS|UI)\.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _commands() -> list[tuple[str, list[str]]]:
    """Each command of `skp-returns` (`keys trust` for a group's), with its options."""
    found: list[tuple[str, list[str]]] = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                continue
            for name, sub in action.choices.items():
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    walk(sub, f"{prefix}{name} ")
                    continue
                options = [
                    flag
                    for a in sub._actions
                    for flag in a.option_strings
                    if flag not in ("-h", "--help")
                ]
                found.append((f"{prefix}{name}", options))

    walk(build_parser(), "")
    return found


COMMANDS = _commands()


def test_the_command_line_has_its_groups_commands() -> None:
    names = [name for name, _options in COMMANDS]
    assert {"init", "import", "keys trust", "service add"} <= set(names)


@pytest.mark.parametrize(("name", "options"), COMMANDS, ids=[name for name, _o in COMMANDS])
def test_every_command_and_option_is_in_the_contract(name: str, options: list[str]) -> None:
    text = CONTRACTS.read_text(encoding="utf-8")
    # Its synopsis: the command in backticks, as the table and the examples write it.
    assert re.search(rf"`(skp-returns )?{re.escape(name)}[ `]", text), f"{name} is not promised"
    # Each option on a line that names the command (its synopsis, example or paragraph).
    lines = [line for line in text.splitlines() if name in line]
    missing = [option for option in options if not any(option in line for line in lines)]
    assert missing == [], f"{name}: {missing} not in docs/contracts.md"


def _repository_files() -> list[Path]:
    """The repository's text files, without walking the virtual environment or caches."""
    skip = {".git", ".venv", "build", "dist", "cache", "__pycache__"}
    found = []
    for folder, folders, files in os.walk(ROOT):
        folders[:] = [
            name
            for name in folders
            if name not in skip and not name.endswith(("_cache", ".egg-info"))
        ]
        found += [
            Path(folder, name)
            for name in files
            if Path(name).suffix in {".py", ".md", ".toml", ".spec", ".cfg", ".ini", ""}
        ]
    return [path for path in found if path != Path(__file__).resolve()]


def test_nothing_points_at_documents_outside_the_repository() -> None:
    pointing = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _repository_files()
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        )
        if OUTSIDE.search(line)
    ]
    assert pointing == []


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchor for each heading: lower case, punctuation dropped, spaces as hyphens."""
    anchors = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", ["README.md", *(f"docs/{p.name}" for p in DOCS.glob("*.md"))])
def test_links_between_the_docs_lead_somewhere(page: str) -> None:
    source = ROOT / page
    broken = []
    for target in LINK.findall(source.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (source.parent / file).resolve() if file else source
        if not linked.exists() or (
            anchor
            and linked.suffix == ".md"
            and anchor not in _anchors(linked.read_text(encoding="utf-8"))
        ):
            broken.append(target)
    assert broken == []


def test_the_anchor_rule_reads_headings_as_github_does() -> None:
    assert _anchors("## Sync **[added]**\n### Partnership workbook (`merge-export`)") == {
        "sync-added",
        "partnership-workbook-merge-export",
    }


def test_the_architecture_lists_every_migration() -> None:
    versions = ROOT / "skp_desktop" / "store" / "migrations" / "versions"
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    files = sorted(path.name for path in versions.glob("0*.py"))
    assert files and [name for name in files if f"`{name}`" not in text] == []


def test_the_architecture_states_every_import_contract() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    # each by the start of its name, as the table's first column gives it
    assert names and [n for n in names if f"| {n.split(' (')[0]}" not in text] == []


def test_the_architecture_says_what_each_module_is_for() -> None:
    # A module a newcomer cannot find in "What lives where" is one they must read to place.
    package = ROOT / "skp_desktop"
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    unnamed = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py")
        and "migrations" not in path.parts
        and f"`{path.name}`" not in text
        and f"`{path.relative_to(package).as_posix()}`" not in text
        and f"`{path.parent.name}/{path.name}`" not in text
    ]
    assert unnamed == []
