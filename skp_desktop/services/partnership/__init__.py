"""The whole partnership: its five organisations, the services the coordinator adds, renames,
retires and lays out forms for, and later figures of the context measures.

Every change is one transaction and one audit event, which services/audit.verify replays
(`replay_problems`, replay.py):

- `service.add` (service = code; new = {"name", "organisation"} as canonical JSON)
- `service.rename` (old and new = {"name"})
- `service.retire` (period = the first period without returns; old and new =
  {"retired_from": code or null}; null brings the service back)
- `service.form` (new = the form as canonical JSON, services/forms.layout_json; null: back
  to the bundled forms/<CODE>.toml)
- `context.set` (indicator, period; old and new = {"source", "value"}; value null = cleared)

One module per use case: `organisations.py` (organisations, and services added, renamed,
retired), `service_forms.py` (a service's return form), `context_figures.py` (later figures of
the context measures), `replay.py` (what `verify` replays), `packs.py` (the services and forms
a definitions pack carries), and `events.py` (the actions and canonical JSON the others'
events share). The public names are re-exported here.
"""

from __future__ import annotations

from skp_desktop.services.forms import layout_data  # the command line prints a form
from skp_desktop.services.partnership.context_figures import (
    ContextFigure,
    context_figures,
    context_figures_in,
    context_measures,
    context_period,
    set_context_figure,
)
from skp_desktop.services.partnership.events import SERVICE_ACTIONS, canonical_json
from skp_desktop.services.partnership.organisations import (
    OrganisationInfo,
    ServiceRecord,
    add_service,
    add_service_in,
    is_retired,
    list_organisations,
    list_service_records,
    rename_service,
    rename_service_in,
    retire_service,
    retire_service_in,
    retirement_period,
    service_code,
    service_infos_in,
)
from skp_desktop.services.partnership.packs import apply_pack_services, pack_services_of
from skp_desktop.services.partnership.replay import PartnershipReplay, replay_problems
from skp_desktop.services.partnership.service_forms import (
    form_choices,
    service_form,
    service_form_in,
    set_service_form,
    set_service_form_in,
    stored_forms,
)

__all__ = [
    "SERVICE_ACTIONS",
    "ContextFigure",
    "OrganisationInfo",
    "PartnershipReplay",
    "ServiceRecord",
    "add_service",
    "add_service_in",
    "apply_pack_services",
    "canonical_json",
    "context_figures",
    "context_figures_in",
    "context_measures",
    "context_period",
    "form_choices",
    "is_retired",
    "layout_data",
    "list_organisations",
    "list_service_records",
    "pack_services_of",
    "rename_service",
    "rename_service_in",
    "replay_problems",
    "retire_service",
    "retire_service_in",
    "retirement_period",
    "service_code",
    "service_form",
    "service_form_in",
    "service_infos_in",
    "set_context_figure",
    "set_service_form",
    "set_service_form_in",
    "stored_forms",
]
