"""The camera decoder chain on badges printed the way the hub prints them, and on real photos."""

import io
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from kiosk.scanner import decode as chain
from kiosk.scanner.decode import Decoded, Read, decode, decode_files, merge
from tests.kiosk.badge_images import badge_frame, render_symbol, scene
from turnout.codes import badge_code

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "zxing-samples"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


def frames(symbology, variant, count, seed):
    rng = np.random.default_rng(seed)
    return [badge_frame(badge_code(int(rng.integers(1, 100_000))), symbology, variant, rng)
            for _ in range(count)]


@pytest.mark.parametrize("symbology", ["code128", "qr"])
def test_a_printed_badge_is_read_with_its_symbology(symbology):
    symbol = render_symbol(badge_code(572), symbology)
    padded = np.pad(symbol, 40, constant_values=255)
    assert decode(padded) == [Decoded("T5724", symbology)]


@pytest.mark.parametrize("symbology,variant,at_least", [
    ("code128", "clean", 8), ("qr", "clean", 8),
    ("code128", "noise", 8), ("qr", "noise", 8),
    ("qr", "blur", 8), ("code128", "blur", 3),
    ("qr", "rotation", 8), ("qr", "perspective", 8), ("code128", "perspective", 8),
    ("code128", "glare", 8), ("code128", "low-contrast", 8),
])
def test_camera_like_badges_are_read_and_never_misread(symbology, variant, at_least):
    batch = frames(symbology, variant, 8, seed=zlib.crc32(f"{symbology}-{variant}".encode()))
    read = 0
    for frame in batch:
        texts = [c.text for c in decode(frame.image)]
        assert set(texts) <= {frame.text}, f"misread {texts} for {frame.text}"
        read += frame.text in texts
    assert read >= at_least


def badge_frames(text, variant, seeds):
    return [badge_frame(text, "code128", variant, np.random.default_rng(seed)) for seed in seeds]


def texts_read(decoder, frame):
    return [c.text for c in decoder(frame.image)]


def test_upside_down_badges_on_busy_backgrounds_are_never_misread():
    # Random badges, and two whose turned, blurred bars pyzbar misreads with Code 128's
    # checksum still holding ('T89263' as "'89263", 'T511825' as 'T,&29'): seeds where the
    # chain used to report those misreads after turning the patch upright.
    batch = (frames("code128", "upside-down", 12, seed=zlib.crc32(b"code128-upside-down"))
             + badge_frames("T89263", "upside-down", range(30, 42))
             + badge_frames("T511825", "upside-down", range(12)))
    read = 0
    for frame in batch:
        texts = texts_read(decode, frame)
        assert set(texts) <= {frame.text}, f"misread {texts} for {frame.text}"
        for alone in (chain.decode_pyzbar, chain.decode_zxing):
            if texts_read(alone, frame) == [frame.text]:
                assert texts == [frame.text], f"{alone.__name__} reads {frame.text}, the chain not"
        read += texts == [frame.text]
    assert read >= 15  # about half: either decoder alone reads about one in seven


def test_a_misread_after_turning_the_patch_upright_is_not_reported():
    # The case: neither decoder reads the frame; turned upright, pyzbar reads
    # "'89263" ('T' as "'", as in "'20018970"), which the chain used to report. Sharpened,
    # both decoders read 'T89263', but no decoder reads it as taken: nothing outvotes the
    # dissent (both decoders can agree on a misread of a turned patch), so nothing is
    # reported this frame.
    [frame] = badge_frames("T89263", "upside-down", [93])
    assert texts_read(chain.decode_pyzbar, frame) == []
    assert texts_read(chain.decode_zxing, frame) == []
    assert decode(frame.image) == []
    [patch] = chain.find_bars(frame.image)
    assert [r.text for r in chain.pyzbar_reads(chain._upright(frame.image, patch))] == ["'89263"]


def test_pyzbar_misreading_a_turned_patch_is_outvoted_when_both_decoders_read_it_right():
    # A bench miss: pyzbar reads 'T511825' on the frame and on the patch, and 'T,&29' on the
    # patch turned upright; sharpened, zxing-cpp and pyzbar read 'T511825'. The chain used to
    # drop the badge for the lone misread.
    [frame] = badge_frames("T511825", "upside-down", [349])
    assert texts_read(chain.decode_pyzbar, frame) == ["T511825"]
    [patch] = [p for p in chain.find_bars(frame.image)
               if chain._read_patch(frame.image, p, chain.BADGE_SYMBOLOGIES)]
    looks = {(r.decoder, r.look, r.text)
             for r in chain._read_patch(frame.image, patch, chain.BADGE_SYMBOLOGIES)}
    assert {("pyzbar", chain.UPRIGHT, "T,&29"), ("zxing-cpp", chain.SHARPENED, "T511825")} <= looks
    assert decode(frame.image) == [Decoded("T511825", "code128")]


