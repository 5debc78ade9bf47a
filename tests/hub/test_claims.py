"""Claim codes (hub/claims.py): unambiguous characters, read back however they are typed."""

from collections import Counter

from hub.claims import (CLAIM_ALPHABET, CLAIM_LENGTH, claim_code_matches, new_claim_code,
                        normalise_claim_code, printed)


def test_claim_codes_use_only_characters_that_cannot_be_mistaken_in_print():
    assert len(CLAIM_ALPHABET) == 30 and not set(CLAIM_ALPHABET) & set("01OILU")
    codes = [new_claim_code() for _ in range(3000)]
    assert all(len(c) == CLAIM_LENGTH and set(c) <= set(CLAIM_ALPHABET) for c in codes)
    assert len(set(codes)) == len(codes)  # 30**6 possibilities: no repeats in a few thousand
    seen = Counter("".join(codes))
    assert set(seen) == set(CLAIM_ALPHABET)  # every character turns up


def test_a_claim_code_is_read_back_however_it_is_typed_or_pasted():
    for typed in ("7KQ-2MX", "7kq2mx", " 7KQ 2MX ", "7KQ\u20132MX", "\u202e7KQ\u200b-2MX",
                  "7KQ\u20112MX"):
        assert normalise_claim_code(typed) == "7KQ2MX", typed
        assert claim_code_matches(typed, "7KQ2MX"), typed
    assert printed("7KQ2MX") == "7KQ-2MX"


def test_a_wrong_empty_or_huge_claim_code_does_not_match():
    for typed in ("7KQ-2MY", "", None, "7KQ2MX7", "A" * 1_000_000):
        assert not claim_code_matches(typed, "7KQ2MX"), typed
    assert not claim_code_matches("7KQ2MX", None)  # a badge printed before claim codes
