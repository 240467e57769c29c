"""The loaded public keys and fingerprints are remembered between files (an import checks 200
files signed by a few keys), and that changes no verdict: every file is still verified."""

from __future__ import annotations

from skp_desktop.domain.signatures import SigningKey, fingerprint, verify_signature
from skp_desktop.excel.file_signature import (
    BROKEN,
    VALID,
    Signer,
    check_signature,
    signature_pairs,
)
from skp_desktop.excel.safe_reader import RawCell


def _meta(pairs: list[tuple[str, str]]) -> dict[str, RawCell]:
    """`_meta` value cells as the reader gives them, one row per pair."""
    return {
        key: RawCell("_meta", row, 2, "text", value)
        for row, (key, value) in enumerate(pairs, start=1)
    }


def _signed_return(key: SigningKey, service: str, period: str) -> list[tuple[str, str]]:
    fields = [
        ("format", "skp-return"),
        ("format_version", "2"),
        ("kind", "return"),
        ("service", service),
        ("period", period),
        ("payload_sha256", "ab" * 32),
    ]
    return fields + signature_pairs(fields, Signer(key))


def test_a_key_seen_before_still_refuses_a_changed_file() -> None:
    key = SigningKey.generate()
    first = _signed_return(key, "HIGHWAYS", "FY2025-26-Q1")
    assert check_signature(_meta(first)).status == VALID  # the key is now loaded and remembered
    second = _signed_return(key, "HIGHWAYS", "FY2025-26-Q2")
    assert check_signature(_meta(second)).status == VALID
    changed = [(k, "FY2025-26-Q3" if k == "period" else v) for k, v in second]
    assert check_signature(_meta(changed)).status == BROKEN


def test_each_key_verifies_only_its_own_signatures_once_both_are_remembered() -> None:
    one, two = SigningKey.generate(), SigningKey.generate()
    message = b"the same words"
    by_one, by_two = one.sign(message), two.sign(message)
    for _ in range(2):  # first loads each key, then from what is remembered
        assert verify_signature(one.public_key, by_one, message)
        assert verify_signature(two.public_key, by_two, message)
        assert not verify_signature(one.public_key, by_two, message)
        assert not verify_signature(two.public_key, by_one, message)
        assert not verify_signature(one.public_key, by_one, message + b"!")


def test_a_file_carrying_another_key_than_it_names_is_broken_after_both_keys_were_seen() -> None:
    mine, theirs = SigningKey.generate(), SigningKey.generate()
    assert check_signature(_meta(_signed_return(mine, "ASC", "FY2025-26-Q1"))).valid
    assert check_signature(_meta(_signed_return(theirs, "ASC", "FY2025-26-Q1"))).valid
    claimed = [
        (k, mine.fingerprint if k == "signed_by" else v)
        for k, v in _signed_return(theirs, "ASC", "FY2025-26-Q1")
    ]
    found = check_signature(_meta(claimed))
    assert found.status == BROKEN
    assert found.detail == "signed_by does not name the key it carries"


def test_the_fingerprint_is_the_same_every_time_and_differs_between_keys() -> None:
    one, two = SigningKey.generate(), SigningKey.generate()
    assert fingerprint(one.public_key) == fingerprint(bytes(one.public_key)) == one.fingerprint
    assert fingerprint(one.public_key) != fingerprint(two.public_key)


def test_bytes_that_are_no_key_are_refused_every_time() -> None:
    signer = SigningKey.generate()
    signature = signer.sign(b"text")
    for not_a_key in (b"\x00" * 31, b"\xff" * 33):
        for _ in range(2):
            assert not verify_signature(not_a_key, signature, b"text")


def test_text_is_compared_as_a_spreadsheet_gives_it_back_with_or_without_line_endings() -> None:
    from skp_desktop.excel.cell_text import comparable_text

    assert comparable_text("  Highways  ") == "Highways"
    assert comparable_text("one\r\ntwo\rthree\n") == "one\ntwo\nthree"
    assert comparable_text("bell\x07 and tab\tkept") == "bell and tab\tkept"
    assert comparable_text("\u00a0non-breaking space around\u00a0") == "non-breaking space around"
    assert comparable_text("") == comparable_text(None) == ""


def test_a_long_text_changed_after_signing_is_caught_by_its_signed_digest_not_ignored() -> None:
    key = SigningKey.generate()
    fields = [
        ("format", "skp-return"),
        ("kind", "return"),
        ("payload", '{"a":1}'),
        ("payload_sha256", "cd" * 32),
    ]
    signed = fields + signature_pairs(fields, Signer(key))
    # the payload itself is not in the signed text (its digest is), so changing it alone
    # leaves the signature valid; the reader then compares the payload with its digest
    changed_payload = [(k, '{"a":2}' if k == "payload" else v) for k, v in signed]
    assert check_signature(_meta(changed_payload)).status == VALID
    changed_digest = [(k, "ef" * 32 if k == "payload_sha256" else v) for k, v in signed]
    assert check_signature(_meta(changed_digest)).status == BROKEN
