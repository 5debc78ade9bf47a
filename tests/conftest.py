import pytest

from tests.broker import Broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """A real Mosquitto on a free port, shared by the whole test session."""
    b = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture
def own_broker(tmp_path):
    """A Mosquitto of this test's own, for tests that stop and restart it."""
    b = Broker(tmp_path / "mosquitto").start()
    yield b
    b.stop()
