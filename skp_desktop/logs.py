"""Logging to a rotating file in the user log folder, shared by the GUI and the command line."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from skp_desktop.locations import user_log_dir

LOG_FILE_NAME = "skp-returns.log"
_configured: Path | None = None


def log_path() -> Path:
    """The log file: `$SKP_LOG_DIR` when set (tests), else the user log folder."""
    folder = os.environ.get("SKP_LOG_DIR")
    base = Path(folder) if folder else user_log_dir()
    base.mkdir(parents=True, exist_ok=True)
    return base / LOG_FILE_NAME


def configure_logging(level: int = logging.INFO) -> Path:
    """Send log records to the rotating log file (once per process); returns its path."""
    global _configured
    if _configured is not None:
        return _configured
    path = log_path()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _configured = path
    return path
