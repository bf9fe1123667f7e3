"""The program panel: the patient's enrollment, the user's certification, findings with deadlines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from clozapine import Finding, Policy
from clozapine.registry import Certification, Enrollment, Registry
from smartapp.registry.access import Requester
from smartapp.services import Services
from smartapp.web.findings import FindingView, finding_view

# The findings the program rules make (REMS and organisation programs), shown in the panel.
PROGRAM_FINDINGS = frozenset(
    {
        "patient-not-enrolled",
        "enrollment-expired",
        "enrollment-unknown",
        "enrollment-anc-stale",
        "prescriber-not-certified",
        "pharmacy-not-certified",
        "certification-expired",
        "psf-overdue",
        "anc-too-old-to-dispense",
        "treatment-rationale-required",
    }
)


@dataclass(frozen=True, slots=True)
class Standing:
    """A dated registry record as the program sees it: since when, valid through, expired."""

    on: date
    through: date | None
    expired: bool
    status: str = "active"


@dataclass(frozen=True, slots=True)
class ProgramPanel:
    """What the panel and the program page show for one launch."""

    program_name: str
    as_of: date
    patient: str
    user: str | None
    is_admin: bool
    enrollment: Standing | None
    enrollments: tuple[Enrollment, ...]
    certification: Standing | None
    status_forms: tuple[date, ...]
    status_form_due: date | None
    findings: tuple[FindingView, ...]


def program_policy(app: Services, as_of: date) -> Policy | None:
    """The policy in force when it has a program (REMS or the organisation's), else None."""
    policy = app.policy_on(as_of)
    return policy if policy.program is not None or policy.organisation is not None else None


def build_panel(
    app: Services,
    who: Requester,
    as_of: date,
    registry: Registry | None,
    findings: Iterable[Finding] = (),
) -> ProgramPanel | None:
    """The panel for the launch's patient and user as of a date, from registry records already
    read (None without a program)."""
    policy = program_policy(app, as_of)
    if policy is None or registry is None:
        return None
    prescriber = who.user if who.user and who.user.startswith("Practitioner/") else None
    org = policy.organisation
    enrollment = _latest_enrollment(registry.patients, as_of, counting=False)
    current = _latest_enrollment(registry.patients, as_of, counting=True)
    enrollment_days = org.enrollment_renewal_days if org else None
    certification = _certification(
        registry, prescriber, as_of, org.certification_renewal_days if org else None
    )
    forms = tuple(sorted((f.submitted_on for f in registry.status_forms), reverse=True))
    standing = None if enrollment is None else _standing(enrollment, as_of, enrollment_days)
    current_standing = None if current is None else _standing(current, as_of, enrollment_days)
    form_due = _status_form_due(policy, current_standing, [f for f in forms if f <= as_of])
    deadlines = _Deadlines(
        policy.program.deadline_on if policy.program else None,
        current_standing,
        certification,
        who.user,
        form_due,
    )
    return ProgramPanel(
        program_name=org.name if org else policy.title,
        as_of=as_of,
        patient=who.patient,
        user=who.user,
        is_admin=who.is_admin,
        enrollment=standing,
        enrollments=tuple(sorted(registry.patients, key=lambda e: e.enrolled_on, reverse=True)),
        certification=certification,
        status_forms=forms,
        status_form_due=form_due,
        findings=tuple(
            finding_view(f, deadlines.of(f)) for f in findings if f.code in PROGRAM_FINDINGS
        ),
    )


def valid_through(on: date, expires_on: date | None, renewal_days: int | None) -> date | None:
    """The last day a record is valid: its own expiry, else its date + renewal period - 1 day.

    The engine's rule for the organisation's program (clozapine.organisation), so the panel's
    "renew by" is the day after which the engine makes its expiry finding.
    """
    if expires_on is not None:
        return expires_on
    return None if renewal_days is None else on + timedelta(days=renewal_days - 1)


def _latest_enrollment(
    enrollments: Iterable[Enrollment], as_of: date, *, counting: bool
) -> Enrollment | None:
    dated = (
        e
        for e in enrollments
        if e.enrolled_on <= as_of and (not counting or e.status != "discontinued")
    )
    return max(dated, key=lambda e: e.enrolled_on, default=None)


def _standing(enrollment: Enrollment, as_of: date, renewal_days: int | None) -> Standing:
    through = valid_through(enrollment.enrolled_on, enrollment.expires_on, renewal_days)
    expired = through is not None and as_of > through
    return Standing(enrollment.enrolled_on, through, expired, enrollment.status)


def _certification(
    registry: Registry, prescriber: str | None, as_of: date, renewal_days: int | None
) -> Standing | None:
    mine: list[Certification] = [
        c for c in registry.prescribers if c.reference == prescriber and c.certified_on <= as_of
    ]
    latest = max(mine, key=lambda c: c.certified_on, default=None)
    if latest is None:
        return None
    through = valid_through(latest.certified_on, latest.expires_on, renewal_days)
    return Standing(latest.certified_on, through, through is not None and as_of > through)


def _status_form_due(policy: Policy, enrollment: Standing | None, forms: list[date]) -> date | None:
    max_days = policy.program.status_form_max_age_days if policy.program else None
    if max_days is None or enrollment is None:
        return None
    return max(enrollment.on, *forms) + timedelta(days=max_days)


@dataclass(frozen=True, slots=True)
class _Deadlines:
    """The dates program findings name or imply."""

    rems_deadline_on: date | None
    enrollment: Standing | None
    certification: Standing | None
    user: str | None
    status_form_due: date | None

    def of(self, finding: Finding) -> str | None:
        """The finding's deadline in words; None where it carries none."""
        code = finding.code
        if code == "enrollment-expired" and self.enrollment and self.enrollment.through:
            return f"expired on {self.enrollment.through}: re-enroll the patient"
        if code == "certification-expired":
            return self._own_certification(finding)
        if code in ("patient-not-enrolled", "prescriber-not-certified", "pharmacy-not-certified"):
            return f"required by {self.rems_deadline_on}" if self.rems_deadline_on else None
        if code == "psf-overdue" and self.status_form_due:
            return f"was due by {self.status_form_due}"
        return None

    def _own_certification(self, finding: Finding) -> str | None:
        # The finding names whose certification expired; only the user's own has a date here.
        mine = self.certification
        if mine is None or not mine.expired or self.user is None:
            return None
        if f"prescriber {self.user} " not in finding.message:
            return None
        return f"your certification expired on {mine.through}: renew it"
