"""Broker accounts: the hub's and one per kiosk, kept in a directory ``broker-config`` wrote.

    DIR/mosquitto.conf       the configuration (hub.broker.files)
    DIR/passwd               logins, hashed by mosquitto_passwd (PBKDF2-SHA512)
    DIR/acl                  who may publish and read what
    DIR/hub-credentials.toml the hub's own login, read by ``turnout-hub serve`` (mode 0600)
    DIR/tls/                 the CA (ca.crt) kiosks pin, and the broker's certificate and key

Passwords reach ``mosquitto_passwd`` on its standard input, never on a command line (``ps``
shows arguments to every user). A running broker is told to reload with SIGHUP.
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hub.broker.files import HUB_USER, Listeners, acl, mosquitto_conf, worker_user
from turnout.protocol import is_kiosk_id

MOSQUITTO_PASSWD = "mosquitto_passwd"
BROKER_USER = "mosquitto"  # Debian's: whom Mosquitto becomes when started as root
PASSWORD_BYTES = 18  # 24 characters of URL-safe base64: 144 bits


@dataclass(frozen=True)
class HubLogin:
    """How the hub reaches its broker (``hub-credentials.toml``)."""

    broker: str  # mqtt://host:port or mqtts://host:port, without credentials
    username: str
    password: str
    ca: str | None = None  # a CA file to trust for mqtts (a self-made CA); None: the system's

    @classmethod
    def load(cls, path: Path) -> "HubLogin":
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        return cls(broker=data["broker"], username=data["username"], password=data["password"],
                   ca=data.get("ca"))

    def to_toml(self) -> str:
        lines = [f"broker = {_quote(self.broker)}", f"username = {_quote(self.username)}",
                 f"password = {_quote(self.password)}"]
        if self.ca:
            lines.append(f"ca = {_quote(self.ca)}")
        return "# The hub's broker login, written by `turnout-hub broker-config`. Keep it secret.\n" \
            + "\n".join(lines) + "\n"


class BrokerAccounts:
    """The accounts in one broker directory."""

    def __init__(self, directory: Path | str, base_topic: str = "turnout"):
        self.dir = Path(directory)
        self.base_topic = base_topic

    @property
    def passwd(self) -> Path:
        return self.dir / "passwd"

    @property
    def credentials(self) -> Path:
        return self.dir / "hub-credentials.toml"

    @property
    def ca(self) -> Path:
        return self.dir / "tls" / "ca.crt"

    def exists(self) -> bool:
        return (self.dir / "mosquitto.conf").exists() and self.passwd.exists()

    # -- writing the directory --

    def write_config(self, listeners: Listeners, hub_broker: str, hub_ca: str | None = None,
                     kiosk_broker: str | None = None, kiosk_ca: str | None = None) -> HubLogin:
        """Write a complete configuration with a fresh hub login (kiosk logins are kept), and
        what kiosks are told: the address they reach the broker at, and the CA they pin."""
        self.dir.mkdir(parents=True, exist_ok=True)
        lines = [f"kiosk_broker = {_quote(kiosk_broker or hub_broker)}"]
        if kiosk_ca:
            lines.append(f"kiosk_ca = {_quote(str(kiosk_ca))}")
        (self.dir / "broker.toml").write_text("# What kiosks are told (turnout-hub kiosk add).\n"
                                              + "\n".join(lines) + "\n")
        (self.dir / "data").mkdir(exist_ok=True)
        _private_file(self.passwd)
        login = HubLogin(hub_broker, HUB_USER, new_password(), hub_ca)
        self._set_password(HUB_USER, login.password)
        _write_private(self.credentials, login.to_toml())
        (self.dir / "mosquitto.conf").write_text(mosquitto_conf(self.dir, listeners, self.base_topic))
        self._write_acl()
        return login

    def share_with_broker_user(self, user: str = BROKER_USER) -> bool:
        """Started as root, Mosquitto becomes ``user`` before it writes its pid file and data, and
        re-reads the logins and ACL as that user on reload: let it (as the systemd drop-in's
        ExecStartPre and docs/hub.md do). The hub's own login stays root's alone. False (and
        nothing changed) unless we are root and the user exists."""
        try:
            account = pwd.getpwnam(user)
        except KeyError:
            return False
        if os.geteuid() != 0:
            return False
        uid, gid = account.pw_uid, account.pw_gid
        readable = [self.passwd, self.dir / "acl"] + [p for p in (self.dir / "tls").glob("server.*")]
        for path in [self.dir, *([self.dir / "tls"] if (self.dir / "tls").is_dir() else []), *readable]:
            os.chown(path, -1, gid)
            os.chmod(path, 0o750 if path.is_dir() else 0o640)
        os.chown(self.dir / "data", uid, gid)
        pid_file = self.dir / "mosquitto.pid"
        pid_file.touch(0o644)
        os.chown(pid_file, uid, gid)
        return True

    def hub_login(self) -> HubLogin:
        return HubLogin.load(self.credentials)

    def for_kiosks(self) -> tuple[str, str | None]:
        """(the broker URL kiosks use, the CA file they pin or None)."""
        with open(self.dir / "broker.toml", "rb") as fh:
            data = tomllib.load(fh)
        return data["kiosk_broker"], data.get("kiosk_ca")

    # -- kiosks --

    def kiosks(self) -> list[str]:
        if not self.passwd.exists():
            return []
        return sorted(u for u in self._users() if u != HUB_USER and not u.startswith(worker_user("")))

    def _users(self) -> list[str]:
        if not self.passwd.exists():
            return []
        return [line.split(":", 1)[0] for line in self.passwd.read_text().splitlines() if ":" in line]

    # -- hub workers (serve --worker): scans in, acks out --

    def workers(self) -> list[str]:
        prefix = worker_user("")
        return sorted(u[len(prefix):] for u in self._users() if u.startswith(prefix))

    def worker_login_file(self, name: str) -> Path:
        return self.dir / f"worker-{name}.toml"

    def add_worker(self, name: str) -> Path:
        """A login for hub worker ``name`` (a new password if it has one), written to a file of
        its own (mode 0600) that ``serve --worker --login FILE`` reads; the broker reloads."""
        if not is_kiosk_id(name):
            raise ValueError(f"worker name {name!r} may use letters, digits, '_' and '-' (up to 32)")
        if not self.exists():
            raise LookupError(f"no broker configuration in {self.dir}: run `turnout-hub broker-config "
                              f"--dir {self.dir}` first")
        hub = self.hub_login()
        login = HubLogin(hub.broker, worker_user(name), new_password(), hub.ca)
        self._set_password(login.username, login.password)
        _write_private(self.worker_login_file(name), login.to_toml())
        self._write_acl()
        self.reload()
        return self.worker_login_file(name)

    def add_kiosk(self, kiosk_id: str) -> str:
        """Create a kiosk's login; its password (shown once: only the hash is kept)."""
        self._check(kiosk_id)
        if kiosk_id in self.kiosks():
            raise ValueError(f"kiosk {kiosk_id} already has a broker login: `kiosk rotate {kiosk_id}` "
                             "gives it a new password")
        password = new_password()
        self._set_password(kiosk_id, password)
        self._write_acl()
        self.reload()
        return password

    def rotate_kiosk(self, kiosk_id: str) -> str:
        """A new password for a kiosk (the old one stops working once the broker reloads)."""
        self._check(kiosk_id)
        if kiosk_id not in self.kiosks():
            raise LookupError(f"kiosk {kiosk_id} has no broker login: `kiosk add {kiosk_id}` makes one")
        password = new_password()
        self._set_password(kiosk_id, password)
        self.reload()
        return password

    def remove_kiosk(self, kiosk_id: str) -> None:
        if kiosk_id not in self.kiosks():
            raise LookupError(f"kiosk {kiosk_id} has no broker login")
        _run([MOSQUITTO_PASSWD, "-D", str(self.passwd), kiosk_id])
        self._write_acl()
        self.reload()

    def reload(self) -> bool:
        """Ask a running broker to re-read its password file and ACL; False if none runs."""
        pid_file = self.dir / "mosquitto.pid"
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError):
            return False
        return True

    def _check(self, kiosk_id: str) -> None:
        if not is_kiosk_id(kiosk_id):
            raise ValueError(f"kiosk id {kiosk_id!r} may use letters, digits, '_' and '-' (up to 32)")
        if kiosk_id == HUB_USER or kiosk_id.startswith(worker_user("")):
            raise ValueError(f"{kiosk_id} is a name for the hub's own logins; choose another kiosk id")
        if not self.exists():
            raise LookupError(f"no broker configuration in {self.dir}: run `turnout-hub broker-config "
                              f"--dir {self.dir}` first")

    def _set_password(self, user: str, password: str) -> None:
        _run([MOSQUITTO_PASSWD, str(self.passwd), user], stdin=f"{password}\n{password}\n")

    def _write_acl(self) -> None:
        (self.dir / "acl").write_text(acl(self.kiosks(), self.base_topic, workers=self.workers()))


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def _run(args: list[str], stdin: str | None = None) -> None:
    try:
        done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise OSError(f"{args[0]} is not installed (Debian: apt install mosquitto)") from None
    if done.returncode != 0:
        raise OSError(f"{args[0]} failed: {(done.stderr or done.stdout).strip()}")


def _private_file(path: Path) -> None:
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _quote(value: str) -> str:
    """A TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