def bench_frame(text, state, inc, has_uint32=0, uinteger=0, symbology="code128",
                variant="upside-down"):
    """A bench frame, from the random generator's state just before the bench drew it."""
    rng = np.random.default_rng()
    rng.bit_generator.state = {"bit_generator": "PCG64", "has_uint32": has_uint32,
                               "uinteger": uinteger, "state": {"state": state, "inc": inc}}
    return badge_frame(text, symbology, variant, rng)


def test_both_decoders_agreeing_on_a_misread_of_a_turned_patch_outvote_nothing():
    # The bench frame (seed 5, hard badges, frame 146) where a looser rule made a wrong read:
    # neither decoder reads the frame; turned upright pyzbar reads 'T,&29', sharpened zxing-cpp
    # reads 'T,&29' too, and pyzbar 'T511825'. Two decoders on pixels the chain made are not
    # enough to outvote a dissent.
    frame = bench_frame("T511825", 332406979819531449735283049646920071525,
                        233193750087604940414945475171846202189)
    assert texts_read(chain.decode_pyzbar, frame) == texts_read(chain.decode_zxing, frame) == []
    looks = {(r.decoder, r.look, r.text) for patch in chain.find_bars(frame.image)
             for r in chain._read_patch(frame.image, patch, chain.BADGE_SYMBOLOGIES)}
    assert {("pyzbar", chain.UPRIGHT, "T,&29"), ("zxing-cpp", chain.SHARPENED, "T,&29"),
            ("pyzbar", chain.SHARPENED, "T511825")} <= looks
    assert decode(frame.image) == []


def test_both_decoders_misreading_a_turned_patch_alike_is_not_reported():
    # The bench frame (seed 7, hard badges, frame 31): neither decoder reads the frame; turned
    # upright pyzbar reads "'89263", sharpened zxing-cpp reads "'89263" too, and nothing else
    # reads. Two decoders on different transformations confirm only a Turnout code.
    frame = bench_frame("T89263", 266298009428937995682040528017557160446,
                        261136684632268670825940853076396136793, 1, 3572840357)
    assert texts_read(chain.decode_pyzbar, frame) == texts_read(chain.decode_zxing, frame) == []
    looks = {(r.decoder, r.look, r.text) for patch in chain.find_bars(frame.image)
             for r in chain._read_patch(frame.image, patch, chain.BADGE_SYMBOLOGIES)}
    assert looks == {("pyzbar", chain.UPRIGHT, "'89263"), ("zxing-cpp", chain.SHARPENED, "'89263")}
    assert decode(frame.image) == []


def test_both_decoders_on_different_transformations_confirm_a_turnout_code():
    # The same looks, read right (pyzbar upright, zxing-cpp sharpened; 15 bench frames on
    # seeds 5, 7 and 11 are like this), and the same looks on text that is no Turnout code.
    box = (10, 10, 200, 60)
    for text, reported in (("T89263", True), ("'89263", False), ("TURNOUT:UNDO", True),
                           ("T89264", False)):  # T89264 fails the check digit
        reads = [Read(text, "code128", box, "pyzbar", chain.UPRIGHT),
                 Read(text, "code128", box, "zxing-cpp", chain.SHARPENED)]
        assert [r.text for r in merge(reads)] == ([text] if reported else []), text
        # On the same transformed pixels, both decoders confirm whatever the text is.
        same = [Read(text, "code128", box, "pyzbar", chain.SHARPENED), reads[1]]
        assert [r.text for r in merge(same)] == [text], text


SEED_11 = 7937318808080196428804369945471644491  # the bench generator's increment on seed 11


