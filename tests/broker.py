"""Tests use the same local Mosquitto launcher as the demo and benchmarks."""

from turnout.local_broker import Broker, free_port

__all__ = ["Broker", "free_port"]
