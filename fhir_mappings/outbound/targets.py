"""Which findings are written back, and the identifier that makes each written once.

Pure functions of an evaluation (no I/O, no clock). Each resource the app writes carries an
identifier derived from patient + finding + period, so a retry finds the first write
(`If-None-Exist: identifier=system|value`) and a new period gives a new resource:

| findings | period in the identifier | Flag.period.start | Task due (restriction.period.end) |
|---|---|---|---|
| monitoring-due, monitoring-overdue | next_due | next_due (overdue: the day after) | next_due |
| no-anc-on-file | treatment episode start (stable while no ANC comes in) | episode start | as_of |
| interrupt-recommended, anc-too-old-to-dispense | the latest ANC's collection date | as_of | as_of |
| enrollment findings | the as-of month (YYYY-MM): re-raised monthly while unresolved | as_of | as_of |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from clozapine import Evaluation, Finding
from clozapine.vocabulary import FindingCode
from fhir_mappings.fhir_json import FhirJson

DEFAULT_IDENTIFIER_SYSTEM = "urn:smartapp:clozapine-monitoring:writeback"

LAB_FINDINGS = (
    FindingCode.MONITORING_OVERDUE,
    FindingCode.MONITORING_DUE,
    FindingCode.NO_ANC_ON_FILE,
)
ANC_DATED_FINDINGS = (FindingCode.INTERRUPT_RECOMMENDED, FindingCode.ANC_TOO_OLD_TO_DISPENSE)
ENROLLMENT_FINDINGS = (
    FindingCode.PATIENT_NOT_ENROLLED,
    FindingCode.PRESCRIBER_NOT_CERTIFIED,
    FindingCode.PHARMACY_NOT_CERTIFIED,
    FindingCode.ENROLLMENT_ANC_STALE,
    FindingCode.PSF_OVERDUE,
    FindingCode.ENROLLMENT_EXPIRED,
    FindingCode.CERTIFICATION_EXPIRED,
)
# The findings that need someone to act, which trigger write-back when the program names none.
DEFAULT_WRITEBACK_FINDINGS = (*LAB_FINDINGS, *ANC_DATED_FINDINGS, *ENROLLMENT_FINDINGS)
_ANC_TEST = "ANC (CBC with differential)"
# finding code -> (short title for Flag.code.display, what the Task asks for; {due_on} filled in)
FINDING_TEXTS: dict[FindingCode, tuple[str, str]] = {
    FindingCode.MONITORING_OVERDUE: ("ANC monitoring overdue", f"{_ANC_TEST} due by {{due_on}}"),
    FindingCode.MONITORING_DUE: ("ANC monitoring due", f"{_ANC_TEST} due by {{due_on}}"),
    FindingCode.NO_ANC_ON_FILE: (
        "No ANC on file",
        f"{_ANC_TEST} needed by {{due_on}}: none on file",
    ),
    FindingCode.INTERRUPT_RECOMMENDED: (
        "Clozapine interruption recommended",
        "Review clozapine treatment: the latest ANC calls for interruption",
    ),
    FindingCode.ANC_TOO_OLD_TO_DISPENSE: (
        "ANC too old to dispense",
        f"{_ANC_TEST} needed before the next clozapine dispense",
    ),
    FindingCode.PATIENT_NOT_ENROLLED: (
        "Not enrolled in the clozapine program",
        "Enroll patient in the clozapine program",
    ),
    FindingCode.ENROLLMENT_EXPIRED: (
        "Clozapine program enrollment expired",
        "Re-enroll patient in the clozapine program",
    ),
    FindingCode.PRESCRIBER_NOT_CERTIFIED: (
        "Prescriber not certified in the clozapine program",
        "Certify the prescriber in the clozapine program",
    ),
    FindingCode.PHARMACY_NOT_CERTIFIED: (
        "Pharmacy not certified in the clozapine program",
        "Certify the dispensing pharmacy in the clozapine program",
    ),
    FindingCode.CERTIFICATION_EXPIRED: (
        "Clozapine program certification expired",
        "Renew the certification in the clozapine program",
    ),
    FindingCode.ENROLLMENT_ANC_STALE: (
        "No ANC for the clozapine enrollment",
        "Record an ANC from the 30 days before enrollment in the clozapine program",
    ),
    FindingCode.PSF_OVERDUE: (
        "Clozapine Patient Status Form overdue",
        "Submit the clozapine Patient Status Form",
    ),
}


@dataclass(frozen=True, slots=True)
class FindingPeriod:
    """The period a finding is about: its identifier part, when it began, when it is due."""

    key: str
    start_on: date
    due_on: date


@dataclass(frozen=True, slots=True)
class WritebackTarget:
    """One finding to write for one patient, with the identifier that makes it written once."""

    finding: Finding
    patient: str
    period: FindingPeriod
    identifier_system: str
    identifier_value: str
    business_status: str | None = None

    @property
    def identifier(self) -> FhirJson:
        """The resource's identifier."""
        return {"system": self.identifier_system, "value": self.identifier_value}

    @property
    def identifier_tuple(self) -> tuple[str, str]:
        """(system, value), as the ledger keys it."""
        return self.identifier_system, self.identifier_value

    @property
    def search(self) -> str:
        """The If-None-Exist query that finds an earlier write of this target."""
        return f"identifier={self.identifier_system}|{self.identifier_value}"

    @property
    def title(self) -> str:
        """A short title for the finding."""
        return FINDING_TEXTS.get(self.finding.code, (self.finding.code, ""))[0]


