"""Hostile inputs for the fuzz tests, and how many of them each run tries.

`make test` runs a modest number of examples, the same ones every time (derandomized), so the
whole fuzz directory stays well under a minute and a failure there is reproducible. `make fuzz`
sets HYPOTHESIS_PROFILE=fuzz: twenty times as many, random, and any failure found is kept in
.hypothesis/ and replayed by the next `make test` until it is fixed.
"""

from __future__ import annotations

import json
import os
import uuid

from hypothesis import HealthCheck, settings, strategies as st

from turnout.protocol import Scan

BIG = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
_QUIET = list(HealthCheck)  # slow or large examples are the point here, not a mistake

settings.register_profile("fuzz-quick", deadline=None, derandomize=True, suppress_health_check=_QUIET)
settings.register_profile("fuzz", deadline=None, derandomize=False, suppress_health_check=_QUIET)


def fuzz(examples: int) -> settings:
    """Settings for one fuzz test: ``examples`` in `make test`, twenty times as many under `make fuzz`."""
    return settings(settings.get_profile("fuzz" if BIG else "fuzz-quick"),
                    max_examples=examples * 20 if BIG else examples)


# --- strings: what a parser keeps and shows, written by someone hostile ----------------------

# Control characters, C1 controls, bidi overrides and isolates, zero-width and BOM, a lone
# surrogate (only JSON's \ud800 escape can carry one), line and paragraph separators.
NASTY_CHARACTERS = ("\x00", "\x07", "\x1b", "\n", "\r", "\t", "\x7f", "\x85", "\x9b", "\u202e",
                    "\u202d", "\u2066", "\u2069", "\u200b", "\u200f", "\ufeff", "\ud800", "\udfff",
                    "\u2028", "\u2029", "\ufffd", "\U0001f600", "\U000e0001", "\\", "\"", "/",
                    "%s", "{}", "'", ";", ":", ",")

nasty_text = st.lists(st.one_of(st.sampled_from(NASTY_CHARACTERS), st.text(max_size=4)),
                      max_size=12).map("".join)
texts = st.one_of(st.text(max_size=40), nasty_text,
                  st.builds(lambda c, n: c * n, st.sampled_from(["x", "\u202e", "é", "0"]),
                            st.integers(60, 6000)))  # longer than any field allows
huge_ints = st.one_of(st.integers(-(2**64), 2**64),
                      st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**100, -(10**300)]))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 0.0, -0.0]))
scalars = st.one_of(st.none(), st.booleans(), huge_ints, floats, texts)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=12)


def encode(value, ensure_ascii: bool = True) -> bytes:
    """JSON as a careless sender writes it: NaN and Infinity bare, and a lone surrogate either
    escaped (``\\ud800``) or as the invalid UTF-8 bytes it becomes when written raw."""
    return json.dumps(value, allow_nan=True, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


# --- payloads --------------------------------------------------------------------------------

def deep_nesting(max_depth: int = 100_000):
    """Brackets thousands deep, closed or not, alone or inside an object that has a good id."""
    @st.composite
    def build(draw):
        depth = draw(st.integers(1, max_depth))
        opener = draw(st.sampled_from([b"[", b'{"a":', b'[{"a":']))
        closer = {b"[": b"]", b'{"a":': b"}", b'[{"a":': b"}]"}[opener]
        inner = opener * depth + b"1" + (closer * depth if draw(st.booleans()) else b"")
        if draw(st.booleans()):
            inner = b'{"v":1,"id":"' + str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))).encode() \
                + b'","x":' + inner + b"}"
        return inner
    return build()


def mutations(good: bytes):
    """A valid payload with bytes flipped, inserted, deleted or repeated: a bit error, a
    truncation, a stutter."""
    @st.composite
    def build(draw):
        data = bytearray(good)
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data)))
            how = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]))
            if how == "flip" and at < len(data):
                data[at] ^= 1 << draw(st.integers(0, 7))
            elif how == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
                    [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\\u0000", b"\\ud800", b"NaN", b"[", b"{", b'"']))
            elif how == "delete" and at < len(data):
                del data[at:at + draw(st.integers(1, 8))]
            elif how == "truncate":
                del data[at:]
            elif how == "repeat":
                data[at:at] = data[max(0, at - 16):at] * draw(st.integers(1, 300))
        return bytes(data)
    return build()


def field_swaps(good: dict, extra_keys=("extra", "annuls", "v", "__proto__", "", "id\x00")):
    """A valid object with fields removed, replaced by any JSON value (wrong types, huge numbers,
    NaN, nasty text), and extra fields added; written as JSON or as invalid UTF-8."""
    keys = sorted(good) + list(extra_keys)

    @st.composite
    def build(draw):
        data = dict(good)
        for key in draw(st.lists(st.sampled_from(keys), max_size=4)):
            if draw(st.integers(0, 4)) == 0:
                data.pop(key, None)
            else:
                data[key] = draw(json_values)
        return encode(data, ensure_ascii=draw(st.booleans()))
    return build()


def payloads(good: dict):
    """Everything a payload might be, around one valid object ``good``."""
    raw = encode(good)
    return st.one_of(
        st.binary(max_size=300),
        st.just(raw),
        mutations(raw),
        field_swaps(good),
        json_values.map(encode),
        deep_nesting(3000),
        st.sampled_from([b"", b"null", b"[]", b"1", b'"x"', b"NaN", b"-Infinity", b"1e999",
                         b"9" * 4000, b'{"v":1e999}', b'{"v":NaN,"id":"a"}', b'{"v":1,"v":2}',
                         b"\xef\xbb\xbf{}", b'{"v":1}' * 600, b'{"v":1,"id":"' + b"a" * 5000 + b'"}']),
    )


def usable_id(payload: bytes) -> str | None:
    """What the protocol promises to answer: the id of a JSON object that has a short,
    printable one (and that is small enough to be opened at all), worked out independently."""
    if len(payload) > 256 * 1024:
        return None
    try:
        data = json.loads(payload)
    except Exception:
        return None
    scan_id = data.get("id") if isinstance(data, dict) else None
    ok = isinstance(scan_id, str) and 0 < len(scan_id) <= 64 and scan_id.isprintable()
    return scan_id if ok else None


def good_scan(kiosk: str = "hall-1", event: str = "2025-03-14-camp", badge: str = "T5724",
              role: str = "attend") -> Scan:
    return Scan(id=str(uuid.uuid4()), kiosk=kiosk, event=event, badge=badge, role=role,
                ts="2025-03-14T10:00:00Z", seq=1, clock_ok=True)
