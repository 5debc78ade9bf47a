"""Each club's badge image (PNG, drawn with Pillow), and a credential baked into it.

Baking follows Open Badges 3.0: the compact JWS goes in an ``iTXt`` chunk with the keyword
``openbadgecredential``, so the image file alone carries a credential anyone can verify.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from hub.badges.credentials import Club
from hub.rules import ATTEND

SIZE = 400
BAKED_KEYWORD = "openbadgecredential"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
# Attending clubs in the site's blue, helping clubs in its green (both 4.5:1 or more on white).
COLOURS = {ATTEND: (29, 112, 184), "volunteer": (0, 112, 60)}


def _font(size: int, bold: bool = True):
    for directory in FONT_DIRS:
        path = directory / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


@lru_cache(maxsize=32)
def club_image(club: Club, service_name: str) -> bytes:
    """The club's badge: a roundel with the number and what it counts."""
    image = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    colour = COLOURS.get(club.kind, COLOURS["volunteer"])
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=colour, outline=(11, 12, 12), width=8)
    draw.ellipse((40, 40, SIZE - 40, SIZE - 40), outline=(255, 255, 255), width=4)
    centre = SIZE / 2
    draw.text((centre, centre - 20), str(club.target), font=_font(140), fill="white", anchor="mm")
    words = "events" if club.kind == ATTEND else "times helping"
    if club.name.startswith("junior"):
        words = "junior events"
    draw.text((centre, centre + 80), words, font=_font(34), fill="white", anchor="mm")
    draw.text((centre, centre - 125), service_name[:18], font=_font(28, bold=False), fill="white",
              anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def baked(png: bytes, compact_jws: str) -> bytes:
    """The image with the credential in it (an ``iTXt`` chunk, as Open Badges 3.0 bakes PNGs)."""
    info = PngInfo()
    info.add_itxt(BAKED_KEYWORD, compact_jws)
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def unbaked(png: bytes) -> str | None:
    """The credential baked into a PNG, if any."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.text.get(BAKED_KEYWORD) if hasattr(image, "text") else None
