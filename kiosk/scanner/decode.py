"""Camera decoding: find the badge codes in a grey frame with zxing-cpp and pyzbar together.

The chain, in the order a frame meets it:

1. zxing-cpp reads the whole frame (fast, and good on tilted or perspective codes); pyzbar
   reads the patch around every Code 128 it finds, to check it.
2. When zxing-cpp reads nothing but found a QR code it could not read (a checksum failed,
   as it does on some codes held at an angle), pyzbar reads the whole frame for QR. So it
   does when the finder's blocks (step 3) show a region like a QR code: edges in more than
   one direction, filling a rough square at least 96 pixels across (a reflection can wash
   out a corner so that zxing-cpp does not even find the code; pyzbar may read it).
3. Otherwise a cheap finder looks at a half-size copy for patches of parallel bars and
   pyzbar reads only those, so on an empty frame the chain costs little more than zxing-cpp
   alone. A patch whose bars are tilted is also turned upright and read by both decoders.
   Once any of these reads something, the patch is also sharpened and read by both, so
   every read of it can be checked against the others. If the finder saw bars (patches,
   or a region too large to be one) but no look at a patch read anything, pyzbar reads the
   whole frame (the badge may be a patch not picked, reach past one, or be joined to the
   cables across it); with nothing to check them against, only its reads that are
   Turnout codes count (pyzbar misreads a turned, blurred ``T511825`` as ``T,&29`` on the
   frame as taken too).
4. Reads at the same place are one symbol. A read counts when a decoder made it on pixels
   as the camera took them (the frame, or a patch of it), or both decoders made it on
   pixels the chain made (turned upright, sharpened). One decoder on two transformations
   is not enough: pyzbar misreads blurred, turned Code 128 (``T89263`` as ``'89263``) the
   same way after turning and after sharpening. The symbol is reported only when
   - it has a read that counts, and
   - no read disagrees with its text, or else the text is read as taken and every
     dissenting read is outvoted: one decoder's alone (the other never reads that text)
     that is no Turnout code, against a text that is one (only a Turnout code can credit
     a stranger, and the decoders' misreads of badges are junk: ``'68590`` for
     ``T68590``, ``T,V#$`` for ``T540331``, as taken); or one decoder's alone on pixels the
     chain made, against a text read by both decoders (both decoders can agree on a
     misread of a turned patch: ``T511825`` as ``T,&29``). Any other dissent, such as a
     badge that passes its checks, leaves the symbol in doubt: it would credit a
     stranger. And
   - its text is read as taken, or by both decoders on the same pixels the chain made, or
     else (both decoders, on different transformations) it is a Turnout code: a badge that
     passes its check digit, or a card. pyzbar upright and zxing-cpp sharpened both read a
     turned ``T89263`` as ``'89263`` on one bench frame, and read badges right with the
     same looks on others: only the text tells them apart. And
   - if only pyzbar reads its text and it is Code 128, the text is a Turnout code: nothing
     checked it, and pyzbar misreads blurred Code 128 as taken (``'278999`` for
     ``T278999``, ``T,%sH`` for ``T508340`` on a bar patch zxing-cpp reads nothing on).

Both decoders are restricted to the symbologies badges use (QR and Code 128): unrestricted,
zbar reads phantom Interleaved 2 of 5 codes in empty frames. No badge validation happens
here beyond those uses of it (which reads confirm a text, which dissents stand, what
pyzbar alone may report on Code 128): a text as taken, or read on the same pixels by both
decoders, is otherwise reported whatever it is.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

import numpy as np

QR = "qr"
CODE128 = "code128"
CODE39 = "code39"
EAN13 = "ean13"
# What badges and cards are printed as (hub/printing/symbols.py); the only ones the kiosk reads.
BADGE_SYMBOLOGIES: tuple[str, ...] = (QR, CODE128)

# Half size still shows bars two pixels wide; the finder judges blocks of 8x8 half-size pixels.
FINDER_SCALE = 2
FINDER_BLOCK = 8
# Gradient that flips sign within a block: bars, not a single edge.
FINDER_THRESHOLD = 45.0
# Gradient that points one way: bars, not text, foliage or a QR code (zxing-cpp reads those).
FINDER_COHERENCE = 0.9
# Fewer blocks than this (16x16 frame pixels each) cannot hold a readable Code 128.
FINDER_MIN_BLOCKS = 8
# Bars one block long are a fence or a keyboard edge: a printed Code 128 is a third as tall as wide.
FINDER_MIN_SIDE = 2
# Larger than this share of the frame is a striped shirt or a blind, not a badge in a hand.
FINDER_MAX_SHARE = 0.4
FINDER_MAX_PATCHES = 2
# A QR code zxing-cpp neither reads nor finds is for pyzbar only when it spans this many
# blocks (96 frame pixels): pyzbar reads no smaller one (the bench's small QR row, 0 %).
QR_MIN_SIDE = 6
# Bars tilted more than this are turned upright before decoding the patch again.
DESKEW_MIN_ANGLE = 8.0
# Quiet zone left around a patch so pyzbar sees the symbol's edges.
PATCH_MARGIN = 16
# Unsharp mask for the sharpened look: blur of this many pixels, taken away once.
SHARPEN_SIGMA = 1.5

# How a decoder saw a symbol ("looks"). A read on pixels as the camera took them may count
# alone; a read on pixels the chain made counts only when the other decoder reads the same.
FRAME = "frame"  # the whole frame, or the patch around a zxing-cpp read
PATCH = "patch"  # a patch the bar finder picked
UPRIGHT = "upright"  # that patch turned so its bars stand upright
SHARPENED = "sharpened"  # the upright patch with its edges sharpened (unsharp mask)
AS_TAKEN = (FRAME, PATCH)


@dataclass(frozen=True)
class Decoded:
    """One symbol found in a frame: its text and symbology (``qr``, ``code128``)."""

    text: str
    type: str


@dataclass(frozen=True)
class Read:
    """A decoder's read of one symbol, with where it was (x0, y0, x1, y1 in frame pixels)
    and how the decoder saw it (``look``: ``frame``, ``patch``, ``upright``, ``sharpened``)."""

    text: str
    type: str
    box: tuple[int, int, int, int]
    decoder: str
    look: str = FRAME

    def decoded(self) -> Decoded:
        return Decoded(self.text, self.type)


# --- the two decoders -----------------------------------------------------------------------

@dataclass
class _Zxing:
    formats: object
    names: dict


_zxing_cache: dict[tuple[str, ...], _Zxing] = {}


def _zxing(symbologies: Sequence[str]) -> _Zxing:
    key = tuple(symbologies)
    if key not in _zxing_cache:
        import zxingcpp

        by_name = {QR: zxingcpp.BarcodeFormat.QRCode, CODE128: zxingcpp.BarcodeFormat.Code128,
                   CODE39: zxingcpp.BarcodeFormat.Code39, EAN13: zxingcpp.BarcodeFormat.EAN13}
        formats = [by_name[name] for name in key]
        _zxing_cache[key] = _Zxing(formats, {by_name[name]: name for name in key})
    return _zxing_cache[key]


def zxing_reads(gray: np.ndarray, symbologies: Sequence[str] = BADGE_SYMBOLOGIES,
                offset: tuple[int, int] = (0, 0)) -> list[Read]:
    """zxing-cpp alone, restricted to ``symbologies``, with its default search (rotations,
    downscaled and inverted copies)."""
    return _zxing_scan(gray, symbologies, offset)[0]


def _zxing_scan(gray: np.ndarray, symbologies: Sequence[str], offset: tuple[int, int] = (0, 0),
                errors: bool = False) -> tuple[list[Read], list[str]]:
    """zxing-cpp's reads, and with ``errors`` the symbologies of symbols it found but could
    not read (a checksum failed): a QR code there is for pyzbar to try. (Asked for errors,
    zxing-cpp may stop its search at a failed symbol and miss a read it would make.)"""
    import zxingcpp

    z = _zxing(symbologies)
    reads, unread = [], []
    for barcode in zxingcpp.read_barcodes(gray, formats=z.formats, return_errors=errors):
        p = barcode.position
        xs = (p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x)
        ys = (p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y)
        box = (min(xs) + offset[0], min(ys) + offset[1], max(xs) + offset[0], max(ys) + offset[1])
        if barcode.error:
            # QR Code, Micro QR Code, rMQR Code: one family, and the one pyzbar may read.
            unread.append(QR if "QR" in str(barcode.format) else str(barcode.format))
            continue
        reads.append(Read(barcode.text, z.names.get(barcode.format, str(barcode.format)), box,
                          "zxing-cpp"))
    return reads, unread


_ZBAR_NAMES = {QR: "QRCODE", CODE128: "CODE128", CODE39: "CODE39", EAN13: "EAN13"}


def pyzbar_reads(gray: np.ndarray, symbologies: Sequence[str] = BADGE_SYMBOLOGIES,
                 offset: tuple[int, int] = (0, 0)) -> list[Read]:
    """pyzbar (zbar) alone, restricted to ``symbologies``."""
    from pyzbar import pyzbar

    gray = np.ascontiguousarray(gray)
    symbols = [pyzbar.ZBarSymbol[_ZBAR_NAMES[name]] for name in symbologies]
    names = {_ZBAR_NAMES[name]: name for name in symbologies}
    reads = []
    for found in pyzbar.decode((gray.tobytes(), gray.shape[1], gray.shape[0]), symbols=symbols):
        try:
            text = found.data.decode("utf-8")
        except UnicodeDecodeError:
            text = found.data.decode("latin-1")
        xs = [pt.x for pt in found.polygon] or [found.rect.left, found.rect.left + found.rect.width]
        ys = [pt.y for pt in found.polygon] or [found.rect.top, found.rect.top + found.rect.height]
        box = (min(xs) + offset[0], min(ys) + offset[1], max(xs) + offset[0], max(ys) + offset[1])
        reads.append(Read(text, names.get(found.type, found.type.lower()), box, "pyzbar"))
    return reads


# --- the finder: where might pyzbar find bars zxing-cpp missed? ----------------------------

@dataclass(frozen=True)
class Patch:
    """A patch of parallel bars: its box in frame pixels, the bars' angle from upright, and
    its centre and size (across the bars, along them) once turned upright, in frame pixels."""

    box: tuple[int, int, int, int]
    angle: float
    centre: tuple[float, float]
    size: tuple[float, float]


@dataclass(frozen=True)
class _Blocks:
    """The finder's view of a frame: per block of a half-size copy, how much its gradient
    flips sign (``alternating``), the structure tensor (``jxx``, ``jyy``, ``jxy``) and how
    much the gradient points one way (``coherence``: 1 for bars, lower for a QR code)."""

    alternating: np.ndarray
    jxx: np.ndarray
    jyy: np.ndarray
    jxy: np.ndarray
    coherence: np.ndarray
    grid: tuple[int, int]


def _blocks(gray: np.ndarray) -> _Blocks | None:
    import cv2

    h, w = gray.shape
    if min(h, w) < FINDER_SCALE * FINDER_BLOCK * FINDER_MIN_SIDE:
        return None
    small = cv2.resize(gray, (w // FINDER_SCALE, h // FINDER_SCALE), interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    grid = (small.shape[1] // FINDER_BLOCK, small.shape[0] // FINDER_BLOCK)

    def block_mean(values):
        return cv2.resize(values, grid, interpolation=cv2.INTER_AREA)

    alternating = (block_mean(np.abs(gx)) - np.abs(block_mean(gx))
                   + block_mean(np.abs(gy)) - np.abs(block_mean(gy)))
    jxx, jyy, jxy = block_mean(gx * gx), block_mean(gy * gy), block_mean(gx * gy)
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / (jxx + jyy + 1e-3)
    return _Blocks(alternating, jxx, jyy, jxy, coherence, grid)


def find_bars(gray: np.ndarray, max_patches: int = FINDER_MAX_PATCHES) -> list[Patch]:
    """Patches that look like a 1D barcode, largest first (about 0.3 ms on 640x480).

    Works on blocks of a half-size copy. A block is bar-like when its gradient flips sign
    often (mean |g| much larger than |mean g|: many edges, not one shadow or sleeve edge)
    and points one way (structure-tensor coherence: bars, not text or foliage).
    """
    blocks = _blocks(gray)
    return _find_bars(blocks, max_patches)[0] if blocks else []


def _find_bars(blocks: _Blocks, max_patches: int = FINDER_MAX_PATCHES
               ) -> tuple[list[Patch], bool]:
    """``find_bars``, and whether a bar-like region was left out for being too large: a
    striped shirt, or a badge joined to the cables across it."""
    import cv2

    alternating, coherence, grid = blocks.alternating, blocks.coherence, blocks.grid
    jxx, jyy, jxy = blocks.jxx, blocks.jyy, blocks.jxy
    mask = ((alternating > FINDER_THRESHOLD) & (coherence > FINDER_COHERENCE)).astype(np.uint8)
    # Close one-block gaps (a reflection, a dim bar) so a symbol is one patch, quiet zones and all.
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    # Then cut off chains one block wide (cables, edges, lines of text) so they cannot join a
    # symbol's patch and make it too large or the wrong shape to be picked: keep what lies
    # within a block of a 2x2-block core. (Opened by hand: OpenCV's MORPH_OPEN with an even
    # kernel moves the mask by a block.)
    pair = np.ones((2, 2), np.uint8)
    core = cv2.dilate(cv2.erode(mask, pair, anchor=(0, 0)), pair, anchor=(1, 1))
    mask = mask & cv2.dilate(core, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    scale = FINDER_SCALE * FINDER_BLOCK
    found = []
    too_large = False
    for label in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[label])
        if area < FINDER_MIN_BLOCKS or min(bw, bh) < FINDER_MIN_SIDE:
            continue
        if bw * bh > FINDER_MAX_SHARE * grid[0] * grid[1]:
            too_large = True
            continue
        inside = labels == label
        # Gradient direction across the bars; bars are upright when it is horizontal.
        angle = 0.5 * np.degrees(np.arctan2(2 * jxy[inside].sum(), (jxx - jyy)[inside].sum()))
        centre, size = _turned_extent(inside, angle, scale)
        found.append((area, Patch((x * scale, y * scale, (x + bw) * scale, (y + bh) * scale),
                                  float(angle), centre, size)))
    found.sort(key=lambda item: -item[0])
    return [patch for _, patch in found[:max_patches]], too_large


def _finds_qr(blocks: _Blocks) -> bool:
    """Whether a region looks like a QR code: blocks whose gradient flips sign often and
    points more than one way (modules, not bars), a filled, roughly square region at least
    QR_MIN_SIDE blocks across. Text and foliage can look so too, so this only decides
    whether pyzbar is asked; 2 of the 46 photos without barcodes have such a region."""
    import cv2

    mask = ((blocks.alternating > FINDER_THRESHOLD)
            & (blocks.coherence <= FINDER_COHERENCE)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    limit = FINDER_MAX_SHARE * blocks.grid[0] * blocks.grid[1]
    for x, y, bw, bh, area in stats[1:]:
        short, long = sorted((int(bw), int(bh)))
        filled = 2 * area >= bw * bh
        if short >= QR_MIN_SIDE and long <= 2 * short and filled and bw * bh <= limit:
            return True
    return False


def _turned_extent(inside: np.ndarray, angle: float, scale: int
                   ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Centre and size of a patch's blocks measured across and along its bars (frame pixels),
    so turning it upright needs only an image that size, not the square around its box."""
    rows, cols = np.nonzero(inside)
    x, y = (cols + 0.5) * scale, (rows + 0.5) * scale
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    across, along = x * c + y * s, -x * s + y * c
    block = scale * (abs(c) + abs(s))  # a block's own extent on a turned axis
    mid_across = (across.min() + across.max()) / 2
    mid_along = (along.min() + along.max()) / 2
    centre = (float(mid_across * c - mid_along * s), float(mid_across * s + mid_along * c))
    return centre, (float(np.ptp(across) + block), float(np.ptp(along) + block))


