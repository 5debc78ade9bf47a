"""Decoder chain vs pyzbar and zxing-cpp alone on generated camera-like frames.

Frames are 640x480 grey, a badge printed through hub/printing/symbols.py held up to the
camera (see tests/kiosk/badge_images.py): clean, small (far away), blurred, rotated, tilted,
noisy, dim, under a reflection. Prints, per variant and symbology, the success rate, wrong
reads and median/p95 ms of each decoder. "ok" is a clean read (the badge's text and nothing
else); "wrong" counts frames where a decoder reported any other text, then the cost of frames with nothing in them.

Goals (issue 5): chain success >= the better decoder in every variant; no wrong reads from
the chain; chain's empty-frame median <= 1.5x the fastest decoder's.

    .venv/bin/python bench/decode_frames.py [--frames 40] [--seed 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from kiosk.scanner.decode import DECODERS, load_gray  # noqa: E402
from tests.kiosk.badge_images import FRAME_SIZE, SYMBOLOGIES, VARIANTS, badge_frame, scene  # noqa: E402
from turnout.codes import badge_code  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "zxing-samples"
NAMES = list(DECODERS)  # pyzbar, zxing-cpp, chain


def timed(decoder, image):
    started = time.perf_counter()
    codes = decoder(image)
    return codes, (time.perf_counter() - started) * 1000


def p95(values):
    return float(np.percentile(values, 95))


def empty_frames(count: int, rng) -> dict[str, list[np.ndarray]]:
    import cv2

    sets = {"generated scene": [scene(rng) for _ in range(count)]}
    photos = []
    for folder in sorted(CORPUS.glob("falsepositives-*")):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in {".png", ".jpg", ".webp"}:
                photos.append(cv2.resize(load_gray(path), FRAME_SIZE, interpolation=cv2.INTER_AREA))
    if photos:
        sets["photos (falsepositives-*)"] = photos
    return sets


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per variant and symbology")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    warm = badge_frame(badge_code(1), "qr", "clean", rng).image
    for name in NAMES:
        DECODERS[name](warm)

    print(f"## Badge frames ({args.frames} per row, 640x480, seed {args.seed})\n")
    print("| variant | symbology | " + " | ".join(f"{n} ok" for n in NAMES)
          + " | " + " | ".join(f"{n} wrong" for n in NAMES)
          + " | " + " | ".join(f"{n} ms med/p95" for n in NAMES) + " |")
    print("|---|---|" + "---:|" * (3 * len(NAMES)))
    goals_met = True
    for variant in VARIANTS:
        for symbology in SYMBOLOGIES:
            ok = dict.fromkeys(NAMES, 0)
            wrong = dict.fromkeys(NAMES, 0)
            ms = {n: [] for n in NAMES}
            for _ in range(args.frames):
                text = badge_code(int(rng.integers(1, 100_000)))
                frame = badge_frame(text, symbology, variant, rng)
                for name in NAMES:
                    codes, spent = timed(DECODERS[name], frame.image)
                    ms[name].append(spent)
                    misread = any(c.text != text for c in codes)
                    # A read only counts clean: a wrong text beside the right one credits a stranger.
                    ok[name] += any(c.text == text for c in codes) and not misread
                    wrong[name] += misread
            n = args.frames
            print(f"| {variant} | {symbology} | "
                  + " | ".join(f"{100 * ok[x] / n:.0f} %" for x in NAMES) + " | "
                  + " | ".join(str(wrong[x]) for x in NAMES) + " | "
                  + " | ".join(f"{statistics.median(ms[x]):.1f}/{p95(ms[x]):.1f}" for x in NAMES)
                  + " |")
            if ok["chain"] < max(ok["pyzbar"], ok["zxing-cpp"]) or wrong["chain"]:
                goals_met = False

    print("\n## Frames with nothing in them\n")
    print("| frames | count | " + " | ".join(f"{n} ms med/p95" for n in NAMES)
          + " | chain / fastest (median) | false reads (any decoder) |")
    print("|---|---:|" + "---:|" * (len(NAMES) + 2))
    for label, frames in empty_frames(args.frames, rng).items():
        ms = {n: [] for n in NAMES}
        false_reads = 0
        for _ in range(5):  # five passes so each median rests on enough samples
            for image in frames:
                for name in NAMES:
                    codes, spent = timed(DECODERS[name], image)
                    ms[name].append(spent)
                    false_reads += len(codes)
        medians = {n: statistics.median(ms[n]) for n in NAMES}
        ratio = medians["chain"] / min(medians["pyzbar"], medians["zxing-cpp"])
        print(f"| {label} | {len(frames)} | "
              + " | ".join(f"{medians[x]:.2f}/{p95(ms[x]):.2f}" for x in NAMES)
              + f" | {ratio:.2f}x | {false_reads} |")
        if ratio > 1.5 or false_reads:
            goals_met = False
    print(f"\nGoals {'met' if goals_met else 'NOT met'}: chain >= better decoder in every row, "
          "no wrong reads from the chain, empty-frame median <= 1.5x the fastest, no false reads.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
