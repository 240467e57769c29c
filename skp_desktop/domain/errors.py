"""The errors the app expects; anything else is a bug and is logged with its traceback."""

from __future__ import annotations


class SkpError(Exception):
    """Base of every error the app expects."""


class ValidationError(SkpError):
    """The user's data is wrong: says where (file, sheet, cell or field) and what is expected."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        file: str | None = None,
        sheet: str | None = None,
        cell: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.file = file
        self.sheet = sheet
        self.cell = cell

    @property
    def location(self) -> str:
        """Where the problem is, e.g. "returns/a.xlsx, sheet Return, cell F7", or "" if unknown."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.cell:
            parts.append(f"cell {self.cell}")
        if self.field:
            parts.append(self.field)
        return ", ".join(parts)

    def located(
        self,
        *,
        field: str | None = None,
        file: str | None = None,
        sheet: str | None = None,
        cell: str | None = None,
    ) -> ValidationError:
        """A copy with the given location filled in, keeping any location already known."""
        # Low-level parsers know the field; the file reader adds file, sheet and cell on the way up.
        return ValidationError(
            self.message,
            field=self.field or field,
            file=self.file or file,
            sheet=self.sheet or sheet,
            cell=self.cell or cell,
        )

    def __str__(self) -> str:
        location = self.location
        return f"{location}: {self.message}" if location else self.message

    def __repr__(self) -> str:
        return (
            f"ValidationError({self.message!r}, field={self.field!r}, file={self.file!r}, "
            f"sheet={self.sheet!r}, cell={self.cell!r})"
        )


class NotFoundError(SkpError):
    """An unknown service, period, indicator or return code (command line exit 2)."""


class StateError(SkpError):
    """The action does not fit the return's state, e.g. editing a submitted revision."""


class StoreUnavailable(SkpError):
    """The database cannot be used now: locked, read-only, disk full. Message says what to do."""


class TamperingDetected(SkpError):
    """verify found history altered outside the app."""
