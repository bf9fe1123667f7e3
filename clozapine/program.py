"""REMS program findings: certification, enrollment, labs, status forms, treatment rationale."""

from __future__ import annotations

from datetime import date, timedelta

from clozapine.evaluation import AncSummary
from clozapine.facts import AncResult, ClozapineOrder, PatientFacts
from clozapine.finding_list import FindingList
from clozapine.policy import Policy, ProgramRules
from clozapine.registry import Registry
from clozapine.standing import ProgramStanding, rems_record_rules, standing_under
from clozapine.vocabulary import FindingCode


def program_findings(
    policy: Policy,
    facts: PatientFacts,
    registry: Registry | None,
    order: ClozapineOrder,
    results: list[AncResult],
    anc: AncSummary | None,
    as_of: date,
    findings: FindingList,
) -> None:
    """Add the policy's program findings for a patient on clozapine (none without a program)."""
    program = policy.program
    if program is None:
        return
    if anc is not None and anc.category in program.rationale_categories:
        findings.add(
            FindingCode.TREATMENT_RATIONALE_REQUIRED, value=anc.shown, category=anc.category.value
        )
    names = dict(program_name=policy.title, deadline_on=program.deadline_on)
    if registry is None:
        findings.add(FindingCode.ENROLLMENT_UNKNOWN, **names)
        return
    standing = rems_standing(policy.title, program, registry, facts.patient, order, as_of)
    if standing.prescriber is not None and not standing.prescriber.certified:
        findings.add(
            FindingCode.PRESCRIBER_NOT_CERTIFIED, prescriber=standing.prescriber.reference, **names
        )
    elif order.prescriber is None and order.prescriber_unidentified:
        findings.add(FindingCode.PRESCRIBER_UNKNOWN, **names)
    if standing.pharmacy is not None and not standing.pharmacy.certified:
        findings.add(
            FindingCode.PHARMACY_NOT_CERTIFIED, pharmacy=standing.pharmacy.reference, **names
        )
    # The latest counting enrollment decides; the REMS rules ignore its status.
    enrollment = standing.enrollment
    latest = enrollment.record if enrollment else None
    if latest is None:
        findings.add(FindingCode.PATIENT_NOT_ENROLLED, **names)
        return
    _enrollment_labs(program, latest.enrolled_on, results, findings)
    _status_form(program, standing.status_form_due, as_of, findings)


def rems_standing(
    name: str,
    program: ProgramRules,
    registry: Registry,
    patient: str,
    order: ClozapineOrder | None,
    as_of: date,
) -> ProgramStanding:
    """The standing under the REMS program's own record rules."""
    return standing_under(
        rems_record_rules(program), name, program, registry, patient, order, as_of
    )


def _enrollment_labs(
    program: ProgramRules, enrolled_on: date, results: list[AncResult], findings: FindingList
) -> None:
    window = program.enrollment_labs_window_days
    if window is None:
        return
    window_from = enrolled_on - timedelta(days=window)
    if not any(window_from <= r.collected_on <= enrolled_on for r in results):
        findings.add(
            FindingCode.ENROLLMENT_ANC_STALE, enrolled_on=enrolled_on, window_from=window_from
        )


def _status_form(
    program: ProgramRules, due_on: date | None, as_of: date, findings: FindingList
) -> None:
    max_days = program.status_form_max_age_days
    if max_days is None or due_on is None or as_of <= due_on:
        return
    last_on = due_on - timedelta(days=max_days)
    findings.add(
        FindingCode.PSF_OVERDUE,
        last_on=last_on,
        age_days=(as_of - last_on).days,
        max_days=max_days,
    )
