"""Demo data for the whole partnership (issue 18): a service and an indicator for each of the
fire brigade, probation and the ICB, and the coordinator's acceptance of older demo returns.

Everything here is invented for trying the app and says so: the services' and indicators'
names start "DEMO:", the definitions version that adds the indicators is noted as demo data,
and the actor is `demo`. The default catalogue (resources/catalogue.toml) invents nothing: its
sources give no figure the fire brigade, probation or the ICB report.
"""

from __future__ import annotations

from sqlalchemy import select

from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.vocabulary import ReturnState
from skp_desktop.services.database import Database
from skp_desktop.services.definitions import Publication, definitions_state, publish_definitions
from skp_desktop.services.partnership import add_service, list_service_records
from skp_desktop.services.review import accept_return
from skp_desktop.store.models import Return, Service

DEMO_LABEL = "DEMO:"
# (service code, name, organisation, indicator): one per authority with no service of its own
DEMO_PARTNERS = (
    (
        "DEMO-LFB",
        "DEMO: Kingston fire station (demo data)",
        "LFB",
        {
            "code": "DEMO-LFB-1",
            "theme": "SKP-D1",
            "title": "DEMO: deliberate fires in the borough (invented demo indicator)",
            "unit": "count",
            "polarity": "lower is better",
            "frequency": "quarterly",
        },
    ),
    (
        "DEMO-PS",
        "DEMO: Kingston probation delivery unit (demo data)",
        "PS",
        {
            "code": "DEMO-PS-1",
            "theme": "SKP-D3",
            "title": "DEMO: % of people on probation in settled accommodation "
            "(invented demo indicator)",
            "unit": "percent",
            "polarity": "higher is better",
            "frequency": "quarterly",
            "has_fraction": True,
            "numerator_label": "People in settled accommodation",
            "denominator_label": "People on probation",
        },
    ),
    (
        "DEMO-ICB",
        "DEMO: ICB Kingston place team (demo data)",
        "ICB",
        {
            "code": "DEMO-ICB-1",
            "theme": "SKP-D2",
            "title": "DEMO: % of adults completing drug treatment successfully "
            "(invented demo indicator)",
            "unit": "percent",
            "polarity": "higher is better",
            "frequency": "quarterly",
            "has_fraction": True,
            "numerator_label": "Adults completing treatment",
            "denominator_label": "Adults in treatment",
        },
    ),
)


def add_demo_partners(db: Database, *, actor: str, note: str) -> int:
    """The demo services and their indicators, where they are not there yet; how many added."""
    held = {s.code for s in list_service_records(db)}
    missing = [p for p in DEMO_PARTNERS if p[0] not in held]
    for code, name, organisation, _indicator in missing:
        add_service(
            db, code=code, name=name, organisation=organisation, actor=actor, source="demo data"
        )
    state = definitions_state(db)
    known = {spec.code for spec in state.indicators}
    new = [
        {**indicator, "service": code}
        for code, _name, _org, indicator in DEMO_PARTNERS
        if indicator["code"] not in known
    ]
    if new:
        publish_definitions(
            db,
            Publication(
                applies_from=state.latest.applies_from,
                note=f"{note}: demo services for the fire brigade, probation and the ICB",
                new_indicators=new,
            ),
            actor=actor,
            source="demo data",
        )
    return len(missing)


def accept_demo_returns(db: Database, *, actor: str, before: str) -> int:
    """Accept the demo's own submitted returns for periods before `before`, as a coordinator
    would have; a return someone else submitted is left for the coordinator. How many."""
    first_left = parse_period(before).start
    with db.reading() as session:
        waiting = [
            (code, period)
            for code, period in session.execute(
                select(Service.code, Return.period)
                .join(Service, Service.id == Return.service_id)
                .where(Return.state == ReturnState.SUBMITTED, Return.submitted_by == actor)
                .order_by(Return.period, Service.code)
            )
            if parse_period(period).start < first_left
        ]
    for code, period in waiting:
        accept_return(db, service=code, period=period, actor=actor)
    return len(waiting)
