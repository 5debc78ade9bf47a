"""Turnout: what kiosk and hub share (badge codes and the MQTT wire format). Pure: no I/O here."""

__version__ = "0.1.0"
