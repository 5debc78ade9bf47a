import weakref

import pytest

from tests.broker import Broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """A real Mosquitto on a free port, shared by the whole test session."""
    b = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture
def notify(tmp_path):
    """A notify socket bound here as systemd binds one ($NOTIFY_SOCKET for the process under test)."""
    from tests.notify import NotifySocket

    sock = NotifySocket(tmp_path / "notify")
    yield sock
    sock.close()


@pytest.fixture
def own_broker(tmp_path):
    """A Mosquitto of this test's own, for tests that stop and restart it."""
    b = Broker(tmp_path / "mosquitto").start()
    yield b
    b.stop()


_opened_stores: list[weakref.ref] = []


@pytest.fixture(scope="session", autouse=True)
def _record_opened_stores():
    """Remember every hub Store a test opens, so it can be closed (see below)."""
    try:
        from hub.store import Store
    except ImportError:  # a kiosk-only install: no hub to track
        yield
        return
    original = Store.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        _opened_stores.append(weakref.ref(self))

    Store.__init__ = recording_init
    yield
    Store.__init__ = original


@pytest.fixture(scope="module", autouse=True)
def _close_stores_after_each_module(_record_opened_stores):
    """Tests that leave stores open leak SQLite file descriptors; past 1,024 open files, paho's
    select() loop can no longer watch a new socket and in-process MQTT clients never connect."""
    yield
    for ref in _opened_stores:
        store = ref()
        if store is not None:
            store.close()
    _opened_stores.clear()
