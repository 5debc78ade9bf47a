import logging
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


@pytest.fixture(autouse=True)
def _log_handlers_of_a_cli_run_removed():
    """A test that runs a command in-process (``hub.cli.main``) gets turnout.logs' handler on
    the root logger, writing to the stderr pytest captured for that test. Left in place, a
    background thread still running (a statistics rebuild) later writes to the closed capture
    and Python prints "--- Logging error ---" into another test's output."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if type(h) is logging.StreamHandler]:  # not pytest's own
        root.removeHandler(handler)


# -- the hub's database: SQLite, or PostgreSQL with --hub-db (make test-postgres) --

HUB_DB_FIXTURES = {"hub_db", "hub_db_shared", "postgres"}


def pytest_addoption(parser):
    parser.addoption("--hub-db", choices=("sqlite", "postgresql", "both"), default="sqlite",
                     help="the database engine under the hub's tests (tests/postgres.py finds or"
                          " starts a PostgreSQL); with postgresql, only tests that use a hub"
                          " database run")


def hub_backends(config) -> list[str]:
    chosen = config.getoption("--hub-db")
    return ["sqlite", "postgresql"] if chosen == "both" else [chosen]


def pytest_generate_tests(metafunc):
    backends = hub_backends(metafunc.config)
    for name, scope in (("hub_db", "function"), ("hub_db_shared", "module")):
        if name in metafunc.fixturenames and len(backends) > 1:
            metafunc.parametrize(name, backends, indirect=True, scope=scope)


def pytest_collection_modifyitems(config, items):
    if hub_backends(config) != ["postgresql"]:
        return
    keep = [item for item in items if HUB_DB_FIXTURES & set(getattr(item, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL database for this session (tests/postgres.py), dropped at the end."""
    from tests.postgres import PostgresUnavailable, TestDatabases

    try:
        databases = TestDatabases()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield databases
    databases.drop()


def _hub_location(request, folder):
    backend = getattr(request, "param", None) or hub_backends(request.config)[0]
    if backend == "sqlite":
        return folder / "hub.sqlite"
    return request.getfixturevalue("postgres").url()


def _close_stores_on(location) -> None:
    """Close the stores a test opened on its database (each PostgreSQL store holds connections)."""
    for ref in _opened_stores:
        store = ref()
        if store is not None and store.db.location == str(location):
            store.close()


@pytest.fixture
def hub_db(request, tmp_path):
    """Where a test's hub keeps its data: a SQLite file, or a PostgreSQL URL (--hub-db)."""
    location = _hub_location(request, tmp_path)
    yield location
    _close_stores_on(location)


@pytest.fixture(scope="module")
def hub_db_shared(request, tmp_path_factory):
    """As ``hub_db``, for a whole module's tests."""
    location = _hub_location(request, tmp_path_factory.mktemp("hub"))
    yield location
    _close_stores_on(location)
