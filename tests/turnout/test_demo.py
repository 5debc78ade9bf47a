"""What `make demo` prints for a second kiosk runs against that demo's broker and event."""

import shlex

from kiosk.cli import _parser
from turnout.demo import ROOT, second_kiosk_command


def test_the_second_kiosk_command_names_the_demos_broker_and_event():
    command = shlex.split(second_kiosk_command("mqtt://127.0.0.1:40123", "2026-12-03-demo-barcamp"))
    assert (ROOT / command[0]).exists() or command[0] == ".venv/bin/turnout-kiosk"
    args = _parser().parse_args(command[1:])
    assert (args.broker, args.event, args.sim) == ("mqtt://127.0.0.1:40123", "2026-12-03-demo-barcamp", True)
    assert args.kiosk_id != "demo-kiosk"  # its own id: two kiosks never share a login or client id
    assert str(args.data_dir).startswith("var/")
