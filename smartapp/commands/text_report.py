"""A readable summary of one evaluation, for a pharmacist at a terminal (`--format text`)."""

from __future__ import annotations

from clozapine.evaluation import Evaluation
from clozapine.review import overdue_message
from clozapine.vocabulary import MonitoringStatus

_STATUS_WORDS = {
    "ok": "OK - monitoring is up to date",
    "attention": "ATTENTION - review the findings",
    "action-required": "ACTION REQUIRED",
    "not-applicable": "NOT APPLICABLE - not on clozapine",
}


def text_report(evaluation: Evaluation) -> str:
    """Status, whether the rules are verified (and past their review date), ANC, schedule and due date, recommendation, then
    each finding with its source."""
    lines = [
        f"{evaluation.patient}: clozapine monitoring on {evaluation.as_of}"
        f" (policy {evaluation.policy})",
        f"  Status:          {_STATUS_WORDS[evaluation.overall.value]}",
        f"  Rules review:    {_review(evaluation)}",
    ]
    overdue = overdue_message(evaluation.review, evaluation.as_of) if evaluation.review else None
    if overdue:
        lines.append(f"  Review date:     {overdue}")
    lines.append(f"  Population:      {evaluation.population.value}")
    treatment = evaluation.treatment
    lines.append(
        "  On clozapine:    no"
        if treatment is None
        else f"  On clozapine:    yes, episode from {treatment.episode_start}"
        f" (day {treatment.days_on_treatment})"
    )
    anc = evaluation.anc
    lines.append(
        "  Latest ANC:      none on file"
        if anc is None
        else f"  Latest ANC:      {anc.value_per_ul}/uL on {anc.collected} ({anc.category.value}"
        f"{', derived' if anc.derived else ''})"
    )
    lines.append(f"  Schedule:        {_schedule(evaluation)}")
    lines.append(f"  Recommendation:  {evaluation.recommendation.value}")
    if evaluation.findings:
        lines.append("  Findings:")
        for finding in evaluation.findings:
            lines.append(f"    [{finding.severity.value}] {finding.code}: {finding.message}")
            lines.append(f"        rule {finding.rule}; {finding.citation}")
    else:
        lines.append("  Findings:        none")
    return "\n".join(lines)


def _review(evaluation: Evaluation) -> str:
    """Whether the rules applied are verified; unverified unless every table is signed off."""
    review = evaluation.review
    if review is None:
        return f"the rules of policy {evaluation.policy} await pharmacist verification"
    return review.message


def _schedule(evaluation: Evaluation) -> str:
    monitoring = evaluation.monitoring
    if monitoring.status is MonitoringStatus.NOT_APPLICABLE or monitoring.frequency is None:
        return "not applicable"
    text = f"{monitoring.frequency.value} (every {monitoring.interval_days} day(s))"
    if monitoring.next_due is None:
        return f"{text}; no usable ANC on file"
    status = monitoring.status.value.upper()
    if monitoring.status is MonitoringStatus.OVERDUE:
        status += f" by {monitoring.days_overdue} day(s)"
    return f"{text}; next ANC due {monitoring.next_due}: {status}"
