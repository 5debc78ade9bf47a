"""Print-to-scan: render the badge and card PDFs to images and read every code back with zbar.

Also checks what a printer and a scanner care about: narrow bars >= 0.33 mm, QR >= 20 mm,
untrusted names printed as literal text, and nothing drawn outside its label.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pypdfium2 as pdfium
import pytest
from pyzbar import pyzbar
from reportlab.graphics import renderPDF
from reportlab.lib.units import mm

from hub.printing import text
from hub.printing.badges import AVERY_L4785, LABEL_HEIGHT, LABEL_WIDTH, BadgeSpec, badges_pdf
from hub.printing.cards import (UNDO_LABEL, cards_pdf, role_cards_pdf, setup_card_pdf,
                                undo_card_pdf)
from hub.printing.symbols import code128_drawing
from turnout.codes import badge_code

DPI = 200  # what a cheap office scan or phone photo of a printed sheet gives
MM_PER_INCH = 25.4
SYMBOLS = [pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128]
HOSTILE_NAME = '<b>Bob & "Al"</b>'
SCRIPT_ORG = "<script>alert(1)</script>"
LONG_NAME = "Maximiliana Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh"
ROLES = [("attend", "Came along"), ("pitch", "Pitched a session"), ("cake", "Made cake"),
         ("tidy", "Tidied up"), ("organise", "Organised")]


# --- helpers: a PDF in memory, its pages as images, what zbar reads, what text it holds ---

def make_pdf(write, *args, **kwargs) -> bytes:
    buffer = io.BytesIO()
    write(buffer, *args, **kwargs)
    return buffer.getvalue()


def render(pdf: bytes, dpi: int = DPI, crop=(0, 0, 0, 0)):
    document = pdfium.PdfDocument(pdf)
    return [page.render(scale=dpi / 72, grayscale=True, crop=crop).to_pil() for page in document]


def scan(image) -> list[tuple[str, str]]:
    return sorted((r.type, r.data.decode()) for r in pyzbar.decode(image, symbols=SYMBOLS))


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text with line breaks as spaces (a label may wrap onto two lines)."""
    return [" ".join(page.get_textpage().get_text_range().split())
            for page in pdfium.PdfDocument(pdf)]


def char_boxes(pdf: bytes, page_index: int = 0):
    """(char, (left, bottom, right, top) in points) for every printed character on a page."""
    textpage = pdfium.PdfDocument(pdf)[page_index].get_textpage()
    for i in range(textpage.count_chars()):
        ch = textpage.get_text_range(i, 1)
        if ch.strip():
            yield ch, textpage.get_charbox(i)


