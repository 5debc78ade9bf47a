"""Camera-like test frames of badges, printed through the hub's own symbol drawings.

The symbols come from ``hub.printing.symbols`` (ReportLab), are rendered to a PDF and
rasterised with pypdfium2, then placed on a 640x480 grey scene the way a hand holds a badge
up to a kiosk: scaled, rotated, tilted, blurred, noisy, dim, under a reflection, or upside
down in front of a busy background.
Shared by ``tests/kiosk/test_decode.py`` and ``bench/decode_frames.py``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

FRAME_SIZE = (640, 480)  # width, height of the kiosk camera's low-resolution stream
SYMBOLOGIES = ("code128", "qr")
VARIANTS = ("clean", "small", "blur", "rotation", "perspective", "noise", "low-contrast", "glare",
            "upside-down")


@functools.lru_cache(maxsize=512)
def render_symbol(text: str, symbology: str, scale: float = 4.0) -> np.ndarray:
    """The printed symbol (quiet zone included) as a grey image, ``scale`` pixels per point."""
    import pypdfium2
    from reportlab.graphics import renderPDF

    from hub.printing.symbols import code128_drawing, qr_drawing

    drawing = code128_drawing(text) if symbology == "code128" else qr_drawing(text)
    pdf = pypdfium2.PdfDocument(renderPDF.drawToString(drawing))
    try:
        bitmap = pdf[0].render(scale=scale, grayscale=True)
        image = np.array(bitmap.to_pil().convert("L"))
    finally:
        pdf.close()
    image.setflags(write=False)
    return image


def badge_card(text: str, symbology: str, scale: float = 4.0) -> np.ndarray:
    """The symbol on a white card with a margin, as the badge around it would be."""
    symbol = render_symbol(text, symbology, scale)
    margin = int(12 * scale)
    card = np.full((symbol.shape[0] + 2 * margin, symbol.shape[1] + 2 * margin), 245, np.uint8)
    card[margin:margin + symbol.shape[0], margin:margin + symbol.shape[1]] = symbol
    return card


def scene(rng: np.random.Generator, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """An empty camera view: a lit gradient, a few dim shapes (a room, a shirt) and sensor noise."""
    import cv2

    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    base = rng.uniform(70, 150)
    frame = base + 40 * ((xx * math.cos(angle) + yy * math.sin(angle)) / max(width, height))
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        axes = (int(rng.integers(30, 200)), int(rng.integers(30, 200)))
        cv2.ellipse(frame, (x0, y0), axes, float(rng.uniform(0, 180)), 0, 360,
                    float(rng.uniform(40, 200)), -1)
    frame = cv2.GaussianBlur(frame, (0, 0), 3)
    frame += rng.normal(0, 4, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


def busy_scene(rng: np.random.Generator, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A crowded camera view: ``scene`` plus lines of text, striped cloth and thin lines (cables,
    edges of furniture), the things a bar finder can mistake for a symbol or join to one."""
    import cv2

    width, height = size
    frame = scene(rng, size)
    for _ in range(int(rng.integers(4, 9))):
        kind = int(rng.integers(0, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if kind == 0:
            text = "".join(chr(int(c)) for c in rng.integers(33, 126, int(rng.integers(5, 20))))
            cv2.putText(frame, text, (x, y), int(rng.integers(0, 8)), float(rng.uniform(0.5, 1.5)),
                        int(rng.uniform(0, 255)), int(rng.integers(1, 3)))
        elif kind == 1:
            period = int(rng.integers(4, 14))
            angle = rng.uniform(0, math.pi)
            w, h = int(rng.integers(40, 200)), int(rng.integers(40, 200))
            yy, xx = np.mgrid[0:h, 0:w]
            stripes = ((xx * math.cos(angle) + yy * math.sin(angle)) // (period / 2)) % 2
            cloth = np.where(stripes > 0, rng.uniform(0, 80), rng.uniform(150, 255)).astype(np.uint8)
            x1, y1 = min(width, x + w), min(height, y + h)
            frame[y:y1, x:x1] = cloth[:y1 - y, :x1 - x]
        else:
            for _ in range(int(rng.integers(3, 12))):
                start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
                end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
                cv2.line(frame, start, end, int(rng.uniform(0, 255)), int(rng.integers(1, 4)))
    return cv2.GaussianBlur(frame, (0, 0), 0.8)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    text: str
    symbology: str
    variant: str


def badge_frame(text: str, symbology: str, variant: str, rng: np.random.Generator) -> Frame:
    """One 640x480 frame with the badge ``text`` held up to the camera, distorted per ``variant``."""
    import cv2

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    frame = (busy_scene(rng) if variant == "upside-down" else scene(rng)).astype(np.float32)
    card = badge_card(text, symbology)
    symbol_width = render_symbol(text, symbology).shape[1]
    # Size on screen in pixels across the symbol (quiet zone included).
    if variant == "small":
        target = rng.uniform(150, 190) if symbology == "code128" else rng.uniform(70, 90)
    else:
        target = rng.uniform(240, 340) if symbology == "code128" else rng.uniform(130, 220)
    zoom = target / symbol_width
    h, w = card.shape
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    centred = (corners - [w / 2, h / 2]) * zoom
    angle = rng.uniform(-4, 4)
    if variant == "rotation":
        angle = rng.choice([-1, 1]) * rng.uniform(15, 60)
    if variant == "upside-down":
        angle = 180 + rng.choice([-1, 1]) * rng.uniform(5, 60)
    if variant == "perspective":
        # Tilted away: one edge shorter than the other, as when a badge is held at an angle.
        squeeze = rng.uniform(0.6, 0.75)
        side = int(rng.integers(0, 4))
        if side == 0:
            centred[[0, 1], 0] *= squeeze
        elif side == 1:
            centred[[2, 3], 0] *= squeeze
        elif side == 2:
            centred[[1, 2], 1] *= squeeze
        else:
            centred[[0, 3], 1] *= squeeze
    theta = math.radians(angle)
    rotation = np.float32([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    placed = centred @ rotation.T
    span = placed.max(axis=0) - placed.min(axis=0)
    room = np.float32(FRAME_SIZE) - span
    centre = placed.min(axis=0) * -1 + np.float32([rng.uniform(0, max(room[0], 1)),
                                                   rng.uniform(0, max(room[1], 1))])
    placed = (placed + centre).astype(np.float32)
    homography = cv2.getPerspectiveTransform(corners, placed)
    warped = cv2.warpPerspective(card.astype(np.float32), homography, FRAME_SIZE,
                                 flags=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones_like(card, np.float32), homography, FRAME_SIZE)
    if zoom < 0.5:
        # Downscaling by warpPerspective aliases; a camera's optics average instead.
        warped = cv2.GaussianBlur(warped, (0, 0), 0.5 / zoom * 0.5)
    frame = frame * (1 - mask) + warped * mask
    frame = cv2.GaussianBlur(frame, (0, 0), 0.6)  # every lens blurs a little
    if variant == "blur":
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(1.0, 1.5))
    if variant == "upside-down":
        # A little out of focus in a dimmer hall: where pyzbar misreads a turned Code 128.
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.6, 1.45))
    if variant == "low-contrast":
        low, high = rng.uniform(80, 110), rng.uniform(135, 160)
        frame = low + frame * (high - low) / 255
    if variant == "glare":
        # A bright reflection across part of the badge, saturating the sensor in its middle.
        cx, cy = placed.mean(axis=0) + rng.uniform(-0.25, 0.25, 2) * span
        yy, xx = np.mgrid[0:FRAME_SIZE[1], 0:FRAME_SIZE[0]].astype(np.float32)
        radius = rng.uniform(0.15, 0.3) * span.max()
        frame = frame + rng.uniform(150, 230) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2)
                                                       / (2 * radius ** 2))
    noise = 3
    if variant == "noise":
        noise = rng.uniform(14, 24)
    if variant == "upside-down":
        noise = rng.uniform(3, 10)
    frame = frame + rng.normal(0, noise, frame.shape)
    return Frame(np.clip(frame, 0, 255).astype(np.uint8), text, symbology, variant)
