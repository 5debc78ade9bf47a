"""Players for the kiosk's tunes: a passive piezo, an active buzzer, or text in simulation.

`play()` never blocks: a worker thread plays, and a new tone cuts off the one before it
(the newest feedback is the one that matters to the person at the kiosk).
"""

from __future__ import annotations

import logging
import threading
from typing import Mapping, Sequence, TextIO

from kiosk.buzzer.tunes import TUNES, Tone

log = logging.getLogger(__name__)

Note = tuple[str | None, float]  # (note name, seconds); None is a rest

ACTIVE_GAP = 0.03  # an active buzzer has one pitch: a short silence keeps adjacent notes apart


class TunePlayer:
    """Plays tunes on a worker thread; subclasses say how to sound one note."""

    def __init__(self, tunes: Mapping[Tone, Sequence[Note]] = TUNES) -> None:
        self.tunes = tunes
        self._cond = threading.Condition()
        self._next: Tone | None = None
        self._playing = False
        self._closed = False
        self._worker = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._worker.start()

    def play(self, tone: Tone) -> None:
        """Start `tone` soon, replacing whatever is queued or playing. Returns at once."""
        with self._cond:
            if not self._closed:
                self._next = Tone(tone)
                self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until nothing is playing or queued; False if `timeout` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._next is None and not self._playing, timeout)

    def close(self) -> None:
        """Stop playing, silence the device and release it."""
        with self._cond:
            self._closed = True
            self._next = None
            self._cond.notify_all()
        self._worker.join()
        self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._next is not None or self._closed)
                if self._closed:
                    self._playing = False
                    self._cond.notify_all()
                    return
                tone, self._next, self._playing = self._next, None, True
            try:
                self._perform(tone)
            except Exception:
                log.exception("playing the %s tone failed; the buzzer stays available", tone)
            finally:
                self._sound(None)
                with self._cond:
                    self._playing = self._next is not None
                    self._cond.notify_all()

    def _perform(self, tone: Tone) -> None:
        for note, seconds in self._notes(tone):
            self._sound(note)
            if self._interrupted_within(seconds):
                return

    def _notes(self, tone: Tone) -> Sequence[Note]:
        return self.tunes[tone]

    def _interrupted_within(self, seconds: float) -> bool:
        """Hold the current note for `seconds` unless a newer tone (or close) comes first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._next is not None or self._closed, seconds)

    def _sound(self, note: str | None) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        pass


class TonalBuzzerPlayer(TunePlayer):
    """A passive piezo on a GPIO pin, driven at each note's pitch by gpiozero's TonalBuzzer."""

    def __init__(self, pin: int | str, pin_factory=None,
                 tunes: Mapping[Tone, Sequence[Note]] = TUNES) -> None:
        from gpiozero import TonalBuzzer

        # Centred on A5 so the tunes' range, A4..A6, is within TonalBuzzer's one octave each way.
        self.buzzer = TonalBuzzer(pin, mid_tone="A5", octaves=1, pin_factory=pin_factory)
        super().__init__(tunes)

    def _sound(self, note: str | None) -> None:
        if note is None:
            self.buzzer.stop()
        else:
            self.buzzer.play(note)

    def _release(self) -> None:
        self.buzzer.close()


class ActiveBuzzerPlayer(TunePlayer):
    """An active buzzer (one fixed pitch): each tune becomes beeps of its notes' lengths."""

    def __init__(self, pin: int | str, pin_factory=None,
                 tunes: Mapping[Tone, Sequence[Note]] = TUNES) -> None:
        from gpiozero import Buzzer

        self.buzzer = Buzzer(pin, pin_factory=pin_factory)
        super().__init__(tunes)

    def _notes(self, tone: Tone) -> Sequence[Note]:
        return beeps(self.tunes[tone])

    def _sound(self, note: str | None) -> None:
        if note is None:
            self.buzzer.off()
        else:
            self.buzzer.on()

    def _release(self) -> None:
        self.buzzer.close()


def beeps(tune: Sequence[Note]) -> list[Note]:
    """`tune` with a short rest between adjacent notes, so one-pitch beeps stay countable."""
    out: list[Note] = []
    for note, seconds in tune:
        if note is not None and out and out[-1][0] is not None:
            out.append((None, ACTIVE_GAP))
        out.append((note, seconds))
    return out


class TextPlayer:
    """Simulation: each tone becomes a line such as "♪ ok" on `stream`.

    Writing a line never blocks, so unlike a buzzer it needs no worker thread: the line is
    written by the caller, the moment the tone is issued (which is what the latency bench times).
    """

    def __init__(self, stream: TextIO, tunes: Mapping[Tone, Sequence[Note]] = TUNES) -> None:
        self.stream = stream
        self.tunes = tunes
        self._lock = threading.Lock()
        self._closed = False

    def play(self, tone: Tone) -> None:
        with self._lock:
            if not self._closed:
                self.stream.write(f"♪ {Tone(tone).value}\n")  # one write: never split by other output
                self.stream.flush()

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