def _grow(box: tuple[int, int, int, int], margin: int, shape: tuple[int, ...]
          ) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (max(0, x0 - margin), max(0, y0 - margin),
            min(shape[1], x1 + margin), min(shape[0], y1 + margin))


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int], slack: int = 4) -> bool:
    return (a[0] - slack < b[2] and b[0] - slack < a[2]
            and a[1] - slack < b[3] and b[1] - slack < a[3])


# --- the chain ------------------------------------------------------------------------------

def _agree(a: Read, b: Read) -> bool:
    if a.text == b.text:
        return True
    # zbar keeps only the low 7 bits of Code 128's extended (FNC4) characters.
    pair = {a.decoder: a.text, b.decoder: b.text}
    if CODE128 in (a.type, b.type) and set(pair) == {"zxing-cpp", "pyzbar"}:
        seven_bit = "".join(chr(ord(ch) & 0x7F) if ord(ch) < 256 else ch
                            for ch in pair["zxing-cpp"])
        return seven_bit == pair["pyzbar"]
    return False


def merge(reads: Iterable[Read]) -> list[Read]:
    """One read per symbol. A symbol read only on pixels the chain made (``upright``,
    ``sharpened``) by only one of the decoders yields nothing, and so does one whose reads
    disagree about its text, unless the text is read as taken and every dissent is
    outvoted (``_outvoted``), and so does a text both decoders read only on different
    transformations that is no Turnout code, or a Code 128 text only pyzbar reads that is
    none (see the module docstring)."""
    groups: list[list[Read]] = []
    for read in reads:
        joined = [g for g in groups if any(_overlap(read.box, other.box) for other in g)]
        for g in joined:
            groups.remove(g)
        groups.append([read] + [r for g in joined for r in g])
    merged = [symbol for symbol in map(_verdict, groups) if symbol is not None]
    merged.sort(key=lambda r: (r.box[1], r.box[0]))
    return merged