def finding_period(evaluation: Evaluation, code: str) -> FindingPeriod:
    """The period of a finding (table in the module docstring)."""
    as_of = evaluation.as_of
    due = evaluation.monitoring.next_due
    if code in (FindingCode.MONITORING_DUE, FindingCode.MONITORING_OVERDUE) and due is not None:
        start = due + timedelta(days=1) if code == FindingCode.MONITORING_OVERDUE else due
        return FindingPeriod(due.isoformat(), start, due)
    if code == FindingCode.NO_ANC_ON_FILE and evaluation.treatment is not None:
        episode_start = evaluation.treatment.episode_start
        return FindingPeriod(episode_start.isoformat(), episode_start, as_of)
    if code in ANC_DATED_FINDINGS and evaluation.anc is not None:
        return FindingPeriod(evaluation.anc.collected.isoformat(), as_of, as_of)
    if code in ENROLLMENT_FINDINGS:
        return FindingPeriod(as_of.strftime("%Y-%m"), as_of, as_of)
    return FindingPeriod(as_of.isoformat(), as_of, as_of)


def identifier_value(patient: str, code: str, period_key: str) -> str:
    """`<patient id>/<finding code>/<period>`: FHIR ids and codes hold no `|` or `,`."""
    return f"{patient.rsplit('/', 1)[-1]}/{code}/{period_key}"


def writeback_targets(
    evaluation: Evaluation, codes: tuple[str, ...] | frozenset[str], identifier_system: str
) -> tuple[WritebackTarget, ...]:
    """The evaluation's findings whose code triggers write-back, in the evaluation's order."""
    if not evaluation.on_clozapine:
        return ()
    targets = []
    for finding in evaluation.findings:
        if finding.code not in codes:
            continue
        period = finding_period(evaluation, finding.code)
        targets.append(
            WritebackTarget(
                finding=finding,
                patient=evaluation.patient,
                period=period,
                identifier_system=identifier_system,
                identifier_value=identifier_value(evaluation.patient, finding.code, period.key),
                business_status=_business_status(evaluation, finding.code),
            )
        )
    return tuple(targets)


def _business_status(evaluation: Evaluation, code: FindingCode) -> str | None:
    days = evaluation.monitoring.days_overdue or 0
    return {
        FindingCode.MONITORING_OVERDUE: f"overdue by {days} day{'s' * (days != 1)}",
        FindingCode.MONITORING_DUE: "due today",
        FindingCode.NO_ANC_ON_FILE: "no ANC on file",
        FindingCode.INTERRUPT_RECOMMENDED: "interruption recommended",
    }.get(code)
