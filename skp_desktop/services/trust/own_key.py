"""This installation's signing key: where it is kept, made on first use, shown (`keys show`)
and rotated (`keys rotate`). The private key never leaves its file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skp_desktop.domain.errors import NotFoundError, StateError
from skp_desktop.domain.signatures import SigningKey, encode_bytes
from skp_desktop.excel.file_signature import Signer, make_rotation, read_rotation
from skp_desktop.locations import user_data_dir
from skp_desktop.services.trust.key_rows import describe_trust, find_key, rotate_key
from skp_desktop.store.engine import Database

KEY_FILE_NAME = "signing-key.pem"
ROTATION_FILE_NAME = "key-rotation.json"  # the statement the previous key signed, if rotated


_FOLDER_FOR_NOW: list[Path] = []  # key_folder_for_now's folder, while it lasts


@contextlib.contextmanager
def key_folder_for_now(folder: Path) -> Iterator[Path]:
    """Use the key in `folder` for a while (the self-test's throwaway key)."""
    _FOLDER_FOR_NOW.append(folder)
    try:
        yield folder
    finally:
        _FOLDER_FOR_NOW.remove(folder)


def key_folder() -> Path:
    """Where the private key lives: `$SKP_KEY_DIR`, else `keys/` in the user data folder."""
    if _FOLDER_FOR_NOW:
        return _FOLDER_FOR_NOW[-1]
    given = os.environ.get("SKP_KEY_DIR", "").strip()
    return Path(given) if given else user_data_dir() / "keys"


def key_file() -> Path:
    return key_folder() / KEY_FILE_NAME


@dataclass(frozen=True)
class InstallationKey:
    """This installation's key, where it is kept, and whether it was made just now."""

    key: SigningKey
    path: Path
    made_now: bool
    rotation: str | None = None  # the previous key's statement naming this one

    @property
    def signer(self) -> Signer:
        return Signer(self.key, self.rotation)

    @property
    def notice(self) -> str | None:
        """What to tell the user when the key was made just now."""
        if not self.made_now:
            return None
        return (
            f"A signing key was made for this computer (fingerprint {self.key.fingerprint}), "
            f"kept in {self.path}. The coordinator must enrol it before files signed with it "
            "are accepted: run `skp-returns keys export --out my-key.skpkey`, send that file, "
            "and read them the fingerprint over the phone. Files signed with an earlier key "
            "stay valid."
        )


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (0600), atomically, never over a stranger's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder not ours (SKP_KEY_DIR): the file is 0600
        path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def installation_key(*, create: bool = True) -> InstallationKey:
    """This installation's key, made on first use; StateError when the file is unusable."""
    path = key_file()
    rotation_path = path.with_name(ROTATION_FILE_NAME)
    if path.exists():
        try:
            key = SigningKey.from_pem(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise StateError(
                f"The signing key {path} cannot be read ({exc.__class__.__name__}). Move the "
                "file away and run the command again: a new key is made, which the coordinator "
                "must enrol; files signed before stay valid."
            ) from None
        rotation = rotation_path.read_text("utf-8") if rotation_path.exists() else None
        if rotation is not None:
            parsed = read_rotation(rotation)
            rotation = rotation if parsed and parsed.new_fingerprint == key.fingerprint else None
        return InstallationKey(key, path, made_now=False, rotation=rotation)
    if not create:
        raise NotFoundError(f"There is no signing key at {path} yet.")
    key = SigningKey.generate()
    _write_private(path, key.to_pem())
    rotation_path.unlink(missing_ok=True)
    return InstallationKey(key, path, made_now=True)


@dataclass(frozen=True)
class KeyInfo:
    """What `keys show` prints."""

    fingerprint: str
    public_key: str
    key_file: str
    made_now: bool
    enrolled_here: str | None = None  # how this database trusts it, if it does

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "public_key": self.public_key,
            "key_file": self.key_file,
            "enrolled_here": self.enrolled_here,
        }


def show_key(db: Database | None = None) -> KeyInfo:
    """This installation's key (made now if there is none) and how `db` trusts it."""
    own = installation_key()
    enrolled = None
    if db is not None:
        with db.reading() as session:
            row = find_key(session, own.key.fingerprint)
            if row is not None:
                enrolled = describe_trust(row)
    return KeyInfo(
        own.key.fingerprint, encode_bytes(own.key.public_key), str(own.path), own.made_now, enrolled
    )


@dataclass(frozen=True)
class Rotation:
    """What `keys rotate` did."""

    old_fingerprint: str
    new_fingerprint: str
    key_file: str
    replaced_here: bool  # the database's own key was replaced too


def rotate_installation_key(db: Database | None, *, actor: str) -> Rotation:
    """Make a new key for this installation, with a statement signed by the old key naming it
    (carried in every file the new key signs and in its enrolment file), and put it in the old
    key's place on `db` when `db` held the old one as its own."""
    old = installation_key()
    new = SigningKey.generate()
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = make_rotation(old.key, new, at)
    replaced = False
    if db is not None and not db.read_only:
        with db.transaction() as session:
            row = find_key(session, old.key.fingerprint)
            if row is not None and row.revoked_at is None:
                rotate_key(
                    session,
                    row,
                    new.public_key,
                    actor=actor,
                    at=datetime.now(UTC),
                    how="keys rotate",
                )
                replaced = True
    _write_private(old.path.with_name(ROTATION_FILE_NAME), statement.encode("utf-8"))
    _write_private(old.path, new.to_pem())
    return Rotation(old.key.fingerprint, new.fingerprint, str(old.path), replaced)
