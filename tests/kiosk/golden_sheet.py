"""Every golden kiosk screen of one language on one sheet, enlarged, for docs/screenshots/.

    python -m tests.kiosk.golden_sheet cy docs/screenshots/kiosk-cy.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

from tests.kiosk.test_render import GOLDENS

SCALE, COLUMNS, GAP, CAPTION = 3, 4, 8, 14


def sheet(language: str) -> Image.Image:
    goldens = sorted(GOLDENS[language].glob("*.png"))
    width, height = 128 * SCALE + GAP, 64 * SCALE + GAP + CAPTION
    rows = (len(goldens) + COLUMNS - 1) // COLUMNS
    out = Image.new("RGB", (COLUMNS * width + GAP, rows * height + GAP), (90, 90, 90))
    draw = ImageDraw.Draw(out)
    for i, path in enumerate(goldens):
        x, y = GAP + (i % COLUMNS) * width, GAP + (i // COLUMNS) * height
        draw.text((x, y), path.stem, fill=(255, 255, 255))
        screen = Image.open(path).convert("L").resize((128 * SCALE, 64 * SCALE), Image.NEAREST)
        # Lit pixels in the panel's blue-white, dark ones near black, as the OLED shows them.
        out.paste(Image.merge("RGB", [screen.point(lambda v, c=c: c if v else 12) for c in (170, 220, 255)]),
                  (x, y + CAPTION))
    return out


if __name__ == "__main__":
    sheet(sys.argv[1]).save(sys.argv[2])
