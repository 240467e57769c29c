"""The signature in a file's `_meta` sheet (format version 2): written by the writers, checked
by the readers. Which key may sign what is the database's business (services/trust/).

The signature covers a canonical text (domain/signatures.signed_text) of every `_meta` field
except the long texts (`payload`, `queries`, `answers` and their pieces, each covered by its
`*_sha256`) and the signature itself. It covers cell values, never the zip, so a file that
Excel or LibreOffice saved again unchanged still verifies.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skp_desktop.domain.signatures import (
    SigningKey,
    decode_bytes,
    encode_bytes,
    fingerprint,
    kept_fields_text,
    normalise_fingerprint,
    signed_text,
    verify_signature,
)
from skp_desktop.excel.cell_text import comparable_text
from skp_desktop.excel.safe_reader import RawCell

SIGNED_BY, PUBLIC_KEY, SIGNATURE, KEY_ROTATION = (
    "signed_by",
    "public_key",
    "signature",
    "key_rotation",
)
SIGNATURE_KEYS = (SIGNED_BY, PUBLIC_KEY, SIGNATURE, KEY_ROTATION)
# Long texts: covered by their `*_sha256`, which is signed.
_LONG_TEXT = re.compile(r"(?:payload|queries|answers)(?:_[0-9]{1,4})?")

UNSIGNED, BROKEN, VALID = "unsigned", "broken", "valid"


@dataclass(frozen=True)
class Signer:
    """What signs a file: this installation's key and, after `keys rotate`, the statement
    signed by the key before it that names this one (carried in every file it signs)."""

    key: SigningKey
    rotation: str | None = None


@dataclass(frozen=True)
class KeyRotation:
    """A statement, signed by an old key, that a new key replaces it."""

    old_fingerprint: str
    old_public_key: bytes
    new_fingerprint: str
    new_public_key: bytes
    at: str

    def as_text(self, signature: str) -> str:
        return json.dumps(
            {**self._fields(), "signature": signature}, sort_keys=True, separators=(",", ":")
        )

    def _fields(self) -> dict[str, str]:
        return {
            "purpose": "skp-returns key rotation",
            "old_fingerprint": self.old_fingerprint,
            "old_public_key": encode_bytes(self.old_public_key),
            "new_fingerprint": self.new_fingerprint,
            "new_public_key": encode_bytes(self.new_public_key),
            "at": self.at,
        }

    def signed_text(self) -> bytes:
        return signed_text(self._fields())


def make_rotation(old: SigningKey, new: SigningKey, at: str) -> str:
    """The rotation statement (JSON text) from `old` to `new`, signed by `old`."""
    rotation = KeyRotation(old.fingerprint, old.public_key, new.fingerprint, new.public_key, at)
    return rotation.as_text(encode_bytes(old.sign(rotation.signed_text())))


def read_rotation(text: str | None) -> KeyRotation | None:
    """The rotation statement when it is well formed and its signature verifies, else None."""
    if not text or len(text) > 4000:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    old_key = decode_bytes(data.get("old_public_key"))
    new_key = decode_bytes(data.get("new_public_key"))
    signature = decode_bytes(data.get("signature"))
    if old_key is None or new_key is None or signature is None:
        return None
    rotation = KeyRotation(
        fingerprint(old_key), old_key, fingerprint(new_key), new_key, str(data.get("at", ""))
    )
    if data.get("old_fingerprint") != rotation.old_fingerprint or data.get("new_fingerprint") != (
        rotation.new_fingerprint
    ):
        return None
    if not verify_signature(old_key, signature, rotation.signed_text()):
        return None
    return rotation


@functools.lru_cache(maxsize=1024)
def _is_long_text(key: str) -> bool:
    """Whether `key` is a long text covered by its *_sha256 (asked of the same few keys in
    every file of an import, so remembered)."""
    return _LONG_TEXT.fullmatch(key) is not None


def _signed_fields(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key == SIGNATURE or _is_long_text(key) or key in fields:
            continue
        # as the cell reads back after any spreadsheet saved it: line endings, control characters
        fields[key] = comparable_text(value)
    return fields


def signature_pairs(pairs: Sequence[tuple[str, str]], signer: Signer) -> list[tuple[str, str]]:
    """The `_meta` rows that sign `pairs`: `signed_by`, `public_key`, a rotation, `signature`."""
    added = [(SIGNED_BY, signer.key.fingerprint), (PUBLIC_KEY, encode_bytes(signer.key.public_key))]
    if signer.rotation:
        added.append((KEY_ROTATION, signer.rotation))
    fields = _signed_fields([*pairs, *added])
    return [*added, (SIGNATURE, signer.key.sign_fields(fields))]


@dataclass(frozen=True)
class FileSignature:
    """What a file's `_meta` says about its signature, and whether it holds.

    `status`: UNSIGNED (no signature: format 1, or cut out), BROKEN (it does not verify: the
    file was changed after it was signed) or VALID (made by the key whose fingerprint is
    `signed_by`; whether that key is trusted is for the database to say).
    """

    status: str
    signed_by: str | None = None  # fingerprint, as the file gives it
    public_key: bytes | None = None
    rotation: KeyRotation | None = None  # a valid rotation statement naming the signer
    detail: str | None = None  # what is wrong with a BROKEN signature

    @property
    def valid(self) -> bool:
        return self.status == VALID


UNSIGNED_FILE = FileSignature(UNSIGNED)


def check_signature(values: Mapping[str, RawCell]) -> FileSignature:
    """The signature of a `_meta` sheet given as its value cells by key (first of each)."""
    # the long texts are covered by their *_sha256, which is signed: no need to copy them
    texts = {key: cell.text.strip() for key, cell in values.items() if not _is_long_text(key)}
    signature_text = texts.get(SIGNATURE)
    signed_by = texts.get(SIGNED_BY)
    if not signature_text and not signed_by and not texts.get(PUBLIC_KEY):
        return FileSignature(UNSIGNED)
    if not signature_text:
        return FileSignature(UNSIGNED, signed_by=normalise_fingerprint(signed_by or ""))
    public_key = decode_bytes(texts.get(PUBLIC_KEY))
    signature = decode_bytes(signature_text)
    if public_key is None or signature is None:
        return FileSignature(BROKEN, signed_by=signed_by, detail="its key or signature is garbled")
    key_fingerprint = fingerprint(public_key)
    if normalise_fingerprint(signed_by or "") != key_fingerprint:
        return FileSignature(
            BROKEN, signed_by=signed_by, detail="signed_by does not name the key it carries"
        )
    # as _signed_fields, then signed_text, would make them (`texts` already holds one of each
    # key, no long text, trimmed): comparable, trimmed again, the empty ones left out
    kept = {}
    for key, text in texts.items():
        if key != SIGNATURE and (text := comparable_text(text)):
            kept[key] = text
    if not verify_signature(public_key, signature, kept_fields_text(kept)):
        return FileSignature(BROKEN, signed_by=key_fingerprint, public_key=public_key)
    rotation = read_rotation(texts.get(KEY_ROTATION))
    if rotation is not None and rotation.new_fingerprint != key_fingerprint:
        rotation = None
    return FileSignature(VALID, signed_by=key_fingerprint, public_key=public_key, rotation=rotation)
