"""Ed25519 signatures on the files the partners exchange: fingerprints, the signed text, checks.

The cryptography is pyca's: `cryptography` makes, stores and uses the keys; checking a signature
goes through PyNaCl (libsodium), which does it in ~60% of the CPU time and lets go of the GIL
while it does, so an import's other thread goes on meanwhile (bench/signatures.py). Both
implement the same RFC 8032 Ed25519; no hand-written crypto. What is signed is a
canonical text of a file's identifying fields and the SHA-256 of everything it carries, never
the zip: a spreadsheet that re-saves the file unchanged keeps the signature valid.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

# Put in front of every signed text: a signature made for one purpose is never valid for another.
SIGNED_TEXT_TAG = "skp-returns signed fields v1\n"
FINGERPRINT_GROUPS = 6  # six groups of five digits: read over the phone in half a minute
FINGERPRINT_GROUP_DIGITS = 5
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


@functools.lru_cache(maxsize=256)  # an import batch asks again for every file a key signed
def fingerprint(public_key: bytes) -> str:
    """The key's fingerprint: digits from the SHA-256 of the raw public key, in groups of five.

    30 digits carry ~100 bits: finding another key with the same fingerprint is out of reach.
    """
    digest = int.from_bytes(hashlib.sha256(public_key).digest(), "big")
    digits = FINGERPRINT_GROUPS * FINGERPRINT_GROUP_DIGITS
    text = str(digest % 10**digits).zfill(digits)
    return "-".join(
        text[i : i + FINGERPRINT_GROUP_DIGITS] for i in range(0, digits, FINGERPRINT_GROUP_DIGITS)
    )


@functools.lru_cache(maxsize=256)  # a batch's files give the same few, written the same way
def normalise_fingerprint(text: str) -> str:
    """A fingerprint as typed (spaces, dashes, dots between groups) in the canonical form, or
    the digits found when it is not one (so it never matches a real one)."""
    digits = re.sub(r"[^0-9]", "", text or "")
    if len(digits) != FINGERPRINT_GROUPS * FINGERPRINT_GROUP_DIGITS:
        return digits
    return "-".join(
        digits[i : i + FINGERPRINT_GROUP_DIGITS]
        for i in range(0, len(digits), FINGERPRINT_GROUP_DIGITS)
    )


def encode_bytes(data: bytes) -> str:
    """Base64 text, as keys and signatures are written in files."""
    return base64.b64encode(data).decode("ascii")


def decode_bytes(text: str | None) -> bytes | None:
    """Bytes from base64 text, or None when it is not base64."""
    if not text:
        return None
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def signed_text(fields: Mapping[str, str]) -> bytes:
    """The canonical text a signature covers: the fields sorted by name as compact JSON.

    Empty fields are left out: a spreadsheet drops an empty cell when it saves the file.
    """
    return kept_fields_text(
        {key: value.strip() for key, value in fields.items() if value and value.strip()}
    )


_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def kept_fields_text(kept: Mapping[str, str]) -> bytes:
    """signed_text of fields already trimmed, none empty (what a reader that trims as it goes
    has made: one pass over a file's fields instead of two)."""
    return (SIGNED_TEXT_TAG + _COMPACT.encode(kept)).encode("utf-8")


@functools.lru_cache(maxsize=256)
def _loaded_public_key(public_key: bytes) -> VerifyKey:
    """The key loaded once per raw bytes: the files of an import are signed by a few keys."""
    return VerifyKey(public_key)


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is the Ed25519 signature of `message` by `public_key`."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        # every call verifies; only the loading of the key's bytes is remembered
        _loaded_public_key(public_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """A private key held in memory while a file is signed; never written anywhere but its file."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        """The key from its PEM file; ValueError when it is not an Ed25519 private key."""
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def sign_fields(self, fields: Mapping[str, str]) -> str:
        """The base64 signature of the canonical text of `fields`."""
        return encode_bytes(self.sign(signed_text(fields)))

    def __repr__(self) -> str:  # never the private key, in a log or a traceback
        return f"SigningKey(fingerprint={self.fingerprint!r})"
