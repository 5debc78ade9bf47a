"""Log lines carry their priority for journald when stderr is the journal."""

import logging
import os

from turnout import logs


def test_lines_get_a_priority_prefix_only_when_stderr_is_the_journal(tmp_path, monkeypatch):
    path = tmp_path / "stderr"
    with open(path, "w") as stream:
        st = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert logs.to_journal(stream)
        logs.setup(logging.INFO, stream=stream)
        log = logging.getLogger("turnout.test")
        log.warning("kiosk hall-1 is offline")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("could not store a batch")
        log.debug("not shown")
    lines = path.read_text().splitlines()
    assert lines[0] == "<4>kiosk hall-1 is offline"
    assert lines[1] == "<3>could not store a batch"
    assert all(line.startswith("<3>") for line in lines[2:]) and "ValueError: boom" in lines[-1]
    monkeypatch.setenv("JOURNAL_STREAM", "0:0")
    with open(path, "w") as stream:
        assert not logs.to_journal(stream)
    logging.basicConfig(force=True)
