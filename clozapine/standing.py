"""The program standing: which registry records decide enrollment and certification, and until when.

The engine computes it once per evaluation; its program findings, the program panel and the
write-back builders all read it, so nobody re-derives an expiry or the current order.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from clozapine.facts import ClozapineOrder
from clozapine.policy import Policy, ProgramRules
from clozapine.registry import Certification, Enrollment, Registry, latest_enrollment


class EnrollmentEnd(enum.Enum):
    """Why a patient with enrollment records on file is no longer enrolled."""

    DISCONTINUED = "discontinued"
    EXPIRED = "expired"
    BEFORE_PROGRAM_START = "before-program-start"


@dataclass(frozen=True, slots=True)
class RecordRules:
    """How the program in force reads registry records.

    Records count from `counts_from` (None: any date) through the as-of date; `reads_status`
    (an organisation program) makes a latest `discontinued` enrollment mean not enrolled;
    renewal periods of None mean a record lasts unless it carries its own expiry (which is read
    only when `reads_status`, as the REMS rules ignore both).
    """

    counts_from: date | None
    reads_status: bool
    enrollment_renewal_days: int | None
    certification_renewal_days: int | None

    def counts(self, on: date, as_of: date) -> bool:
        """True when a record dated `on` counts on `as_of`."""
        return on <= as_of and (self.counts_from is None or on >= self.counts_from)


@dataclass(frozen=True, slots=True)
class EnrollmentStanding:
    """The patient's enrollment as the program sees it on the as-of date.

    `record` is the latest counting record, the one that decides (contract ruling "The latest
    enrollment decides"); `superseded` the latest earlier record that it overrides. `enrolled`
    is True only while that record enrolls the patient and has not expired. When records are on
    file but the patient is not enrolled, `ended` says why and `ended_on` the first day not
    enrolled.
    """

    record: Enrollment | None
    enrolled: bool
    valid_through: date | None
    expired: bool
    ended: EnrollmentEnd | None = None
    ended_on: date | None = None
    superseded: Enrollment | None = None


@dataclass(frozen=True, slots=True)
class CertificationStanding:
    """A prescriber's or pharmacy's certification: the deciding record and until when it holds."""

    reference: str
    record: Certification | None
    valid_through: date | None
    expired: bool

    @property
    def certified(self) -> bool:
        """True when a counting record is on file and has not expired."""
        return self.record is not None and not self.expired


@dataclass(frozen=True, slots=True)
class ProgramStanding:
    """Where the patient, the current order's prescriber and its pharmacy stand in the program.

    `enrollment`, `prescriber` and `pharmacy` are None without a registry to check (and the
    latter two when the order names none); `order` is the current clozapine order, None when the
    patient is not on clozapine. `status_form_due` is the last day the program's next Patient
    Status Form is due (programs that require one, for an enrolled patient).
    """

    program_name: str | None
    order: ClozapineOrder | None
    enrollment: EnrollmentStanding | None
    prescriber: CertificationStanding | None
    pharmacy: CertificationStanding | None
    status_form_due: date | None = None


def valid_through(on: date, expires_on: date | None, renewal_days: int | None) -> date | None:
    """The last day a record is valid: its own expiry, else its date + renewal period - 1 day."""
    if expires_on is not None:
        return expires_on
    return None if renewal_days is None else on + timedelta(days=renewal_days - 1)


def record_rules(policy: Policy) -> RecordRules | None:
    """The record rules of the program in force: the organisation's (counting records only from
    the REMS program's start when a REMS policy is also in force), else the REMS's, else None."""
    org = policy.organisation
    if org is not None:
        counts_from = policy.program.program_start_on if policy.program else None
        return RecordRules(
            counts_from, True, org.enrollment_renewal_days, org.certification_renewal_days
        )
    if policy.program is not None:
        return rems_record_rules(policy.program)
    return None


def rems_record_rules(program: ProgramRules) -> RecordRules:
    """The REMS program's record rules: a dated window, no expiry, status ignored."""
    return RecordRules(program.program_start_on, False, None, None)


def enrollment_standing(
    rules: RecordRules, enrollments: Iterable[Enrollment], patient: str, as_of: date
) -> EnrollmentStanding:
    """The patient's enrollment standing on `as_of` from the registry's enrollment records."""
    mine = [e for e in enrollments if e.patient == patient and e.enrolled_on <= as_of]
    counting = [e for e in mine if rules.counts(e.enrolled_on, as_of)]
    latest = latest_enrollment(counting)
    if latest is None:
        if mine and rules.counts_from is not None:
            return EnrollmentStanding(
                None, False, None, False, EnrollmentEnd.BEFORE_PROGRAM_START, rules.counts_from
            )
        return EnrollmentStanding(None, False, None, False)
    earlier = latest_enrollment(
        e for e in counting if e is not latest and e.status != "discontinued"
    )
    if rules.reads_status and latest.status == "discontinued":
        return EnrollmentStanding(
            latest, False, None, False, EnrollmentEnd.DISCONTINUED, latest.enrolled_on, earlier
        )
    expires_on = latest.expires_on if rules.reads_status else None
    through = valid_through(latest.enrolled_on, expires_on, rules.enrollment_renewal_days)
    expired = through is not None and as_of > through
    if expired and through is not None:
        return EnrollmentStanding(
            latest,
            False,
            through,
            True,
            EnrollmentEnd.EXPIRED,
            through + timedelta(days=1),
            earlier,
        )
    return EnrollmentStanding(latest, True, through, False, superseded=earlier)


def certification_standing(
    rules: RecordRules, records: Iterable[Certification], reference: str, as_of: date
) -> CertificationStanding:
    """The certification standing of one prescriber or pharmacy on `as_of`."""
    latest = max(
        (c for c in records if c.reference == reference and rules.counts(c.certified_on, as_of)),
        key=lambda c: c.certified_on,
        default=None,
    )
    if latest is None:
        return CertificationStanding(reference, None, None, False)
    expires_on = latest.expires_on if rules.reads_status else None
    through = valid_through(latest.certified_on, expires_on, rules.certification_renewal_days)
    return CertificationStanding(
        reference, latest, through, through is not None and as_of > through
    )


def status_form_due(
    program: ProgramRules, registry: Registry, enrollment: EnrollmentStanding, as_of: date
) -> date | None:
    """The day after which the next status form is overdue: the later of the latest counting
    form and the deciding enrollment, plus the program's maximum age (None without one)."""
    max_days = program.status_form_max_age_days
    record = enrollment.record
    if max_days is None or record is None:
        return None
    rules = rems_record_rules(program)
    forms = [
        f.submitted_on
        for f in registry.status_forms
        if f.patient == record.patient and rules.counts(f.submitted_on, as_of)
    ]
    return max([record.enrolled_on, *forms]) + timedelta(days=max_days)


def program_standing(
    policy: Policy,
    registry: Registry | None,
    patient: str,
    order: ClozapineOrder | None,
    as_of: date,
) -> ProgramStanding:
    """The standing under the program in force (nothing about the registry without one)."""
    rules = record_rules(policy)
    name = None
    if policy.organisation is not None:
        name = policy.organisation.name
    elif policy.program is not None:
        name = policy.title
    if rules is None or registry is None:
        return ProgramStanding(name, order, None, None, None)
    return standing_under(rules, name, policy.program, registry, patient, order, as_of)


def standing_under(
    rules: RecordRules,
    name: str | None,
    program: ProgramRules | None,
    registry: Registry,
    patient: str,
    order: ClozapineOrder | None,
    as_of: date,
) -> ProgramStanding:
    """The standing under given record rules (the REMS's or the organisation's)."""
    prescriber = order.prescriber if order else None
    pharmacy = order.pharmacy if order else None
    enrollment = enrollment_standing(rules, registry.patients, patient, as_of)
    return ProgramStanding(
        name,
        order,
        enrollment,
        None
        if prescriber is None
        else certification_standing(rules, registry.prescribers, prescriber, as_of),
        None
        if pharmacy is None
        else certification_standing(rules, registry.pharmacies, pharmacy, as_of),
        None if program is None else status_form_due(program, registry, enrollment, as_of),
    )
