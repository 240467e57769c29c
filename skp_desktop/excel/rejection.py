"""A file refused on import, with every reason found, each located by sheet and cell."""

from __future__ import annotations

from collections.abc import Sequence

from skp_desktop.domain.errors import ValidationError


def problem(message: str, *, sheet: str | None = None, cell: str | None = None) -> ValidationError:
    """One reason a file is refused, located where there is a place to name."""
    return ValidationError(message, sheet=sheet, cell=cell)


class RejectedFile(ValidationError):
    """The file is not a usable return; `problems` holds every reason, in sheet order."""

    def __init__(self, problems: Sequence[ValidationError], *, file: str | None = None) -> None:
        if not problems:
            raise ValueError("a rejected file needs at least one reason")
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(self.reason_text(), file=file, sheet=first.sheet, cell=first.cell)

    def reason_text(self) -> str:
        """Every reason on one line: "sheet Return, cell F12: …; sheet Return, cell D13: …"."""
        return "; ".join(str(p) for p in self.problems)

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" if self.file else self.message


def reject(message: str, *, sheet: str | None = None, cell: str | None = None) -> RejectedFile:
    """A refusal with a single reason."""
    return RejectedFile([problem(message, sheet=sheet, cell=cell)])
