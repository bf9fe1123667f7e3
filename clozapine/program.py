"""REMS program findings: certification, enrollment, labs, status forms, treatment rationale."""

from __future__ import annotations

from datetime import date, timedelta

from clozapine.evaluation import AncSummary
from clozapine.facts import AncResult, PatientFacts
from clozapine.finding_list import FindingList
from clozapine.policy import Policy, ProgramRules
from clozapine.registry import Registry, latest_enrollment
from clozapine.treatment import TreatmentEpisode, current_order


def program_findings(
    policy: Policy,
    facts: PatientFacts,
    registry: Registry | None,
    episode: TreatmentEpisode,
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
        findings.add("treatment-rationale-required", value=anc.shown, category=anc.category.value)
    names = dict(program_name=policy.title, deadline_on=program.deadline_on)
    if registry is None:
        findings.add("enrollment-unknown", **names)
        return

    def counts(on: date) -> bool:
        return program.program_start_on <= on <= as_of

    order = current_order(episode, as_of)
    certified = {c.reference for c in registry.prescribers if counts(c.certified_on)}
    if order.prescriber is not None and order.prescriber not in certified:
        findings.add("prescriber-not-certified", prescriber=order.prescriber, **names)
    elif order.prescriber is None and order.prescriber_unidentified:
        findings.add("prescriber-unknown", **names)
    pharmacies = {c.reference for c in registry.pharmacies if counts(c.certified_on)}
    if order.pharmacy is not None and order.pharmacy not in pharmacies:
        findings.add("pharmacy-not-certified", pharmacy=order.pharmacy, **names)
    # The latest counting enrollment decides; the REMS rules ignore its status.
    latest = latest_enrollment(
        e for e in registry.patients if e.patient == facts.patient and counts(e.enrolled_on)
    )
    if latest is None:
        findings.add("patient-not-enrolled", **names)
        return
    enrolled_on = latest.enrolled_on
    _enrollment_labs(program, enrolled_on, results, findings)
    forms = [
        f.submitted_on
        for f in registry.status_forms
        if f.patient == facts.patient and counts(f.submitted_on)
    ]
    _status_form(program, max([enrolled_on, *forms]), as_of, findings)


def _enrollment_labs(
    program: ProgramRules, enrolled_on: date, results: list[AncResult], findings: FindingList
) -> None:
    window = program.enrollment_labs_window_days
    if window is None:
        return
    window_from = enrolled_on - timedelta(days=window)
    if not any(window_from <= r.collected_on <= enrolled_on for r in results):
        findings.add("enrollment-anc-stale", enrolled_on=enrolled_on, window_from=window_from)


def _status_form(program: ProgramRules, last_on: date, as_of: date, findings: FindingList) -> None:
    max_days = program.status_form_max_age_days
    if max_days is None:
        return
    age_days = (as_of - last_on).days
    if age_days > max_days:
        findings.add("psf-overdue", last_on=last_on, age_days=age_days, max_days=max_days)
