"""An ``nmcli`` that answers as NetworkManager's does and records how it was called: each call's
arguments, and for ``passwd-file`` the file's mode and contents as nmcli would read them. For
the wi-fi tests and bench/hostile_inputs.py (never the network)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

ADDED_UUID = "6b1a7e2c-0d3f-4c55-9a7e-2b9c1f0d8e41"


def install_fake_nmcli(bin_dir: Path, record: Path) -> Path:
    """Write ``bin_dir/nmcli`` recording into ``record``; put ``bin_dir`` first on PATH to use it.
    ``connection up`` exits $FAKE_EXIT (0 when unset)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "nmcli"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, stat, sys\n"
        "args = sys.argv[1:]\n"
        f"out = open({str(record)!r}, 'a')\n"
        "out.write('\\n'.join(args) + '\\n')\n"
        "if 'passwd-file' in args:\n"
        "    path = args[args.index('passwd-file') + 1]\n"
        "    out.write('mode ' + oct(stat.S_IMODE(os.stat(path).st_mode)) + '\\n')\n"
        "    out.write('dir mode ' + oct(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)) + '\\n')\n"
        "    out.write('file ' + open(path).read())\n"
        "out.write('---\\n')\n"
        "if args[:2] == ['connection', 'add']:\n"
        f"    print(\"Connection '\" + args[args.index('con-name') + 1] + \"' ({ADDED_UUID}) successfully added.\")\n"
        "code = int(os.environ.get('FAKE_EXIT', '0')) if args[1:2] == ['up'] else 0\n"
        "if code: sys.stderr.write('Error: Connection activation failed: (7) Secrets were required.\\n')\n"
        "sys.exit(code)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def recorded(record: Path) -> list[list[str]]:
    """Each call: its arguments, then what it saw of a passwd-file (``mode …``, ``dir mode …``, ``file …``)."""
    return [call.splitlines() for call in record.read_text().split("---\n") if call.strip()]
