"""The simulation scanner: one code per line."""

import io
import os
import threading

from kiosk.scanner.stdin import MAX_LINE, LineScanner, StdinScanner

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


# LineScanner: the daemon's loop reads it when select() says its descriptor is readable.

def feed_line_scanner(*chunks: bytes):
    """Write each chunk to a pipe and let the scanner read it as the loop would."""
    read_fd, write_fd = os.pipe()
    got = []
    scanner = LineScanner(read_fd, got.append, on_eof=lambda: got.append("EOF"))
    try:
        for chunk in chunks:
            os.write(write_fd, chunk)
            scanner.on_readable()
        os.close(write_fd)
        scanner.on_readable()
    finally:
        os.close(read_fd)
    return got


def test_line_scanner_delivers_lines_across_chunks_and_a_last_line_without_newline():
    assert feed_line_scanner(b"T57", b"24\r\nTURNOUT:ROLE:cake\n\nT1", b"0019") == [
        "T5724", "TURNOUT:ROLE:cake", "T10019", "EOF"]


def test_line_scanner_turns_bytes_that_are_not_utf8_into_a_code_the_rules_reject():
    [junk, good, eof] = feed_line_scanner(b"\xffT57\xfe\n", b"T5724\n")
    assert junk == "\ufffdT57\ufffd" and good == "T5724" and eof == "EOF"
    from turnout.codes import Foreign, classify
    assert isinstance(classify(junk), Foreign)


def test_line_scanner_cuts_an_endless_line_instead_of_growing():
    [long_code, eof] = feed_line_scanner(*[b"9" * 60_000] * 3, b"\n")
    assert len(long_code) == MAX_LINE and eof == "EOF"


def test_line_scanner_keeps_reading_when_the_handler_fails():
    read_fd, write_fd = os.pipe()
    got = []

    def on_code(code):
        if code == "boom":
            raise RuntimeError("handler bug")
        got.append(code)

    scanner = LineScanner(read_fd, on_code)
    os.write(write_fd, b"boom\nT5724\n")
    scanner.on_readable()
    os.close(write_fd)
    os.close(read_fd)
    assert got == ["T5724"]
