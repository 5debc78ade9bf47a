"""Frame sources, the frame-change gate, idle back-off and the camera scan loop end to end."""

import numpy as np
import pytest
from PIL import Image

from kiosk.scanner.camera import (CameraScanner, FrameGate, IdleBackoff, ImageFolderSource,
                                  source_from_spec)
from kiosk.scanner.decode import Decoded
from tests.kiosk.badge_images import badge_frame, render_symbol, scene


def still(seed=1):
    return scene(np.random.default_rng(seed))


def test_the_gate_passes_the_first_frame_and_skips_an_unchanged_one():
    gate = FrameGate()
    frame = still()
    assert gate.changed(frame)
    noisy = np.clip(frame.astype(np.int16) + np.random.default_rng(2).normal(0, 3, frame.shape),
                    0, 255).astype(np.uint8)
    assert not gate.changed(noisy)  # sensor noise is not a change


def test_the_gate_passes_a_badge_coming_into_view():
    gate = FrameGate()
    rng = np.random.default_rng(3)
    empty = still(3)
    gate.changed(empty)
    with_badge = badge_frame("T5724", "qr", "clean", rng).image
    assert gate.changed(with_badge)


def test_the_gate_decodes_anyway_after_max_skipped_frames():
    gate = FrameGate(max_skipped=3)
    frame = still()
    assert [gate.changed(frame) for _ in range(6)] == [True, False, False, False, True, False]


def test_idle_backoff_slows_down_when_nothing_changes():
    backoff = IdleBackoff(active_interval=0.0, idle_interval=0.5, idle_after=3.0)
    assert backoff.interval(0.0) == 0.5  # nothing seen yet: idle
    backoff.changed(10.0)
    assert backoff.interval(11.0) == 0.0
    assert backoff.interval(13.0) == 0.5


def save(path, image):
    Image.fromarray(image).save(path)
    return path


def test_image_folder_source_yields_grey_frames_held_for_several_frames(tmp_path):
    save(tmp_path / "a.png", still(1))
    save(tmp_path / "b.png", np.stack([still(2)] * 3, axis=-1))  # colour becomes grey
    (tmp_path / "notes.txt").write_text("not an image")
    frames = list(ImageFolderSource(tmp_path, hold=2, gap=1))
    assert len(frames) == 6
    assert all(f.ndim == 2 and f.dtype == np.uint8 for f in frames)
    assert np.array_equal(frames[0], frames[1])


def test_image_folder_source_reads_one_file_and_refuses_a_missing_path(tmp_path):
    path = save(tmp_path / "one.png", still())
    assert len(list(ImageFolderSource(path, hold=1))) == 1
    with pytest.raises(FileNotFoundError):
        ImageFolderSource(tmp_path / "missing")


def test_source_from_spec_knows_images_and_refuses_unknown_kinds(tmp_path):
    save(tmp_path / "one.png", still())
    assert isinstance(source_from_spec(f"images:{tmp_path}"), ImageFolderSource)
    with pytest.raises(ValueError, match="unknown camera"):
        source_from_spec("webcam")


def test_camera_scanner_reads_each_badge_once_from_an_image_folder(tmp_path):
    rng = np.random.default_rng(8)
    save(tmp_path / "1-badge.png", badge_frame("T5724", "code128", "clean", rng).image)
    save(tmp_path / "2-empty.png", still(4))
    save(tmp_path / "3-card.png", np.pad(render_symbol("TURNOUT:ROLE:cake", "qr"), 60,
                                         constant_values=255))
    save(tmp_path / "4-badge.png", badge_frame("T10019", "qr", "perspective", rng).image)
    save(tmp_path / "5-same-badge-again.png", badge_frame("T10019", "qr", "clean", rng).image)
    codes = []
    scanner = CameraScanner(ImageFolderSource(tmp_path, hold=5, gap=5), codes.append,
                            backoff=IdleBackoff(idle_interval=0.0))
    scanner.start()
    assert scanner.wait(timeout=30)
    assert codes == ["T5724", "TURNOUT:ROLE:cake", "T10019", "T10019"]
    assert scanner.frames_decoded < scanner.frames_seen  # unchanged frames were skipped


def test_a_card_seen_in_one_frame_only_is_not_reported():
    frames = [still(1), still(2), still(3)]
    reads = iter([[Decoded("TURNOUT:UNDO", "qr")], [], []])
    codes = []
    scanner = CameraScanner(frames_source(frames), codes.append, decoder=lambda f: next(reads),
                            backoff=IdleBackoff(idle_interval=0.0))
    scanner.run()
    assert next(reads, "all read") == "all read", "every frame went through the decoder"
    assert codes == []


def test_a_still_frame_is_decoded_again_to_confirm_a_card():
    frame = still(1)
    codes = []
    calls = []

    def decoder(f):
        calls.append(1)
        return [Decoded("TURNOUT:UNDO", "qr")]

    scanner = CameraScanner(frames_source([frame] * 4), codes.append, decoder=decoder,
                            backoff=IdleBackoff(idle_interval=0.0))
    scanner.run()
    assert codes == ["TURNOUT:UNDO"]
    assert len(calls) == 2  # once to see it, once to confirm it; then the gate skips


def test_a_decoder_error_skips_the_frame_and_the_loop_goes_on():
    calls = iter([RuntimeError("boom"), [Decoded("T5724", "code128")]])

    def decoder(f):
        result = next(calls)
        if isinstance(result, Exception):
            raise result
        return result

    codes = []
    scanner = CameraScanner(frames_source([still(1), still(2)]), codes.append, decoder=decoder,
                            backoff=IdleBackoff(idle_interval=0.0))
    scanner.run()
    assert codes == ["T5724"]


class frames_source:
    def __init__(self, frames):
        self.frames = frames
        self.closed = False

    def __iter__(self):
        return iter(self.frames)

    def close(self):
        self.closed = True


def test_open_camera_scanner_reads_an_image_folder_and_reports_its_end(tmp_path):
    import threading

    from kiosk.scanner.camera import open_camera_scanner

    save(tmp_path / "badge.png", np.pad(render_symbol("T5724", "code128"), 40, constant_values=255))
    codes, ended = [], threading.Event()
    scanner = open_camera_scanner(f"images:{tmp_path}", codes.append, on_eof=ended.set)
    try:
        assert ended.wait(timeout=30)
        assert codes == ["T5724"]
    finally:
        scanner.close()