def _verdict(group: list[Read]) -> Read | None:
    """The read a symbol is reported as, or None when its reads leave it in doubt."""
    kept = [r for r in group if _confirmed(r, group)]
    # Prefer zxing-cpp's text: zbar drops the top bit of extended Code 128 characters.
    kept.sort(key=lambda r: r.decoder != "zxing-cpp")
    for first in kept:
        backing = [r for r in kept if _agree(first, r)]
        dissent = [r for r in group if not _agree(first, r)]
        if all(_outvoted(r, backing, group) for r in dissent) and _vouched(backing):
            return first
    return None  # nothing confirmed, or a dissent that may be the symbol read right


def _outvoted(dissent: Read, backing: list[Read], group: list[Read]) -> bool:
    """A dissenting read that cannot stand against ``backing`` (reads of one text):
    - one decoder's text that is no Turnout code, against a Turnout code read as taken.
      Only a Turnout code can credit a stranger, and the decoders' misreads of badges are
      junk ("'68590" for 'T68590', 'T,V#$' for 'T540331', 'T,&29' for 'T511825'), so such
      a dissent is a misread, not a rival; or
    - one decoder's read on pixels the chain made, against a text read as taken and by
      both decoders (pyzbar reads a turned patch right and wrong on different scan lines).
    Nothing else is: both decoders can agree on a misread of pixels the chain made
    ('T511825' as 'T,&29'), and a dissent that is a Turnout code may be the symbol read right.
    """
    if not any(r.look in AS_TAKEN for r in backing):
        return False
    lone = not any(other.decoder != dissent.decoder and _agree(dissent, other) for other in group)
    if lone and not _turnout_code(dissent.text) and _turnout_code(backing[0].text):
        return True
    return len({r.decoder for r in backing}) == 2 and not _confirmed(dissent, group)