def module_width_mm(image, dpi: int) -> float:
    """The Code 128 module (narrow bar) width, measured along the middle row of the symbol."""
    [found] = [r for r in pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.CODE128])]
    rect = found.rect
    row = image.crop((rect.left, rect.top + rect.height // 2, rect.left + rect.width,
                      rect.top + rect.height // 2 + 1)).point(lambda v: 0 if v < 128 else 1)
    runs = _runs(list(row.get_flattened_data()))
    module = min(runs)
    for _ in range(3):  # refine: count modules at the current estimate, then re-divide the span
        module = sum(runs) / sum(round(run / module) for run in runs)
    return module / dpi * MM_PER_INCH


def _runs(pixels: list[int]) -> list[int]:
    """Lengths of alternating dark and light runs from the first dark pixel to the last."""
    dark = [i for i, v in enumerate(pixels) if v == 0]
    pixels = pixels[dark[0]:dark[-1] + 1]
    runs, count = [], 1
    for before, now in zip(pixels, pixels[1:]):
        if now == before:
            count += 1
        else:
            runs.append(count)
            count = 1
    return runs + [count]


def expect_each_code_once_as_both(found: list[tuple[str, str]], codes: list[str]) -> None:
    assert Counter(found) == Counter(
        [("QRCODE", c) for c in codes] + [("CODE128", c) for c in codes])


# --- badges ---

BADGES = [
    BadgeSpec(badge_code(1001), "Ada Lovelace", "Analytical Engines Ltd", "Civic Camp Leeds"),
    BadgeSpec(badge_code(1002), HOSTILE_NAME, SCRIPT_ORG, "Civic Camp Leeds"),
    BadgeSpec(badge_code(1003), LONG_NAME, "Department for Levelling Up, Housing and Communities"),
    BadgeSpec(badge_code(1004), "Zoë Ólafsdóttir", junior=True),
    BadgeSpec(badge_code(1005), "Дмитрий Иванов", "Ελληνική Εταιρεία"),
    BadgeSpec(badge_code(1006), "王芳", "東京都"),
    BadgeSpec(badge_code(1007), event="Civic Camp Leeds", claim_code="7KQ2MX"),
    BadgeSpec(badge_code(1008)),  # a blank badge from before claim codes
    BadgeSpec(badge_code(5), "Sam", "Leeds City Council", junior=True),
    BadgeSpec(badge_code(99_999_999_999), "Longest code", "11 digits and a check digit"),
    BadgeSpec(badge_code(1011), "Second sheet"),
]


@pytest.fixture(scope="module")
def sheet_pdf() -> bytes:
    return make_pdf(badges_pdf, BADGES)


@pytest.fixture(scope="module")
def single_pdf() -> bytes:
    return make_pdf(badges_pdf, BADGES, layout="single")


def test_every_badge_on_the_sheets_scans_back_exactly(sheet_pdf):
    pages = render(sheet_pdf)
    assert len(pages) == 2  # 11 badges: a full sheet of 10 and one more
    found = [code for page in pages for code in scan(page)]
    expect_each_code_once_as_both(found, [b.code for b in BADGES])


def test_every_single_badge_is_one_page_that_scans_back_exactly(single_pdf):
    pages = render(single_pdf)
    assert len(pages) == len(BADGES)
    for page, badge in zip(pages, BADGES):
        assert page.size == (round(80 / MM_PER_INCH * DPI), round(50 / MM_PER_INCH * DPI))
        expect_each_code_once_as_both(scan(page), [badge.code])


def test_single_badges_still_read_at_a_coarse_150_dpi(single_pdf):
    for page, badge in zip(render(single_pdf, dpi=150), BADGES):
        expect_each_code_once_as_both(scan(page), [badge.code])


def test_code128_narrow_bar_measures_at_least_0_33_mm(single_pdf):
    widths = [module_width_mm(page, 600) for page in render(single_pdf, dpi=600)[:3]]
    assert all(w >= 0.33 for w in widths), widths


def test_the_bar_gauge_itself_sees_bars_thinner_than_0_33_mm():
    thin = renderPDF.drawToString(code128_drawing("T5724", bar_width=0.30 * mm))
    [image] = render(thin, dpi=600)
    assert 0.29 < module_width_mm(image, 600) < 0.31


def test_qr_symbol_measures_at_least_20_mm(single_pdf):
    for page in render(single_pdf, dpi=300):
        [qr] = [r for r in pyzbar.decode(page, symbols=[pyzbar.ZBarSymbol.QRCODE])]
        assert min(qr.rect.width, qr.rect.height) / 300 * MM_PER_INCH >= 20


def test_hostile_names_print_as_literal_text(sheet_pdf):
    first_sheet = page_texts(sheet_pdf)[0]
    assert HOSTILE_NAME in first_sheet
    assert SCRIPT_ORG in first_sheet


def test_the_code_is_printed_under_the_symbols(sheet_pdf):
    printed = "\n".join(page_texts(sheet_pdf)).split()
    assert all(badge.code in printed for badge in BADGES)


def test_long_names_shrink_then_end_in_an_ellipsis(sheet_pdf):
    first_sheet = page_texts(sheet_pdf)[0]
    assert "Maximiliana" in first_sheet
    assert "Featherstonehaugh" not in first_sheet
    assert text.ELLIPSIS in first_sheet


def test_nothing_is_printed_outside_its_label(sheet_pdf):
    labels = [AVERY_L4785.origin(slot) for slot in range(AVERY_L4785.per_sheet)]
    for ch, (left, bottom, right, top) in char_boxes(sheet_pdf):
        assert any(x <= left and right <= x + LABEL_WIDTH and y <= bottom and top <= y + LABEL_HEIGHT
                   for x, y in labels), f"{ch!r} at {(left, bottom)} is off its label"


def test_greek_and_cyrillic_names_print_in_their_own_script(sheet_pdf):
    first_sheet = page_texts(sheet_pdf)[0]
    assert "Дмитрий Иванов" in first_sheet
    assert "Ελληνική Εταιρεία" in first_sheet
    assert "Zoë Ólafsdóttir" in first_sheet


@pytest.mark.skipif(len(text.sans().names) < 2, reason="no CJK fallback font installed")
def test_chinese_names_print_with_the_fallback_font(sheet_pdf):
    assert "王芳" in page_texts(sheet_pdf)[0]


def test_blank_badges_have_a_line_to_write_the_name_on(sheet_pdf):
    blank = make_pdf(badges_pdf, [BadgeSpec(badge_code(77))], layout="single")
    assert page_texts(blank)[0].split() == [badge_code(77), "Name:"]
    expect_each_code_once_as_both(scan(render(blank)[0]), [badge_code(77)])


def test_blank_badges_carry_their_claim_code_above_the_line_and_still_scan(sheet_pdf):
    blank = make_pdf(badges_pdf, [BadgeSpec(badge_code(77), claim_code="7KQ2MX", junior=True,
                                            event="Civic Camp Leeds")], layout="single")
    assert "Claim code: 7KQ-2MX" in page_texts(blank)[0]
    expect_each_code_once_as_both(scan(render(blank)[0]), [badge_code(77)])
    expect_each_code_once_as_both(scan(render(blank, dpi=150)[0]), [badge_code(77)])
    assert "Claim code: 7KQ-2MX" in page_texts(sheet_pdf)[0]
    boxes = {ch: box for ch, box in char_boxes(blank) if ch in "7KQ-2MXN"}
    assert boxes["7"][1] > boxes["N"][3]  # the claim code sits above the line to write the name on


def test_skip_leaves_used_labels_on_a_part_used_sheet_empty():
    pdf = make_pdf(badges_pdf, [BadgeSpec(badge_code(1), "Ann")], skip=3)
    [page] = render(pdf)
    [bars] = [r for r in pyzbar.decode(page, symbols=SYMBOLS) if r.type == "CODE128"]
    x, y = AVERY_L4785.origin(3)
    label_left = x / 72 * DPI
    label_top = (AVERY_L4785.pagesize[1] - y - LABEL_HEIGHT) / 72 * DPI
    assert label_left < bars.rect.left < label_left + LABEL_WIDTH / 72 * DPI
    assert label_top < bars.rect.top < label_top + LABEL_HEIGHT / 72 * DPI


def test_badges_write_to_a_path_the_same_bytes_as_to_a_file(tmp_path):
    path = tmp_path / "badges.pdf"
    assert badges_pdf(path, BADGES[:2]) == 1
    assert path.read_bytes() == make_pdf(badges_pdf, BADGES[:2])
    assert path.read_bytes().startswith(b"%PDF")


def test_badges_refuse_what_would_not_scan():
    with pytest.raises(ValueError):
        BadgeSpec("T5725", "Check digit wrong")
    with pytest.raises(ValueError):
        badges_pdf(io.BytesIO(), [BadgeSpec("T5724")], layout="poster")
    with pytest.raises(ValueError):
        badges_pdf(io.BytesIO(), [])
    with pytest.raises(ValueError, match="too long"):
        badges_pdf(io.BytesIO(), [BadgeSpec(badge_code(10**16))])


# --- cards ---

def test_role_and_undo_cards_scan_back_exactly():
    pdf = make_pdf(cards_pdf, ROLES)
    pages = render(pdf)
    assert len(pages) == 3  # six cards, two to a page
    expected = [f"TURNOUT:ROLE:{role}" for role, _ in ROLES] + ["TURNOUT:UNDO"]
    expect_each_code_once_as_both([c for page in pages for c in scan(page)], expected)
    words = "\n".join(page_texts(pdf))
    assert all(label in words for _, label in ROLES)
    assert UNDO_LABEL in words and "within 60 s" in words


def test_cards_still_read_at_a_coarse_100_dpi():
    pages = render(make_pdf(cards_pdf, ROLES), dpi=100)
    expected = [f"TURNOUT:ROLE:{role}" for role, _ in ROLES] + ["TURNOUT:UNDO"]
    expect_each_code_once_as_both([c for page in pages for c in scan(page)], expected)


def test_role_cards_alone_and_the_undo_card_alone():
    expect_each_code_once_as_both(scan(render(make_pdf(role_cards_pdf, [("cake", "Made cake")]))[0]),
                                  ["TURNOUT:ROLE:cake"])
    pdf = make_pdf(undo_card_pdf)
    expect_each_code_once_as_both(scan(render(pdf)[0]), ["TURNOUT:UNDO"])
    assert "TURNOUT:ROLE" not in page_texts(pdf)[0]


def test_the_longest_role_name_still_gets_bars_of_at_least_0_33_mm():
    role = "r" * 32
    pdf = make_pdf(role_cards_pdf, [(role, "A very long role")])
    top_half = (0, 297 / 2 * mm, 0, 0)  # the first card only, to keep the 600 dpi image small
    [image] = render(pdf, dpi=600, crop=top_half)
    assert module_width_mm(image, 600) >= 0.33 - 0.002  # measurement resolution
    # 0.33 mm is 2.6 pixels at 200 dpi, too few for zbar; a 300 dpi image reads it
    expect_each_code_once_as_both(scan(render(pdf, dpi=300)[0]), [f"TURNOUT:ROLE:{role}"])


def test_card_labels_are_literal_text():
    pdf = make_pdf(role_cards_pdf, [("cake", HOSTILE_NAME)])
    assert HOSTILE_NAME in page_texts(pdf)[0]


def test_setup_card_carries_the_token_event_and_instructions():
    pdf = make_pdf(setup_card_pdf, "k3J9x-Qa7LmP2vW8", "Civic Camp Leeds", dt.date(2025, 6, 14))
    expect_each_code_once_as_both(scan(render(pdf)[0]), ["TURNOUT:SETUP:k3J9x-Qa7LmP2vW8"])
    words = page_texts(pdf)[0]
    assert "Civic Camp Leeds" in words
    assert "Saturday 14 June 2025" in words
    assert "Show this to a kiosk in set-up mode" in words
    assert "QR code only" not in words  # a 1D scanner reads its Code 128


def test_setup_card_with_a_long_token_is_qr_only():
    token = "x" * 64 + "@" + "hub-" + "h" * 40 + ".example.org:1883"  # an event and a hub address
    pdf = make_pdf(setup_card_pdf, token, "Camp", "14 June")
    assert scan(render(pdf)[0]) == [("QRCODE", f"TURNOUT:SETUP:{token}")]
    assert "QR code only: for a kiosk with a camera or a 2D scanner" in page_texts(pdf)[0]


def test_cards_refuse_what_a_kiosk_would_reject():
    with pytest.raises(ValueError):
        role_cards_pdf(io.BytesIO(), [("Cake!", "Made cake")])
    with pytest.raises(ValueError):
        setup_card_pdf(io.BytesIO(), "no spaces allowed", "Camp", "today")
    with pytest.raises(ValueError):
        role_cards_pdf(io.BytesIO(), [])


# --- fitting text ---

def test_fit_shrinks_before_it_cuts():
    chain = text.sans(bold=True)
    roomy = text.fit("Ann", chain, 60 * mm, 20 * mm, 26, 11)
    assert (roomy.size, roomy.lines) == (26, ["Ann"])
    tight = text.fit(LONG_NAME, chain, 60 * mm, 20 * mm, 26, 11, max_lines=2)
    assert tight.size == 11 and tight.lines[-1].endswith(text.ELLIPSIS)
    assert all(text.width(line, chain, tight.size) <= 60 * mm for line in tight.lines)


def test_clean_keeps_one_printable_line():
    assert text.clean("Ann\n\tLee\x00\u202e ") == "Ann Lee"
