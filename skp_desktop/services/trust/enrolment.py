"""Enrolment files: this installation's public key written for the coordinator (`keys
export`), and an enrolment file read and checked before its key is trusted."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.signatures import (
    decode_bytes,
    encode_bytes,
    fingerprint,
    normalise_fingerprint,
    signed_text,
    verify_signature,
)
from skp_desktop.excel.file_signature import KeyRotation, read_rotation
from skp_desktop.services.trust.own_key import KeyInfo, installation_key

ENROLMENT_FORMAT = "skp-key"
ENROLMENT_LIMIT = 64 * 1024  # an enrolment file is a few hundred bytes


@dataclass(frozen=True)
class Enrolment:
    """A public key as an enrolment file gives it, its self-signature checked."""

    name: str
    public_key: bytes
    fingerprint: str
    made_at: str
    rotation: KeyRotation | None = None


def _enrolment_fields(
    name: str, public_key: bytes, made_at: str, rotation: str | None
) -> dict[str, Any]:
    fields = {
        "format": ENROLMENT_FORMAT,
        "format_version": "1",
        "name": name,
        "fingerprint": fingerprint(public_key),
        "public_key": encode_bytes(public_key),
        "made_at": made_at,
    }
    if rotation:
        fields["key_rotation"] = rotation
    return fields


def export_enrolment(out: str | os.PathLike[str], *, name: str) -> tuple[Path, KeyInfo]:
    """Write this installation's enrolment file: its public key, name and fingerprint, signed
    by the key itself (and, after a rotation, by the key before it)."""
    from skp_desktop.services.output_files import check_output, writing

    target = Path(out)
    check_output(target, what="enrolment file")
    own = installation_key()
    made_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = _enrolment_fields(name, own.key.public_key, made_at, own.rotation)
    fields["signature"] = own.key.sign_fields(fields)
    with writing(target, "enrolment file"):
        target.write_text(json.dumps(fields, indent=2, ensure_ascii=False) + "\n", "utf-8")
    info = KeyInfo(fields["fingerprint"], fields["public_key"], str(own.path), own.made_now)
    return target, info


def read_enrolment(path: str | os.PathLike[str]) -> Enrolment:
    """An enrolment file, checked; ValidationError saying what is wrong with it."""
    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"No such file: {source}")
    if source.stat().st_size > ENROLMENT_LIMIT:
        raise ValidationError(f"{source.name} is too big to be an enrolment file")
    try:
        data = json.loads(source.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise ValidationError(
            f"{source.name} is not an enrolment file: ask for the file `skp-returns keys export` "
            "writes"
        ) from None
    if not isinstance(data, dict) or data.get("format") != ENROLMENT_FORMAT:
        raise ValidationError(f"{source.name} is not an SKP Returns enrolment file")
    if not all(isinstance(value, str) for value in data.values()):
        raise ValidationError(f"{source.name} is damaged: every field must be text")
    public_key = decode_bytes(data.get("public_key"))
    signature = decode_bytes(data.get("signature"))
    if public_key is None or signature is None:
        raise ValidationError(f"{source.name} is damaged: its key or signature is garbled")
    fields = {key: value for key, value in data.items() if key != "signature"}
    if not verify_signature(public_key, signature, signed_text(fields)):
        raise ValidationError(
            f"{source.name} was changed after it was made: its signature does not match"
        )
    if normalise_fingerprint(data.get("fingerprint", "")) != fingerprint(public_key):
        raise ValidationError(f"{source.name} is damaged: its fingerprint is not its key's")
    rotation = None
    if data.get("key_rotation"):
        rotation = read_rotation(data["key_rotation"])
        if rotation is None or rotation.new_fingerprint != fingerprint(public_key):
            raise ValidationError(
                f"{source.name} carries a key rotation that does not verify: it was changed"
            )
    name = (data.get("name") or "").strip()[:200] or "unnamed"
    return Enrolment(name, public_key, fingerprint(public_key), data.get("made_at", ""), rotation)