def _confirmed(read: Read, group: list[Read]) -> bool:
    """Read on pixels as the camera took them, or else read alike by the other decoder."""
    return read.look in AS_TAKEN or any(
        other.decoder != read.decoder and _agree(read, other) for other in group)


def _vouched(kept: list[Read]) -> bool:
    """Reads that agree, one of them as taken or two by both decoders on the same pixels the
    chain made; else (both decoders on different transformations) only a Turnout code. A
    Code 128 text only pyzbar reads is vouched for only if it is a Turnout code, as taken
    too: nothing checked it, and pyzbar misreads blurred Code 128 as taken ("'278999" for
    'T278999', 'T,%sH' for 'T508340' on the finder's patch, with zxing-cpp reading nothing)."""
    if all(r.decoder == "pyzbar" and r.type == CODE128 for r in kept):
        return _turnout_code(kept[0].text)
    if any(r.look in AS_TAKEN for r in kept) or any(
            a.decoder != b.decoder and a.look == b.look for a in kept for b in kept):
        return True
    # pyzbar on the upright patch and zxing-cpp on it sharpened can both misread a turned
    # 'T89263' as "'89263", and just as often both read a badge right that neither reads as
    # taken: the looks cannot tell these apart, the text can.
    return _turnout_code(kept[0].text)


