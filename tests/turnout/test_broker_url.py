"""Where a set-up card may point a kiosk: never a weaker link, never credentials to a stranger."""

import pytest

from turnout.broker_url import BrokerURL, broker_for_card
from turnout.codes import Foreign, SetupCard, classify

TLS = BrokerURL.parse("mqtts://kiosk-1:s3cret@hub.venue.org")
PLAIN = BrokerURL.parse("mqtt://kiosk-1:s3cret@hub.local:1884")


@pytest.mark.parametrize("configured,card,expected", [
    # On TLS a card can move the kiosk, never off TLS; credentials only to the same host.
    (TLS, "other.example", BrokerURL("other.example", 8883, True)),
    (TLS, "other.example:1883", BrokerURL("other.example", 1883, True)),
    (TLS, "HUB.venue.org", BrokerURL("hub.venue.org", 8883, True, "kiosk-1", "s3cret")),
    (TLS, "hub.venue.org:9883", BrokerURL("hub.venue.org", 9883, True, "kiosk-1", "s3cret")),
    # Without TLS a card may name another host, which gets no credentials.
    (PLAIN, "10.0.0.7", BrokerURL("10.0.0.7", 1883, False)),
    (PLAIN, "hub.local", BrokerURL("hub.local", 1883, False, "kiosk-1", "s3cret")),
    (PLAIN, "hub.local:1884", BrokerURL("hub.local", 1884, False, "kiosk-1", "s3cret")),
    (BrokerURL.parse("mqtt://localhost"), "hub.local", BrokerURL("hub.local", 1883, False)),
    # A hub address saved by an older kiosk.
    (TLS, "mqtt://other.example:1884", BrokerURL("other.example", 1884, True)),
])
def test_a_card_never_weakens_the_link(configured, card, expected):
    assert broker_for_card(configured, card) == expected


@pytest.mark.parametrize("card", ["", "host:0x1", "host:99999", "user:pw@host", "host/path"])
def test_what_is_not_a_hub_address_is_refused(card):
    with pytest.raises(ValueError):
        broker_for_card(PLAIN, card)


def test_settings_file_credentials_are_the_configured_hosts_only():
    configured = BrokerURL.parse("mqtts://hub.venue.org").with_credentials("kiosk-2", "pw")
    assert (configured.username, configured.password) == ("kiosk-2", "pw")
    assert broker_for_card(configured, "evil.example").username is None
    assert "pw" not in str(broker_for_card(configured, "hub.venue.org"))


def test_a_set_up_card_with_a_port_out_of_range_is_not_a_card():
    assert classify("TURNOUT:SETUP:spring@hub.local:65535") == SetupCard("spring", "hub.local:65535")
    for port in ("0", "65536", "99999"):
        assert isinstance(classify(f"TURNOUT:SETUP:spring@hub.local:{port}"), Foreign)
