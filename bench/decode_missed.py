"""Why the chain missed or misread a frame of bench/decode_frames.py (same seed, same frames).

For every frame the chain misreads, or misses though pyzbar or zxing-cpp alone reads it
cleanly: what each decoder reads alone, what zxing-cpp's first pass found (reads, and
symbols it could not read), the finder's patches (up to 10, not just the 2 the chain reads)
with every look at each, and the chain's reads. The random generator's state just before
the frame was drawn is printed too, to rebuild the frame in a test (``bench_frame`` in
tests/kiosk/test_decode.py). Then chain ok/wrong/missed per row and in all.

    .venv/bin/python bench/decode_missed.py [--seed 5] [--frames 40] [--upside-down-frames 150]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from decode_frames import arguments, row_frames, rows, warm_up  # noqa: E402

from kiosk.scanner import decode as chain  # noqa: E402


def clean(codes, text) -> bool:
    return any(c.text == text for c in codes) and all(c.text == text for c in codes)


def explain(image) -> list[str]:
    reads, unread = chain._zxing_scan(image, chain.BADGE_SYMBOLOGIES, errors=True)
    lines = [f"  zxing-cpp first pass: {[r.text for r in reads]}, could not read: {unread}"]
    blocks = chain._blocks(image)
    if blocks is not None:
        patches, too_large = chain._find_bars(blocks, max_patches=10)
        lines.append(f"  finder: {len(patches)} patches, a bar region too large: {too_large}, "
                     f"a QR-like region: {chain._finds_qr(blocks)}")
        for patch in patches:
            looks = [(r.decoder, r.look, r.text)
                     for r in chain._read_patch(image, patch, chain.BADGE_SYMBOLOGIES)]
            lines.append(f"  patch {patch.box} at {patch.angle:.0f} deg: {looks}")
    lines.append(f"  chain: {[(r.text, r.decoder, r.look) for r in chain.chain_reads(image)]}")
    return lines


def main(argv=None) -> int:
    args = arguments(argv, __doc__.splitlines()[0])
    rng = np.random.default_rng(args.seed)
    warm_up(rng)
    totals = np.zeros(3, int)
    for row in rows(args):
        variant, symbology, count, texts = row
        label = f"{variant}{' (hard badges)' if texts else ''} {symbology}"
        counts = np.zeros(3, int)  # ok, wrong, missed
        for i, state, frame in row_frames(row, rng):
            read = {name: chain.DECODERS[name](frame.image) for name in chain.DECODERS}
            ok = clean(read["chain"], frame.text)
            wrong = any(c.text != frame.text for c in read["chain"])
            missed = not ok and (clean(read["pyzbar"], frame.text)
                                 or clean(read["zxing-cpp"], frame.text))
            counts += (ok, wrong, missed)
            if wrong or missed:
                inner = state["state"]
                print(f"{'WRONG' if wrong else 'MISSED'} {label} frame {i}: {frame.text}; "
                      + "; ".join(f"{name} {[c.text for c in codes]}" for name, codes in read.items()))
                print(f"  state: {inner['state']}, {inner['inc']}, "
                      f"has_uint32={state['has_uint32']}, uinteger={state['uinteger']}")
                print("\n".join(explain(frame.image)), flush=True)
        print(f"{label}: chain ok {counts[0]}, wrong {counts[1]}, missed {counts[2]} of {count}",
              flush=True)
        totals += counts
    print(f"\nSeed {args.seed}: chain ok {totals[0]}, wrong {totals[1]}, missed {totals[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
