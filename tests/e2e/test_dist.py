"""The frozen app: dist/skp-returns/ built with PyInstaller from build_installer.spec.

The bundle is built once for this module (about 1.5 minutes on two cores), or reused when it
is newer than every source file that goes into it. Then both programs test themselves, a Qt
failure leaves its reason and a crash trace in the log folder, the xcb platform loads under a
virtual X server when there is one, nothing in the folder needs a library the system lacks,
nothing that should stay out is in, and the folder keeps to its size budget.

`SKP_SKIP_DIST=1` skips the module (`make test` while iterating); so does a missing PyInstaller
(`pip install -e '.[dist]'`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import Cli, Result

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build_installer.spec"
DIST = ROOT / "dist" / "skp-returns"
INTERNAL = DIST / "_internal"
EXE = ".exe" if sys.platform == "win32" else ""
GUI, CLI = DIST / f"skp-desktop{EXE}", DIST / f"skp-returns{EXE}"
BUILD_TIMEOUT = 900
RUN_TIMEOUT = 180
CHECKS = ("installation", "drivers", "database", "excel", "chart", "qt")
# What goes into the bundle: when any of these is newer than the bundle, it is built again.
SOURCES = ("skp_desktop", "resources", "forms", "build_installer.spec", "pyproject.toml")
# The issue (#9) asks for at most 150 MB. The Linux folder was 213 MB; build_installer.spec now
# cuts ICU's data to English (-28.5 MB; it needs a C compiler), shares one OpenSSL, compiles
# at -OO, strips OpenBLAS and leaves out more: 161.4 MB when measured. What stands between
# that and 150 MB is numpy's OpenBLAS with its Fortran runtime (26 MB, the PyPI wheel's only
# BLAS; a numpy built from source with -Dallow-noblas=true made the folder 136.5 MB). The
# Linux budget holds the folder where it is, so that it does not grow unnoticed. Signed files
# (#16) brought pyca cryptography, whose one Rust binding with its own static OpenSSL is 12 MB
# (174.6 MB measured): the budget grew by that much, on purpose, and no more.
BUDGET_MB = {"linux": 177, "win32": 162, "darwin": 162}

pytestmark = [
    pytest.mark.e2e,
    # the first test builds the bundle (up to BUILD_TIMEOUT), then runs it
    pytest.mark.timeout(BUILD_TIMEOUT + 2 * RUN_TIMEOUT),
    pytest.mark.skipif(os.environ.get("SKP_SKIP_DIST") == "1", reason="SKP_SKIP_DIST=1"),
    pytest.mark.skipif(
        importlib.util.find_spec("PyInstaller") is None,
        reason="PyInstaller is not installed: pip install -e '.[dist]'",
    ),
]


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            if "__pycache__" not in file.parts:
                newest = max(newest, file.stat().st_mtime)
    return newest


@dataclass(frozen=True)
class Bundle:
    folder: Path
    built_in_seconds: float | None  # None: reused


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    """dist/skp-returns/, built now unless it is newer than every source."""
    if GUI.exists() and CLI.exists() and GUI.stat().st_mtime > _newest_source():
        return Bundle(DIST, None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", str(SPEC)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"PyInstaller failed:\n{done.stdout[-3000:]}{done.stderr[-6000:]}"
    GUI.touch()  # PyInstaller leaves an unchanged bundle as it was: mark it checked now
    return Bundle(DIST, time.monotonic() - started)


@dataclass(frozen=True)
class Run:
    result: Result
    root: Path

    @property
    def lines(self) -> list[str]:
        return self.result.stdout.splitlines()

    def log(self, name: str = "skp-returns.log") -> str:
        path = self.root / "logs" / name
        return path.read_text(encoding="utf-8") if path.exists() else ""


def start(
    tmp: Path, *command: str | Path, platform: str | None = None
) -> tuple[Cli, subprocess.Popen[str]]:
    """Start a program of the bundle in an isolated environment, without a display."""
    cli = Cli(tmp)
    env = dict(cli.env)
    env.pop("QT_QPA_PLATFORM", None)  # as on a user's machine: the app decides
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    process = subprocess.Popen(
        [str(part) for part in command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        errors="replace",
    )
    return cli, process


@pytest.fixture(scope="module")
def runs(bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Both self-tests, and both with a Qt platform that does not exist, side by side."""
    plans = {
        "cli": ((CLI, "self-test"), None),
        "gui": ((GUI, "--self-test"), None),
        "cli_without_qt": ((CLI, "self-test"), "no-such-platform"),
        "gui_without_qt": ((GUI, "--self-test"), "no-such-platform"),
    }
    started = {
        name: start(tmp_path_factory.mktemp(f"dist-{name}"), *command, platform=platform)
        for name, (command, platform) in plans.items()
    }
    results = {}
    for name, (cli, process) in started.items():
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
        args = tuple(str(part) for part in plans[name][0])
        results[name] = Run(Result(args, process.returncode, stdout, stderr), cli.root)
    return results


