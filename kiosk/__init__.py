"""The Turnout kiosk: scan badges, store them durably, give feedback, sync to the hub."""

from turnout import __version__

__all__ = ["__version__"]