@pytest.mark.parametrize("variant,text,state,has_uint32,uinteger,lone", [
    # Blurred: zxing-cpp reads 'T68590' alone and cleanly; pyzbar reads it too, and "'68590"
    # ('T' as "'") on other scan lines of the same frame.
    ("blur", "T68590", 176837997563535496194840677801641318738, 0, 294561635, "pyzbar"),
    # Tilted away: pyzbar reads 'T540331' alone and cleanly; zxing-cpp reads it too, and
    # 'T,V#$' on one scan line at its foot.
    ("perspective", "T540331", 243130341543140573930157266945005775706, 1, 1372457817,
     "zxing-cpp"),
])
def test_a_lone_misread_that_is_no_turnout_code_does_not_drop_a_badge_read_as_taken(
        variant, text, state, has_uint32, uinteger, lone):
    # Bench misses (seed 11): one decoder alone reads the badge cleanly, the other reads it
    # as well and adds a junk text, and the chain used to drop the badge for that dissent.
    frame = bench_frame(text, state, SEED_11, has_uint32, uinteger, variant=variant)
    alone = {"pyzbar": chain.decode_pyzbar, "zxing-cpp": chain.decode_zxing}
    other = "zxing-cpp" if lone == "pyzbar" else "pyzbar"
    assert texts_read(alone[other], frame) == [text]
    junk = set(texts_read(alone[lone], frame)) - {text}
    assert text in texts_read(alone[lone], frame) and len(junk) == 1
    assert not chain._turnout_code(junk.pop())
    assert texts_read(decode, frame) == [text]


def test_only_a_lone_text_that_is_no_turnout_code_stands_no_chance_against_a_badge_as_taken():
    box = (100, 100, 300, 160)
    both = [Read("T5724", "code128", box, "zxing-cpp"), Read("T5724", "code128", box, "pyzbar")]
    junk = Read("'5724", "code128", box, "pyzbar")
    assert merge(both + [junk]) == [both[0]]
    assert merge([both[0], junk]) == [both[0]]  # one decoder as taken is enough against junk
    # A lone dissent that is a Turnout code (another badge) may be the badge read right.
    assert merge(both + [Read("T5743", "code128", box, "pyzbar")]) == []
    # A text that fails its check digit is no Turnout code either way.
    assert merge([Read("T5725", "code128", box, "zxing-cpp"), junk]) == []
    # Junk both decoders read is no lone misread.
    assert merge(both + [junk, Read("'5724", "code128", box, "zxing-cpp", chain.SHARPENED)]) == []
    # Against a badge read only on pixels the chain made, junk still stands.
    transformed = [Read("T5724", "code128", box, "pyzbar", chain.SHARPENED),
                   Read("T5724", "code128", box, "zxing-cpp", chain.SHARPENED)]
    assert merge(transformed) == [transformed[1]]
    assert merge(transformed + [Read("'5724", "code128", box, "pyzbar", chain.UPRIGHT)]) == []


def test_a_lone_misread_of_a_turned_patch_that_is_no_badge_does_not_outvote_pyzbar():
    # Only pyzbar reads 'T511825' (frame, patch, sharpened) and zxing-cpp reads 'T,&29' on
    # the sharpened patch. The chain used to leave it in doubt (no text had both decoders
    # behind it), though pyzbar alone reads it cleanly: 'T,&29' is no Turnout code, so it
    # is a misread, not a rival.
    [frame] = badge_frames("T511825", "upside-down", [252])
    assert texts_read(chain.decode_pyzbar, frame) == ["T511825"]
    looks = {(r.decoder, r.look, r.text) for patch in chain.find_bars(frame.image)
             for r in chain._read_patch(frame.image, patch, chain.BADGE_SYMBOLOGIES)}
    assert ("zxing-cpp", chain.SHARPENED, "T,&29") in looks
    assert ("zxing-cpp", chain.SHARPENED, "T511825") not in looks
    assert decode(frame.image) == [Decoded("T511825", "code128")]


@pytest.mark.parametrize("symbology,variant,seed", [
    # zxing-cpp finds the QR code held at an angle but a checksum fails (seed 113: it reports
    # it three times, partly as Micro QR).
    ("qr", "perspective", 11), ("qr", "perspective", 113),
    # Seed 133's badge is the third bar patch of the busy scene (two are read); seed 220's
    # patch joined a cable, and pyzbar reads nothing on its crop.
    ("code128", "upside-down", 133), ("code128", "upside-down", 220),
])
def test_what_pyzbar_alone_reads_on_the_frame_the_chain_reads(symbology, variant, seed):
    # Bench misses: frames zxing-cpp does not read and pyzbar reads cleanly on the frame.
    [frame] = frames(symbology, variant, 1, seed=seed)
    assert texts_read(chain.decode_zxing, frame) == []
    assert texts_read(chain.decode_pyzbar, frame) == [frame.text]
    assert texts_read(decode, frame) == [frame.text]


