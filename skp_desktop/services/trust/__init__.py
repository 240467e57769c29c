"""Keys and trust: this installation's signing key, enrolment files, and which keys a
database believes for what (issue 16).

The private key lives in one file in the user's data folder (`keys/signing-key.pem`, or
`$SKP_KEY_DIR`), readable by the user only; it is never put in a database, a backup, a sync,
an export or a log. A database holds public keys only, in `signing_keys`:

- `own`: this installation's key, enrolled when the database was made; it signs for every
  service, and the templates, feedback files and definitions packs this database issues.
- `service`: a key the coordinator enrolled (`keys trust`) for the services it may sign for.
- `coordinator`: the coordinator's key, pinned on a service's database by its first pack.

Every change of trust is an audit event (TRUST_ACTIONS) that `verify` replays.

One module per use case: `own_key.py` (this installation's key: made, shown, rotated),
`enrolment.py` (enrolment files written and read), `trusted_keys.py` (enrol, list, revoke;
what `verify` compares), `file_signer.py` (who signed a return, feedback file or template),
`coordinator_key.py` (who signed a definitions pack; pinning the coordinator's key), and
`key_rows.py` (a stored key, shared by the others). The public names are re-exported here:
callers use `trust.installation_key()` and the like.
"""

from __future__ import annotations

from skp_desktop.services.trust.coordinator_key import PinNeeded, judge_pack_signature
from skp_desktop.services.trust.enrolment import (
    ENROLMENT_FORMAT,
    ENROLMENT_LIMIT,
    Enrolment,
    export_enrolment,
    read_enrolment,
)
from skp_desktop.services.trust.file_signer import (
    BROKEN_REASON,
    SIGNED,
    TEMPLATE,
    UNSIGNED_REASON,
    UNSIGNED_TAKEN,
    KeyCache,
    SignerVerdict,
    judge_file_signature,
)
from skp_desktop.services.trust.key_rows import (
    ROLE_COORDINATOR,
    ROLE_OWN,
    ROLE_SERVICE,
    TRUST_ACTIONS,
    TrustedKey,
    key_state,
)
from skp_desktop.services.trust.own_key import (
    KEY_FILE_NAME,
    ROTATION_FILE_NAME,
    InstallationKey,
    KeyInfo,
    Rotation,
    installation_key,
    key_file,
    key_folder,
    key_folder_for_now,
    rotate_installation_key,
    show_key,
)
from skp_desktop.services.trust.trusted_keys import (
    enrol_installation_key,
    held_trust,
    list_keys,
    public_keys,
    revoke_key,
    trust_key,
)

__all__ = [
    "BROKEN_REASON",
    "ENROLMENT_FORMAT",
    "ENROLMENT_LIMIT",
    "KEY_FILE_NAME",
    "ROLE_COORDINATOR",
    "ROLE_OWN",
    "ROLE_SERVICE",
    "ROTATION_FILE_NAME",
    "SIGNED",
    "TEMPLATE",
    "TRUST_ACTIONS",
    "UNSIGNED_REASON",
    "UNSIGNED_TAKEN",
    "Enrolment",
    "InstallationKey",
    "KeyCache",
    "KeyInfo",
    "PinNeeded",
    "Rotation",
    "SignerVerdict",
    "TrustedKey",
    "enrol_installation_key",
    "export_enrolment",
    "held_trust",
    "installation_key",
    "judge_file_signature",
    "judge_pack_signature",
    "key_file",
    "key_folder",
    "key_folder_for_now",
    "key_state",
    "list_keys",
    "public_keys",
    "read_enrolment",
    "revoke_key",
    "rotate_installation_key",
    "show_key",
    "trust_key",
]
