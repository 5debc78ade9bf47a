"""The Turnout hub: ingest scans over MQTT, score them, answer kiosks, serve pages and data."""

from turnout import __version__

__all__ = ["__version__"]
