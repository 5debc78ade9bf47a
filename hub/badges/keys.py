"""The issuer's Ed25519 signing keys: files in the hub's data directory, made on first use.

Each key is one JWK file (``issuer-keys/<thumbprint>.jwk``, readable by the hub's user only);
the newest signs, and every key still in the directory is published in the JWK set, so
credentials signed before a rotation keep verifying until their key file is removed.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from joserfc.jwk import OKPKey

KEY_DIR = "issuer-keys"


class IssuerKeys:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, database: str | Path) -> "IssuerKeys":
        """The keys kept in the hub's data directory (the SQLite database's directory)."""
        from hub.config import data_directory

        return cls(data_directory(database) / KEY_DIR)

    def keys(self) -> list[OKPKey]:
        """Every key, oldest first (by the time written into each file)."""
        found = []
        for path in self.directory.glob("*.jwk"):
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append((data.pop("created", ""), path.name, OKPKey.import_key(data)))
        return [key for _, _, key in sorted(found, key=lambda f: (f[0], f[1]))]

    def current(self) -> OKPKey:
        """The signing key, created (readable by this user only) the first time it is needed."""
        with self._lock:
            keys = self.keys()
            return keys[-1] if keys else self._new_key()

    def rotate(self) -> OKPKey:
        """A new signing key; the old ones stay published so what they signed still verifies."""
        with self._lock:
            return self._new_key()

    def _new_key(self) -> OKPKey:
        from datetime import datetime, timezone

        key = OKPKey.generate_key("Ed25519")
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        data = {**key.as_dict(private=True),
                "created": datetime.now(timezone.utc).isoformat(timespec="microseconds")}
        path = self.directory / f"{key.thumbprint()}.jwk"
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        return key

    def public_key(self, thumbprint: str) -> OKPKey | None:
        for key in self.keys():
            if key.thumbprint() == thumbprint:
                return key
        return None

    def jwks(self, kid_base: str) -> dict:
        """The public keys as a JWK set, each ``kid`` the URI a credential's header names."""
        return {"keys": [{**key.as_dict(private=False), "kid": f"{kid_base}#{key.thumbprint()}",
                          "alg": "EdDSA", "use": "sig"} for key in self.keys()]}
