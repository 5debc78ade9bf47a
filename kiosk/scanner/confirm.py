"""Read confirmation for the camera: no phantom reads, and one scan per badge held up.

A camera sees a badge in many frames and a decoder can misread one of them. A code counts
when it is read in 2 consecutive decoded frames, or at once when it is a person badge whose
Damm check digit holds (a misread that still passes Damm is what the decoder chain's
confirmation and disagreement rules in ``kiosk.scanner.decode`` are for). A code that has
counted does not count again until it has been out of view for ``leave_after`` decoded
frames. Pure: frames in, confirmed codes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from turnout.codes import is_badge

CONFIRM_FRAMES = 2
# At the camera loop's 5-10 decoded frames a second, about half a second out of view.
LEAVE_AFTER_FRAMES = 4


@dataclass
class ReadConfirmation:
    """Feed it the texts decoded from each frame; it returns the codes that now count."""

    confirm_frames: int = CONFIRM_FRAMES
    leave_after: int = LEAVE_AFTER_FRAMES
    _seen_in_a_row: dict[str, int] = field(default_factory=dict)
    _in_view: dict[str, int] = field(default_factory=dict)  # counted code -> frames absent
    _last_present: frozenset[str] = frozenset()

    def frame(self, texts: Iterable[str]) -> list[str]:
        """One decoded frame's texts; returns those that count as scans, in the order seen."""
        present = list(dict.fromkeys(texts))
        confirmed = []
        for text in present:
            run = self._seen_in_a_row.get(text, 0) + 1
            self._seen_in_a_row[text] = run
            if text in self._in_view:
                self._in_view[text] = 0  # still held up: already counted
                continue
            if run >= self.confirm_frames or is_badge(text):
                self._in_view[text] = 0
                confirmed.append(text)
        for text in list(self._seen_in_a_row):
            if text not in present:
                del self._seen_in_a_row[text]
        self._last_present = frozenset(present)
        self._count_absences()
        return confirmed

    def unchanged(self) -> None:
        """A frame the gate skipped as unchanged: the same codes are (or are not) in view.

        It confirms nothing (the same picture twice is not two reads) but a badge that was
        absent stays absent, so it can count again once it has been away long enough.
        """
        self._count_absences()

    def _count_absences(self) -> None:
        for text in list(self._in_view):
            if text not in self._last_present:
                self._in_view[text] += 1
                if self._in_view[text] >= self.leave_after:
                    del self._in_view[text]  # it has left the view: it may count again

    def pending(self) -> bool:
        """A code was read once and not yet counted: the next frame should be decoded."""
        return any(text not in self._in_view for text in self._seen_in_a_row)

    def in_view(self) -> set[str]:
        return set(self._in_view)
