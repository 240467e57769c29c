"""Draw the SKP Returns icon: a white shield holding a rising bar chart on the council's blue.

Run `.venv/bin/python resources/icons/make_icons.py` after changing the drawing; it rewrites
`skp-returns.png` (the window icon, 256 px), `skp-returns.ico` (Windows: 16 to 256 px) and
`skp-returns.icns` (macOS) beside this file. Drawn with QPainter, saved with Pillow; no fonts
and no downloaded images, so the same bytes come out on every machine.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "skp-returns"
MASTER = 1024  # drawn once at this size, then scaled down
ICO_SIZES = [(s, s) for s in (16, 24, 32, 48, 64, 128, 256)]

BLUE = "#1d4e89"
WHITE = "#ffffff"
BARS = ("#1d4e89", "#1d4e89", "#2e7d32")  # the last bar green: things getting better


def draw(size: int = MASTER) -> bytes:
    """The icon as PNG bytes, `size` pixels square, transparent outside the rounded square."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    u = size / 100  # draw in a 100 × 100 grid

    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(BLUE))
    p.drawRoundedRect(QRectF(4 * u, 4 * u, 92 * u, 92 * u), 20 * u, 20 * u)

    shield = QPainterPath()
    shield.moveTo(QPointF(50 * u, 13 * u))
    shield.cubicTo(QPointF(61 * u, 19 * u), QPointF(71 * u, 21 * u), QPointF(80 * u, 21 * u))
    shield.cubicTo(QPointF(81 * u, 52 * u), QPointF(71 * u, 74 * u), QPointF(50 * u, 88 * u))
    shield.cubicTo(QPointF(29 * u, 74 * u), QPointF(19 * u, 52 * u), QPointF(20 * u, 21 * u))
    shield.cubicTo(QPointF(29 * u, 21 * u), QPointF(39 * u, 19 * u), QPointF(50 * u, 13 * u))
    p.setBrush(QColor(WHITE))
    p.drawPath(shield)

    for index, (height, colour) in enumerate(zip((16, 26, 38), BARS, strict=True)):
        left = (33 + index * 12) * u
        p.setBrush(QColor(colour))
        p.drawRoundedRect(QRectF(left, (68 - height) * u, 9 * u, height * u), 1.5 * u, 1.5 * u)
    p.end()

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def main() -> int:
    from PIL import Image

    master = Image.open(io.BytesIO(draw())).convert("RGBA")
    small = master.resize((256, 256), Image.Resampling.LANCZOS)
    small.save(HERE / f"{NAME}.png", optimize=True)
    master.save(HERE / f"{NAME}.ico", sizes=ICO_SIZES)
    master.save(HERE / f"{NAME}.icns")
    for suffix in (".png", ".ico", ".icns"):
        path = HERE / f"{NAME}{suffix}"
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
