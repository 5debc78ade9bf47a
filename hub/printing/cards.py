"""Role, undo and event set-up cards as PDF: A5 landscape cards, two to an A4 page.

A role card (``TURNOUT:ROLE:<role>``) arms a role on a kiosk just as its button does; the undo
card (``TURNOUT:UNDO``) annuls the kiosk's last scan within 60 s; the set-up card
(``TURNOUT:SETUP:<token>``) points a kiosk in set-up mode at an event. Role and undo cards carry
a Code 128 barcode for USB scanners and a QR code for cameras; the set-up card is for cameras
and 2D scanners, with a Code 128 too when the token is short enough to print one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from hub.printing import text
from hub.printing.pages import (ACCENT, GUIDE, INK, MUTED, SETUP_ACCENT, UNDO_ACCENT, PdfTarget,
                                pdf_canvas)
from hub.printing.symbols import code128_fitting, qr_drawing, qr_modules
from turnout.codes import (ROLE_CARD_PREFIX, SETUP_CARD_PREFIX, UNDO_CARD, LoginCard, SetupCard,
                           classify, is_role_name)

CARD_WIDTH = A4[0]
CARD_HEIGHT = A4[1] / 2
UNDO_LABEL = "Undo last scan"
UNDO_WINDOW = "(within 60 s)"
ARM_SECONDS = 15
# A card too long for Code 128 carries only its QR code: kiosks with a 1D scanner cannot read it.
QR_ONLY = ("QR code only: for a kiosk with", "a camera or a 2D scanner")


@dataclass(frozen=True)
class Card:
    """What one printed card says and carries."""

    kind: str
    label: str
    lines: tuple[str, ...]
    code: str
    accent: Color
    footer: str = ""


def role_card(role: str, label: str) -> Card:
    if not is_role_name(role):
        raise ValueError(f"not a valid role name: {role!r}")
    return Card("Role card", label, (f"Scan this card, then scan your badge within {ARM_SECONDS} s",),
                ROLE_CARD_PREFIX + role, ACCENT)


def undo_card() -> Card:
    return Card("Undo card", UNDO_LABEL, (UNDO_WINDOW,
                "Scan this card to cancel the last scan on this kiosk"), UNDO_CARD, UNDO_ACCENT)


def setup_card(token: str, event_name: str, event_date: dt.date | str) -> Card:
    code = SETUP_CARD_PREFIX + token
    if not isinstance(classify(code), SetupCard):
        raise ValueError(f"not a valid set-up token: {token!r}")
    return Card("Event set-up card", event_name, (_date_text(event_date),
                "Show this to a kiosk in set-up mode"), code, SETUP_ACCENT,
                footer="Keep this card safe: it points any kiosk in set-up mode at this event.")


def login_card(card: LoginCard) -> Card:
    """A kiosk's id and broker login as a card for set-up mode (a QR code: it is too long for
    Code 128). Like the kiosk's settings file, it is a secret."""
    host = card.broker.split("://", 1)[1]
    return Card("Kiosk login card", card.kiosk_id,
                (f"Hub: {host}" + (" (encrypted)" if card.broker.startswith("mqtts") else ""),
                 "Scan it in set-up mode"), card.text, SETUP_ACCENT,
                footer="A secret: anyone holding it can send scans as this kiosk. Lock it away or shred it.")


def login_card_pdf(out: PdfTarget, login) -> int:
    """``login`` is a hub.broker.kiosk_settings.KioskLogin (or anything with ``card()``)."""
    return _cards_pdf(out, [login_card(login.card())], "Turnout kiosk login card")


def _date_text(when: dt.date | str) -> str:
    if isinstance(when, dt.date):
        return f"{when:%A} {when.day} {when:%B %Y}"
    return str(when)


def role_cards_pdf(out: PdfTarget, roles: Sequence[tuple[str, str]]) -> int:
    """One card per (role, label), e.g. ``("cake", "Made cake")``; returns the number of pages."""
    return _cards_pdf(out, [role_card(role, label) for role, label in roles], "Turnout role cards")


def undo_card_pdf(out: PdfTarget) -> int:
    return _cards_pdf(out, [undo_card()], "Turnout undo card")


def setup_card_pdf(out: PdfTarget, token: str, event_name: str, event_date: dt.date | str) -> int:
    return _cards_pdf(out, [setup_card(token, event_name, event_date)], "Turnout set-up card")


def cards_pdf(out: PdfTarget, roles: Sequence[tuple[str, str]], include_undo: bool = True) -> int:
    """Every role card for a kiosk, and the undo card, in one PDF to print and cut."""
    cards = [role_card(role, label) for role, label in roles]
    if include_undo:
        cards.append(undo_card())
    return _cards_pdf(out, cards, "Turnout cards")


def _cards_pdf(out: PdfTarget, cards: Sequence[Card], title: str) -> int:
    if not cards:
        raise ValueError("no cards to print")
    pages = 0
    with pdf_canvas(out, A4, title) as canvas:
        for start in range(0, len(cards), 2):
            draw_card(canvas, cards[start], 0, CARD_HEIGHT)
            if start + 1 < len(cards):
                draw_card(canvas, cards[start + 1], 0, 0)
            _cut_line(canvas)
            canvas.showPage()
            pages += 1
    return pages


