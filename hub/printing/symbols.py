"""Barcode drawings for badges and cards, using ReportLab's own barcode widgets.

Everything the hub prints (badges, role cards, set-up cards) gets its symbols here, and the
camera tests render their test badges through the same functions.
"""

from __future__ import annotations

from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm

# Cheap USB scanners read 1D codes at arm's length when the narrowest bar is >= 0.33 mm.
CODE128_BAR_WIDTH = 0.38 * mm
CODE128_BAR_HEIGHT = 14 * mm


def code128_drawing(text: str, bar_width: float = CODE128_BAR_WIDTH,
                    bar_height: float = CODE128_BAR_HEIGHT) -> Drawing:
    """A Code 128 symbol with quiet zones and no human-readable line (we print that ourselves)."""
    return createBarcodeDrawing("Code128", value=text, barWidth=bar_width, barHeight=bar_height,
                                humanReadable=False, quiet=True)


# Bar widths to try, widest first: never under the 0.33 mm a USB scanner needs at arm's length.
BAR_WIDTHS = tuple(w * mm for w in (0.5, 0.45, 0.4, 0.38, 0.35, 0.33))


def code128_fitting(text: str, max_bars_width: float, widest: float = CODE128_BAR_WIDTH,
                    bar_height: float = CODE128_BAR_HEIGHT) -> Drawing | None:
    """The Code 128 with the widest bars (up to ``widest``) whose bars fit, or None if none do."""
    for bar_width in (w for w in BAR_WIDTHS if w <= widest + 1e-9):
        drawing = code128_drawing(text, bar_width=bar_width, bar_height=bar_height)
        if bars_width(drawing) <= max_bars_width:
            return drawing
    return None


def bars_width(drawing: Drawing) -> float:
    """Width of a Code 128 drawing from its first bar to its last, quiet zones left out."""
    widget = drawing.contents[0]
    return drawing.width - widget.lquiet - widget.rquiet


def qr_drawing(text: str, size: float = 24 * mm, quiet_modules: int = 4) -> Drawing:
    """A QR code (error correction M) scaled to ``size`` points square, quiet zone included.

    A layout that keeps its own white margin around the symbol may ask for fewer quiet modules.
    """
    return createBarcodeDrawing("QR", value=text, width=size, height=size, barLevel="M",
                                barBorder=quiet_modules)


def qr_modules(text: str) -> int:
    """How many modules wide the QR symbol for text is (21 for version 1), quiet zone excluded."""
    return qr_drawing(text).contents[0].qr.getModuleCount()