@pytest.mark.parametrize("text,state,uinteger", [
    ("T950217", 56684286006318860376134455012607757036, 4081154964),
    ("T899880", 326136449695079018051224721693603779261, 3864966229),
])
def test_a_qr_code_under_a_reflection_that_only_pyzbar_reads_is_read(text, state, uinteger):
    # Bench misses (seed 11, glare): the reflection washes out part of the QR code, and
    # zxing-cpp neither reads nor finds it, so the chain never asked pyzbar; pyzbar reads it.
    frame = bench_frame(text, state, SEED_11, 0, uinteger, symbology="qr", variant="glare")
    reads, unread = chain._zxing_scan(frame.image, chain.BADGE_SYMBOLOGIES, errors=True)
    assert reads == [] and unread == []
    assert texts_read(chain.decode_pyzbar, frame) == [text]
    assert texts_read(decode, frame) == [text]


def test_zxing_reading_one_badge_twice_differently_reports_the_badge_over_junk():
    # zxing-cpp reads 'h89263' and 'T89263' on scan lines too far apart to overlap; pyzbar,
    # on the patch around each, reads 'T89263'. 'h89263' is no Turnout code: a misread.
    [frame] = frames("code128", "low-contrast", 1, seed=42)
    assert frame.text == "T89263"
    assert sorted(texts_read(chain.decode_zxing, frame)) == ["T89263", "h89263"]
    assert decode(frame.image) == [Decoded("T89263", "code128")]


def test_zxing_reading_one_symbol_as_two_badges_reports_neither():
    zx = [Read("T5724", "code128", (100, 100, 300, 160), "zxing-cpp"),
          Read("T5743", "code128", (100, 150, 300, 170), "zxing-cpp")]
    assert merge(zx + [Read("T5724", "code128", (100, 100, 300, 160), "pyzbar")]) == []


def test_a_badge_among_cables_and_striped_cloth_is_found():
    # Cables joined the badge's bars into one patch too large to pick; stripes took its place.
    [frame] = frames("code128", "upside-down", 1, seed=194)
    assert texts_read(chain.decode_pyzbar, frame) == [frame.text]
    assert texts_read(decode, frame) == [frame.text]


SEED_5 = 233193750087604940414945475171846202189  # the bench generator's increment on seed 5


@pytest.mark.parametrize("text,state,inc,has_uint32,uinteger", [
    ("T386107", 74980478690939933667485068682299482121, SEED_5, 1, 997889316),
    ("T511825", 58941886706450498686237085283631561186, SEED_11, 1, 1848302164),
])
def test_a_badge_joined_to_cables_into_a_region_too_large_to_pick_is_read_by_pyzbar(
        text, state, inc, has_uint32, uinteger):
    # Bench misses (seed 5 upside-down, seed 11 hard badges): the badge's bars and the cables
    # across it are one bar-like region whose box is over FINDER_MAX_SHARE of the frame, so
    # the finder picks no patch, and the chain used to stop there; pyzbar alone reads it.
    frame = bench_frame(text, state, inc, has_uint32, uinteger)
    assert texts_read(chain.decode_zxing, frame) == []
    assert texts_read(chain.decode_pyzbar, frame) == [text]
    assert chain.find_bars(frame.image) == []
    assert texts_read(decode, frame) == [text]


def test_junk_pyzbar_alone_reads_on_the_whole_frame_is_not_reported():
    # The bench frame (seed 13, hard badges, frame 68): zxing-cpp reads nothing, no look at
    # the two bar patches reads anything, and pyzbar reads the whole frame as 'T,&29' (its
    # misread of a turned, blurred 'T511825'). The chain used to report it.
    frame = bench_frame("T511825", 140294862076756382996996402133248334796,
                        317612346296202158696945144441957901887, 1, 2028347253)
    assert texts_read(chain.decode_zxing, frame) == []
    assert texts_read(chain.decode_pyzbar, frame) == ["T,&29"]
    assert chain.find_bars(frame.image)
    assert decode(frame.image) == []


