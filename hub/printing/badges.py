"""Name badges as PDF: A4 sheets of Avery L4785 labels (80 x 50 mm, 10 per sheet) or one per page.

Each badge carries the person's name, their organisation, a Code 128 barcode (cheap USB
scanners read only 1D codes) and a QR code (camera kiosks) of the same ``T…`` code, and the
code in print so it can be typed in. A badge without a name is a pre-printed badge with a
line to write the name on and, above it, its claim code (``hub.claims``), which ``/claim``
asks for with the badge code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from hub.claims import printed
from hub.printing import text
from hub.printing.pages import ACCENT, GUIDE, INK, MUTED, PdfTarget, pdf_canvas
from hub.printing.symbols import CODE128_BAR_WIDTH, code128_fitting, qr_drawing, qr_modules
from turnout.codes import is_badge

LABEL_WIDTH = 80 * mm
LABEL_HEIGHT = 50 * mm
LAYOUTS = ("sheet", "single")


@dataclass(frozen=True)
class LabelSheet:
    """Where the labels sit on a sheet, as label makers publish it (offsets from the top left)."""

    name: str
    pagesize: tuple[float, float]
    columns: int
    rows: int
    left: float
    top: float
    pitch_x: float
    pitch_y: float

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def origin(self, slot: int) -> tuple[float, float]:
        """Bottom-left corner of label ``slot`` (filled left to right, top to bottom)."""
        row, column = divmod(slot, self.columns)
        x = self.left + column * self.pitch_x
        y = self.pagesize[1] - self.top - row * self.pitch_y - LABEL_HEIGHT
        return x, y


# Avery L4785 (also L4784, L4786, L4787): 80 x 50 mm, 2 x 5; offsets from glabels' template.
AVERY_L4785 = LabelSheet("Avery L4785", A4, columns=2, rows=5, left=18 * mm, top=13 * mm,
                         pitch_x=95 * mm, pitch_y=55 * mm)


@dataclass(frozen=True)
class BadgeSpec:
    """One badge to print. ``name=None`` prints a blank badge to write the name on, with its
    ``claim_code`` if it has one (blank badges printed before claim codes have none)."""

    code: str
    name: str | None = None
    organisation: str | None = None
    event: str | None = None
    junior: bool = False
    claim_code: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # A badge with a mistyped code would never scan; refuse it before it is printed.
        if not is_badge(self.code):
            raise ValueError(f"not a valid badge code: {self.code!r}")


def badges_pdf(out: PdfTarget, badges: Sequence[BadgeSpec], layout: str = "sheet", *,
               skip: int = 0, sheet: LabelSheet = AVERY_L4785) -> int:
    """Write badges as a PDF to a path or binary file; returns the number of pages.

    ``layout="sheet"`` fills A4 label sheets (``skip`` leaves that many labels on the first
    sheet unprinted, for a part-used sheet); ``layout="single"`` puts one badge on each
    80 x 50 mm page, for label printers and the "print my badge" link.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    if not badges:
        raise ValueError("no badges to print")
    if layout == "single":
        return _single_pages(out, badges)
    return _sheets(out, badges, sheet, skip % sheet.per_sheet)


def _single_pages(out: PdfTarget, badges: Sequence[BadgeSpec]) -> int:
    with pdf_canvas(out, (LABEL_WIDTH, LABEL_HEIGHT), "Turnout badges") as canvas:
        for badge in badges:
            draw_badge(canvas, badge, 0, 0)
            canvas.showPage()
    return len(badges)


def _sheets(out: PdfTarget, badges: Sequence[BadgeSpec], sheet: LabelSheet, skip: int) -> int:
    slots = list(range(skip, skip + len(badges)))
    pages = 0
    with pdf_canvas(out, sheet.pagesize, f"Turnout badges ({sheet.name})") as canvas:
        for start in range(0, len(slots), sheet.per_sheet):
            page_slots = [s % sheet.per_sheet for s in slots[start:start + sheet.per_sheet]]
            for slot, badge in zip(page_slots, badges[start:start + sheet.per_sheet]):
                _crop_marks(canvas, *sheet.origin(slot))
                draw_badge(canvas, badge, *sheet.origin(slot))
            canvas.showPage()
            pages += 1
    return pages