def assert_passed(run: Run) -> None:
    assert run.result.returncode == 0, str(run.result)
    assert run.lines[-1] == "self-test: OK", str(run.result)
    assert [line.split(":")[0] for line in run.lines[:-1]] == list(CHECKS), str(run.result)
    assert "frozen bundle" in run.lines[0], str(run.result)


# --- the self-tests ------------------------------------------------------------------------


def test_the_frozen_command_line_tests_itself(runs: dict[str, Run]) -> None:
    run = runs["cli"]

    assert_passed(run)
    assert "platform plugin 'offscreen' loaded" in run.lines[-2]  # by skp-desktop --qt-check
    assert run.result.stderr == "", "the self-test writes nothing to stderr when all is well"
    assert not list((run.root / "home").rglob("*.sqlite3")), "the user's database was created"
    assert "self-test: OK" in run.log()


def test_the_frozen_app_tests_itself_and_logs_the_report(runs: dict[str, Run]) -> None:
    run = runs["gui"]

    assert_passed(run)
    assert "platform plugin 'offscreen' loaded" in run.lines[-2]
    assert "en-GB text sorted, upper-cased and laid out" in run.lines[-2]  # ICU's data is there
    assert "self-test database: ok" in run.log()
    assert "self-test: OK" in run.log()


def test_a_qt_that_does_not_load_fails_the_command_lines_self_test(runs: dict[str, Run]) -> None:
    run = runs["cli_without_qt"]

    assert run.result.returncode == 1, str(run.result)
    assert run.lines[-1] == "self-test: FAILED: qt", str(run.result)
    assert "no Qt platform plugin could be initialized" in run.lines[-2]


def test_when_qt_aborts_the_frozen_app_says_why_and_leaves_a_crash_trace(
    runs: dict[str, Run],
) -> None:
    run = runs["gui_without_qt"]

    assert run.result.returncode != 0, str(run.result)
    assert run.lines[-1] == "self-test: FAILED: qt", str(run.result)
    assert "no Qt platform plugin could be initialized" in run.lines[-2]
    assert "no Qt platform plugin could be initialized" in run.log()
    assert "Fatal Python error: Aborted" in run.log("skp-returns.crash.log")


def test_the_frozen_command_line_makes_a_board_pack(bundle: Bundle, tmp_path: Path) -> None:
    """Every kind of chart in one PDF with its fonts subset (fontTools), on the demo data: the
    matplotlib, numpy and Python (-OO) that the bundle holds, beyond the self-test's one chart."""
    env = Cli(tmp_path).env
    db, pack = tmp_path / "demo.sqlite3", tmp_path / "pack.pdf"
    for args in (("init", "--demo"), ("board-pack", "--period", "FY2026-27-Q1", "--out", pack)):
        done = subprocess.run(
            [str(CLI), "--db", str(db), *map(str, args)],
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert "board pack for" in done.stdout and " pages" in done.stdout, done.stdout
    assert pack.read_bytes().startswith(b"%PDF-")


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="no xvfb-run for a virtual X server")
def test_the_xcb_platform_loads_under_an_x_server(bundle: Bundle, tmp_path: Path) -> None:
    """What a Linux desktop uses: the bundled xcb plugin and its libraries, the host's X11."""
    _cli, process = start(tmp_path, "xvfb-run", "-a", GUI, "--qt-check")
    stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)

    assert process.returncode == 0, stdout + stderr
    assert "platform plugin 'xcb' loaded" in stdout, stdout + stderr


# --- what is in the folder -----------------------------------------------------------------


def folder_size_mb(folder: Path) -> float:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files) / 1_000_000


def test_the_folder_keeps_to_its_size_budget(bundle: Bundle) -> None:
    size = folder_size_mb(bundle.folder)
    budget = BUDGET_MB.get(sys.platform, 150)
    built = f"built in {bundle.built_in_seconds:.0f} s" if bundle.built_in_seconds else "reused"
    print(f"dist/skp-returns: {size:.1f} MB, budget {budget} MB ({built})")

    assert size <= budget