def _turnout_code(text: str) -> bool:
    """A code Turnout prints (a badge that passes its check digit, a card), not junk."""
    from turnout.codes import Foreign, Misread, classify

    return not isinstance(classify(text), (Foreign, Misread))


def chain_reads(gray: np.ndarray, symbologies: Sequence[str] = BADGE_SYMBOLOGIES) -> list[Read]:
    """The kiosk's decoder chain (see the module docstring), with where each symbol was."""
    gray = _as_gray(gray)
    reads, unread = _zxing_scan(gray, symbologies, errors=True)
    if unread and not reads:
        reads = zxing_reads(gray, symbologies)  # what the failed symbol may have cut short
    # A Code 128 read is checked by pyzbar too; QR's error correction makes a misread unlikely.
    if reads:
        checked = []
        for read in reads:
            if read.type == QR:
                checked.append(read)
                continue
            # Reported at the patch around it: zxing-cpp and pyzbar may read one symbol on scan
            # lines too far apart to overlap, and a disagreement between them must not escape.
            x0, y0, x1, y1 = box = _grow(read.box, PATCH_MARGIN, gray.shape)
            checked.append(Read(read.text, read.type, box, read.decoder))
            checked += [Read(r.text, r.type, box, r.decoder)
                        for r in pyzbar_reads(gray[y0:y1, x0:x1], symbologies)]
        return merge(checked)
    # A QR code zxing-cpp found but could not read (tilted away, it often fails a checksum)
    # pyzbar may read on the frame as taken. Empty frames have none of these. (Not on a crop
    # around it: zbar's QR reading comes and goes with the crop's edges.)
    if QR in unread:
        reads = pyzbar_reads(gray, [QR])
        if reads:
            return merge(reads)
    blocks = _blocks(gray)
    if blocks is None:
        return []
    # Nor one zxing-cpp did not even find (a reflection washes out a corner): when a region
    # looks like a QR code, pyzbar reads the frame for QR too.
    if QR in symbologies and QR not in unread and _finds_qr(blocks):
        reads = pyzbar_reads(gray, [QR])
        if reads:
            return merge(reads)
    if CODE128 not in symbologies:
        return []
    patches, too_large = _find_bars(blocks)
    for patch in patches:
        reads += _read_patch(gray, patch, symbologies)
    if reads or not (patches or too_large):
        return merge(reads)
    # Something bar-like is there but no look at a patch read anything: the badge may not be
    # among the patches picked, reach past one, or be joined to cables in a region too large
    # to pick. pyzbar reads the whole frame, as taken. (Not when the looks disagreed: that
    # doubt stands.) Nothing else read it, so merge keeps only Turnout codes (``_vouched``):
    # pyzbar misreads a blurred, turned badge as taken too ('T,&29' for 'T511825').
    return merge(pyzbar_reads(gray, [CODE128]))


