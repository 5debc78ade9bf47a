"""Opening a PDF canvas on a path or an open binary file, with the metadata every print shares."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from reportlab.lib.colors import HexColor, black
from reportlab.pdfgen.canvas import Canvas

PdfTarget = str | os.PathLike | BinaryIO


@contextmanager
def pdf_canvas(out: PdfTarget, pagesize: tuple[float, float], title: str) -> Iterator[Canvas]:
    """A canvas that is saved when the block ends; invariant so the same input gives the same bytes."""
    target = os.fspath(out) if isinstance(out, (str, os.PathLike)) else out
    canvas = Canvas(target, pagesize=pagesize, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("Turnout")
    canvas.setCreator("Turnout hub")
    yield canvas
    canvas.save()


# One palette for badges and cards; symbols themselves are always pure black on white.
INK = black
MUTED = HexColor("#505a5f")
GUIDE = HexColor("#8e9296")
ACCENT = HexColor("#0b6e69")
UNDO_ACCENT = HexColor("#a4161a")
SETUP_ACCENT = HexColor("#26303a")
