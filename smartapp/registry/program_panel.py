"""The program panel: the patient's enrollment, the user's certification, findings with deadlines.

Everything dated here is the engine's program standing (`clozapine.standing`): the evaluation's
when the chart has one, else the same engine function on the registry records alone (the
program page reads no EHR data). The engine's messages are shown, never parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clozapine import Evaluation, Finding, Policy
from clozapine.registry import Enrollment, Registry
from clozapine.standing import (
    CertificationStanding,
    EnrollmentEnd,
    EnrollmentStanding,
    ProgramStanding,
    certification_standing,
    program_standing,
    record_rules,
)
from clozapine.vocabulary import FindingCode
from smartapp.registry.access import Requester
from smartapp.services import Services
from smartapp.web.findings import FindingView, finding_view

# The findings the program rules make (REMS and organisation programs), shown in the panel.
PROGRAM_FINDINGS = frozenset(
    {
        FindingCode.PATIENT_NOT_ENROLLED,
        FindingCode.ENROLLMENT_EXPIRED,
        FindingCode.ENROLLMENT_UNKNOWN,
        FindingCode.ENROLLMENT_ANC_STALE,
        FindingCode.PRESCRIBER_NOT_CERTIFIED,
        FindingCode.PHARMACY_NOT_CERTIFIED,
        FindingCode.CERTIFICATION_EXPIRED,
        FindingCode.PSF_OVERDUE,
        FindingCode.ANC_TOO_OLD_TO_DISPENSE,
        FindingCode.TREATMENT_RATIONALE_REQUIRED,
    }
)


@dataclass(frozen=True, slots=True)
class Standing:
    """A dated registry record as the program sees it: since when, valid through, expired.

    `status` is the enrollment's status where the program reads it (None under the REMS rules,
    which ignore it, and for a certification).
    """

    on: date
    through: date | None
    expired: bool
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Lapse:
    """When and why the patient is no longer enrolled, in words (`reason` names the cause)."""

    since: date
    reason: EnrollmentEnd
    words: str


@dataclass(frozen=True, slots=True)
class ProgramPanel:
    """What the panel and the program page show for one launch.

    `enrollment` is the record that decides (contract ruling "The latest enrollment decides"),
    `enrolled` whether it enrolls the patient today, `lapse` when and why not, when records
    are on file.
    """

    program_name: str
    as_of: date
    patient: str
    user: str | None
    is_admin: bool
    enrolled: bool
    enrollment: Standing | None
    lapse: Lapse | None
    deciding: Enrollment | None
    enrollments: tuple[Enrollment, ...]
    certification: Standing | None
    status_forms: tuple[date, ...]
    status_form_due: date | None
    findings: tuple[FindingView, ...]


def program_policy(app: Services, as_of: date) -> Policy | None:
    """The policy in force when it has a program (REMS or the organisation's), else None."""
    policy = app.policy_on(as_of)
    return policy if policy.reads_registry else None


def build_panel(
    app: Services,
    who: Requester,
    as_of: date,
    registry: Registry | None,
    evaluation: Evaluation | None = None,
) -> ProgramPanel | None:
    """The panel for the launch's patient and user as of a date, from registry records already
    read and the chart's evaluation when there is one (None without a program)."""
    policy = program_policy(app, as_of)
    if policy is None or registry is None:
        return None
    standing = evaluation.standing if evaluation is not None else None
    if standing is None or standing.enrollment is None:
        standing = program_standing(policy, registry, who.patient, None, as_of)
    enrollment = standing.enrollment
    prescriber = who.user if who.user and who.user.startswith("Practitioner/") else None
    mine = _own_certification(policy, registry, standing, prescriber, as_of)
    reads_status = policy.organisation is not None
    deadlines = _Deadlines(
        policy.program.deadline_on if policy.program else None, standing, prescriber
    )
    findings = evaluation.findings if evaluation is not None else ()
    return ProgramPanel(
        program_name=standing.program_name or policy.title,
        as_of=as_of,
        patient=who.patient,
        user=who.user,
        is_admin=who.is_admin,
        enrolled=enrollment is not None and enrollment.enrolled,
        enrollment=None if enrollment is None else _enrollment(enrollment, reads_status),
        lapse=None if enrollment is None else _lapse(enrollment, policy),
        deciding=None if enrollment is None else enrollment.record,
        enrollments=tuple(sorted(registry.patients, key=lambda e: e.enrolled_on, reverse=True)),
        certification=None if mine is None or mine.record is None else _certified(mine),
        status_forms=tuple(sorted((f.submitted_on for f in registry.status_forms), reverse=True)),
        status_form_due=standing.status_form_due,
        findings=tuple(
            finding_view(f, deadlines.of(f)) for f in findings if f.code in PROGRAM_FINDINGS
        ),
    )


def _own_certification(
    policy: Policy,
    registry: Registry,
    standing: ProgramStanding,
    prescriber: str | None,
    as_of: date,
) -> CertificationStanding | None:
    """The signed-in prescriber's certification: the standing's when they wrote the current
    order, else the engine's reading of their records."""
    if prescriber is None:
        return None
    if standing.prescriber is not None and standing.prescriber.reference == prescriber:
        return standing.prescriber
    rules = record_rules(policy)
    if rules is None:
        return None
    return certification_standing(rules, registry.prescribers, prescriber, as_of)


def _enrollment(enrollment: EnrollmentStanding, reads_status: bool) -> Standing | None:
    record = enrollment.record
    if record is None:
        return None
    return Standing(
        record.enrolled_on,
        enrollment.valid_through,
        enrollment.expired,
        record.status if reads_status else None,
    )


def _certified(certification: CertificationStanding) -> Standing | None:
    record = certification.record
    if record is None:
        return None
    return Standing(record.certified_on, certification.valid_through, certification.expired)


def _lapse(enrollment: EnrollmentStanding, policy: Policy) -> Lapse | None:
    """When and why the patient is no longer enrolled, in words (None while enrolled)."""
    reason, since = enrollment.ended, enrollment.ended_on
    if reason is None or since is None:
        return None
    record = enrollment.record
    earlier = enrollment.superseded
    if reason is EnrollmentEnd.DISCONTINUED and record is not None:
        words = f"disenrolled: the enrollment was discontinued on {record.enrolled_on}"
        if earlier is not None:
            words += (
                f"; this latest record supersedes the {earlier.status} enrollment"
                f" of {earlier.enrolled_on}"
            )
    elif reason is EnrollmentEnd.EXPIRED and record is not None:
        words = (
            f"the enrollment of {record.enrolled_on} expired on {enrollment.valid_through};"
            " re-enroll the patient"
        )
    else:
        words = (
            f"enrollments dated before {since} do not count under the {policy.title};"
            " enroll the patient again"
        )
    return Lapse(since, reason, words)


@dataclass(frozen=True, slots=True)
class _Deadlines:
    """The dates program findings name or imply, from the standing (never from the messages)."""

    rems_deadline_on: date | None
    standing: ProgramStanding
    user: str | None

    def of(self, finding: Finding) -> str | None:
        """The finding's deadline in words; None where it carries none."""
        code = finding.code
        standing = self.standing
        enrollment = standing.enrollment
        if code is FindingCode.ENROLLMENT_EXPIRED and enrollment and enrollment.valid_through:
            return f"expired on {enrollment.valid_through}: re-enroll the patient"
        if code is FindingCode.CERTIFICATION_EXPIRED:
            return self._certification_expired()
        if code in (
            FindingCode.PATIENT_NOT_ENROLLED,
            FindingCode.PRESCRIBER_NOT_CERTIFIED,
            FindingCode.PHARMACY_NOT_CERTIFIED,
        ):
            return f"required by {self.rems_deadline_on}" if self.rems_deadline_on else None
        if code is FindingCode.PSF_OVERDUE and standing.status_form_due:
            return f"was due by {standing.status_form_due}"
        return None

    def _certification_expired(self) -> str | None:
        # The engine makes one finding, for the order's prescriber first, then its pharmacy.
        prescriber, pharmacy = self.standing.prescriber, self.standing.pharmacy
        if prescriber is not None and prescriber.expired:
            if prescriber.reference == self.user:
                return f"your certification expired on {prescriber.valid_through}: renew it"
            return (
                f"the certification of prescriber {prescriber.reference} expired on"
                f" {prescriber.valid_through}: renew it"
            )
        if pharmacy is not None and pharmacy.expired:
            return (
                f"the certification of pharmacy {pharmacy.reference} expired on"
                f" {pharmacy.valid_through}: renew it"
            )
        return None
