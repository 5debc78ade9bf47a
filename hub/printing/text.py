"""Drawing untrusted text (people's names) on a ReportLab canvas: fonts, fallback, shrink to fit.

Names are drawn with ``canvas.drawString`` run by run, never through Paragraph markup, so a
name like ``<b>Bob & "Al"</b>`` prints exactly as typed. Each character is drawn in the first
font that has a glyph for it: DejaVu Sans (Debian's fonts-dejavu-core: Latin, Greek, Cyrillic
and more), then Droid Sans Fallback (fonts-droid-fallback: Chinese and Japanese) where it is
installed. Without DejaVu, ReportLab's bundled Bitstream Vera covers Western European names.
There is no right-to-left reordering or complex shaping (Arabic, Indic scripts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from hub.text import one_line

ELLIPSIS = "…"

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)
_FALLBACK_FILES = (
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallback.ttf"),
)
_VERA_DIR = Path(reportlab.__file__).parent / "fonts"


@dataclass(frozen=True)
class FontChain:
    """ReportLab font names to try in order for each character."""

    names: tuple[str, ...]

    @property
    def primary(self) -> str:
        return self.names[0]


def _register(name: str, *candidates: Path) -> str | None:
    for path in candidates:
        if path.is_file():
            pdfmetrics.registerFont(TTFont(name, str(path)))
            return name
    return None


def _in_font_dirs(filename: str) -> list[Path]:
    return [d / filename for d in _FONT_DIRS]


@cache
def _fallback_font() -> str | None:
    return _register("TurnoutFallback", *_FALLBACK_FILES)


@cache
def sans(bold: bool = False) -> FontChain:
    """The sans-serif used for everything people read on badges and cards."""
    if bold:
        main = _register("TurnoutSans-Bold", *_in_font_dirs("DejaVuSans-Bold.ttf"),
                         _VERA_DIR / "VeraBd.ttf")
    else:
        main = _register("TurnoutSans", *_in_font_dirs("DejaVuSans.ttf"), _VERA_DIR / "Vera.ttf")
    return FontChain(tuple(n for n in (main, _fallback_font()) if n))


@cache
def mono() -> FontChain:
    """A monospaced bold face for printed codes, so 0/O and 1/l are easy to tell apart."""
    main = _register("TurnoutMono-Bold", *_in_font_dirs("DejaVuSansMono-Bold.ttf"),
                     _VERA_DIR / "VeraBd.ttf")
    return FontChain((main,))


def clean(text: str) -> str:
    """One printable line, by the same rule as every name the hub keeps (``hub.text.one_line``)."""
    return one_line(text)


def _has_glyph(font_name: str, ch: str) -> bool:
    return ord(ch) in pdfmetrics.getFont(font_name).face.charToGlyph


def runs(text: str, chain: FontChain) -> list[tuple[str, str]]:
    """Split text into (font name, text) runs, each character in the first font that has it."""
    out: list[tuple[str, str]] = []
    for ch in text:
        font = next((f for f in chain.names if _has_glyph(f, ch)), chain.primary)
        if out and out[-1][0] == font:
            out[-1] = (font, out[-1][1] + ch)
        else:
            out.append((font, ch))
    return out


def width(text: str, chain: FontChain, size: float) -> float:
    return sum(pdfmetrics.stringWidth(t, f, size) for f, t in runs(text, chain))


def draw(canvas: Canvas, x: float, y: float, text: str, chain: FontChain, size: float,
         align: str = "left") -> float:
    """Draw one line of literal text with its baseline at y; returns its width."""
    w = width(text, chain, size)
    if align == "center":
        x -= w / 2
    elif align == "right":
        x -= w
    for font, part in runs(text, chain):
        canvas.setFont(font, size)
        canvas.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, font, size)
    return w


def ellipsize(text: str, chain: FontChain, size: float, max_width: float) -> str:
    """The longest prefix of text that fits max_width with an ellipsis after it."""
    if width(text, chain, size) <= max_width:
        return text
    while text and width(text + ELLIPSIS, chain, size) > max_width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def wrap(text: str, chain: FontChain, size: float, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is left whole (the caller checks widths)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and width(f"{lines[-1]} {word}", chain, size) <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


# Baseline-to-baseline distance as a multiple of the font size.
LEADING = 1.15


@dataclass(frozen=True)
class Fitted:
    size: float
    lines: list[str]

    @property
    def leading(self) -> float:
        return self.size * LEADING


def fit(text: str, chain: FontChain, max_width: float, max_height: float, max_size: float,
        min_size: float, max_lines: int = 1, step: float = 0.5) -> Fitted:
    """Largest size at which text fits the box in up to max_lines; else min size, ellipsised."""
    text = clean(text)
    size = max_size
    while size >= min_size:
        for n in range(1, max_lines + 1):
            lines = [text] if n == 1 else wrap(text, chain, size, max_width)
            fits_wide = all(width(line, chain, size) <= max_width for line in lines)
            if len(lines) == n and fits_wide and n * size * LEADING <= max_height + 0.01:
                return Fitted(size, lines)
        size -= step
    lines = _fill_lines(text, chain, min_size, max_width, max(1, min(
        max_lines, int((max_height + 0.01) // (min_size * LEADING)))))
    return Fitted(min_size, lines)


def _fill_lines(text: str, chain: FontChain, size: float, max_width: float, n: int) -> list[str]:
    """Wrapped lines at a fixed size, the last one (or a too-long word) cut with an ellipsis."""
    lines = wrap(text, chain, size, max_width)
    kept = lines[:n]
    if len(lines) > n:
        kept[-1] = ellipsize(kept[-1] + " " + " ".join(lines[n:]), chain, size, max_width)
    return [ellipsize(line, chain, size, max_width) for line in kept]
