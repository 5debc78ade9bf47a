"""hardware.md's wiring table, the kiosk's default pins, the 40-pin header and docs/wiring.svg
all say the same thing."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from kiosk.config import DEFAULT_BUTTON_PINS, DEFAULT_BUZZER_PIN, DEFAULT_LED_PINS, Settings

REPO = Path(__file__).parents[2]
# The Raspberry Pi 40-pin header: physical pin -> what is on it (BCM numbering).
HEADER = {
    1: "3V3", 2: "5V", 3: "GPIO2", 4: "5V", 5: "GPIO3", 6: "GND", 7: "GPIO4", 8: "GPIO14", 9: "GND",
    10: "GPIO15", 11: "GPIO17", 12: "GPIO18", 13: "GPIO27", 14: "GND", 15: "GPIO22", 16: "GPIO23",
    17: "3V3", 18: "GPIO24", 19: "GPIO10", 20: "GND", 21: "GPIO9", 22: "GPIO25", 23: "GPIO11", 24: "GPIO8",
    25: "GND", 26: "GPIO7", 27: "GPIO0", 28: "GPIO1", 29: "GPIO5", 30: "GND", 31: "GPIO6", 32: "GPIO12",
    33: "GPIO13", 34: "GND", 35: "GPIO19", 36: "GPIO16", 37: "GPIO26", 38: "GPIO20", 39: "GND", 40: "GPIO21",
}


def wiring_rows() -> list[dict[str, str]]:
    """The table under '## Wiring' in hardware.md, one dict per row, keyed by its header."""
    text = (REPO / "hardware.md").read_text()
    section = text.split("\n## Wiring\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append(dict(zip(header, cells)))
    return rows


def settings_in_table() -> dict[str, object]:
    """`button_pins.pitch = 5` and the like from the settings column, as the kiosk's values."""
    found: dict[str, object] = {}
    for row in wiring_rows():
        for name, value in re.findall(r"`([a-z0-9_.]+) = (0x[0-9A-Fa-f]+|\d+)`", row["kiosk.toml setting (default)"]):
            number = int(value, 0)
            table, _, key = name.partition(".")
            if key:
                found.setdefault(table, {})[key] = number
            else:
                found[name] = number
    return found


def test_table_has_every_wire():
    rows = wiring_rows()
    assert len(rows) == 16
    assert {row["part"] for row in rows} >= {"OLED", "Buzzer", "Pitch button", "All buttons"}


def test_default_pins_match_the_table():
    settings = Settings()
    found = settings_in_table()
    assert found["button_pins"] == DEFAULT_BUTTON_PINS
    assert found["led_pins"] == DEFAULT_LED_PINS
    assert found["buzzer_pin"] == DEFAULT_BUZZER_PIN == settings.buzzer_pin
    assert found["i2c_port"] == settings.i2c_port
    assert found["i2c_address"] == settings.i2c_address


def test_each_gpio_is_on_the_pin_the_table_says():
    for row in wiring_rows():
        assert HEADER[int(row["Pi pin"])] == row["GPIO"], row
    gpios = {int(row["GPIO"][4:]) for row in wiring_rows() if row["GPIO"].startswith("GPIO")}
    kiosk_pins = {*DEFAULT_BUTTON_PINS.values(), *DEFAULT_LED_PINS.values(), DEFAULT_BUZZER_PIN}
    assert gpios == kiosk_pins | {2, 3}  # GPIO2 and 3 are I2C bus 1, the OLED's


def test_no_pin_is_used_twice_for_a_signal():
    signal = [row["Pi pin"] for row in wiring_rows() if row["GPIO"].startswith("GPIO")]
    assert len(signal) == len(set(signal))


def test_the_diagram_shows_the_same_pins():
    svg = ET.parse(REPO / "docs/wiring.svg").getroot()
    drawn = {g.get("id"): g for g in svg.iter("{http://www.w3.org/2000/svg}g") if (g.get("id") or "").startswith("pin-")}
    table = {f"pin-{row['Pi pin']}": row for row in wiring_rows()}
    assert set(drawn) == set(table)
    for pin_id, row in table.items():
        gpio = row["GPIO"][4:] if row["GPIO"].startswith("GPIO") else ""
        assert drawn[pin_id].get("data-gpio") == gpio, pin_id
        labels = "".join(t.text or "" for t in drawn[pin_id].iter("{http://www.w3.org/2000/svg}text"))
        assert row["GPIO"] in labels, pin_id  # "GPIO5", "GND", "3V3"
