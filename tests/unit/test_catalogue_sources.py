"""The default catalogue traces every item back to a sentence of the two source documents.

Reads resources/catalogue.toml, resources/sources/ and forms/ with the standard library only,
so it runs without the app installed.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "resources" / "catalogue.toml"
SOURCES = ROOT / "resources" / "sources"
FORMS = ROOT / "forms"
SHARED_SEEDS = (ROOT / ".." / "shared" / "seeds").resolve()

# The 22 indicators of the Council Plan "Safer" priorities, in source order, with the title
# each one has in the catalogue. Only SAFER-P4-S1 differs from its source bullet: the source
# states the target inside it ("100% of Category 1 defects repaired on time").
EXPECTED_INDICATORS: list[tuple[str, str, str]] = [
    # code, owner service, title
    (
        "SAFER-P1-B1",
        "ASC",
        "% of people who use services who have control over their daily life",
    ),
    ("SAFER-P1-B2", "CHILDRENS", "Number of children looked after"),
    (
        "SAFER-P1-S1",
        "ASC",
        "% of adults safeguarding cases closed with risks reduced or removed",
    ),
    ("SAFER-P1-S2", "ASC", "New Direct Payments as a % of overall packages offered"),
    (
        "SAFER-P1-S3",
        "CHILDRENS",
        "% of care leavers (19 - 21 year olds) who are in contact with the local authority"
        " and who are engaged in education, training and employment",
    ),
    (
        "SAFER-P1-S4",
        "CHILDRENS",
        "% of 16-17 years olds in education, training or employment",
    ),
    (
        "SAFER-P2-B1",
        "SUSTAINABILITY",
        "Average house energy rating in Kingston upon Thames",
    ),
    (
        "SAFER-P2-S1",
        "SUSTAINABILITY",
        "Number of residents receiving a Warm Homes home energy efficiency advice assessment",
    ),
    (
        "SAFER-P2-S2",
        "EPR",
        "% of performance targets met for Local Authority Liaison Officer attendance"
        " & opening emergency shelters",
    ),
    (
        "SAFER-P2-S3",
        "EPR",
        "% of declared emergency incidents responded to within the time frames"
        " for the Resilience Standards for London",
    ),
    ("SAFER-P3-B1", "MPS-KINGSTON", "Crime rate per 10,000 population"),
    (
        "SAFER-P3-B2",
        "COMMSAFETY",
        "% of women and girls indicating feeling safe in public spaces in Kingston",
    ),
    (
        "SAFER-P3-S1",
        "COMMSAFETY",
        "% of high risk domestic abuse victim / survivors who have received multi-agency"
        " support and action who experience a further recorded violent incident",
    ),
    (
        "SAFER-P3-S2",
        "COMMSAFETY",
        "Number of professionals in Kingston receiving specialist violence against women"
        " and girls training",
    ),
    ("SAFER-P4-B1", "HIGHWAYS", "% of A/B/C roads that are in good condition"),
    ("SAFER-P4-B2", "REGULATORY", "% of food businesses rated good or higher"),
    ("SAFER-P4-S1", "HIGHWAYS", "% of Category 1 defects repaired on time"),
    (
        "SAFER-P4-S2",
        "REGULATORY",
        "% of Regulatory Services requests responded to within 3 days",
    ),
    ("SAFER-P4-S3", "PARKS", "% parks with a Green Flag accreditation"),
    (
        "SAFER-P4-S4",
        "STREETS",
        "Street cleanliness - % at Grade B or above (officer inspections)",
    ),
    (
        "SAFER-P4-S5",
        "STREETS",
        "% of fly tipping incidents (on public land) cleared in 1 working day",
    ),
    (
        "SAFER-P4-S6",
        "STREETS",
        "% of large fly tipping incidents made safe within 2 hours",
    ),
]

UNITS = {"percent", "count", "rate per 1,000", "rate per 10,000", "score"}
POLARITIES = {"higher is better", "lower is better", "neutral"}
FREQUENCIES = {"monthly", "quarterly", "annual"}
FRACTION_UNITS = {"percent", "rate per 1,000", "rate per 10,000"}


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _catalogue() -> dict:
    with CATALOGUE.open("rb") as handle:
        return tomllib.load(handle)


def _documents() -> dict[str, str]:
    """Document id -> its text, read from the bundled copies."""
    return {
        doc["id"]: (SOURCES / doc["file"]).read_text(encoding="utf-8")
        for doc in _catalogue()["documents"]
    }


def _forms() -> dict[str, dict]:
    """Form file stem -> parsed form."""
    forms = {}
    for path in sorted(FORMS.glob("*.toml")):
        with path.open("rb") as handle:
            forms[path.stem] = tomllib.load(handle)
    return forms


def _sourced_items() -> list[tuple[str, dict]]:
    """Every catalogue item that must carry a source sentence, with a label for messages."""
    cat = _catalogue()
    items: list[tuple[str, dict]] = []
    for section in ("organisations", "services", "themes", "indicators", "context_measures"):
        for item in cat[section]:
            items.append((f"{section}:{item['code']}", item))
            if "baseline" in item:
                items.append((f"{section}:{item['code']}:baseline", item["baseline"]))
    return items


def test_catalogue_parses_with_header() -> None:
    cat = _catalogue()
    assert cat["catalogue"]["title"] == "SKP Returns default catalogue"
    assert cat["catalogue"]["version"] == 1
    assert cat["catalogue"]["applies_from"] == "FY2024-25-Q1"
    assert {doc["id"] for doc in cat["documents"]} == {"skp-plan", "council-plan"}


def test_exactly_22_indicators_and_5_organisations() -> None:
    cat = _catalogue()
    assert len(cat["indicators"]) == 22
    assert [org["code"] for org in cat["organisations"]] == ["RBK", "MPS", "LFB", "PS", "ICB"]


def test_bundled_sources_are_the_seed_documents() -> None:
    for doc in _catalogue()["documents"]:
        assert (SOURCES / doc["file"]).is_file(), f"resources/sources/{doc['file']} is missing"


# The SHA-256 of each source document in ../shared/seeds/ when the catalogue was traced to it:
# a clone without ../shared beside it still checks that the bundled copies are those documents.
SEED_SHA256 = {
    "000_6ac8d3ea2f3f9a1f.txt": "571863280d4ad2b0b006dd83f895145f44bec68f7fad28713d6f9a674d2830ff",
    "004_62edfabda4ac4466.txt": "a29ec6516d52164f2cf38e5aa9da3be51bf32cd79e5cff893a803fd833abff6b",
}


def test_bundled_sources_are_the_seed_documents_byte_for_byte() -> None:
    files = [doc["file"] for doc in _catalogue()["documents"]]
    assert sorted(files) == sorted(SEED_SHA256)
    for name in files:
        digest = hashlib.sha256((SOURCES / name).read_bytes()).hexdigest()
        assert digest == SEED_SHA256[name], f"resources/sources/{name} is not the seed document"


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason=f"{SHARED_SEEDS} not present")
def test_bundled_sources_are_byte_identical_to_shared_seeds() -> None:
    for doc in _catalogue()["documents"]:
        bundled = (SOURCES / doc["file"]).read_bytes()
        assert bundled == (SHARED_SEEDS / doc["file"]).read_bytes(), doc["file"]


@pytest.mark.parametrize(
    "label,item", [pytest.param(label, item, id=label) for label, item in _sourced_items()]
)
def test_every_source_is_a_verbatim_sentence_of_its_document(label: str, item: dict) -> None:
    documents = _documents()
    assert item.get("document") in documents, f"{label}: unknown document {item.get('document')!r}"
    source = item.get("source", "")
    assert source.strip(), f"{label}: empty source"
    lines = [_collapse(line) for line in documents[item["document"]].splitlines()]
    # Verbatim and within one line or bullet of the document, not stitched across lines.
    assert any(_collapse(source) in line for line in lines), (
        f"{label}: source not found verbatim in {item['document']}: {source!r}"
    )


def test_priority_commitments_are_verbatim() -> None:
    text = _collapse(_documents()["council-plan"])
    for theme in _catalogue()["themes"]:
        if theme["kind"] == "priority":
            assert _collapse(theme["commitment"]) in text, theme["code"]
        else:
            assert theme["kind"] == "statutory duty"
            assert "commitment" not in theme, theme["code"]


def test_codes_are_unique() -> None:
    cat = _catalogue()
    for section in ("organisations", "services", "themes", "indicators", "context_measures"):
        counts = Counter(item["code"] for item in cat[section])
        assert [code for code, n in counts.items() if n > 1] == [], section
    all_codes = Counter(
        item["code"]
        for section in ("themes", "indicators", "context_measures")
        for item in cat[section]
    )
    assert max(all_codes.values()) == 1


def test_references_resolve_and_every_service_owns_an_indicator() -> None:
    cat = _catalogue()
    organisations = {org["code"] for org in cat["organisations"]}
    services = {svc["code"]: svc for svc in cat["services"]}
    themes = {theme["code"] for theme in cat["themes"]}
    for svc in services.values():
        assert svc["organisation"] in organisations, svc["code"]
    for ind in cat["indicators"]:
        assert ind["theme"] in themes, ind["code"]
        assert ind["service"] in services, ind["code"]
    for ctx in cat["context_measures"]:
        assert ctx["theme"] in themes, ctx["code"]
    owners = {ind["service"] for ind in cat["indicators"]}
    assert set(services) == owners, f"services without indicators: {set(services) - owners}"


def test_indicators_are_the_source_indicators_in_source_order() -> None:
    cat = _catalogue()
    got = [(ind["code"], ind["service"], ind["title"]) for ind in cat["indicators"]]
    assert got == EXPECTED_INDICATORS
    text = _documents()["council-plan"]
    positions = [text.index(ind["source"]) for ind in cat["indicators"]]
    assert positions == sorted(positions), "indicators are not in source order"


def test_titles_are_worded_as_in_the_source() -> None:
    for ind in _catalogue()["indicators"]:
        if "target" in ind:
            # The title is the measure; the source states the target inside it.
            assert ind["source"] == ind["title"].replace("%", f"{ind['target']}%", 1)
        else:
            assert ind["title"] == ind["source"], ind["code"]


def test_indicator_codes_follow_theme_level_position() -> None:
    position: Counter[tuple[str, str]] = Counter()
    for ind in _catalogue()["indicators"]:
        letter = {"borough": "B", "service": "S"}[ind["level"]]
        position[(ind["theme"], letter)] += 1
        assert ind["code"] == f"{ind['theme']}-{letter}{position[(ind['theme'], letter)]}"


def test_indicator_fields_are_consistent() -> None:
    for ind in _catalogue()["indicators"]:
        code = ind["code"]
        assert ind["unit"] in UNITS, code
        assert ind["polarity"] in POLARITIES, code
        assert ind["frequency"] in FREQUENCIES, code
        assert ind["definition"].strip(), code
        assert ind["has_fraction"] is (ind["unit"] in FRACTION_UNITS), code
        if ind["has_fraction"]:
            assert ind["numerator_label"].strip() and ind["denominator_label"].strip(), code
        else:
            assert "numerator_label" not in ind and "denominator_label" not in ind, code
        if ind["unit"] == "count":
            assert ind["decimals"] == 0, code


def test_only_target_is_category_1_defects_at_100() -> None:
    cat = _catalogue()
    targets = {ind["code"]: ind["target"] for ind in cat["indicators"] if "target" in ind}
    assert targets == {"SAFER-P4-S1": 100}
    for ind in cat["indicators"]:
        assert ("amber_tolerance" in ind) == ("target" in ind), ind["code"]
    assert all("target" not in ctx for ctx in cat["context_measures"])


def test_baselines() -> None:
    cat = _catalogue()
    baselines = {ind["code"]: ind["baseline"] for ind in cat["indicators"] if "baseline" in ind}
    assert set(baselines) == {"SAFER-P3-B1", "SAFER-P4-B1"}
    crime = baselines["SAFER-P3-B1"]
    assert (crime["value"], crime["unit"]) == (751, "rate per 10,000")
    assert "75.1 per 1,000" in crime["source"]
    roads = baselines["SAFER-P4-B1"]
    assert (roads["value"], roads["unit"]) == (75, "percent")
    # The source gives no period for any baseline.
    contexts = {ctx["code"]: ctx["baseline"] for ctx in cat["context_measures"]}
    for baseline in [*baselines.values(), *contexts.values()]:
        assert baseline["period"] == ""
    assert sorted((b["value"], b["unit"]) for b in contexts.values()) == [
        (19.3, "rate per 1,000"),
        (20.2, "rate per 1,000"),
        (72, "percent"),
    ]


def test_every_indicator_is_in_exactly_one_form_of_its_owner() -> None:
    cat = _catalogue()
    owner = {ind["code"]: ind["service"] for ind in cat["indicators"]}
    services = {svc["code"] for svc in cat["services"]}
    forms = _forms()
    placed: Counter[str] = Counter()
    for stem, form in forms.items():
        assert form["service"] == stem, f"forms/{stem}.toml names service {form['service']!r}"
        assert stem in services, f"forms/{stem}.toml: unknown service"
        assert form["title"].strip() and form["intro"].strip(), stem
        for section in form["sections"]:
            assert section["title"].strip(), stem
            for entry in section["indicators"]:
                code = entry["code"]
                assert code in owner, f"forms/{stem}.toml: unknown indicator {code}"
                assert owner[code] == stem, f"{code} is owned by {owner[code]}, not {stem}"
                assert entry["help"].strip(), f"forms/{stem}.toml: {code} has no help"
                placed[code] += 1
    assert placed == Counter(owner.keys()), "each indicator must appear exactly once"
    assert set(forms) == set(owner.values())
