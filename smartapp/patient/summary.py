"""What the patient view says, as plain data: built from the one evaluation, worded by templates.

Keys, never sentences: the templates hold every patient-facing sentence, so each is translated in
one place. Missing, stale or unreadable data sets `no_recent_result`, and the page then says
"we could not find a recent blood test result: call your care team", never an all clear. A
record not read whole gives neither a next date nor a result range: both could be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clozapine import Evaluation, FindingCode, PatientFacts, Policy
from clozapine.vocabulary import Category, MonitoringStatus

# Which range a result is in, in the words the page uses (label 2.3 Table 1 / 2.4 Table 2).
RANGE_WORDS = {
    Category.NORMAL: "normal",
    Category.BEN_NORMAL: "normal",
    Category.MILD: "low",
    Category.BEN_NEUTROPENIA: "low",
    Category.MODERATE: "lower",
    Category.SEVERE: "very-low",
    Category.BEN_SEVERE: "very-low",
}
# Findings that mean the record's results cannot be trusted to say the patient is up to date.
DATA_PROBLEMS = frozenset(
    {FindingCode.NO_ANC_ON_FILE, FindingCode.UNIT_ERROR, FindingCode.MONITORING_OVERDUE}
)


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """The page's content: the next test, the last result, and which program text applies."""

    next_test_on: date | None
    late: bool
    due_now: bool
    last_result_on: date | None
    result_range: str | None  # a RANGE_WORDS value
    no_recent_result: bool
    no_current_order: bool
    program: str  # "label", "rems" or "organisation"
    program_name: str
    enrolled: bool | None  # organisation program: None when no record could be checked


def summarise(
    evaluation: Evaluation, facts: PatientFacts, policy: Policy, *, complete: bool = True
) -> PatientSummary:
    """The patient view of `evaluation` (`complete`: every read whole, the problem list too)."""
    monitoring, anc = evaluation.monitoring, evaluation.anc
    codes = {finding.code for finding in evaluation.findings}
    incomplete = bool(facts.unusable) or not complete
    no_recent = (
        anc is None
        or monitoring.status in (MonitoringStatus.OVERDUE, MonitoringStatus.NO_ANC_ON_FILE)
        or bool(codes & DATA_PROBLEMS)
        or incomplete
    )
    return PatientSummary(
        next_test_on=None if incomplete else monitoring.next_due,
        late=monitoring.status is MonitoringStatus.OVERDUE,
        due_now=monitoring.status is MonitoringStatus.DUE,
        last_result_on=anc.collected if anc else None,
        result_range=RANGE_WORDS[anc.category] if anc and not incomplete else None,
        no_recent_result=no_recent or not evaluation.on_clozapine,
        no_current_order=not evaluation.on_clozapine,
        program=_program_kind(policy),
        program_name=policy.organisation.name if policy.organisation is not None else "",
        enrolled=_enrolled(evaluation, codes),
    )


def _program_kind(policy: Policy) -> str:
    if policy.organisation is not None:
        return "organisation"
    return "rems" if policy.program is not None else "label"


def _enrolled(evaluation: Evaluation, codes: set[FindingCode]) -> bool | None:
    standing = evaluation.standing
    if FindingCode.ENROLLMENT_UNKNOWN in codes or standing is None or standing.enrollment is None:
        return None
    return standing.enrollment.enrolled
