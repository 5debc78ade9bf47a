"""The broker's configuration and ACL as text (pure): what each login may do."""

from pathlib import Path

import pytest

from hub.broker.files import HUB_USER, Listeners, acl, mosquitto_conf


def rules(text: str) -> dict[str, list[str]]:
    by_user, user = {}, None
    for line in text.splitlines():
        if line.startswith("user "):
            user = line.split()[1]
            by_user[user] = []
        elif line.startswith("topic ") and user:
            by_user[user].append(line[len("topic "):])
    return by_user


def test_each_kiosk_may_only_write_its_own_scans_and_status_and_read_its_own_answers():
    given = rules(acl(["hall-1", "door-2"], base_topic="camp"))
    assert given["hall-1"] == ["write camp/kiosk/hall-1/scan", "write camp/kiosk/hall-1/status",
                               "read camp/kiosk/hall-1/ack", "read camp/kiosk/hall-1/config",
                               "read camp/hub/status"]
    writers = {rule.split()[1]: user for user, lines in given.items() for rule in lines
               if rule.startswith(("write", "readwrite"))}
    assert writers["camp/kiosk/+/ack"] == writers["camp/kiosk/+/config"] == writers["camp/hub/status"] == HUB_USER
    assert not any("#" in rule for lines in given.values() for rule in lines)


def test_the_configuration_turns_anonymous_access_off_and_ties_sessions_to_logins(tmp_path):
    text = mosquitto_conf(tmp_path, Listeners(port=1883, bind="127.0.0.1", tls_port=8883,
                                              certfile=Path("c.pem"), keyfile=Path("k.pem")))
    lines = text.splitlines()
    assert "allow_anonymous false" in lines and "persistence true" in lines
    assert lines.count("use_username_as_clientid true") == 2  # on every listener
    assert f"password_file {tmp_path.resolve()}/passwd" in lines
    with pytest.raises(ValueError):
        mosquitto_conf(tmp_path, Listeners(port=None, tls_port=8883))  # TLS needs a certificate
