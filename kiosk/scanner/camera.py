"""Camera scanning: frame sources, the frame-change gate, idle back-off and the scan loop.

A frame source is an iterable of grey frames (numpy uint8, height x width) with ``close()``:

- ``Picamera2Source``: a Pi camera; grey is the Y plane of a low-resolution YUV420 stream.
- ``OpenCVSource``: a USB webcam through V4L2 (``v4l2:/dev/video0``).
- ``ImageFolderSource``: image files, for tests and ``--sim --scanner images:DIR``.

``CameraScanner`` runs the loop in a background thread so scans, tones and the screen stay
responsive: skip frames that have not changed (``FrameGate``), slow down when nothing moves
(``IdleBackoff``), decode with the chain (``kiosk.scanner.decode``), and count a code only as
``ReadConfirmation`` allows. picamera2 and cv2 are imported only when their source is built.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from kiosk.scanner.confirm import ReadConfirmation

log = logging.getLogger(__name__)

FRAME_SIZE = (640, 480)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


class FrameSource(Protocol):
    def __iter__(self) -> Iterator[np.ndarray]: ...

    def close(self) -> None: ...


# --- sources --------------------------------------------------------------------------------

class ImageFolderSource:
    """Image files as camera frames: every image in a folder (sorted by name) or one file.

    ``hold`` repeats each image, as a badge held up is seen in several frames; ``gap`` adds
    blank frames after each, as the view empties between people.
    """

    def __init__(self, path: str | Path, hold: int = 3, gap: int = 0, repeat: int = 1):
        self.path = Path(path)
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.iterdir()
                                if p.suffix.lower() in IMAGE_SUFFIXES)
        elif self.path.is_file():
            self.files = [self.path]
        else:
            raise FileNotFoundError(f"no image or folder at {self.path}")
        self.hold, self.gap, self.repeat = hold, gap, repeat
        self._closed = False

    def __iter__(self) -> Iterator[np.ndarray]:
        from kiosk.scanner.decode import load_gray

        for _ in range(self.repeat):
            for file in self.files:
                try:
                    frame = load_gray(file)
                except (OSError, ValueError) as error:
                    log.warning("skipping image %s: %s", file, error)
                    continue
                for _ in range(self.hold):
                    if self._closed:
                        return
                    yield frame
                blank = np.full_like(frame, int(np.median(frame)))
                for _ in range(self.gap):
                    if self._closed:
                        return
                    yield blank

    def close(self) -> None:
        self._closed = True


class OpenCVSource:
    """A USB webcam through V4L2 (OpenCV), converted to grey."""

    def __init__(self, device: str | int = "/dev/video0", size: tuple[int, int] = FRAME_SIZE):
        import cv2

        self._cv2 = cv2
        self.device = device
        self.capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not self.capture.isOpened():
            raise OSError(f"cannot open webcam {device}")
        self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        # Newest frame, not a queue of stale ones, when decoding falls behind.
        self.capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def __iter__(self) -> Iterator[np.ndarray]:
        while self.capture.isOpened():
            ok, frame = self.capture.read()
            if not ok:
                log.warning("webcam %s stopped sending frames", self.device)
                return
            if frame.ndim == 3:
                frame = self._cv2.cvtColor(frame, self._cv2.COLOR_BGR2GRAY)
            yield frame

    def close(self) -> None:
        self.capture.release()


class Picamera2Source:
    """A Raspberry Pi camera module through picamera2 (Raspberry Pi OS: python3-picamera2).

    The decoder reads the Y (luma) plane of the low-resolution YUV420 stream: it is already
    grey, so no colour conversion is spent per frame. Continuous autofocus is switched on when
    the module has it (Camera Module 3); fixed-focus modules simply lack the AfMode control.
    """

    def __init__(self, size: tuple[int, int] = FRAME_SIZE,
                 main_size: tuple[int, int] = (1280, 960), camera: int = 0):
        from picamera2 import Picamera2

        self.size = size
        self.picam2 = Picamera2(camera)
        config = self.picam2.create_video_configuration(
            main={"size": main_size},
            lores={"size": size, "format": "YUV420"},
            buffer_count=4,
        )
        self.picam2.configure(config)
        # The lores size may have been aligned by libcamera; crop to what it really is.
        self.width, self.height = self.picam2.camera_config["lores"]["size"]
        self.picam2.start()
        if "AfMode" in self.picam2.camera_controls:
            from libcamera import controls

            self.picam2.set_controls({"AfMode": controls.AfModeEnum.Continuous})
            log.info("camera autofocus: continuous")
        else:
            log.info("camera has fixed focus")

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            yuv = self.picam2.capture_array("lores")
            # YUV420 arrives as (height * 3 / 2) rows of stride bytes; the first rows are Y.
            yield yuv[: self.height, : self.width]

    def close(self) -> None:
        self.picam2.stop()
        self.picam2.close()


def source_from_spec(spec: str) -> FrameSource:
    """``images:DIR`` (or one file), ``picamera2``, ``v4l2:/dev/video0`` (or ``v4l2:0``)."""
    kind, _, where = spec.partition(":")
    if kind == "images":
        return ImageFolderSource(where)
    if kind == "picamera2":
        return Picamera2Source(camera=int(where) if where else 0)
    if kind == "v4l2":
        device = where or "/dev/video0"
        return OpenCVSource(int(device) if device.isdigit() else device)
    raise ValueError(f"unknown camera {spec!r}: use images:DIR, picamera2 or v4l2:/dev/videoN")


def open_camera_scanner(spec: str, on_code: Callable[[str], None],
                        on_eof: Callable[[], None] | None = None) -> CameraScanner:
    """A started camera scanner for ``images:DIR``, ``picamera2`` or ``v4l2:/dev/videoN``."""
    scanner = CameraScanner(source_from_spec(spec), on_code, on_eof=on_eof)
    log.info("camera scanner reading from %s", spec)
    return scanner.start()


# --- CPU discipline -------------------------------------------------------------------------

@dataclass
class FrameGate:
    """Says whether a frame changed enough since the last decoded one to be worth decoding.

    Compares every ``step``-th pixel (1/64 of a 640x480 frame with step 8): a badge coming
    into view changes many of them, sensor noise changes few by much.
    """

    step: int = 8
    pixel_change: int = 18  # grey levels: above sensor noise, below a badge's contrast
    changed_share: float = 0.02  # of sampled pixels
    max_skipped: int = 15  # decode anyway now and then (light changes slowly, focus settles)
    _reference: np.ndarray | None = None
    _skipped: int = 0

    def changed(self, frame: np.ndarray) -> bool:
        sample = frame[:: self.step, :: self.step].astype(np.int16)
        if (self._reference is None or self._reference.shape != sample.shape
                or self._skipped >= self.max_skipped
                or np.count_nonzero(np.abs(sample - self._reference) > self.pixel_change)
                > self.changed_share * sample.size):
            self._reference = sample
            self._skipped = 0
            return True
        self._skipped += 1
        return False


@dataclass
class IdleBackoff:
    """Frame pacing: full rate while things move, ``idle_interval`` once still for a while."""

    active_interval: float = 0.0  # as fast as the camera delivers
    idle_interval: float = 0.5  # 2 frames a second when nobody is there
    idle_after: float = 3.0
    _last_change: float | None = None

    def changed(self, now: float) -> None:
        self._last_change = now

    def interval(self, now: float) -> float:
        if self._last_change is None or now - self._last_change >= self.idle_after:
            return self.idle_interval
        return self.active_interval


# --- the scan loop --------------------------------------------------------------------------

@dataclass
class CameraScanner:
    """Reads codes from a camera in a background thread and calls ``on_code(text)``.

    ``on_code`` runs on the scanner's thread: hand the text to the kiosk's own loop (a queue,
    or ``loop.call_soon_threadsafe``) rather than doing the work there.
    """

    source: FrameSource
    on_code: Callable[[str], None]
    decoder: Callable[[np.ndarray], list] | None = None
    gate: FrameGate = field(default_factory=FrameGate)
    confirmation: ReadConfirmation = field(default_factory=ReadConfirmation)
    backoff: IdleBackoff = field(default_factory=IdleBackoff)
    clock: Callable[[], float] = time.monotonic
    on_eof: Callable[[], None] | None = None  # the source ran out (an image folder does)
    frames_seen: int = 0
    frames_decoded: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> CameraScanner:
        self._thread = threading.Thread(target=self.run, name="camera-scanner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.source.close()

    close = stop

    def wait(self, timeout: float | None = None) -> bool:
        """Until the source runs out (an image folder does); True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def run(self) -> None:
        """The loop itself (``start()`` runs it in a thread; tests may call it directly)."""
        decoder = self.decoder
        if decoder is None:
            from kiosk.scanner.decode import decode as decoder
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                self.frames_seen += 1
                self.step(frame, decoder)
                pause = self.backoff.interval(self.clock())
                if pause and self._stop.wait(pause):
                    break
        except Exception:
            log.exception("camera scanner stopped by an error; scanning by camera is off")
        if not self._stop.is_set() and self.on_eof is not None:
            self.on_eof()

    def step(self, frame: np.ndarray, decoder) -> list[str]:
        """One frame through gate, decoder and confirmation; returns the codes that counted."""
        # A code seen once needs a second decoded frame to count, changed or not.
        if not self.gate.changed(frame) and not self.confirmation.pending():
            self.confirmation.unchanged()
            return []
        self.backoff.changed(self.clock())
        self.frames_decoded += 1
        try:
            texts = [code.text for code in decoder(frame)]
        except Exception:
            log.exception("decoder failed on a frame; skipping it")
            texts = []
        confirmed = self.confirmation.frame(texts)
        for text in confirmed:
            try:
                self.on_code(text)
            except Exception:
                log.exception("scan handler failed for a camera read")
        return confirmed