def _read_patch(gray: np.ndarray, patch: Patch, symbologies: Sequence[str]) -> list[Read]:
    """Every look at a bar patch, once one of them reads something (``merge`` judges them).

    pyzbar reads the patch as it is; a tilted patch is turned upright and read by both
    decoders. If nothing is read, that is all (the cost of an empty patch). Otherwise the
    other looks are taken too: zxing-cpp on an untilted patch, and both decoders on the
    (upright) patch sharpened.
    """
    x0, y0, x1, y1 = box = _grow(patch.box, PATCH_MARGIN, gray.shape)
    crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
    reads = _looked(pyzbar_reads(crop, symbologies), PATCH, box)
    # Bars within a few degrees of upright or of lying flat are read as they are.
    tilted = min(abs(patch.angle), 90 - abs(patch.angle)) >= DESKEW_MIN_ANGLE
    upright = _upright(gray, patch) if tilted else crop
    if tilted:
        reads += _looked(zxing_reads(upright, symbologies) + pyzbar_reads(upright, symbologies),
                         UPRIGHT, box)
    if not reads:
        return []
    if not tilted:
        reads += _looked(zxing_reads(crop, symbologies), PATCH, box)
    sharpened = _sharpened(upright)
    reads += _looked(zxing_reads(sharpened, symbologies) + pyzbar_reads(sharpened, symbologies),
                     SHARPENED, box)
    return reads


