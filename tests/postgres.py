"""A real PostgreSQL for the tests: the server on 127.0.0.1:5432 when there is one (trust auth,
user postgres), else one started here from Debian's packages (initdb and pg_ctl in a temporary
directory, on a free port), else none (the tests that need it are skipped, saying why).

A test session gets a database of its own, with byte-order collation as docs/hub.md asks,
dropped at the end; each test gets a schema of its own in it (``url()``), which is quick to
make, and to the hub is a database like any other.
"""

from __future__ import annotations

import glob
import itertools
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.broker import free_port

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


class PostgresUnavailable(RuntimeError):
    pass


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise PostgresUnavailable("psycopg is not installed (pip install -e '.[hub]')") from None
    return psycopg


def _reachable(url: str) -> bool:
    psycopg = _psycopg()
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


class OwnServer:
    """A PostgreSQL cluster in a temporary directory, run by pg_ctl, for this session only."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise PostgresUnavailable("no server on 127.0.0.1:5432 and no initdb to start one"
                                      " (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="turnout-pg-"))
        self.port = free_port()
        # initdb will not run as root: the cluster belongs to the postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {result.stderr.strip()[-500:]}")

    def start(self) -> "OwnServer":
        data = str(self.dir / "data")
        self._run(str(self.bin / "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        return self.run_server()

    def run_server(self) -> "OwnServer":
        """Start the server on the cluster (again, after ``start`` or a crash)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
                  "-w", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")
        return self

    def processes(self) -> list[int]:
        """The server's process ids: the postmaster first, then its children (backends, the
        checkpointer...); none when it is not running."""
        try:
            postmaster = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(postmaster, 0)
        except (OSError, ValueError, IndexError):
            return []
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
        return [postmaster, *(int(p) for p in children.stdout.split())]

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class TestDatabases:
    """One database for the session, a schema per test."""

    def __init__(self):
        self.own: OwnServer | None = None
        admin = os.environ.get("TURNOUT_TEST_POSTGRES", LOCAL_SERVER)
        if not _reachable(admin):
            self.own = OwnServer().start()
            admin = self.own.url
        self.admin = admin
        self.name = f"turnout_test_{os.getpid()}_{secrets.token_hex(3)}"
        self._admin(f"CREATE DATABASE {self.name} TEMPLATE template0 ENCODING 'UTF8'"
                    " LC_COLLATE 'C' LC_CTYPE 'C'")
        self.base = admin.rsplit("/", 1)[0] + "/" + self.name
        self._numbers = itertools.count(1)
        self._extra: list[str] = []

    def _admin(self, sql: str) -> None:
        with _psycopg().connect(self.admin, autocommit=True) as conn:
            conn.execute(sql)

    def url(self) -> str:
        """A new empty schema, as a URL the hub opens like any database."""
        schema = f"test_{next(self._numbers)}"
        with _psycopg().connect(self.base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{self.base}?options=-csearch_path%3D{schema}"

    def empty_database(self) -> str:
        """A database of its own (for what a schema cannot stand in for: migrate-db's target)."""
        name = f"{self.name}_{next(self._numbers)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        self._extra.append(name)
        return self.admin.rsplit("/", 1)[0] + "/" + name

    def drop(self) -> None:
        try:
            for name in [self.name, *self._extra]:
                self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            if self.own is not None:
                self.own.stop()
