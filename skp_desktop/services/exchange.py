"""Returns as Excel files, in one place for callers: export (return_export.py), import of
return files (return_import.py) and of feedback files (feedback_import.py), and what they give
back (exchange_outcomes.py). New code may import from those modules directly."""

from __future__ import annotations

from skp_desktop.services.exchange_outcomes import (
    ExportResult,
    ImportOutcome,
    ImportProblem,
    ImportStopped,
    ValueChange,
)
from skp_desktop.services.return_export import export_feedback, export_return, write_template
from skp_desktop.services.return_import import (
    SPREADSHEET_SUFFIXES,
    collect_files,
    import_files,
)

__all__ = [
    "SPREADSHEET_SUFFIXES",
    "ExportResult",
    "ImportOutcome",
    "ImportProblem",
    "ImportStopped",
    "ValueChange",
    "collect_files",
    "export_feedback",
    "export_return",
    "import_files",
    "write_template",
]
