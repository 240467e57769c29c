"""Saving charts as PNG, SVG or PDF, all or nothing."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PNG_DPI = 150

# Held while a PDF is drawn. The strategic assessment switches matplotlib's global
# pdf.use14corefonts on for its pages (charts/strategic_assessment.py): a board pack or a
# chart written as PDF by another thread at that moment would take its words in Helvetica too,
# and lose its RAG shapes.
PDF_DRAWING = threading.RLock()

# File extension -> matplotlib format name.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def _ensure_canvas(fig: Figure) -> None:
    """Give a bare Figure() an Agg canvas so it renders without any GUI backend."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)


def _format_for(path: Path) -> str:
    """The format named by the file's extension, or a ValueError naming the allowed ones."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        allowed = ", ".join(FORMATS)
        shown = path.suffix or "no extension"
        raise ValueError(
            f"cannot save a chart as '{path.name}' ({shown}): use one of {allowed}"
        ) from None


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write `fig` to `path` as PNG (150 dpi), SVG or PDF, chosen by the extension.

    The chart is written to a temporary file in the same folder and renamed into place, so
    `path` holds either the old file or the whole new one, never half a chart.
    """
    target = Path(path)
    file_format = _format_for(target)
    _ensure_canvas(fig)
    with atomic_output(target, "chart") as stream, PDF_DRAWING:
        fig.savefig(
            stream,
            format=file_format,
            dpi=PNG_DPI,
            facecolor=fig.get_facecolor(),
            metadata=_metadata(file_format),
        )
    return target


@contextlib.contextmanager
def atomic_output(target: Path, what: str) -> Iterator[BinaryIO]:
    """A binary stream that becomes `target` only when the block ends without an error.

    It is a temporary file in the same folder, synced and renamed into place, so `target`
    holds either the old file or the whole new one, never half of it.
    """
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save the {what}: the folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); a saved file gets the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _metadata(file_format: str) -> dict[str, str | None]:
    """File metadata without a creation date, so the same chart gives the same bytes."""
    if file_format == "png":
        return {"Software": "SKP Returns"}
    if file_format == "svg":
        return {"Creator": "SKP Returns", "Date": None}
    return {"Creator": "SKP Returns", "Producer": "SKP Returns", "CreationDate": None}


def figure_png_bytes(fig: Figure, *, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes (for the clipboard, or a report)."""
    _ensure_canvas(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor=fig.get_facecolor())
    return buffer.getvalue()