@pytest.mark.parametrize("text,state,inc,uinteger,junk", [
    # Held-out seeds 31 and 37, blurred Code 128: wrong reads on the bench (and before the
    # chain's tuning on seeds 3-13 too).
    ("T278999", 137749426874206874561666204912189171044,
     107090353359002252723118071224206516545, 1198228875, "'278999"),
    ("T508340", 86695750565354156089240785953731982796,
     70782546554204343252291554031180047225, 2183294223, "T,%sH"),
])
def test_junk_only_pyzbar_reads_on_a_bar_patch_is_not_reported(text, state, inc, uinteger, junk):
    # zxing-cpp reads nothing on the frame, on the finder's one patch or on it sharpened;
    # pyzbar reads junk on the frame and on the patch as taken, and nothing else reads. Its
    # read on the patch used to count alone, as it does not on the whole frame.
    frame = bench_frame(text, state, inc, 0, uinteger, variant="blur")
    assert texts_read(chain.decode_zxing, frame) == []
    assert texts_read(chain.decode_pyzbar, frame) == [junk]
    assert not chain._turnout_code(junk)
    looks = {(r.decoder, r.look, r.text) for patch in chain.find_bars(frame.image)
             for r in chain._read_patch(frame.image, patch, chain.BADGE_SYMBOLOGIES)}
    assert looks == {("pyzbar", chain.PATCH, junk)}
    assert decode(frame.image) == []


def test_a_code128_text_only_pyzbar_reads_counts_only_if_it_is_a_turnout_code():
    box = (100, 100, 300, 160)
    for look in chain.AS_TAKEN:
        assert merge([Read("T5724", "code128", box, "pyzbar", look)]) != []
        assert merge([Read("'5724", "code128", box, "pyzbar", look)]) == []
        # Checked by zxing-cpp on any look, any text counts.
        checked = [Read("'5724", "code128", box, "pyzbar", look),
                   Read("'5724", "code128", box, "zxing-cpp", chain.SHARPENED)]
        assert [r.text for r in merge(checked)] == ["'5724"]
    # zxing-cpp alone as taken still reports whatever it reads, and QR's error correction
    # makes pyzbar's QR reads trustworthy alone.
    assert merge([Read("'5724", "code128", box, "zxing-cpp")]) != []
    assert merge([Read("https://example.org", "qr", box, "pyzbar")]) != []


def test_a_read_of_a_transformed_patch_needs_the_other_decoder():
    box = (100, 100, 300, 160)
    pz_upright = Read("T5724", "code128", box, "pyzbar", chain.UPRIGHT)
    pz_sharpened = Read("T5724", "code128", box, "pyzbar", chain.SHARPENED)
    zx_sharpened = Read("T5724", "code128", box, "zxing-cpp", chain.SHARPENED)
    assert merge([pz_upright]) == []
    assert merge([pz_upright, pz_sharpened]) == []  # pyzbar repeats its own misreads
    assert merge([pz_upright, zx_sharpened]) == [zx_sharpened]
    as_taken = Read("T5724", "code128", box, "pyzbar", chain.PATCH)  # the camera's own pixels
    assert merge([as_taken]) == [as_taken]


def test_a_disagreeing_look_drops_a_read_unless_both_decoders_outvote_a_lone_transformed_one():
    box = (100, 100, 300, 160)
    as_taken = Read("T5724", "code128", box, "pyzbar", chain.PATCH)
    confirmed = [as_taken, Read("T5724", "code128", box, "zxing-cpp", chain.SHARPENED)]
    lone_upright = Read("T5743", "code128", box, "pyzbar", chain.UPRIGHT)
    assert merge(confirmed) == [confirmed[1]]
    # One decoder on pixels the chain made against a text read as taken and by both: outvoted.
    assert merge(confirmed + [lone_upright]) == [confirmed[1]]
    # Against a text one decoder read alone, or read by both only on pixels the chain
    # made: the doubt stands (T5743 is a badge too).
    assert merge([as_taken, lone_upright]) == []
    both_transformed = [Read("T5724", "code128", box, "pyzbar", chain.SHARPENED),
                        Read("T5724", "code128", box, "zxing-cpp", chain.SHARPENED)]
    assert merge(both_transformed) == [both_transformed[1]]
    assert merge(both_transformed + [lone_upright]) == []
    # A dissent that is a badge read as taken, or by both decoders, drops the symbol.
    assert merge(confirmed + [Read("T5743", "code128", box, "pyzbar", chain.PATCH)]) == []
    assert merge(confirmed + [lone_upright,
                              Read("T5743", "code128", box, "zxing-cpp", chain.SHARPENED)]) == []


