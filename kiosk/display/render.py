"""How each kiosk screen looks on a 128x64 one-bit OLED. Pure: draws on a PIL ImageDraw.

Text uses Pillow's bundled font (Aileron) so every machine draws the same pixels. Positions
are text baselines; long text is cut with an ellipsis rather than run off the glass. That font has
no accented letters, so Welsh's to bach (â ô ŵ ŷ…) and other accents are drawn here: the plain
letter, and the accent as a few pixels above it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from gettext import NullTranslations

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


# Combining accents drawn over a plain letter: circumflex (to bach), acute, grave, diaeresis.
ACCENTS = {"\u0302", "\u0301", "\u0300", "\u0308"}


@lru_cache(maxsize=None)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def without_accents(text: str) -> tuple[str, list[tuple[int, str]]]:
    """``text`` with each accented letter as its plain one, and (position, accent) for each."""
    plain, accents = [], []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        if len(parts) == 2 and parts[1] in ACCENTS:
            accents.append((len(plain), parts[1]))
            char = parts[0]
        plain.append(char)
    return "".join(plain), accents


def text_width(text: str, size: int) -> int:
    """Width in pixels as drawn (hinted one-bit glyphs are wider than the outline says)."""
    text = without_accents(text)[0]
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
    box = _ink_box(char, size)
    return (box[0], box[2]) if box else None


@lru_cache(maxsize=1024)
def _ink_box(char: str, size: int) -> tuple[int, int, int, int] | None:
    """The glyph's lit pixels (left, top, right, bottom) relative to pen and baseline; None if blank."""
    pad = size
    image = Image.new("1", (3 * size, 3 * size))
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    draw.text((pad, 2 * size), char, font=font(size), fill=INK, anchor="ls")
    box = image.getbbox()
    return (box[0] - pad, box[1] - 2 * size, box[2] - pad, box[3] - 2 * size) if box else None


