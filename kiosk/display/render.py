"""How each kiosk screen looks on a 128x64 one-bit OLED. Pure: draws on a PIL ImageDraw.

Text uses Pillow's bundled font (Aileron) so every machine draws the same pixels. Positions
are text baselines; long text is cut with an ellipsis rather than run off the glass.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from kiosk.screens import Armed, AlreadyCheckedIn, CheckedIn, Idle, Notice, Problem, Screen, Welcome

WIDTH, HEIGHT = 128, 64
INK, PAPER = 255, 0  # a mode "1" image: lit pixel, dark pixel
MARGIN = 2
ELLIPSIS = "…"

TINY, SMALL, MEDIUM = 10, 12, 14  # Aileron at 11 px spaces its letters unevenly
NAME_SIZES = (20, 18, 16, 14)  # the name is the biggest thing on the screen, as big as fits
TITLE_SIZES = (16, 14, 12)
BOLD_FROM = 14  # the font is light: from this size on, draw twice 1 px apart to embolden


@lru_cache(maxsize=None)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def text_width(text: str, size: int) -> int:
    """Width in pixels as drawn (hinted one-bit glyphs are wider than the outline says)."""
    if size >= BOLD_FROM:
        return sum(_bold_advances(text, size))
    return int(font(size).getlength(text, mode="1"))


@lru_cache(maxsize=1024)
def _bold_advances(text: str, size: int) -> tuple[int, ...]:
    """Per-character advances for faux bold: widened where the extra pixel would touch
    the next letter, so "rn" never reads as "m"."""
    advances = []
    for char, following in zip(text, text[1:] + " "):
        advance = int(font(size).getlength(char, mode="1"))
        ink, ink_next = _ink_columns(char, size), _ink_columns(following, size)
        if ink and ink_next:
            gap = advance - ink[1] + ink_next[0]  # blank columns between the two, drawn plain
            advance += max(0, 2 - gap)
        elif not ink:
            advance += 1  # a space gives back the column the bold letter before it took
        advances.append(advance)
    if text:
        advances[-1] += 1  # the bold pixel of the last letter
    return tuple(advances)


@lru_cache(maxsize=1024)
def _ink_columns(char: str, size: int) -> tuple[int, int] | None:
    """First lit column and one past the last, relative to the pen position; None if blank."""
    pad = size
    image = Image.new("1", (3 * size, 3 * size))
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    draw.text((pad, 2 * size), char, font=font(size), fill=INK, anchor="ls")
    box = image.getbbox()
    return (box[0] - pad, box[2] - pad) if box else None


def fit(text: str, size: int, width: int) -> str:
    """`text`, cut with an ellipsis if needed so it is at most `width` pixels wide."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text.rstrip() + ELLIPSIS, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def largest(text: str, sizes: tuple[int, ...], width: int) -> tuple[int, str]:
    """The largest size at which `text` fits whole; else the smallest, with an ellipsis."""
    for size in sizes:
        if text_width(text, size) <= width:
            return size, text
    return sizes[-1], fit(text, sizes[-1], width)


