"""The kiosk's tones as notes. Pure: players in kiosk.buzzer.player turn them into sound."""

from __future__ import annotations

from enum import StrEnum


class Tone(StrEnum):
    OK = "ok"
    REPEAT = "repeat"
    ERROR = "error"
    MILESTONE = "milestone"
    ARMED = "armed"


# (note name for gpiozero's Tone, seconds); None is a rest. Notes stay inside a passive
# piezo's comfortable range (A4..A6), which TonalBuzzerPlayer covers by centring on A5.
TUNES: dict[Tone, tuple[tuple[str | None, float], ...]] = {
    Tone.OK: (("E6", 0.08), ("A6", 0.12)),  # rising: cheerful
    Tone.REPEAT: (("A5", 0.08), (None, 0.05), ("A5", 0.08)),  # two equal: "seen you"
    Tone.ERROR: (("C5", 0.25), ("A4", 0.35)),  # falling and low: try again
    Tone.MILESTONE: (("C6", 0.1), ("E6", 0.1), ("G6", 0.1), (None, 0.05), ("C6", 0.1), ("G6", 0.3)),
    Tone.ARMED: (("G5", 0.05),),  # short click: role chosen
}
