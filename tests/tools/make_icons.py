"""Draw Shipscan's icon with QPainter and write it in the usual sizes (run offscreen; the output is committed).

    QT_QPA_PLATFORM=offscreen python tests/tools/make_icons.py [--out resources/icons]

Writes `shipscan-<N>.png` for N in SIZES (the freedesktop hicolor sizes; 512 for macOS and stores),
`shipscan.ico` (Windows: 16-256) and `shipscan.icns` (macOS). The drawing: a parcel under a magnifier
on a rounded blue square. Small sizes drop the parcel's tape and the lens glint so they stay legible.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QImageWriter,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
REPO = Path(__file__).resolve().parents[2]


def draw(size: int) -> QImage:
    """The icon at `size` x `size` pixels, drawn on a 100-unit canvas scaled to fit."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 100.0, size / 100.0)
    _background(painter)
    _parcel(painter, detailed=size >= 32)
    _magnifier(painter, detailed=size >= 48)
    painter.end()
    return image


def _background(p: QPainter) -> None:
    gradient = QLinearGradient(0, 0, 0, 100)
    gradient.setColorAt(0, QColor("#2f7de1"))
    gradient.setColorAt(1, QColor("#1b4f9c"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(QRectF(4, 4, 92, 92), 20, 20)


def _parcel(p: QPainter, detailed: bool) -> None:
    top = QPolygonF([QPointF(18, 36), QPointF(44, 24), QPointF(70, 36), QPointF(44, 48)])
    left = QPolygonF([QPointF(18, 36), QPointF(44, 48), QPointF(44, 80), QPointF(18, 68)])
    right = QPolygonF([QPointF(44, 48), QPointF(70, 36), QPointF(70, 68), QPointF(44, 80)])
    p.setPen(QPen(QColor("#7a4a1c"), 1.5))
    for face, colour in ((top, "#f2c48d"), (left, "#d99a57"), (right, "#c4813f")):
        p.setBrush(QColor(colour))
        p.drawPolygon(face)
    if detailed:  # the tape across the lid
        p.setPen(QPen(QColor("#fff3df"), 3.0))
        p.drawLine(QPointF(31, 30), QPointF(57, 42))


def _magnifier(p: QPainter, detailed: bool) -> None:
    centre, radius = QPointF(64, 58), 17.0
    p.setPen(QPen(QColor("#222a35"), 7.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(76, 70), QPointF(88, 82))
    p.setPen(QPen(QColor("#f5f7fa"), 5.0))
    p.setBrush(QColor(220, 236, 255, 150))
    p.drawEllipse(centre, radius, radius)
    if detailed:  # a glint on the lens
        glint = QPainterPath()
        glint.arcMoveTo(QRectF(52, 46, 24, 24), 110)
        glint.arcTo(QRectF(52, 46, 24, 24), 110, 60)
        p.setPen(QPen(QColor(255, 255, 255, 220), 2.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(glint)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding one PNG per size (Windows Vista and later read PNG entries; Qt writes one size)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset, entries, images = 6 + 16 * len(pngs), b"", b""
    for size, png in sorted(pngs.items()):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        images += png
        offset += len(png)
    return header + entries + images


def write_all(out: Path) -> list[Path]:
    """Write every size plus the .ico and .icns into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for size in SIZES:
        path = out / f"shipscan-{size}.png"
        if not draw(size).save(str(path), "PNG"):
            raise RuntimeError(f"could not write {path}")
        written.append(path)
    ico = out / "shipscan.ico"
    ico.write_bytes(ico_bytes({size: png_bytes(draw(size)) for size in ICO_SIZES}))
    written.append(ico)
    icns = out / "shipscan.icns"
    writer = QImageWriter(str(icns), b"icns")
    if not writer.write(draw(512)):
        raise RuntimeError(f"could not write {icns}: {writer.errorString()}")
    written.append(icns)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "resources" / "icons"))
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QImage needs it for text
    for path in write_all(Path(args.out)):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
