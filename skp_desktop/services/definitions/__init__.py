"""Indicator definitions: reading the version in force, publishing a new one, and the pack.

A definitions version is a full copy of every indicator's definition, in force from a period
on (`applies_from`). Publishing makes version n+1 from the newest one with the coordinator's
changes applied; importing a definitions pack makes the pack's version. Either way:

- Returns keep the version they were made with (`returns.definitions_version_id`): a
  submitted, accepted or returned revision is always read with the definitions it was made
  with, so history never changes under it.
- A return started for a period at or after `applies_from` uses the new version
  (`definitions_version_for`).
- An open **draft** for a period at or after `applies_from` moves to the new version in the
  same transaction, because a draft is not yet a return anybody has received and it must be
  submitted against the definitions in force. This is never silent: each move is an audit
  event (`definitions.draft`), the result lists the drafts moved, and the app names them in
  the confirmation before publishing. Its values are kept as they are; the new checks apply
  the next time it is opened or submitted.
- Targets are yearly (the `targets` table, one row per indicator and financial year) and not
  versioned: a target may be set or changed only for years that start at or after
  `applies_from`, so the RAG of returns already made is not rewritten (an imported pack, the
  coordinator's word, may set any year; each change is audited with old and new value).

Everything is one transaction and audited: `definitions.publish` or `definitions.import`
(the version, its period and a summary), `definitions.change` per changed field,
`definitions.add` per new indicator, `definitions.target` per target.

One module per use case: `reading.py` (what the Definitions place shows, the definitions in
force for a period), `publishing.py` (preview and publish the next version; installing a
version), `pack_export.py` and `pack_import.py` (the definitions pack), and `held_versions.py`
(the versions, specs and targets held, read by the others). The public names are re-exported
here; the Definitions place's unpublished draft is services/definitions_draft.py.
"""

from __future__ import annotations

from skp_desktop.services.definitions.held_versions import VersionInfo
from skp_desktop.services.definitions.pack_export import (
    PackExport,
    definitions_only,
    export_definitions_pack,
)
from skp_desktop.services.definitions.pack_import import PackImport, import_definitions_pack
from skp_desktop.services.definitions.publishing import (
    Publication,
    PublishResult,
    preview_publication,
    publish_definitions,
)
from skp_desktop.services.definitions.reading import (
    DefinitionsState,
    InForce,
    definitions_in_force,
    definitions_state,
)

__all__ = [
    "DefinitionsState",
    "InForce",
    "PackExport",
    "PackImport",
    "Publication",
    "PublishResult",
    "VersionInfo",
    "definitions_in_force",
    "definitions_only",
    "definitions_state",
    "export_definitions_pack",
    "import_definitions_pack",
    "preview_publication",
    "publish_definitions",
]
