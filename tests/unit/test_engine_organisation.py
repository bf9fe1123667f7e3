"""The organisation's own program on top of the label policy: enrollment, renewal, dispensing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from clozapine import (
    POLICIES,
    OrganisationProgram,
    Registry,
    evaluate,
    evaluation_to_json,
    with_organisation_program,
)
from clozapine.policies import US_LABEL_2025
from clozapine.registry import Certification, Enrollment
from clozapine.vocabulary import FindingCode
from tests.unit.cases import AS_OF, Case, anc, day, facts, ids, order

PROGRAM = OrganisationProgram(
    program_id="example-health",
    name="Example Health clozapine program",
    document="Example Health Clozapine Monitoring Policy CP-17 (rev. 2026-03)",
    enrollment_required=True,
    enrollment_renewal_days=365,
    certification_renewal_days=730,
    anc_dispense_window_days=7,
    writeback_findings=(FindingCode.MONITORING_OVERDUE, FindingCode.PATIENT_NOT_ENROLLED),
)
POLICY = with_organisation_program(US_LABEL_2025, PROGRAM)


def _patient(anc_offset: int = -2):
    prescribed = order(-70, prescriber="Practitioner/dr-a", pharmacy="Organization/ph-1")
    return facts([anc(2000, anc_offset)], [prescribed])


def _registry(
    enrolled: int | None = -100,
    certified: int | None = -400,
    status: str = "active",
    enrollment_expires: date | None = None,
    certification_expires: date | None = None,
) -> Registry:
    if certified is None:
        return Registry(patients=(Enrollment("Patient/p1", day(-100)),))
    return Registry(
        prescribers=(Certification("Practitioner/dr-a", day(certified), certification_expires),),
        pharmacies=(Certification("Organization/ph-1", day(certified)),),
        patients=()
        if enrolled is None
        else (Enrollment("Patient/p1", day(enrolled), None, status, enrollment_expires),),
    )


def _case(name: str, registry: Registry | None, *, anc_offset: int = -2, **kwargs) -> Case:
    return Case(name, _patient(anc_offset), kwargs.pop("expected", {}), registry=registry, **kwargs)


def _replace_patients(*enrollments: Enrollment) -> Registry:
    return replace(_registry(), patients=enrollments)


ORG_CODES = (
    "patient-not-enrolled",
    "enrollment-expired",
    "prescriber-not-certified",
    "pharmacy-not-certified",
    "certification-expired",
    "anc-too-old-to-dispense",
    "enrollment-unknown",
)

CASES = [
    _case("all-current", _registry(), expected={"overall": "ok"}, exclude=ORG_CODES),
    _case(
        "not-enrolled",
        _registry(enrolled=None),
        include=("patient-not-enrolled",),
        expected={"overall": "attention"},
    ),
    _case("enrollment-last-day-of-renewal", _registry(enrolled=-364), exclude=ORG_CODES),
    _case(
        "enrollment-day-after-renewal", _registry(enrolled=-365), include=("enrollment-expired",)
    ),
    _case(
        "enrollment-own-expiry-wins",
        _registry(enrollment_expires=day(-1)),
        include=("enrollment-expired",),
    ),
    _case(
        "enrollment-discontinued-does-not-count",
        _registry(status="discontinued"),
        include=("patient-not-enrolled",),
    ),
    _case(
        "latest-enrollment-discontinued-whatever-older-records-say",
        _replace_patients(
            Enrollment("Patient/p1", day(-300)),
            Enrollment("Patient/p1", day(-10), None, "discontinued"),
        ),
        include=("patient-not-enrolled",),
    ),
    _case(
        "latest-enrollment-active-after-a-discontinued-one",
        _replace_patients(
            Enrollment("Patient/p1", day(-300), None, "discontinued"),
            Enrollment("Patient/p1", day(-10)),
        ),
        exclude=("patient-not-enrolled", "enrollment-expired"),
    ),
    _case(
        "same-date-discontinued-wins-over-active",
        _replace_patients(
            Enrollment("Patient/p1", day(-10)),
            Enrollment("Patient/p1", day(-10), None, "discontinued"),
        ),
        include=("patient-not-enrolled",),
    ),
    _case(
        "same-date-interrupted-wins-over-active-and-stays-enrolled",
        _replace_patients(
            Enrollment("Patient/p1", day(-10), None, "interrupted", day(-1)),
            Enrollment("Patient/p1", day(-10)),
        ),
        include=("enrollment-expired",),  # the interrupted record (own expiry) is the latest
        exclude=("patient-not-enrolled",),
    ),
    Case(
        "requester-names-no-practitioner-unknown",
        facts(
            [anc(2000, -2)],
            [order(-70, pharmacy="Organization/ph-1", prescriber_unidentified=True)],
        ),
        {"overall": "attention"},
        include=("prescriber-unknown",),
        exclude=("prescriber-not-certified",),
        registry=_registry(),
    ),
    Case(
        "no-requester-no-prescriber-finding",
        facts([anc(2000, -2)], [order(-70, pharmacy="Organization/ph-1")]),
        {"overall": "ok"},
        exclude=("prescriber-unknown", "prescriber-not-certified"),
        registry=_registry(),
    ),
    _case(
        "enrollment-interrupted-still-counts",
        _registry(status="interrupted"),
        exclude=("patient-not-enrolled",),
    ),
    _case(
        "enrolled-in-the-future-does-not-count",
        _registry(enrolled=1),
        include=("patient-not-enrolled",),
    ),
    _case(
        "nobody-certified",
        _registry(certified=None),
        include=("prescriber-not-certified", "pharmacy-not-certified"),
    ),
    _case("certification-last-day", _registry(certified=-729), exclude=ORG_CODES),
    _case("certification-day-after", _registry(certified=-730), include=("certification-expired",)),
    _case(
        "certification-own-expiry",
        _registry(certification_expires=day(-1)),
        include=("certification-expired",),
    ),
    _case(
        "anc-7-days-old-dispensable",
        _registry(),
        anc_offset=-7,
        exclude=("anc-too-old-to-dispense",),
    ),
    _case(
        "anc-8-days-old-too-old",
        _registry(),
        anc_offset=-8,
        include=("anc-too-old-to-dispense", "monitoring-overdue"),
    ),
    _case(
        "no-registry-unknown",
        None,
        include=("enrollment-unknown",),
        exclude=("patient-not-enrolled",),
        expected={"overall": "ok"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_organisation_program_case(case: Case) -> None:
    evaluation = evaluate(case.facts, AS_OF, POLICY, case.registry)
    output = evaluation_to_json(evaluation)
    codes = [f["code"] for f in output["findings"]]
    for code in case.include:
        assert code in codes, f"{case.name}: {code} missing from {codes}"
    for code in case.exclude:
        assert code not in codes, f"{case.name}: {code} present"
    for key, want in case.expected.items():
        assert output[key] == want


def test_organisation_program_names_policy_and_cites_its_document() -> None:
    output = evaluation_to_json(evaluate(_patient(), AS_OF, POLICY, _registry(enrolled=None)))
    assert output["policy"] == "us-label-2025+example-health"
    finding = next(f for f in output["findings"] if f["code"] == "patient-not-enrolled")
    assert finding["severity"] == "warning"
    assert finding["citation"].startswith("Example Health Clozapine Monitoring Policy CP-17")
    assert finding["rule"] == "ORG-ENROLLMENT"


def test_organisation_program_expiry_message_names_the_date() -> None:
    evaluation = evaluate(_patient(), AS_OF, POLICY, _registry(enrolled=-365))
    message = next(f.message for f in evaluation.findings if f.code == "enrollment-expired")
    assert "2026-11-24" in message


def test_organisation_program_not_required_makes_no_enrollment_finding() -> None:
    lenient = with_organisation_program(US_LABEL_2025, replace(PROGRAM, enrollment_required=False))
    evaluation = evaluate(_patient(), AS_OF, lenient, _registry(enrolled=None))
    assert "patient-not-enrolled" not in {f.code for f in evaluation.findings}


def test_organisation_program_silent_when_not_on_clozapine() -> None:
    evaluation = evaluate(facts([anc(2000, -30)], []), AS_OF, POLICY, _registry(enrolled=None))
    assert evaluation.findings == ()


@pytest.mark.parametrize(
    ("policy", "reads"),
    [
        (US_LABEL_2025, False),
        (POLICIES["us-rems-2015"], True),
        (POLICIES["us-rems-2021"], True),
        (with_organisation_program(US_LABEL_2025, PROGRAM), True),
    ],
    ids=["label", "rems-2015", "rems-2021", "label-with-organisation-program"],
)
def test_policy_reads_registry_only_under_a_program(policy, reads) -> None:
    assert policy.reads_registry is reads
