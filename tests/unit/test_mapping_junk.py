"""Property: no JSON, however malformed, makes the mapping raise anything but BundleError."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_mappings import BundleError, LocalCode, MappingSettings, patient_facts_from_bundle

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    # What the exact reader gives: Decimals of any exponent, NaN, integers past any limit.
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.sampled_from(
        [Decimal("1E+999999999"), Decimal("-1E-999999999"), Decimal("NaN"), 10**4000, "9" * 300]
    )
)
JUNK = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
# Values a real resource holds in each place, mixed with junk, so the junk lands deep inside.
STATUS = st.sampled_from(["final", "preliminary", "active", "completed", " entered-in-error "])
CODE = st.sampled_from(["751-8", "6690-2", "770-8", "764-1", "768-2", "763-3", "2626", "197536"])
SYSTEM = st.sampled_from(["http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm", ""])
UNIT = st.sampled_from(["10*3/uL", "K/\u00b5L", "%", "/uL", "G/L", "d", "wk", "mo", "a", "A"])
WORDS = st.sampled_from(["clozapine", "Benign ethnic neutropenia", "Duffy-null", "x"])
REFERENCES = st.sampled_from(
    [
        "Patient/pt-1",
        "Patient/pt-1",
        "urn:uuid:p",
        "Patient/pt-2",
        "urn:uuid:p",
        "#med",
        "#r",
        "Medication/m",
        "PractitionerRole/r",
    ]
)
DATES = st.sampled_from(
    [
        "2026-11-20",
        "2026-11",
        "2026-11-20T08:00:00-05:00",
        "2026-11-20T08:00:00Z",
        "2026-11-20T08:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31",
    ]
)
NUMBERS = st.one_of(
    st.integers(-5, 5000),
    st.floats(-1, 1e6),
    st.sampled_from([0, 1e308, 10**40, "1.5", "-0", 100000.5, 0.5, Decimal("0.4995"), "1e3"]),
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The strategy four times in five, junk otherwise (one_of alone would drown it in junk)."""
    return st.sampled_from([False, False, False, False, True]).flatmap(
        lambda junk: JUNK if junk else strategy
    )


