"""An organisation's own clozapine program, applied on top of the policy in force.

FDA eliminated the Clozapine REMS, but health systems keep their own programs: enrollment with
renewal, prescriber and pharmacy certification, an ANC freshness window before dispensing
(VistA's clozapine order check uses 7 days). The installing organisation writes its program as
data; its findings cite the organisation's policy document and are warnings (administrative).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from clozapine.evaluation import AncSummary
from clozapine.finding_list import FindingList
from clozapine.policy import Citation, FindingRule, OrganisationProgram, Policy
from clozapine.registry import Certification, Registry, latest_enrollment
from clozapine.vocabulary import Severity


def organisation_finding_rows(program: OrganisationProgram) -> dict[str, FindingRule]:
    """The program's finding rows, each citing the organisation's own policy document."""

    def cite(section: str) -> Citation:
        return Citation(program.document, section)

    warning = Severity.WARNING
    rows = (
        FindingRule(
            "patient-not-enrolled",
            warning,
            "ORG-ENROLLMENT",
            cite("Enrollment"),
            "The patient has no current enrollment in the {program_name} on record."
            " Enroll the patient before the next dispense.",
        ),
        FindingRule(
            "enrollment-expired",
            warning,
            "ORG-ENROLLMENT-RENEWAL",
            cite("Enrollment renewal"),
            "The patient's enrollment in the {program_name} (from {enrolled_on}) expired on"
            " {expired_on}. Re-enroll the patient.",
        ),
        FindingRule(
            "prescriber-not-certified",
            warning,
            "ORG-PRESCRIBER",
            cite("Prescriber certification"),
            "The prescriber ({prescriber}) has no certification in the {program_name} on record.",
        ),
        FindingRule(
            "prescriber-unknown",
            warning,
            "ORG-PRESCRIBER-IDENTIFIED",
            cite("Prescriber certification"),
            "The prescriber of the current order could not be identified (its requester names"
            " no Practitioner), so certification in the {program_name} could not be checked.",
        ),
        FindingRule(
            "pharmacy-not-certified",
            warning,
            "ORG-PHARMACY",
            cite("Pharmacy certification"),
            "The dispensing pharmacy ({pharmacy}) has no certification in the {program_name}"
            " on record.",
        ),
        FindingRule(
            "certification-expired",
            warning,
            "ORG-CERTIFICATION-RENEWAL",
            cite("Certification renewal"),
            "The certification of {who} in the {program_name} expired on {expired_on}. Renew it.",
        ),
        FindingRule(
            "anc-too-old-to-dispense",
            warning,
            "ORG-ANC-DISPENSE-WINDOW",
            cite("ANC before dispensing"),
            "The latest ANC ({collected}) is {age_days} days old; the {program_name} dispenses"
            " only with an ANC from the last {window_days} days (since {window_from}).",
        ),
        FindingRule(
            "enrollment-unknown",
            Severity.INFO,
            "ORG-REGISTRY",
            cite("Enrollment"),
            "No program registry was available, so enrollment and certification in the"
            " {program_name} could not be checked.",
        ),
    )
    return {row.code: row for row in rows}


def with_organisation_program(policy: Policy, program: OrganisationProgram) -> Policy:
    """The policy in force with the organisation's program on top (its rows win on a code)."""
    return replace(
        policy,
        policy_id=f"{policy.policy_id}+{program.program_id}",
        findings={**policy.findings, **organisation_finding_rows(program)},
        organisation=program,
    )


def organisation_findings(
    program: OrganisationProgram,
    registry: Registry | None,
    patient: str,
    prescriber: str | None,
    pharmacy: str | None,
    anc: AncSummary | None,
    as_of: date,
    findings: FindingList,
    *,
    prescriber_unidentified: bool = False,
) -> None:
    """Add the organisation program's findings for a patient on clozapine."""
    names = {"program_name": program.name}
    window = program.anc_dispense_window_days
    if window is not None and anc is not None and (as_of - anc.collected).days > window:
        findings.add(
            "anc-too-old-to-dispense",
            collected=anc.collected,
            age_days=(as_of - anc.collected).days,
            window_days=window,
            window_from=as_of - timedelta(days=window),
            **names,
        )
    if registry is None:
        findings.add("enrollment-unknown", **names)
        return
    renewal = program.certification_renewal_days
    if prescriber is None and prescriber_unidentified:
        findings.add("prescriber-unknown", **names)
    for role, reference, records in (
        ("prescriber", prescriber, registry.prescribers),
        ("pharmacy", pharmacy, registry.pharmacies),
    ):
        if reference is None:
            continue
        latest = _latest(c for c in records if c.reference == reference and c.certified_on <= as_of)
        if latest is None:
            findings.add(f"{role}-not-certified", **{role: reference}, **names)
            continue
        expired_on = _expiry(latest.certified_on, latest.expires_on, renewal)
        if expired_on is not None and as_of > expired_on:
            findings.add(
                "certification-expired", who=f"{role} {reference}", expired_on=expired_on, **names
            )
    _enrollment(program, registry, patient, as_of, findings)


def _enrollment(
    program: OrganisationProgram,
    registry: Registry,
    patient: str,
    as_of: date,
    findings: FindingList,
) -> None:
    if not program.enrollment_required:
        return
    # The latest enrollment decides: discontinued is not enrolled, whatever older records say;
    # interrupted (treatment paused) stays enrolled.
    latest = latest_enrollment(
        e for e in registry.patients if e.patient == patient and e.enrolled_on <= as_of
    )
    if latest is None or latest.status == "discontinued":
        findings.add("patient-not-enrolled", program_name=program.name)
        return
    expired_on = _expiry(latest.enrolled_on, latest.expires_on, program.enrollment_renewal_days)
    if expired_on is not None and as_of > expired_on:
        findings.add(
            "enrollment-expired",
            enrolled_on=latest.enrolled_on,
            expired_on=expired_on,
            program_name=program.name,
        )


def _latest(certifications: Iterable[Certification]) -> Certification | None:
    return max(certifications, key=lambda c: c.certified_on, default=None)


def _expiry(start_on: date, expires_on: date | None, renewal_days: int | None) -> date | None:
    """The last day a record is valid: its own expiry, else start + renewal period - 1 day."""
    if expires_on is not None:
        return expires_on
    if renewal_days is None:
        return None
    return start_on + timedelta(days=renewal_days - 1)