def _looked(reads: list[Read], look: str, box: tuple[int, int, int, int]) -> list[Read]:
    # Transformed reads are reported at the patch: close enough to merge with other reads there.
    return [Read(r.text, r.type, box, r.decoder, look) for r in reads]


def _upright(gray: np.ndarray, patch: Patch) -> np.ndarray:
    """The patch turned so its bars stand upright: just the patch and a quiet zone around it."""
    import cv2

    width = int(patch.size[0]) + 2 * PATCH_MARGIN
    height = int(patch.size[1]) + 2 * PATCH_MARGIN
    turn = cv2.getRotationMatrix2D(patch.centre, patch.angle, 1.0)
    turn[:, 2] += (width / 2 - patch.centre[0], height / 2 - patch.centre[1])
    return cv2.warpAffine(gray, turn, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _sharpened(image: np.ndarray) -> np.ndarray:
    import cv2

    blurred = cv2.GaussianBlur(image, (0, 0), SHARPEN_SIGMA)
    return cv2.addWeighted(image, 2.0, blurred, -1.0, 0)


def decode(gray: np.ndarray, symbologies: Sequence[str] = BADGE_SYMBOLOGIES) -> list[Decoded]:
    """The symbols in a grey frame (uint8, height x width) that the decoders agree on."""
    return [read.decoded() for read in chain_reads(gray, symbologies)]


def decode_zxing(gray: np.ndarray, symbologies: Sequence[str] = BADGE_SYMBOLOGIES
                 ) -> list[Decoded]:
    return [read.decoded() for read in zxing_reads(_as_gray(gray), symbologies)]


def decode_pyzbar(gray: np.ndarray, symbologies: Sequence[str] = BADGE_SYMBOLOGIES
                  ) -> list[Decoded]:
    return [read.decoded() for read in pyzbar_reads(_as_gray(gray), symbologies)]


DECODERS = {"pyzbar": decode_pyzbar, "zxing-cpp": decode_zxing, "chain": decode}


def _as_gray(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3:
        import cv2

        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image, got {image.dtype}")
    return np.ascontiguousarray(image)


def load_gray(path) -> np.ndarray:
    """An image file as a grey uint8 array (PNG, JPEG, WebP: whatever Pillow opens)."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("L"))


def decode_files(paths: Iterable[str], out: TextIO = sys.stdout) -> int:
    """``turnout-kiosk decode IMAGE…``: one JSON line per image with the codes the chain reads.

    Reports what is in the image (no badge validation beyond the chain's own: a Code 128 text
    only pyzbar reads must be a Turnout code). Returns 1 if an image could not be
    read, else 0.
    """
    status = 0
    for path in paths:
        record: dict = {"path": str(path)}
        try:
            gray = load_gray(path)
        except (OSError, ValueError) as error:
            record.update(codes=[], ms=None, error=f"cannot read image: {error}")
            status = 1
        else:
            started = time.perf_counter()
            codes = decode(gray)
            record["codes"] = [{"text": c.text, "type": c.type} for c in codes]
            record["ms"] = round((time.perf_counter() - started) * 1000, 2)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    return status
