"""The program standing the evaluation carries: the deciding records, valid-through dates, the order."""

from __future__ import annotations

from datetime import date, timedelta

from clozapine import Registry, evaluate, evaluation_to_json
from clozapine.policies import US_LABEL_2025, policy_by_id
from clozapine.registry import Certification, Enrollment, StatusForm
from clozapine.standing import EnrollmentEnd
from clozapine.vocabulary import FindingCode
from tests.unit.cases import AS_OF, anc, day, facts, order
from tests.unit.test_engine_organisation import POLICY

PRESCRIBED = order(
    -70,
    prescriber="Practitioner/dr-a",
    pharmacy="Organization/ph-1",
    source="MedicationRequest/rx-2",
)
PATIENT = facts([anc(2000, -2)], [order(-300, -71, source="MedicationRequest/rx-1"), PRESCRIBED])


def _registry(*enrollments: Enrollment, certified: int = -400) -> Registry:
    return Registry(
        prescribers=(Certification("Practitioner/dr-a", day(certified)),),
        pharmacies=(Certification("Organization/ph-1", day(-10), day(20)),),
        patients=enrollments,
    )


def test_standing_names_the_current_order_and_the_certifications_valid_through() -> None:
    evaluation = evaluate(PATIENT, AS_OF, POLICY, _registry(Enrollment("Patient/p1", day(-100))))
    standing = evaluation.standing
    assert standing is not None and standing.order is not None
    assert standing.order.source == "MedicationRequest/rx-2"
    assert standing.order.start_on == day(-70)
    assert standing.program_name == "Example Health clozapine program"
    assert standing.prescriber is not None and standing.pharmacy is not None
    assert standing.prescriber.valid_through == day(-400) + timedelta(days=729)
    assert standing.prescriber.certified and not standing.prescriber.expired
    assert standing.pharmacy.valid_through == day(20)  # its own expiry wins over the renewal
    enrollment = standing.enrollment
    assert enrollment is not None and enrollment.enrolled
    assert enrollment.record == Enrollment("Patient/p1", day(-100))
    assert enrollment.valid_through == day(-100) + timedelta(days=364)


def test_expired_certification_standing_matches_the_finding() -> None:
    evaluation = evaluate(
        PATIENT, AS_OF, POLICY, _registry(Enrollment("Patient/p1", day(-100)), certified=-800)
    )
    assert evaluation.standing is not None and evaluation.standing.prescriber is not None
    prescriber = evaluation.standing.prescriber
    assert prescriber.expired and not prescriber.certified
    assert prescriber.valid_through == day(-800) + timedelta(days=729)
    codes = [f.code for f in evaluation.findings]
    assert FindingCode.CERTIFICATION_EXPIRED in codes


def test_a_later_discontinued_enrollment_decides_and_says_when() -> None:
    older = Enrollment("Patient/p1", day(-200))
    stopped = Enrollment("Patient/p1", day(-30), status="discontinued")
    evaluation = evaluate(PATIENT, AS_OF, POLICY, _registry(older, stopped))
    enrollment = evaluation.standing.enrollment if evaluation.standing else None
    assert enrollment is not None
    assert enrollment.record == stopped and enrollment.superseded == older
    assert not enrollment.enrolled
    assert enrollment.ended is EnrollmentEnd.DISCONTINUED and enrollment.ended_on == day(-30)
    assert FindingCode.PATIENT_NOT_ENROLLED in [f.code for f in evaluation.findings]


def test_an_expired_enrollment_ends_the_day_after_its_valid_through() -> None:
    evaluation = evaluate(PATIENT, AS_OF, POLICY, _registry(Enrollment("Patient/p1", day(-400))))
    enrollment = evaluation.standing.enrollment if evaluation.standing else None
    assert enrollment is not None and enrollment.expired and not enrollment.enrolled
    through = day(-400) + timedelta(days=364)
    assert enrollment.valid_through == through
    assert enrollment.ended is EnrollmentEnd.EXPIRED
    assert enrollment.ended_on == through + timedelta(days=1)
    assert FindingCode.ENROLLMENT_EXPIRED in [f.code for f in evaluation.findings]


def test_rems_ignores_status_and_expiry_and_counts_from_the_program_start() -> None:
    as_of = date(2021, 12, 1)
    patient = facts([anc(2000, -2, as_of=as_of)], [order(-200, as_of=as_of)])
    policy = policy_by_id("us-rems-2021")
    registry = Registry(
        patients=(
            Enrollment("Patient/p1", date(2021, 9, 1), None, "discontinued", date(2021, 9, 2)),
        ),
        status_forms=(StatusForm("Patient/p1", date(2021, 11, 1)),),
    )
    standing = evaluate(patient, as_of, policy, registry).standing
    assert standing is not None and standing.enrollment is not None
    assert standing.enrollment.enrolled and standing.enrollment.valid_through is None
    assert standing.status_form_due == date(2021, 11, 1) + timedelta(days=37)
    old = Registry(patients=(Enrollment("Patient/p1", date(2019, 3, 1)),))
    lapsed = evaluate(patient, as_of, policy, old).standing
    assert lapsed is not None and lapsed.enrollment is not None
    assert lapsed.enrollment.record is None
    assert lapsed.enrollment.ended is EnrollmentEnd.BEFORE_PROGRAM_START
    assert lapsed.enrollment.ended_on == date(2021, 8, 16)


def test_without_a_program_the_standing_still_names_the_current_order() -> None:
    evaluation = evaluate(PATIENT, AS_OF, US_LABEL_2025, None)
    assert evaluation.standing is not None and evaluation.standing.order == PRESCRIBED
    assert evaluation.standing.enrollment is None and evaluation.standing.program_name is None


def test_the_standing_stays_off_the_contract_json() -> None:
    evaluation = evaluate(PATIENT, AS_OF, POLICY, _registry(Enrollment("Patient/p1", day(-100))))
    document = evaluation_to_json(evaluation)
    assert "standing" not in document
    assert all(type(f["code"]) is str for f in document["findings"])