def _cut_line(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setStrokeColor(GUIDE)
    canvas.setLineWidth(0.4)
    canvas.setDash(3, 3)
    canvas.line(8 * mm, CARD_HEIGHT, CARD_WIDTH - 8 * mm, CARD_HEIGHT)
    canvas.restoreState()


# The card grid, in card coordinates (mm from the bottom left).
_MARGIN = 12 * mm
_BAND_HEIGHT = 11 * mm
_QR_SYMBOL = 52 * mm
_QR_SYMBOL_ALONE = 88 * mm
_QR_QUIET_MODULES = 2
_BAR_HEIGHT = 30 * mm
_WIDEST_BAR = 0.5 * mm
_CODE_TEXT_SIZE = 13
_LABEL_MAX, _LABEL_MIN = 52, 20
_LINE_SIZE = 14


def draw_card(canvas: Canvas, card: Card, x: float, y: float) -> None:
    """Draw one 210 x 148.5 mm card with its bottom-left corner at (x, y)."""
    canvas.saveState()
    canvas.translate(x, y)
    band_bottom = _draw_band(canvas, card)
    bars = code128_fitting(card.code, CARD_WIDTH - 2 * _MARGIN, _WIDEST_BAR, _BAR_HEIGHT)
    codes_top = _draw_bars(canvas, bars, card.code) if bars else _MARGIN
    if bars is None:
        card = replace(card, lines=(*card.lines, *QR_ONLY))
    # With no barcode under it, a long code (a login card) gets a bigger QR code and the footer
    # goes along the bottom, under everything.
    qr_left = _draw_qr(canvas, card.code, band_bottom - 6 * mm, _QR_SYMBOL if bars else _QR_SYMBOL_ALONE)
    footer_below = bars is None and bool(card.footer)
    _draw_words(canvas, card, band_bottom - 4 * mm, codes_top + 8 * mm, qr_left - 8 * mm,
                footer=not footer_below)
    if footer_below:
        canvas.setFillColor(MUTED)
        text.draw(canvas, _MARGIN + 1 * mm, _MARGIN, text.ellipsize(card.footer, text.sans(), 10,
                  CARD_WIDTH - 2 * _MARGIN), text.sans(), 10)
    canvas.restoreState()


def _draw_band(canvas: Canvas, card: Card) -> float:
    """A coloured band naming the kind of card; returns its bottom edge."""
    top = CARD_HEIGHT - _MARGIN
    canvas.setFillColor(card.accent)
    canvas.roundRect(_MARGIN, top - _BAND_HEIGHT, CARD_WIDTH - 2 * _MARGIN, _BAND_HEIGHT,
                     2 * mm, stroke=0, fill=1)
    canvas.setFillColor(white)
    text.draw(canvas, _MARGIN + 5 * mm, top - _BAND_HEIGHT + 3.8 * mm,
              f"TURNOUT  ·  {card.kind.upper()}", text.sans(bold=True), 12)
    return top - _BAND_HEIGHT


def _draw_bars(canvas: Canvas, bars: Drawing, code: str) -> float:
    """Code 128 centred along the bottom with the code in print under it; returns its top."""
    baseline = _MARGIN + 2 * mm
    bars_bottom = baseline + _CODE_TEXT_SIZE * 0.76 + 3 * mm
    renderPDF.draw(bars, canvas, (CARD_WIDTH - bars.width) / 2, bars_bottom)
    canvas.setFillColor(INK)
    text.draw(canvas, CARD_WIDTH / 2, baseline, code, text.mono(), _CODE_TEXT_SIZE, align="center")
    return bars_bottom + _BAR_HEIGHT


def _draw_qr(canvas: Canvas, code: str, top: float, symbol: float = _QR_SYMBOL) -> float:
    """QR code at the top right under the band; returns its symbol's left edge."""
    modules = qr_modules(code)
    size = symbol * (modules + 2 * _QR_QUIET_MODULES) / modules
    quiet = (size - symbol) / 2
    left = CARD_WIDTH - _MARGIN - symbol
    renderPDF.draw(qr_drawing(code, size=size, quiet_modules=_QR_QUIET_MODULES), canvas,
                   left - quiet, top - symbol - quiet)
    return left


def _draw_words(canvas: Canvas, card: Card, top: float, bottom: float, right: float,
                footer: bool = True) -> None:
    """The big label, then the smaller lines under it, then the footer, left of the QR code."""
    left = _MARGIN + 1 * mm
    lines_height = len(card.lines) * _LINE_SIZE * text.LEADING + 3 * mm
    chain = text.sans(bold=True)
    fitted = text.fit(card.label, chain, right - left, top - bottom - lines_height,
                      _LABEL_MAX, _LABEL_MIN, max_lines=2)
    baseline = top - fitted.size * 0.76
    canvas.setFillColor(INK)
    for line in fitted.lines:
        text.draw(canvas, left, baseline, line, chain, fitted.size)
        baseline -= fitted.leading
    baseline += fitted.leading - fitted.size * 0.24 - 3 * mm - _LINE_SIZE * 0.76
    canvas.setFillColor(MUTED)
    for line in card.lines:
        text.draw(canvas, left, baseline, text.ellipsize(text.clean(line), text.sans(),
                  _LINE_SIZE, right - left), text.sans(), _LINE_SIZE)
        baseline -= _LINE_SIZE * text.LEADING
    if card.footer and footer:
        text.draw(canvas, left, baseline - 2 * mm, card.footer, text.sans(), 9)
