"""`turnout-kiosk`'s command line: which setting wins, flags, file or what the kiosk saved."""

import uuid

import pytest

from kiosk.cli import SIM_HELP, _parser, _settings
from kiosk.store import ScanStore
from tests.broker import free_port
from tests.kiosk.sim import KioskProcess, wait_for


def settings_from(argv):
    return _settings(_parser().parse_args(argv))


def test_flags_override_the_settings_file(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('kiosk_id = "hall-2"\nbroker = "mqtt://hub.local:1883"\nevent = "from-file"\n'
                    'scanner = "hid"\ndisplay = "sh1106"\nbuzzer = "active"\ndata_dir = "/srv/a"\n')
    s = settings_from(["--config", str(path), "--kiosk-id", "hall-9", "--broker", "mqtt://10.0.0.2:1884",
                       "--event", "from-flag", "--scanner", "stdin", "--display", "none",
                       "--buzzer", "none", "--data-dir", str(tmp_path)])
    assert (s.kiosk_id, s.broker, s.event, s.scanner, s.display, s.buzzer, s.data_dir) == (
        "hall-9", "mqtt://10.0.0.2:1884", "from-flag", "stdin", "none", "none", tmp_path)
    s = settings_from(["--config", str(path)])
    assert (s.kiosk_id, s.broker, s.event) == ("hall-2", "mqtt://hub.local:1883", "from-file")


def test_a_broker_flag_wins_over_one_saved_from_a_set_up_card(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('broker = "mqtt://from-file:1883"\n')
    saved = "from-card:1884"  # what a set-up card named
    assert str(settings_from(["--config", str(path), "--broker", "mqtt://from-flag:1883"]).broker_to_use(saved)) \
        == "mqtt://from-flag:1883"
    assert str(settings_from(["--config", str(path)]).broker_to_use(saved)) == "mqtt://from-card:1884"
    assert str(settings_from(["--config", str(path)]).broker_to_use("mqtt://from-card:1884")) \
        == "mqtt://from-card:1884", "as older kiosks saved it"
    assert str(settings_from(["--config", str(path)]).broker_to_use(None)) == "mqtt://from-file:1883"


def test_help_says_the_event_flag_lasts_until_the_hub_assigns_one():
    text = " ".join(_parser().format_help().split())
    assert "until the hub assigns one" in text


@pytest.fixture
def kiosk():
    started = []
    yield lambda *a, **kw: started.append(KioskProcess(*a, **kw)) or started[-1]
    for k in started:
        k.close()


def saved_broker(data_dir, url):
    store = ScanStore(data_dir / "kiosk.db")
    store.save_broker(url)
    store.close()


def test_the_running_kiosk_connects_to_the_broker_flag_not_the_saved_one(broker, tmp_path, kiosk):
    saved_broker(tmp_path, f"mqtt://127.0.0.1:{free_port()}")  # nobody listens there
    k = kiosk(broker.url, tmp_path, kiosk_id=f"cli-{uuid.uuid4().hex[:8]}")
    k.wait_online()
    assert any(f"connected to mqtt://127.0.0.1:{broker.port}" in e for e in k.errors)


def test_the_running_kiosk_prefers_the_saved_broker_to_the_settings_file(broker, tmp_path, kiosk):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'broker = "mqtt://127.0.0.1:{free_port()}"\n')  # nobody listens there
    saved_broker(tmp_path, broker.url)
    k = kiosk(None, tmp_path, kiosk_id=f"cli-{uuid.uuid4().hex[:8]}", extra=["--config", str(path)])
    k.wait_online()
    wait_for(lambda: any(f"connected to mqtt://127.0.0.1:{broker.port}" in e for e in k.errors),
             "connected to the saved broker")


def test_the_simulation_help_shows_a_badge_the_demo_registered(tmp_path):
    """A newcomer typing the example in `make demo` should be greeted by name."""
    store_module = pytest.importorskip("hub.store")  # a kiosk-only install has no hub to ask
    from hub.sample import seed_sample
    from turnout.codes import Badge, classify

    example = SIM_HELP.split("\n")[1].split()[0]
    assert classify(example) == Badge(example)
    store = store_module.Store(tmp_path / "hub.db")
    try:
        seed_sample(store)  # what `make demo` puts in a fresh hub
        assert store.person(example) is not None, f"{example} is not one of the demo's people"
    finally:
        store.close()
