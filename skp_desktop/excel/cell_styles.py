"""Cell styles worked out once per workbook and copied onto cells.

Assigning a Font, Fill, Border, Alignment or Protection to a cell makes openpyxl hash the
object to find it among the workbook's styles, every time: most of the time it takes to lay
out a return. A cell's style is in the end a small array of indices into those lists, so each
combination is worked out once and its array copied onto the next cell that wants it.
"""

from __future__ import annotations

from copy import copy

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection
from openpyxl.styles.cell_style import StyleArray

_PARTS = ("font", "fill", "border", "alignment", "protection")


class CellStyles:
    """The styles of one workbook's cells (the arrays index that workbook's style lists)."""

    def __init__(self) -> None:
        self._made: dict[tuple[int, ...], StyleArray] = {}
        # The style objects are keyed by id(): kept alive here, so that no id is reused.
        self._kept: dict[int, object] = {}

    def set(
        self,
        cell: Cell,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        border: Border | None = None,
        alignment: Alignment | None = None,
        protection: Protection | None = None,
    ) -> None:
        """Give `cell` these parts of a style; the parts given as None, its number format and
        its quote prefix stay as they are."""
        parts = (font, fill, border, alignment, protection)
        if cell._style is None:  # a cell never styled has no array yet
            cell._style = StyleArray()
        key = (*cell._style, *map(id, parts))
        made = self._made.get(key)
        if made is None:
            for name, part in zip(_PARTS, parts, strict=True):
                if part is not None:
                    setattr(cell, name, part)
                    self._kept[id(part)] = part
            self._made[key] = copy(cell._style)
        else:
            cell._style = copy(made)
