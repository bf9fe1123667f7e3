"""Write-back identity: which findings trigger, and the period in each identifier."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from clozapine import Finding, PatientFacts, evaluate, policy_in_force
from clozapine.evaluation import Evaluation
from clozapine.vocabulary import FindingCode, Severity
from fhir_mappings.outbound import (
    DEFAULT_WRITEBACK_FINDINGS,
    finding_period,
    identifier_value,
    writeback_targets,
)
from tests.unit.cases import AS_OF, anc, day, order

SYSTEM = "urn:test:writeback"


def evaluated(*, start: int = -100, ancs=(), orders=None) -> Evaluation:
    facts = PatientFacts.create(
        "Patient/pt-1",
        orders=orders if orders is not None else [order(start, source="MedicationRequest/rx-1")],
        ancs=list(ancs),
    )
    return evaluate(facts, AS_OF, policy_in_force(AS_OF))


def with_finding(evaluation: Evaluation, code: FindingCode) -> Evaluation:
    finding = Finding(code, Severity.WARNING, f"{code} message", "RULE", "Citation")
    return replace(evaluation, findings=(*evaluation.findings, finding))


OVERDUE = evaluated(ancs=[anc(2500, -10)])  # weekly: due 7 days after the ANC, 3 days ago
INTERRUPT = evaluated(ancs=[anc(2500, -12), anc(800, -1)])
NO_ANC = evaluated(start=-20)


@pytest.mark.parametrize(
    ("evaluation", "code", "key", "start_on", "due_on"),
    [
        (OVERDUE, "monitoring-overdue", "2026-11-22", day(-2), day(-3)),
        (replace(OVERDUE, as_of=day(-3)), "monitoring-due", "2026-11-22", day(-3), day(-3)),
        (NO_ANC, "no-anc-on-file", day(-20).isoformat(), day(-20), AS_OF),
        (INTERRUPT, "interrupt-recommended", day(-1).isoformat(), AS_OF, AS_OF),
        (OVERDUE, "anc-too-old-to-dispense", day(-10).isoformat(), AS_OF, AS_OF),
        (OVERDUE, "patient-not-enrolled", "2026-11", AS_OF, AS_OF),
        (OVERDUE, "enrollment-expired", "2026-11", AS_OF, AS_OF),
        (OVERDUE, "psf-overdue", "2026-11", AS_OF, AS_OF),
        (OVERDUE, "some-new-code", AS_OF.isoformat(), AS_OF, AS_OF),
    ],
)
def test_outbound_finding_period_by_finding(evaluation, code, key, start_on, due_on) -> None:
    period = finding_period(evaluation, code)
    assert (period.key, period.start_on, period.due_on) == (key, start_on, due_on)


def test_outbound_new_due_date_gives_a_new_identifier() -> None:
    later = evaluated(ancs=[anc(2500, -10), anc(2500, -4)])
    before = finding_period(OVERDUE, "monitoring-overdue").key
    assert finding_period(later, "monitoring-due").key != before


def test_outbound_no_anc_identifier_is_stable_from_day_to_day() -> None:
    tomorrow = evaluate(
        PatientFacts.create("Patient/pt-1", orders=[order(-20)]),
        date(2026, 11, 26),
        policy_in_force(AS_OF),
    )
    assert finding_period(tomorrow, "no-anc-on-file") == replace(
        finding_period(NO_ANC, "no-anc-on-file"), due_on=date(2026, 11, 26)
    )


def test_outbound_enrollment_identifier_changes_with_the_month() -> None:
    december = replace(OVERDUE, as_of=date(2026, 12, 1))
    assert finding_period(december, "patient-not-enrolled").key == "2026-12"


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        ("Patient/pt-1", "pt-1/monitoring-overdue/2026-11-22"),
        ("https://ehr.example/fhir/Patient/pt-1", "pt-1/monitoring-overdue/2026-11-22"),
    ],
)
def test_outbound_identifier_value_from_patient_finding_and_period(patient, expected) -> None:
    assert identifier_value(patient, "monitoring-overdue", "2026-11-22") == expected


def test_outbound_targets_only_for_triggering_findings() -> None:
    evaluation = with_finding(OVERDUE, FindingCode.PATIENT_NOT_ENROLLED)
    targets = writeback_targets(evaluation, DEFAULT_WRITEBACK_FINDINGS, SYSTEM)
    assert [t.finding.code for t in targets] == ["monitoring-overdue", "patient-not-enrolled"]
    overdue = targets[0]
    assert overdue.identifier == {"system": SYSTEM, "value": "pt-1/monitoring-overdue/2026-11-22"}
    assert overdue.search == f"identifier={SYSTEM}|pt-1/monitoring-overdue/2026-11-22"
    assert overdue.business_status == "overdue by 3 days"
    assert targets[1].business_status is None
    assert "rems-eliminated" in {f.code for f in evaluation.findings}


def test_outbound_targets_follow_the_organisation_list() -> None:
    evaluation = with_finding(OVERDUE, FindingCode.PATIENT_NOT_ENROLLED)
    targets = writeback_targets(evaluation, ("patient-not-enrolled",), SYSTEM)
    assert [t.finding.code for t in targets] == ["patient-not-enrolled"]


def test_outbound_no_targets_when_not_on_clozapine() -> None:
    stopped = evaluated(orders=[])
    assert not stopped.on_clozapine
    assert writeback_targets(stopped, DEFAULT_WRITEBACK_FINDINGS, SYSTEM) == ()
