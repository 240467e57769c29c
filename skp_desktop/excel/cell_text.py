"""Text as it goes into and comes out of cells: OOXML escapes, line endings, control characters."""

from __future__ import annotations

import re

# Control characters XML 1.0 cannot hold (tab, line feed and carriage return it can).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# OOXML writes characters XML cannot hold as _xHHHH_, so a literal "_x0041_" is "_x005F_x0041_".
_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def cell_text(text: str) -> str:
    """`text` as written into a cell: characters XML cannot hold dropped, _xHHHH_ kept literal."""
    return _ESCAPE_LIKE.sub(r"_x005F_\1", _ILLEGAL.sub("", text))


def read_cell_text(text: str) -> str:
    """A cell's stored text as people see it: _xHHHH_ escapes decoded."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda match: chr(int(match[1], 16)), text)


def comparable_text(text: str | None) -> str:
    """Text reduced to what survives Excel and LibreOffice: for comparing, never for storing."""
    if not text:
        return ""
    if text.isprintable():  # no line ending or control character: nothing to replace
        return text.strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL.sub("", text).strip()


def entered_text(text: str | None) -> str | None:
    """Commentary or explanation typed in a cell, as the app stores it: trimmed, None if blank."""
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def starts_like_formula(text: str) -> bool:
    """Whether Excel would take typed text for a formula (so the cell gets a quote prefix)."""
    return text[:1] in ("=", "+", "-", "@")