def test_tilted_code128_is_turned_upright_when_neither_decoder_reads_it():
    batch = frames("code128", "rotation", 8, seed=3)
    alone = sum(any(c.text == f.text for c in chain.decode_zxing(f.image) + chain.decode_pyzbar(f.image))
                for f in batch)
    together = sum(any(c.text == f.text for c in decode(f.image)) for f in batch)
    assert together >= 7 and together > alone


def test_an_empty_scene_yields_nothing_and_pyzbar_is_not_run_on_it(monkeypatch):
    calls = []
    monkeypatch.setattr(chain, "pyzbar_reads", lambda *a, **k: calls.append(1) or [])
    rng = np.random.default_rng(9)
    for _ in range(5):
        assert decode(scene(rng)) == []
    assert calls == []


def test_decoders_disagreeing_about_a_symbol_report_nothing_for_it():
    zx = Read("T5724", "code128", (100, 100, 300, 160), "zxing-cpp")
    zb = Read("T5743", "code128", (104, 110, 298, 150), "pyzbar")
    elsewhere = Read("T10019", "qr", (400, 300, 500, 400), "zxing-cpp")
    assert merge([zx, zb, elsewhere]) == [elsewhere]


def test_agreeing_reads_are_one_symbol_and_a_lone_read_counts():
    zx = Read("T5724", "code128", (100, 100, 300, 160), "zxing-cpp")
    zb = Read("T5724", "code128", (104, 110, 298, 150), "pyzbar")
    assert merge([zx, zb]) == [zx]
    assert merge([zb]) == [zb]


def test_zbar_dropping_the_top_bit_of_extended_code128_is_not_a_disagreement():
    zx = Read("óó12", "code128", (0, 0, 100, 40), "zxing-cpp")
    zb = Read("ss12", "code128", (2, 0, 98, 40), "pyzbar")
    assert merge([zx, zb]) == [zx]


def test_the_chain_drops_a_symbol_when_pyzbar_contradicts_zxing_on_a_real_frame(monkeypatch):
    frame = frames("code128", "clean", 1, seed=4)[0]
    real = chain.pyzbar_reads

    def contradicting(gray, symbologies=chain.BADGE_SYMBOLOGIES, offset=(0, 0)):
        return [Read("T5743", r.type, r.box, r.decoder) for r in real(gray, symbologies, offset)]

    assert [c.text for c in decode(frame.image)] == [frame.text]
    monkeypatch.setattr(chain, "pyzbar_reads", contradicting)
    assert decode(frame.image) == []


def test_decode_files_prints_one_json_line_per_image(tmp_path):
    from PIL import Image

    Image.fromarray(np.pad(render_symbol("T10019", "qr"), 30, constant_values=255)).save(
        tmp_path / "badge.png")
    Image.fromarray(scene(np.random.default_rng(1))).save(tmp_path / "empty.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    out = io.StringIO()
    status = decode_files([tmp_path / "badge.png", tmp_path / "empty.png",
                           tmp_path / "broken.png"], out=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["codes"] == [{"text": "T10019", "type": "qr"}]
    assert lines[0]["path"].endswith("badge.png") and lines[0]["ms"] >= 0
    assert lines[1]["codes"] == []
    assert lines[2]["codes"] == [] and "cannot read image" in lines[2]["error"]
    assert status == 1


def corpus_images(folder):
    images = sorted(p for p in (CORPUS / folder).iterdir()
                    if p.suffix.lower() in {".png", ".jpg", ".webp"})
    return [(p, p.with_suffix(".txt")) for p in images]


@needs_corpus
@pytest.mark.parametrize("folder", ["falsepositives-1", "falsepositives-2"])
def test_photos_without_barcodes_yield_nothing(folder):
    for image, _ in corpus_images(folder):
        assert decode(chain.load_gray(image)) == [], image.name


@needs_corpus
@pytest.mark.parametrize("folder,at_least", [("qrcode-1", 8), ("code128-1", 6), ("qrcode-5", 16)])
def test_real_photos_of_badge_symbologies_are_read(folder, at_least):
    read = 0
    for image, txt in corpus_images(folder):
        expected = txt.read_text(encoding="utf-8").replace("\r\n", "\n").strip()
        texts = [c.text.replace("\r\n", "\n").strip() for c in decode(chain.load_gray(image))]
        read += expected in texts
    assert read >= at_least
