"""The simulation scanner: one code per line."""

import io
import os
import threading

from kiosk.scanner.stdin import StdinScanner

WAIT = 10.0


def run(text):
    codes, ended = [], threading.Event()
    scanner = StdinScanner(io.StringIO(text), codes.append, on_eof=ended.set)
    assert ended.wait(WAIT) and scanner.join(WAIT)
    return codes


def test_each_line_is_a_code():
    assert run("T5724\nTURNOUT:ROLE:cake\nT10019\n") == ["T5724", "TURNOUT:ROLE:cake", "T10019"]


def test_line_endings_are_stripped_and_blank_lines_skipped():
    assert run("T5724\r\n\n\r\nT10019") == ["T5724", "T10019"]


def test_other_whitespace_is_kept_for_the_code_rules_to_judge():
    assert run(" T5724 \n") == [" T5724 "]


def test_end_of_input_calls_on_eof_once_after_the_last_code():
    events = []
    done = threading.Event()
    scanner = StdinScanner(io.StringIO("T5724\n"), lambda code: events.append(code),
                           on_eof=lambda: (events.append("EOF"), done.set()))
    assert done.wait(WAIT) and scanner.join(WAIT)
    assert events == ["T5724", "EOF"]


def test_reads_as_lines_arrive_on_a_pipe():
    read_fd, write_fd = os.pipe()
    arrived = threading.Semaphore(0)
    codes = []

    def on_code(code):
        codes.append(code)
        arrived.release()

    with os.fdopen(read_fd) as reader, os.fdopen(write_fd, "w") as writer:
        scanner = StdinScanner(reader, on_code)
        writer.write("T5724\n")
        writer.flush()
        assert arrived.acquire(timeout=WAIT)  # delivered while the pipe is still open
        writer.write("T10019\n")
        writer.flush()
        assert arrived.acquire(timeout=WAIT)
        writer.close()
        assert scanner.join(WAIT)
    assert codes == ["T5724", "T10019"]


def test_a_failing_handler_does_not_stop_reading():
    codes = []

    def on_code(code):
        if code == "boom":
            raise RuntimeError("handler bug")
        codes.append(code)

    scanner = StdinScanner(io.StringIO("boom\nT5724\n"), on_code)
    assert scanner.join(WAIT)
    assert codes == ["T5724"]


def test_closed_scanner_delivers_nothing_more():
    read_fd, write_fd = os.pipe()
    codes = []
    eof = []
    with os.fdopen(read_fd) as reader, os.fdopen(write_fd, "w") as writer:
        scanner = StdinScanner(reader, codes.append, on_eof=lambda: eof.append(True))
        scanner.close()
        writer.write("T5724\n")
        writer.close()
        assert scanner.join(WAIT)
    assert codes == [] and eof == []