def test_the_data_files_and_migrations_are_bundled(bundle: Bundle) -> None:
    for relative in (
        "resources/catalogue.toml",
        "resources/icons/skp-returns.png",
        "skp_desktop/store/alembic.ini",
        "skp_desktop/store/migrations/env.py",
        "skp_desktop/store/migrations/script.py.mako",
    ):
        assert (INTERNAL / relative).is_file(), relative
    forms = sorted(p.name for p in (INTERNAL / "forms").glob("*.toml"))
    assert forms == sorted(p.name for p in (ROOT / "forms").glob("*.toml"))
    versions = "skp_desktop/store/migrations/versions"
    bundled_versions = sorted(p.name for p in (INTERNAL / versions).iterdir())
    assert bundled_versions == sorted(p.name for p in (ROOT / versions).glob("*.py"))
    assert not (INTERNAL / "resources" / "installer").exists()


def bundled(pattern: str) -> list[str]:
    return sorted(str(p.relative_to(INTERNAL)) for p in INTERNAL.glob(pattern))


def test_only_the_qt_and_matplotlib_the_app_uses_are_bundled(bundle: Bundle) -> None:
    assert not bundled("PyQt*") and not bundled("PySide2") and not bundled("shiboken2")
    assert not bundled("tkinter") and not bundled("_tkinter*") and not bundled("lib/tcl*")
    assert not bundled("pytest*") and not bundled("_pytest") and not bundled("PyInstaller")
    assert not bundled("numpy/random") and not bundled("numpy/fft") and not bundled("pydoc.*")
    assert sys.platform == "win32" or not bundled("**/_codecs_jp.*")
    qt_modules = {Path(p).name.split(".")[0] for p in bundled("PySide6/Qt*.*")}
    # QtSvg because matplotlib's Qt backend imports it
    assert qt_modules == {"QtCore", "QtGui", "QtWidgets", "QtSvg"}
    libraries = " ".join(bundled("**/*Qt6*"))
    for unwanted in ("WebEngine", "Qml", "Quick", "Network", "Multimedia", "3D", "Pdf", "Wayland"):
        assert unwanted not in libraries
    assert not bundled("PySide6/**/translations/*")
    assert not bundled("PySide6/**/plugins/platformthemes/*")
    backends = {Path(p).stem for p in bundled("matplotlib/backends/backend_*")}
    assert {"backend_qtagg", "backend_agg", "backend_pdf", "backend_svg"} <= backends
    assert not {b for b in backends if "tk" in b or "gtk" in b or "wx" in b or "qt5" in b}
    assert not bundled("matplotlib/mpl-data/sample_data")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PySide6 brings ICU on Linux")
def test_icus_data_is_the_english_subset(bundle: Bundle) -> None:
    """build_installer.spec assembles libicudata from the items English needs (3.5 MB of 32);
    it keeps the whole library, and says so, when the build machine has no C compiler."""
    libraries = [p for p in INTERNAL.rglob("libicudata.so.*") if not p.is_symlink()]

    assert libraries, "Qt's ICU data library is not bundled"
    for library in libraries:
        size = library.stat().st_size / 1_000_000
        assert size < 6, f"{library.name} is {size:.0f} MB: all of ICU's data (no C compiler?)"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux build shares it")
def test_python_and_the_postgresql_driver_share_one_openssl(bundle: Bundle) -> None:
    # decided once the bundle is built (a skipif would look before the build, and always skip)
    if not (INTERNAL / "psycopg_binary.libs").is_dir():
        pytest.skip("the bundle was built without the PostgreSQL driver")
    for name in ("libcrypto.so.3", "libssl.so.3"):
        path = INTERNAL / name
        assert path.is_symlink(), f"{name}: Python's own OpenSSL is bundled beside the driver's"
        assert os.readlink(path).startswith("psycopg_binary.libs/"), os.readlink(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd is Linux's")
def test_every_bundled_library_loads_with_what_this_system_has(bundle: Bundle) -> None:
    """The loader accepts each library (a badly stripped one is "not a dynamic executable"),
    and finds everything it needs in the bundle or on the system."""
    env = dict(os.environ, LD_LIBRARY_PATH=str(INTERNAL))  # as the bootloader sets it
    problems = {}
    for path in sorted(INTERNAL.rglob("*.so*")):
        if path.is_symlink() or not path.is_file():
            continue
        done = subprocess.run(
            ["ldd", str(path)], env=env, capture_output=True, text=True, check=False
        )
        said = done.stdout + done.stderr
        lacking = [line.split()[0] for line in said.splitlines() if "not found" in line]
        if lacking or "not a dynamic executable" in said or done.returncode != 0:
            problems[str(path.relative_to(INTERNAL))] = lacking or said.strip()
    assert problems == {}