# Crop marks sit just outside each label: a guide for cutting plain card, harmless on labels.
_MARK_GAP = 1.5 * mm
_MARK_LENGTH = 3 * mm


def _crop_marks(canvas: Canvas, x: float, y: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(GUIDE)
    canvas.setLineWidth(0.3)
    for cx, dx in ((x, -1), (x + LABEL_WIDTH, 1)):
        for cy, dy in ((y, -1), (y + LABEL_HEIGHT, 1)):
            canvas.line(cx + dx * _MARK_GAP, cy, cx + dx * (_MARK_GAP + _MARK_LENGTH), cy)
            canvas.line(cx, cy + dy * _MARK_GAP, cx, cy + dy * (_MARK_GAP + _MARK_LENGTH))
    canvas.restoreState()


# The badge grid, in label coordinates (mm from the bottom left). The label's own white
# margin around the QR symbol makes up its quiet zone, so the drawing carries only 2 modules.
_EDGE = 2.5 * mm
_TOP = 3 * mm
_TEXT_LEFT = 7 * mm
_QR_SYMBOL = 20.5 * mm
_QR_QUIET_MODULES = 2
_CODE_TEXT_SIZE = 10
_BAR_HEIGHT = 16 * mm
_EVENT_SIZE = 6.5
_ORG_SIZE = 9
_NAME_MAX, _NAME_MIN = 26, 11
_JUNIOR_WIDTH, _JUNIOR_HEIGHT = 15 * mm, 4.6 * mm


def draw_badge(canvas: Canvas, badge: BadgeSpec, x: float, y: float) -> None:
    """Draw one 80 x 50 mm badge with its bottom-left corner at (x, y)."""
    canvas.saveState()
    canvas.translate(x, y)
    codes_top = _draw_codes(canvas, badge.code)
    top = _draw_header(canvas, badge)
    bottom = _draw_organisation(canvas, badge.organisation, codes_top)
    if badge.name is None:
        _draw_write_on_line(canvas, bottom)
        if badge.claim_code:
            _draw_claim_code(canvas, badge.claim_code, top, bottom)
    else:
        _draw_name(canvas, badge.name, top, bottom)
    canvas.restoreState()


def _qr_for_symbol(code: str) -> Drawing:
    modules = qr_modules(code)
    size = _QR_SYMBOL * (modules + 2 * _QR_QUIET_MODULES) / modules
    return qr_drawing(code, size=size, quiet_modules=_QR_QUIET_MODULES)


def _draw_codes(canvas: Canvas, code: str) -> float:
    """QR bottom right, Code 128 bottom left, the code in print under it; returns their top."""
    qr = _qr_for_symbol(code)
    qr_quiet = (qr.width - _QR_SYMBOL) / 2
    qr_x = LABEL_WIDTH - _EDGE - qr.width + qr_quiet
    qr_y = _EDGE + 1.5 * mm - qr_quiet
    renderPDF.draw(qr, canvas, qr_x, qr_y)
    symbol_bottom = qr_y + qr_quiet
    symbol_top = symbol_bottom + _QR_SYMBOL

    bars = _bars_for(code, qr_x + qr_quiet)
    quiet = bars.contents[0].lquiet
    renderPDF.draw(bars, canvas, _TEXT_LEFT - quiet, symbol_top - _BAR_HEIGHT)
    canvas.setFillColor(INK)
    text.draw(canvas, _TEXT_LEFT - quiet + bars.width / 2, symbol_bottom, code, text.mono(),
              _CODE_TEXT_SIZE, align="center")
    return qr_y + qr.width


def _bars_for(code: str, qr_left: float) -> Drawing:
    """Code 128 whose bars end a full quiet zone (10 narrow bars) before the QR symbol."""
    room = qr_left - 10 * CODE128_BAR_WIDTH - _TEXT_LEFT
    bars = code128_fitting(code, room, bar_height=_BAR_HEIGHT)
    if bars is None:
        raise ValueError(f"badge code {code!r} is too long to print with bars of at least 0.33 mm")
    return bars


def _draw_header(canvas: Canvas, badge: BadgeSpec) -> float:
    """Event title and junior tag along the top; returns the top of the name box."""
    baseline = LABEL_HEIGHT - _TOP - _EVENT_SIZE * 0.76
    right = LABEL_WIDTH - _EDGE - 2 * mm
    if badge.junior:
        _draw_junior_tag(canvas, right, LABEL_HEIGHT - _TOP)
        right -= _JUNIOR_WIDTH + 2 * mm
    if badge.event:
        chain = text.sans(bold=True)
        title = text.ellipsize(text.clean(badge.event).upper(), chain, _EVENT_SIZE,
                               right - _TEXT_LEFT)
        canvas.setFillColor(ACCENT)
        text.draw(canvas, _TEXT_LEFT, baseline, title, chain, _EVENT_SIZE)
    if badge.event or badge.junior:
        return baseline - 2.2 * mm
    return LABEL_HEIGHT - _TOP - 1 * mm


def _draw_junior_tag(canvas: Canvas, right: float, top: float) -> None:
    canvas.setFillColor(ACCENT)
    canvas.roundRect(right - _JUNIOR_WIDTH, top - _JUNIOR_HEIGHT, _JUNIOR_WIDTH, _JUNIOR_HEIGHT,
                     1.2 * mm, stroke=0, fill=1)
    canvas.setFillColor(white)
    text.draw(canvas, right - _JUNIOR_WIDTH / 2, top - _JUNIOR_HEIGHT + 1.35 * mm, "JUNIOR",
              text.sans(bold=True), 7, align="center")


def _draw_organisation(canvas: Canvas, organisation: str | None, codes_top: float) -> float:
    """Organisation line just above the codes; returns the bottom of the name box."""
    baseline = codes_top + 1.6 * mm
    if not organisation or not text.clean(organisation):
        return baseline
    chain = text.sans()
    line = text.ellipsize(text.clean(organisation), chain, _ORG_SIZE,
                          LABEL_WIDTH - _EDGE - 2 * mm - _TEXT_LEFT)
    canvas.setFillColor(MUTED)
    text.draw(canvas, _TEXT_LEFT, baseline, line, chain, _ORG_SIZE)
    return baseline + _ORG_SIZE * 0.76 + 2 * mm


def _draw_name(canvas: Canvas, name: str, top: float, bottom: float) -> None:
    """The name as large as fits (two lines if that is larger), vertically centred."""
    chain = text.sans(bold=True)
    fitted = text.fit(name, chain, LABEL_WIDTH - _EDGE - 2 * mm - _TEXT_LEFT, top - bottom,
                      _NAME_MAX, _NAME_MIN, max_lines=2)
    block = fitted.size * 0.76 + (len(fitted.lines) - 1) * fitted.leading
    baseline = top - (top - bottom - block) / 2 - fitted.size * 0.76
    canvas.setFillColor(INK)
    for line in fitted.lines:
        text.draw(canvas, _TEXT_LEFT, baseline, line, chain, fitted.size)
        baseline -= fitted.leading


def _draw_write_on_line(canvas: Canvas, bottom: float) -> None:
    """A pre-printed badge: "Name:" and a line to write on."""
    baseline = bottom + 2 * mm
    canvas.setFillColor(MUTED)
    label_width = text.draw(canvas, _TEXT_LEFT, baseline, "Name:", text.sans(), 10)
    canvas.setStrokeColor(MUTED)
    canvas.setLineWidth(0.6)
    canvas.line(_TEXT_LEFT + label_width + 1.5 * mm, baseline - 0.5,
                LABEL_WIDTH - _EDGE - 2 * mm, baseline - 0.5)


_CLAIM_SIZE = 11


def _draw_claim_code(canvas: Canvas, claim_code: str, top: float, bottom: float) -> None:
    """ "Claim code: 7KQ-2MX" between the top of the name box and the line to write on."""
    write_on = bottom + 2 * mm
    baseline = (top + write_on + 4 * mm) / 2 - _CLAIM_SIZE * 0.38
    canvas.setFillColor(MUTED)
    label_width = text.draw(canvas, _TEXT_LEFT, baseline, "Claim code:", text.sans(), 9)
    canvas.setFillColor(INK)
    text.draw(canvas, _TEXT_LEFT + label_width + 1.5 * mm, baseline, printed(claim_code),
              text.mono(), _CLAIM_SIZE)
