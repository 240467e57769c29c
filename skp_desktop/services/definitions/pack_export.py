"""Exporting a definitions version as a signed definitions pack, with the targets, services and
forms held when it is written."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop import __version__
from skp_desktop.domain.errors import NotFoundError
from skp_desktop.domain.periods import parse_period
from skp_desktop.excel.definitions_pack import DefinitionsPack, PackTarget, write_definitions_pack
from skp_desktop.services import trust
from skp_desktop.services.database import Database
from skp_desktop.services.definitions.held_versions import held_targets, latest_version, specs_at
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.services.partnership import pack_services_of
from skp_desktop.store.models import DefinitionsVersion


@dataclass(frozen=True)
class PackExport:
    """A definitions pack written."""

    path: Path
    version: int
    applies_from: str
    indicators: int
    payload_sha256: str
    file_sha256: str
    signed_by: str | None = None
    notice: str | None = None  # e.g. that a signing key was made just now


def definitions_only(pack: DefinitionsPack) -> DefinitionsPack:
    """The pack without its services and forms: what 'the same definitions version' compares."""
    return replace(pack, services=(), forms=())


def pack_of(session: Session, version: DefinitionsVersion) -> DefinitionsPack:
    specs = specs_at(session, version)
    codes = {s.code for s in specs}
    targets = tuple(
        PackTarget(code, year, value)
        for (code, year), value in sorted(held_targets(session).items())
        if code in codes
    )
    services, forms = pack_services_of(session)
    return DefinitionsPack(
        version=version.number,
        applies_from=version.applies_from,
        note=version.note,
        indicators=tuple(specs),
        targets=targets,
        services=services,
        forms=forms,
    )


def export_definitions_pack(
    db: Database, out: str | os.PathLike[str], *, actor: str, version: int | None = None
) -> PackExport:
    """Write a definitions version (the newest unless given) as a signed definitions pack.

    Targets are yearly and not versioned, so a pack carries the targets held when it is written.
    """
    target = Path(out)
    check_output(target, what=".xlsx file")
    with db.reading() as session:
        chosen: DefinitionsVersion | None
        if version is None:
            chosen = latest_version(session)
        else:
            chosen = session.scalar(
                select(DefinitionsVersion).where(DefinitionsVersion.number == version)
            )
            if chosen is None:
                held = ", ".join(
                    str(n)
                    for n in session.scalars(
                        select(DefinitionsVersion.number).order_by(DefinitionsVersion.number)
                    )
                )
                raise NotFoundError(
                    f"There is no definitions version {version}: this database holds {held}."
                )
        pack = pack_of(session, chosen)
    own = trust.installation_key()
    with writing(target, "definitions pack"):
        digest = write_definitions_pack(
            pack,
            target,
            applies_from_label=parse_period(pack.applies_from).label,
            exported_at=datetime.now(UTC).replace(microsecond=0),
            exported_by=actor,
            app_version=__version__,
            signer=own.signer,
        )
    return PackExport(
        path=target,
        version=pack.version,
        applies_from=pack.applies_from,
        indicators=len(pack.indicators),
        payload_sha256=digest,
        file_sha256=hashlib.sha256(target.read_bytes()).hexdigest(),
        signed_by=own.key.fingerprint,
        notice=own.notice,
    )