def wrap(text: str, size: int, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap into at most `max_lines`, the last one cut with an ellipsis. A word too
    long for a line (an event id) is broken after a hyphen where one fits."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        if text_width(line, size) > width:
            head, tail = _break_after_hyphen(line, size, width)
            if tail:
                line = head
                words.insert(0, tail)
        while words and text_width(f"{line} {words[0]}", size) <= width:
            line = f"{line} {words.pop(0)}"
        if len(lines) == max_lines - 1 and words:
            line = f"{line} {' '.join(words)}"
            words = []
        lines.append(fit(line, size, width))
    return lines


def _break_after_hyphen(word: str, size: int, width: int) -> tuple[str, str]:
    """The longest start of `word` that ends in a hyphen and fits, and the rest; else (word, "")."""
    for i in range(len(word) - 2, 0, -1):
        if word[i] == "-" and text_width(word[:i + 1], size) <= width:
            return word[:i + 1], word[i + 1:]
    return word, ""


def write(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int,
          anchor: str = "ls", fill: int = INK) -> None:
    """Draw `text` with its baseline at xy[1]; `anchor` as Pillow's ("ls", "ms", "rs")."""
    if not text:
        return
    draw.fontmode = "1"  # no grey edges: the panel is one-bit
    x, y = xy
    if size < BOLD_FROM:
        draw.text((x, y), text, font=font(size), fill=fill, anchor=anchor)
        return
    # Faux bold: each glyph twice, 1 px apart.
    x -= {"l": 0, "m": text_width(text, size) // 2, "r": text_width(text, size)}[anchor[0]]
    for char, advance in zip(text, _bold_advances(text, size)):
        draw.text((x, y), char, font=font(size), fill=fill, anchor="l" + anchor[1])
        if char != ELLIPSIS:  # emboldened dots would run together
            draw.text((x + 1, y), char, font=font(size), fill=fill, anchor="l" + anchor[1])
        x += advance


def centred(draw: ImageDraw.ImageDraw, baseline: int, text: str, size: int, fill: int = INK) -> None:
    write(draw, (WIDTH // 2, baseline), text, size, anchor="ms", fill=fill)


def check_mark(draw: ImageDraw.ImageDraw, x: int, y: int, scale: float = 1.0, width: int = 3) -> None:
    """A tick drawn with lines (the font has no ✓); (x, y) is the top-left of its 22x16 box."""
    points = [(0, 8), (7, 15), (21, 1)]
    draw.line([(x + round(px * scale), y + round(py * scale)) for px, py in points],
              fill=INK, width=width, joint="curve")


def cross_in_circle(draw: ImageDraw.ImageDraw, cx: int, cy: int, r: int) -> None:
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=INK, width=2)
    d = r // 2
    draw.line((cx - d, cy - d, cx + d, cy + d), fill=INK, width=2)
    draw.line((cx - d, cy + d, cx + d, cy - d), fill=INK, width=2)


def star(draw: ImageDraw.ImageDraw, cx: int, cy: int, fill: int) -> None:
    """A small four-pointed sparkle for the milestone banner (the font has no ★)."""
    draw.polygon([(cx, cy - 5), (cx + 1, cy - 1), (cx + 5, cy), (cx + 1, cy + 1),
                  (cx, cy + 5), (cx - 1, cy + 1), (cx - 5, cy), (cx - 1, cy - 1)], fill=fill)


def role_tag(draw: ImageDraw.ImageDraw, right: int | None, top: int, label: str,
             max_width: int = 60) -> int:
    """The role as a small lit tag, right-aligned at `right` (None: centred); returns its width."""
    label = fit(label, TINY, max_width)
    width = text_width(label, TINY) + 6
    if right is None:
        right = (WIDTH + width) // 2
    draw.rounded_rectangle((right - width + 1, top, right, top + 11), radius=2, fill=INK)
    write(draw, (right - 2, top + 9), label, TINY, anchor="rs", fill=PAPER)
    return width


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render(screen: Screen, draw: ImageDraw.ImageDraw) -> None:
    """Draw `screen` onto a blank 128x64 canvas."""
    match screen:
        case Idle():
            _idle(screen, draw)
        case Armed():
            _armed(screen, draw)
        case CheckedIn():
            _checked_in(screen, draw)
        case Welcome():
            _welcome(screen, draw)
        case AlreadyCheckedIn():
            _already_checked_in(screen, draw)
        case Problem():
            _problem(screen, draw)
        case Notice():
            _notice(screen, draw)
        case _:
            raise TypeError(f"not a kiosk screen: {screen!r}")


def _idle(screen: Idle, draw: ImageDraw.ImageDraw) -> None:
    # Top bar: event name left; online mark and clock right.
    clock_w = text_width(screen.clock, TINY)
    write(draw, (WIDTH - 1, 9), screen.clock, TINY, anchor="rs")
    cx, cy, r = WIDTH - clock_w - 7, 5, 3
    if screen.online:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=INK)
    else:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=INK)
    event = fit(screen.event_name or "No event", TINY, cx - r - 7)
    write(draw, (0, 9), event, TINY)
    draw.line((0, 12, WIDTH - 1, 12), fill=INK)

    if screen.warning:  # one line for what to do, and the warning lit beneath it
        centred(draw, 29, "Set-up mode" if screen.setup else "Scan your badge", MEDIUM)
        warning = fit(screen.warning, SMALL, WIDTH - 8)
        box_w = text_width(warning, SMALL) + 8
        left = (WIDTH - box_w) // 2
        draw.rounded_rectangle((left, 35, left + box_w - 1, 49), radius=3, fill=INK)
        centred(draw, 46, warning, SMALL, fill=PAPER)
    elif screen.setup:
        centred(draw, 31, "Set-up mode", MEDIUM)
        centred(draw, 46, "Show a set-up card", SMALL)
    else:
        centred(draw, 32, "Scan your", MEDIUM)
        centred(draw, 48, "badge", MEDIUM)

    if screen.queued > 0:
        write(draw, (0, 62), fit(f"{screen.queued} to sync", TINY, 70), TINY)
    if not screen.online:
        write(draw, (WIDTH - 1, 62), "offline", TINY, anchor="rs")


def _armed(screen: Armed, draw: ImageDraw.ImageDraw) -> None:
    size, label = largest(f"{screen.role_label}?", (24, 20, 16), WIDTH - 2 * MARGIN)
    centred(draw, 24, label, size)
    centred(draw, 43, "Scan your badge", SMALL)
    seconds = f"{max(screen.seconds_left, 0)} s"
    box_w = text_width(seconds, TINY) + 8
    left = (WIDTH - box_w) // 2
    draw.rounded_rectangle((left, 51, left + box_w - 1, 63), radius=3, fill=INK)
    centred(draw, 61, seconds, TINY, fill=PAPER)


def _checked_in(screen: CheckedIn, draw: ImageDraw.ImageDraw) -> None:
    check_mark(draw, 2, 13, scale=1.1)
    write(draw, (31, 30), fit("Checked in", 16, WIDTH - 31), 16)
    if screen.role_label:
        role_tag(draw, WIDTH - 1, 0, screen.role_label)
    if screen.will_sync:
        centred(draw, 54, "Offline: will sync later", TINY)
    else:
        centred(draw, 54, "Thank you!", SMALL)


def _welcome(screen: Welcome, draw: ImageDraw.ImageDraw) -> None:
    stats = f"{plural(screen.points, 'point')} · {plural(screen.events, 'event')}"
    lower = [stats, screen.progress or ""]
    if screen.milestone:
        draw.rectangle((0, 0, WIDTH - 1, 13), fill=INK)
        size, banner = largest(f"{screen.milestone}!", (MEDIUM,), WIDTH - 30)
        centred(draw, 11, banner, size, fill=PAPER)
        half = text_width(banner, size) // 2
        star(draw, WIDTH // 2 - half - 10, 6, PAPER)
        star(draw, WIDTH // 2 + half + 10, 6, PAPER)
        # No header for the role: say it on a spare lower line, or beside the stats.
        if screen.role_label and not lower[1]:
            lower[1] = screen.role_label
        elif screen.role_label:
            with_role = f"{screen.role_label} · {stats}"
            if text_width(with_role, SMALL) <= WIDTH:
                lower[0] = with_role
    else:
        role_w = role_tag(draw, WIDTH - 1, 0, screen.role_label) if screen.role_label else 0
        write(draw, (0, 9), fit("Welcome!", TINY, WIDTH - role_w - 4), TINY)
    size, name = largest(screen.name, NAME_SIZES, WIDTH - 4)
    centred(draw, 33, name, size)
    centred(draw, 48, fit(lower[0], SMALL, WIDTH), SMALL)
    centred(draw, 61, fit(lower[1], SMALL, WIDTH), SMALL)  # its descenders need rows 61-63


def _already_checked_in(screen: AlreadyCheckedIn, draw: ImageDraw.ImageDraw) -> None:
    # Two small ticks: "seen you already", the same sense as the repeat tone.
    check_mark(draw, 0, 2, scale=0.5, width=2)
    check_mark(draw, 6, 2, scale=0.5, width=2)
    write(draw, (20, 10), "Already checked in", TINY)
    size, name = largest(screen.name or "Thank you!", NAME_SIZES, WIDTH - 4)
    centred(draw, 37, name, size)
    if screen.role_label:
        role_tag(draw, None, 48, screen.role_label, WIDTH - 8)


def _problem(screen: Problem, draw: ImageDraw.ImageDraw) -> None:
    top = 0 if screen.detail else 12  # no detail: centre the title instead
    cross_in_circle(draw, 11, top + 15, 10)
    left = 27
    size = 14
    title = wrap(screen.title, size, WIDTH - left, 2)
    if len(title) == 1:
        size, line = largest(screen.title, TITLE_SIZES, WIDTH - left)
        write(draw, (left, top + 21), line, size)
    else:
        write(draw, (left, top + 13), title[0], size)
        write(draw, (left, top + 29), title[1], size)
    # Two detail lines under the title; three when a one-line title leaves room (nmcli's reasons).
    detail = wrap(screen.detail, TINY, WIDTH, 3 if len(title) == 1 else 2)
    first = 48 if len(detail) < 3 else 35
    for i, line in enumerate(detail):
        centred(draw, first + 13 * i, line, TINY)


def _notice(screen: Notice, draw: ImageDraw.ImageDraw) -> None:
    size = 14
    title = wrap(screen.title, size, WIDTH - 2 * MARGIN, 2)
    detail = wrap(screen.detail, SMALL, WIDTH - 2 * MARGIN, 2)
    if len(title) == 1:
        size, line = largest(screen.title, TITLE_SIZES, WIDTH - 2 * MARGIN)
        title = [line]
    # Title lines 16 px apart, then a pixel more and detail lines 13 apart: the block centred
    # vertically, but with the last line's descenders (3 px) kept off the bottom edge.
    offsets = [16 * i for i in range(len(title))]
    offsets += [16 * len(title) + 1 + 13 * i for i in range(len(detail))]
    if not offsets:
        return
    top = min((HEIGHT - 16 * len(title) - 13 * len(detail)) // 2 + 13, HEIGHT - 4 - offsets[-1])
    for offset, line in zip(offsets, title):
        centred(draw, top + offset, line, size)
    for offset, line in zip(offsets[len(title):], detail):
        centred(draw, top + offset, line, SMALL)
