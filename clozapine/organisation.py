"""An organisation's own clozapine program, applied on top of the policy in force.

FDA eliminated the Clozapine REMS, but health systems keep their own programs: enrollment with
renewal, prescriber and pharmacy certification, an ANC freshness window before dispensing
(VistA's clozapine order check uses 7 days). The installing organisation writes its program as
data; its findings cite the organisation's policy document and are warnings (administrative).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from clozapine.evaluation import AncSummary
from clozapine.finding_list import FindingList
from clozapine.policy import Citation, FindingRule, OrganisationProgram, Policy
from clozapine.standing import EnrollmentEnd, ProgramStanding
from clozapine.vocabulary import FindingCode, Severity


def organisation_finding_rows(program: OrganisationProgram) -> dict[FindingCode, FindingRule]:
    """The program's finding rows, each citing the organisation's own policy document."""

    def cite(section: str) -> Citation:
        return Citation(program.document, section)

    warning = Severity.WARNING
    rows = (
        FindingRule(
            FindingCode.PATIENT_NOT_ENROLLED,
            warning,
            "ORG-ENROLLMENT",
            cite("Enrollment"),
            "The patient has no current enrollment in the {program_name} on record."
            " Enroll the patient before the next dispense.",
        ),
        FindingRule(
            FindingCode.ENROLLMENT_EXPIRED,
            warning,
            "ORG-ENROLLMENT-RENEWAL",
            cite("Enrollment renewal"),
            "The patient's enrollment in the {program_name} (from {enrolled_on}) expired on"
            " {expired_on}. Re-enroll the patient.",
        ),
        FindingRule(
            FindingCode.PRESCRIBER_NOT_CERTIFIED,
            warning,
            "ORG-PRESCRIBER",
            cite("Prescriber certification"),
            "The prescriber ({prescriber}) has no certification in the {program_name} on record.",
        ),
        FindingRule(
            FindingCode.PRESCRIBER_UNKNOWN,
            warning,
            "ORG-PRESCRIBER-IDENTIFIED",
            cite("Prescriber certification"),
            "The prescriber of the current order could not be identified (its requester names"
            " no Practitioner), so certification in the {program_name} could not be checked.",
        ),
        FindingRule(
            FindingCode.PHARMACY_NOT_CERTIFIED,
            warning,
            "ORG-PHARMACY",
            cite("Pharmacy certification"),
            "The dispensing pharmacy ({pharmacy}) has no certification in the {program_name}"
            " on record.",
        ),
        FindingRule(
            FindingCode.CERTIFICATION_EXPIRED,
            warning,
            "ORG-CERTIFICATION-RENEWAL",
            cite("Certification renewal"),
            "The certification of {who} in the {program_name} expired on {expired_on}. Renew it.",
        ),
        FindingRule(
            FindingCode.ANC_TOO_OLD_TO_DISPENSE,
            warning,
            "ORG-ANC-DISPENSE-WINDOW",
            cite("ANC before dispensing"),
            "The latest ANC ({collected}) is {age_days} days old; the {program_name} dispenses"
            " only with an ANC from the last {window_days} days (since {window_from}).",
        ),
        FindingRule(
            FindingCode.ENROLLMENT_UNKNOWN,
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
    standing: ProgramStanding,
    anc: AncSummary | None,
    as_of: date,
    findings: FindingList,
) -> None:
    """Add the organisation program's findings for a patient on clozapine, from its standing
    (computed under the organisation's record rules)."""
    names = {"program_name": program.name}
    window = program.anc_dispense_window_days
    if window is not None and anc is not None and (as_of - anc.collected).days > window:
        findings.add(
            FindingCode.ANC_TOO_OLD_TO_DISPENSE,
            collected=anc.collected,
            age_days=(as_of - anc.collected).days,
            window_days=window,
            window_from=as_of - timedelta(days=window),
            **names,
        )
    enrollment = standing.enrollment
    if enrollment is None:
        findings.add(FindingCode.ENROLLMENT_UNKNOWN, **names)
        return
    order = standing.order
    if order is not None and order.prescriber is None and order.prescriber_unidentified:
        findings.add(FindingCode.PRESCRIBER_UNKNOWN, **names)
    for role, missing, certification in (
        ("prescriber", FindingCode.PRESCRIBER_NOT_CERTIFIED, standing.prescriber),
        ("pharmacy", FindingCode.PHARMACY_NOT_CERTIFIED, standing.pharmacy),
    ):
        if certification is None:
            continue
        if certification.record is None:
            findings.add(missing, **{role: certification.reference}, **names)
        elif certification.expired:
            findings.add(
                FindingCode.CERTIFICATION_EXPIRED,
                who=f"{role} {certification.reference}",
                expired_on=certification.valid_through,
                **names,
            )
    if not program.enrollment_required:
        return
    # The latest enrollment decides: discontinued is not enrolled, whatever older records say;
    # interrupted (treatment paused) stays enrolled.
    record = enrollment.record
    if record is None or enrollment.ended is EnrollmentEnd.DISCONTINUED:
        findings.add(FindingCode.PATIENT_NOT_ENROLLED, **names)
    elif enrollment.expired:
        findings.add(
            FindingCode.ENROLLMENT_EXPIRED,
            enrolled_on=record.enrolled_on,
            expired_on=enrollment.valid_through,
            **names,
        )