CODING = st.fixed_dictionaries(
    {"system": maybe(SYSTEM), "code": maybe(CODE)}, optional={"display": maybe(WORDS)}
)
CONCEPT = maybe(
    st.fixed_dictionaries(
        {"coding": maybe(st.lists(CODING, min_size=1, max_size=3))}, optional={"text": maybe(WORDS)}
    )
)
REFERENCE = maybe(st.fixed_dictionaries({"reference": maybe(REFERENCES)}))
QUANTITY = maybe(
    st.fixed_dictionaries(
        {"value": maybe(NUMBERS), "code": maybe(UNIT)},
        optional={"unit": maybe(UNIT), "comparator": JUNK},
    )
)
PERIOD = maybe(st.fixed_dictionaries({"start": maybe(DATES)}, optional={"end": maybe(DATES)}))
REPEAT = st.fixed_dictionaries({}, optional={"boundsPeriod": PERIOD, "boundsDuration": QUANTITY})
DOSAGE = maybe(
    st.fixed_dictionaries({"timing": maybe(st.fixed_dictionaries({"repeat": maybe(REPEAT)}))})
)
COMMON = {"id": maybe(st.sampled_from(["a", "b", "m", "r"])), "subject": REFERENCE}
OBSERVATION = st.fixed_dictionaries(
    {
        "resourceType": st.just("Observation"),
        "status": maybe(STATUS),
        "code": CONCEPT,
        "effectiveDateTime": maybe(DATES),
        "valueQuantity": QUANTITY,
    },
    optional={**COMMON, "effectivePeriod": PERIOD, "dataAbsentReason": CONCEPT},
)
CONTAINED = st.fixed_dictionaries(
    {
        "resourceType": maybe(st.sampled_from(["Medication", "PractitionerRole"])),
        "id": maybe(st.sampled_from(["med", "r"])),
    },
    optional={"code": CONCEPT, "practitioner": REFERENCE, "ingredient": JUNK},
)
DISPENSE = st.fixed_dictionaries(
    {"validityPeriod": PERIOD},
    optional={
        "expectedSupplyDuration": QUANTITY,
        "numberOfRepeatsAllowed": maybe(NUMBERS),
        "performer": REFERENCE,
    },
)
MEDICATION_REQUEST = st.fixed_dictionaries(
    {
        "resourceType": st.just("MedicationRequest"),
        "status": maybe(STATUS),
        "dosageInstruction": maybe(st.lists(DOSAGE, max_size=2)),
        "dispenseRequest": maybe(DISPENSE),
    },
    optional={
        **COMMON,
        "medicationCodeableConcept": CONCEPT,
        "medicationReference": REFERENCE,
        "contained": maybe(st.lists(maybe(CONTAINED), max_size=2)),
        "authoredOn": maybe(DATES),
        "requester": REFERENCE,
    },
)
CONDITION = st.fixed_dictionaries(
    {"resourceType": st.just("Condition"), "code": CONCEPT},
    optional={**COMMON, "clinicalStatus": maybe(CONCEPT), "verificationStatus": maybe(CONCEPT)},
)
OTHER = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Medication", "PractitionerRole", "Bundle"])},
    optional={
        "id": maybe(st.sampled_from(["pt-2", "m", "r", 7, 12345678901234567890])),
        "code": CONCEPT,
        "practitioner": REFERENCE,
        "ingredient": maybe(st.lists(st.fixed_dictionaries({"itemCodeableConcept": CONCEPT}))),
        "contained": JUNK,
    },
)
RESOURCE = st.one_of(OBSERVATION, OBSERVATION, MEDICATION_REQUEST, CONDITION, OTHER, JUNK)
ENTRY = maybe(
    st.fixed_dictionaries({"resource": RESOURCE}, optional={"fullUrl": maybe(REFERENCES)})
)
SETTINGS = st.sampled_from(
    [
        MappingSettings(),
        MappingSettings(timezone=ZoneInfo("America/Los_Angeles")),
        MappingSettings(
            timezone=ZoneInfo("Pacific/Kiritimati"),
            local_anc_codes=frozenset({LocalCode(None, "2626"), LocalCode("", "d")}),
            ben_codes=frozenset({LocalCode(None, "751-8")}),
        ),
    ]
)


def check_facts(bundle_json: Any, mapping_settings: MappingSettings) -> None:
    try:
        results = patient_facts_from_bundle(bundle_json, mapping_settings)
    except BundleError as error:
        assert "\n" not in str(error)
        return
    assert results
    for facts in results:
        assert [a.collected_at for a in facts.ancs] == sorted(a.collected_at for a in facts.ancs)
        for anc in facts.ancs:
            assert isinstance(anc.value_per_ul, int)
            assert 0 <= anc.value_per_ul <= 100_000
            assert anc.collected_at.utcoffset() is not None
            assert isinstance(anc.collected_on, date)
        for unusable in facts.unusable:
            assert unusable.collected_at.utcoffset() is not None
            assert unusable.detail
        for order in facts.orders:
            assert order.end_on is None or order.end_on >= order.start_on


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(ENTRY, max_size=8),
    patients=st.lists(maybe(OTHER), max_size=2),
    mapping_settings=SETTINGS,
)
def test_junk_inside_a_bundle_never_raises_but_bundle_error(entries, patients, mapping_settings):
    first = {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "pt-1"}}
    others = [{"resource": patient} for patient in patients]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [first, *others, *entries]}
    check_facts(bundle, mapping_settings)


@settings(max_examples=100, deadline=None)
@given(
    document=st.one_of(
        JUNK, st.fixed_dictionaries({"resourceType": st.just("Bundle")}, optional={"entry": JUNK})
    )
)
def test_junk_as_the_document_never_raises_but_bundle_error(document):
    check_facts(document, MappingSettings())
