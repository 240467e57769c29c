"""The layer rules that import-linter cannot express."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "skp_desktop"
PYPLOT = re.compile(
    r"^\s*(import matplotlib\.pyplot|from matplotlib import pyplot|"
    r"from matplotlib\.pyplot import)",
    re.MULTILINE,
)


def test_no_module_uses_pyplot() -> None:
    """pyplot keeps global state and picks its own backend; the app builds Figure objects."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if PYPLOT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_pyplot_check_would_catch_an_import() -> None:
    assert PYPLOT.search("import matplotlib.pyplot as plt\n")
    assert PYPLOT.search("from matplotlib import pyplot\n")
