"""The simulation scanner: one code per line, read by the daemon's loop whenever select()
says the descriptor is readable (here the tests call on_readable() as the loop would)."""

import os

from kiosk.scanner.stdin import MAX_LINE, LineScanner


def feed_line_scanner(*chunks: bytes):
    """Write each chunk to a pipe and let the scanner read it as the loop would; then end it."""
    read_fd, write_fd = os.pipe()
    got = []
    scanner = LineScanner(read_fd, got.append, on_eof=lambda: got.append("EOF"))
    try:
        for chunk in chunks:
            os.write(write_fd, chunk)
            scanner.on_readable()
        os.close(write_fd)
        scanner.on_readable()
        scanner.on_readable()  # the loop may look again after the end: nothing more happens
    finally:
        os.close(read_fd)
    return got


def run(text):
    got = feed_line_scanner(text.encode())
    assert got[-1] == "EOF"
    return got[:-1]


def test_each_line_is_a_code():
    assert run("T5724\nTURNOUT:ROLE:cake\nT10019\n") == ["T5724", "TURNOUT:ROLE:cake", "T10019"]


def test_line_endings_are_stripped_and_blank_lines_skipped():
    assert run("T5724\r\n\n\r\nT10019") == ["T5724", "T10019"]


def test_other_whitespace_is_kept_for_the_code_rules_to_judge():
    assert run(" T5724 \n") == [" T5724 "]


def test_end_of_input_calls_on_eof_once_after_the_last_code():
    assert feed_line_scanner(b"T5724\n") == ["T5724", "EOF"]


def test_reads_as_lines_arrive_on_a_pipe():
    read_fd, write_fd = os.pipe()
    codes = []
    scanner = LineScanner(read_fd, codes.append)
    try:
        os.write(write_fd, b"T5724\n")
        scanner.on_readable()
        assert codes == ["T5724"]  # delivered while the pipe is still open
        os.write(write_fd, b"T10019\n")
        scanner.on_readable()
    finally:
        os.close(write_fd)
        os.close(read_fd)
    assert codes == ["T5724", "T10019"]


def test_a_failing_handler_does_not_stop_reading():
    read_fd, write_fd = os.pipe()
    codes = []

    def on_code(code):
        if code == "boom":
            raise RuntimeError("handler bug")
        codes.append(code)

    scanner = LineScanner(read_fd, on_code)
    os.write(write_fd, b"boom\nT5724\n")
    scanner.on_readable()
    os.close(write_fd)
    os.close(read_fd)
    assert codes == ["T5724"]


def test_closed_scanner_delivers_nothing_more():
    read_fd, write_fd = os.pipe()
    codes, eof = [], []
    scanner = LineScanner(read_fd, codes.append, on_eof=lambda: eof.append(True))
    scanner.close()
    os.write(write_fd, b"T5724\n")
    os.close(write_fd)
    scanner.on_readable()
    scanner.on_readable()
    os.close(read_fd)
    assert codes == [] and eof == []


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
