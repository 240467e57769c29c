"""Where the app finds its bundled files and keeps the user's database and logs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "skp-returns"
APP_AUTHOR = "RBK"


def install_root() -> Path:
    """The folder holding `resources/` and `forms/`: the bundle when frozen, else the checkout."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The bundled `resources/` folder (catalogue, help text, icons)."""
    return install_root() / "resources"


def forms_dir() -> Path:
    """The bundled `forms/` folder: one return layout per service."""
    return install_root() / "forms"


def user_data_dir() -> Path:
    """The per-user data folder (created on demand)."""
    from platformdirs import user_data_path

    return user_data_path(APP_DIR_NAME, APP_AUTHOR, ensure_exists=True)


def user_log_dir() -> Path:
    """The per-user log folder (created on demand)."""
    from platformdirs import user_log_path

    return user_log_path(APP_DIR_NAME, APP_AUTHOR, ensure_exists=True)


def default_database_path() -> Path:
    """`skp.sqlite3` in the user data folder: the built-in database."""
    return user_data_dir() / "skp.sqlite3"


def resolve_target(db: str | os.PathLike[str] | None) -> str:
    """The database to use: `--db`, else `$SKP_DB`, else the built-in file in the data folder."""
    if db:
        return os.fspath(db)
    env = os.environ.get("SKP_DB")
    if env:
        return env
    return str(default_database_path())
