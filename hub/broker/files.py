"""What the hub's broker is told: ``mosquitto.conf`` and the ACL. Pure: text in, text out.

Each kiosk logs in as its own id and may publish only its own scans and status and read only
its own acks and config and the hub's status; only the hub's account publishes acks, configs
and the hub status. ``use_username_as_clientid`` ties a session to its login, so no one can
take over another's connection (or the hub's persistent session) by reusing its client id.

Written for Mosquitto 2.0 (Debian Bookworm 2.0.11, Trixie 2.0.21). Mosquitto 2.1 deprecates
``password_file`` and ``acl_file`` in favour of its password-file and ACL-file plugins
(``plugin /usr/lib/.../mosquitto_password_file.so`` with ``plugin_opt_password_file``): the
files themselves keep their format, only these two lines change (see docs/operating.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from turnout.local_broker import MAX_INFLIGHT, MAX_PACKET_SIZE, MAX_QUEUED
from turnout.broker_url import BrokerURL
from turnout.protocol import Topics

HUB_USER = "turnout-hub"


@dataclass(frozen=True)
class Listeners:
    port: int | None = 1883  # plain MQTT (None: none); keep it on a trusted network or loopback
    bind: str | None = None  # an address to listen on, or every address
    tls_port: int | None = None  # MQTT over TLS, for kiosks on venue wi-fi or the internet
    tls_bind: str | None = None
    certfile: Path | None = None
    keyfile: Path | None = None


def mosquitto_conf(directory: Path, listeners: Listeners, base_topic: str = "turnout") -> str:
    """A configuration ``mosquitto -c DIRECTORY/mosquitto.conf`` runs as it is."""
    directory = Path(directory).resolve()
    lines = [
        "# Written by `turnout-hub broker-config`; run with: mosquitto -c " + str(directory / "mosquitto.conf"),
        "# Accounts: `turnout-hub kiosk add|remove|rotate` (then the broker reloads: SIGHUP).",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {directory / 'passwd'}",
        f"acl_file {directory / 'acl'}",
        f"pid_file {directory / 'mosquitto.pid'}",
        "",
        "# Bounded, with room for a Saturday's burst (docs/hub.md explains each number).",
        f"max_packet_size {MAX_PACKET_SIZE}",
        f"max_inflight_messages {MAX_INFLIGHT}",
        f"max_queued_messages {MAX_QUEUED}",
        "set_tcp_nodelay true",
        "",
        "# The hub's session and the scans waiting for it survive a broker restart.",
        "persistence true",
        f"persistence_location {directory / 'data'}/",
        "autosave_interval 60",
        "",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
    ]
    if listeners.port is not None:
        lines += ["", f"listener {listeners.port}" + (f" {listeners.bind}" if listeners.bind else ""),
                  "use_username_as_clientid true"]
    if listeners.tls_port is not None:
        if not (listeners.certfile and listeners.keyfile):
            raise ValueError("a TLS listener needs a certificate and its key")
        lines += ["", f"listener {listeners.tls_port}" + (f" {listeners.tls_bind}" if listeners.tls_bind else ""),
                  "use_username_as_clientid true",
                  f"certfile {Path(listeners.certfile).resolve()}",
                  f"keyfile {Path(listeners.keyfile).resolve()}",
                  "tls_version tlsv1.2"]
    if listeners.port is None and listeners.tls_port is None:
        raise ValueError("the broker needs at least one listener")
    return "\n".join(lines) + "\n"


def worker_user(name: str) -> str:
    """The broker login of the hub worker ``name`` (``turnout-hub worker add``)."""
    return f"{HUB_USER}-{name}"


def acl(kiosks: list[str], base_topic: str = "turnout", hub_user: str = HUB_USER,
        workers: list[str] = ()) -> str:
    """The ACL: the hub speaks for the hub; its workers take scans and answer them (reading
    the scans covers the shared subscription ``$share/turnout-hub/…``); each kiosk only for
    itself."""
    topics = Topics(base_topic)
    lines = ["# Written by `turnout-hub`; regenerated whenever a kiosk or worker is added or removed.",
             "", f"user {hub_user}",
             f"topic read {topics.all_scans}",
             f"topic read {topics.all_statuses}",
             f"topic write {topics.ack('+')}",
             f"topic write {topics.config('+')}",
             f"topic readwrite {topics.hub_status}"]  # read: to put right an old connection's late will
    for worker in sorted(workers):
        lines += ["", f"user {worker_user(worker)}",
                  f"topic read {topics.all_scans}",
                  f"topic write {topics.ack('+')}"]
    for kiosk in sorted(kiosks):
        lines += ["", f"user {kiosk}",
                  f"topic write {topics.scan(kiosk)}",
                  f"topic write {topics.status(kiosk)}",
                  f"topic read {topics.ack(kiosk)}",
                  f"topic read {topics.config(kiosk)}",
                  f"topic read {topics.hub_status}"]
    return "\n".join(lines) + "\n"


def bridge(name: str, central: BrokerURL, base_topic: str = "turnout", ca: str | None = None,
           scans: bool = True) -> str:
    """Lines for a venue's (or a region's) Mosquitto, to carry its kiosks to the central broker:
    scans and statuses out, acks, configs and the hub's status in (docs/scaling.md). The kiosks
    keep talking to the broker near them, unchanged. ``central`` carries the bridge's login; a
    persistent session there (cleansession false) keeps the acks while the venue is offline.
    ``scans=False`` is for a shard whose scans hub workers take directly: only the configs and
    statuses cross."""
    topics = Topics(base_topic)
    lines = [f"# Bridge {name} to the central broker, written by Turnout (docs/scaling.md).",
             f"connection turnout-bridge-{name}",
             f"address {central.host}:{central.port}",
             f"remote_clientid turnout-bridge-{name}",
             "cleansession false",
             "restart_timeout 2 30",
             f"topic {topics.all_statuses} out 1",
             f"topic {topics.config('+')} in 1",
             f"topic {topics.hub_status} in 1"]
    if scans:
        lines += [f"topic {topics.all_scans} out 1", f"topic {topics.ack('+')} in 1"]
    if central.username:
        lines += [f"remote_username {central.username}", f"remote_password {central.password}"]
    if central.tls:
        lines += [f"bridge_cafile {ca}" if ca else "bridge_capath /etc/ssl/certs",
                  "bridge_insecure false"]
    return "\n".join(lines) + "\n"
