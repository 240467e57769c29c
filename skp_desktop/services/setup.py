"""Creating a database: migrations, the default catalogue and, on request, demo history."""

from __future__ import annotations

import random

from skp_desktop.domain.definitions import Unit, is_due
from skp_desktop.domain.periods import Period, parse_period, period_range
from skp_desktop.services.catalogue import ensure_default_catalogue, list_indicators, list_services
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import (
    get_return,
    record_entries,
    submit_return,
)

DEMO_ACTOR = "demo"
DEMO_FIRST, DEMO_LAST = "FY2024-25-Q1", "FY2026-27-Q1"
DEMO_NOTE = "DEMO DATA: invented for trying the app, not a real figure"


def initialise(db: Database, *, actor: str, demo: bool = False) -> str:
    """Make sure the database has the default catalogue; add demo history when asked."""
    ensure_default_catalogue(db, actor=actor)
    indicators = list_indicators(db)
    lines = [
        f"Database {db.display_name} is ready: {len(list_services(db))} services and "
        f"{len(indicators)} indicators (definitions version {indicators[0].definitions_version})."
    ]
    if demo:
        from skp_desktop.services.demo_partners import accept_demo_returns, add_demo_partners

        # the fire brigade, probation and the ICB too (demo services), so the whole
        # partnership shows; then the older returns accepted, so the merged workbook has them
        add_demo_partners(db, actor=DEMO_ACTOR, note=DEMO_NOTE)
        made = add_demo_history(db)
        accept_demo_returns(db, actor=DEMO_ACTOR, before=DEMO_LAST)
        lines.append(
            f"Added demo history: {made} returns from {DEMO_FIRST} to {DEMO_LAST}."
            if made
            else "Demo history is already there."
        )
    return "\n".join(lines)


def _demo_value(info: IndicatorInfo, step: int, rng: random.Random) -> dict[str, str]:
    """A plausible, clearly invented figure for one indicator and period."""
    rules = info.rules
    if rules.unit is Unit.PERCENT:
        if rules.target is not None:  # hover around the target so RAG shows all three words
            base = float(rules.target) - 4
        elif info.baseline:
            base = float(info.baseline.value)
        else:
            base = rng.uniform(62, 92)
        level = min(99.0, max(5.0, base + rng.gauss(0, 3) + step * 0.3))
        denominator = rng.randint(120, 400)
        numerator = round(level * denominator / 100)
        return {"numerator": str(numerator), "denominator": str(denominator)}
    if rules.unit in (Unit.RATE_PER_1000, Unit.RATE_PER_10000):
        population = 170_000
        rate = float(info.baseline.value) if info.baseline else 500.0
        rate *= 1 + rng.gauss(0, 0.03) - step * 0.004
        crimes = round(rate * population / float(rules.multiplier))
        return {"numerator": str(crimes), "denominator": str(population)}
    if rules.unit is Unit.SCORE:
        return {"value": f"{62 + step * 0.4 + rng.uniform(-0.5, 0.5):.1f}"}
    return {"value": str(max(0, round(rng.gauss(90, 12) + step)))}


def add_demo_history(db: Database) -> int:
    """Submitted demo returns over several years, only where a service has no return yet.

    Never touches a return someone made; running it again completes what a crash left.
    """
    periods: list[Period] = period_range(parse_period(DEMO_FIRST), parse_period(DEMO_LAST))
    made = 0
    for service in list_services(db):
        rng = random.Random(service.code)  # the same demo history every time
        infos = list_indicators(db, service=service.code)
        for step, period in enumerate(periods):
            due = [i for i in infos if is_due(i.rules.frequency, period)]
            # the generator is advanced for every period, so skipping one keeps the rest stable
            values = {i.code: _demo_value(i, step, rng) for i in due}
            if not due:
                continue
            held = get_return(db, service.code, period.code)
            # what the definitions in force for the period ask for (a demo service's indicator
            # is published from a later period than the history can start)
            asked = {row.code for row in held.rows}
            due = [i for i in due if i.code in asked]
            if held.exists or not due:
                continue
            changes = [EntryChange(i.code, values[i.code]) for i in due]
            changes += [EntryChange(i.code, {"commentary": DEMO_NOTE}) for i in due]
            record_entries(
                db,
                service=service.code,
                period=period.code,
                changes=changes,
                actor=DEMO_ACTOR,
                reason=DEMO_NOTE,
                source="demo data",
            )
            view = get_return(db, service.code, period.code)
            explanations = {row.code: DEMO_NOTE for row in view.rows if row.needs_explanation}
            submit_return(
                db,
                service=service.code,
                period=period.code,
                actor=DEMO_ACTOR,
                explanations=explanations,
            )
            made += 1
    return made