def _accent(draw: ImageDraw.ImageDraw, x: int, y: int, char: str, accent: str, size: int,
            fill: int) -> None:
    """The accent over the plain letter ``char`` drawn with its pen at x on baseline y."""
    box = _ink_box(char, size)
    if box is None:
        return
    centre = x + (box[0] + box[2] - 1) // 2 + (1 if size >= BOLD_FROM else 0) // 2
    foot = y + box[1] - 2  # a blank row between the letter and its accent
    h = 2 if size < BOLD_FROM else 3
    weight = 2 if size >= BOLD_FROM else 1
    for dx in range(weight):  # bold text gets a bold accent, like its letters
        cx = centre + dx
        if accent == "\u0302":
            draw.line([(cx - h, foot), (cx, foot - h), (cx + h, foot)], fill=fill)
        elif accent == "\u0301":
            draw.line([(cx - 1, foot), (cx + 1, foot - h)], fill=fill)
        elif accent == "\u0300":
            draw.line([(cx + 1, foot), (cx - 1, foot - h)], fill=fill)
        else:
            draw.point([(cx - 2, foot - 1), (cx + 2, foot - 1)], fill=fill)


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
    text, accents = without_accents(text)
    x, y = xy
    if size < BOLD_FROM and not accents:
        draw.text((x, y), text, font=font(size), fill=fill, anchor=anchor)
        return
    x -= {"l": 0, "m": text_width(text, size) // 2, "r": text_width(text, size)}[anchor[0]]
    if size < BOLD_FROM:
        draw.text((x, y), text, font=font(size), fill=fill, anchor="l" + anchor[1])
        for i, accent in accents:
            _accent(draw, x + int(font(size).getlength(text[:i], mode="1")), y, text[i], accent, size, fill)
        return
    # Faux bold: each glyph twice, 1 px apart.
    pens = []
    for char, advance in zip(text, _bold_advances(text, size)):
        pens.append(x)
        draw.text((x, y), char, font=font(size), fill=fill, anchor="l" + anchor[1])
        if char != ELLIPSIS:  # emboldened dots would run together
            draw.text((x + 1, y), char, font=font(size), fill=fill, anchor="l" + anchor[1])
        x += advance
    for i, accent in accents:
        _accent(draw, pens[i], y, text[i], accent, size, fill)


def centred(draw: ImageDraw.ImageDraw, baseline: int, text: str, size: int, fill: int = INK) -> None:
    write(draw, (WIDTH // 2, baseline), text, size, anchor="ms", fill=fill)


def centred_line(draw: ImageDraw.ImageDraw, baseline: int, text: str, sizes: tuple[int, ...],
                 fill: int = INK) -> None:
    """A line at the first of ``sizes`` at which it fits the glass (a translation may be longer)."""
    size, text = largest(text, sizes, WIDTH - 2 * MARGIN)
    centred(draw, baseline, text, size, fill)


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


ENGLISH = NullTranslations()


def render(screen: Screen, draw: ImageDraw.ImageDraw, words: NullTranslations = ENGLISH) -> None:
    """Draw `screen` onto a blank 128x64 canvas, its fixed words from the catalogue ``words``
    (the screen's own values arrive in the kiosk's language already)."""
    match screen:
        case Idle():
            _idle(screen, draw, words)
        case Armed():
            _armed(screen, draw, words)
        case CheckedIn():
            _checked_in(screen, draw, words)
        case Welcome():
            _welcome(screen, draw, words)
        case AlreadyCheckedIn():
            _already_checked_in(screen, draw, words)
        case Problem():
            _problem(screen, draw)
        case Notice():
            _notice(screen, draw)
        case _:
            raise TypeError(f"not a kiosk screen: {screen!r}")


def _idle(screen: Idle, draw: ImageDraw.ImageDraw, words: NullTranslations) -> None:
    _ = words.gettext
    # Top bar: event name left; online mark and clock right.
    clock_w = text_width(screen.clock, TINY)
    write(draw, (WIDTH - 1, 9), screen.clock, TINY, anchor="rs")
    cx, cy, r = WIDTH - clock_w - 7, 5, 3
    if screen.online:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=INK)
    else:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=INK)
    event = fit(screen.event_name or _("No event"), TINY, cx - r - 7)
    write(draw, (0, 9), event, TINY)
    draw.line((0, 12, WIDTH - 1, 12), fill=INK)

    if screen.warning:  # one line for what to do, and the warning lit beneath it
        centred_line(draw, 29, _("Set-up mode") if screen.setup else _("Scan your badge"), (MEDIUM, SMALL))
        warning = fit(screen.warning, SMALL, WIDTH - 8)
        box_w = text_width(warning, SMALL) + 8
        left = (WIDTH - box_w) // 2
        draw.rounded_rectangle((left, 35, left + box_w - 1, 49), radius=3, fill=INK)
        centred(draw, 46, warning, SMALL, fill=PAPER)
    elif screen.setup:
        centred_line(draw, 31, _("Set-up mode"), (MEDIUM, SMALL))
        centred_line(draw, 46, _("Show a set-up card"), (SMALL, TINY))
    else:
        # The call to scan, over two lines as the translation breaks it.
        for baseline, line in zip((32, 48), _("Scan your\nbadge").split("\n")):
            centred_line(draw, baseline, line, (MEDIUM, SMALL))

    if screen.queued > 0:
        write(draw, (0, 62), fit(_("{queued} to sync").format(queued=screen.queued), TINY, 70), TINY)
    if not screen.online:
        write(draw, (WIDTH - 1, 62), _("offline"), TINY, anchor="rs")


def _armed(screen: Armed, draw: ImageDraw.ImageDraw, words: NullTranslations) -> None:
    size, label = largest(f"{screen.role_label}?", (24, 20, 16), WIDTH - 2 * MARGIN)
    centred(draw, 24, label, size)
    centred_line(draw, 43, words.gettext("Scan your badge"), (SMALL, TINY))
    seconds = words.gettext("{seconds} s").format(seconds=max(screen.seconds_left, 0))
    box_w = text_width(seconds, TINY) + 8
    left = (WIDTH - box_w) // 2
    draw.rounded_rectangle((left, 51, left + box_w - 1, 63), radius=3, fill=INK)
    centred(draw, 61, seconds, TINY, fill=PAPER)


def _checked_in(screen: CheckedIn, draw: ImageDraw.ImageDraw, words: NullTranslations) -> None:
    _ = words.gettext
    check_mark(draw, 2, 13, scale=1.1)
    size, title = largest(_("Checked in"), (16, MEDIUM), WIDTH - 31)
    write(draw, (31, 30), title, size)
    if screen.role_label:
        role_tag(draw, WIDTH - 1, 0, screen.role_label)
    if screen.will_sync:
        centred_line(draw, 54, _("Offline: will sync later"), (TINY,))
    else:
        centred_line(draw, 54, _("Thank you!"), (SMALL, TINY))


def _welcome(screen: Welcome, draw: ImageDraw.ImageDraw, words: NullTranslations) -> None:
    points = words.ngettext("{n} point", "{n} points", screen.points).format(n=screen.points)
    events = words.ngettext("{n} event", "{n} events", screen.events).format(n=screen.events)
    stats = f"{points} · {events}"
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
        write(draw, (0, 9), fit(words.gettext("Welcome!"), TINY, WIDTH - role_w - 4), TINY)
    size, name = largest(screen.name, NAME_SIZES, WIDTH - 4)
    centred(draw, 33, name, size)
    centred_line(draw, 48, lower[0], (SMALL, TINY))
    centred_line(draw, 61, lower[1], (SMALL, TINY))  # its descenders need rows 61-63


def _already_checked_in(screen: AlreadyCheckedIn, draw: ImageDraw.ImageDraw, words: NullTranslations) -> None:
    _ = words.gettext
    # Two small ticks: "seen you already", the same sense as the repeat tone.
    check_mark(draw, 0, 2, scale=0.5, width=2)
    check_mark(draw, 6, 2, scale=0.5, width=2)
    write(draw, (20, 10), fit(_("Already checked in"), TINY, WIDTH - 20), TINY)
    size, name = largest(screen.name or _("Thank you!"), NAME_SIZES, WIDTH - 4)
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
