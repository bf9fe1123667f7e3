"""The evaluation the engine returns, and its JSON form as the evaluation contract prints it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from clozapine.labs import Comparator, decimal_shown
from clozapine.policy import PolicyReview
from clozapine.review import AWAITING, policy_review_to_json
from clozapine.standing import ProgramStanding
from clozapine.vocabulary import (
    Category,
    FindingCode,
    Frequency,
    MonitoringStatus,
    Overall,
    Population,
    Recommendation,
    Severity,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a prescriber should know or do, with the rule and source behind it."""

    code: FindingCode
    severity: Severity
    message: str
    rule: str
    citation: str
    citation_url: str | None = None


@dataclass(frozen=True, slots=True)
class Treatment:
    """The current treatment episode."""

    episode_start: date
    days_on_treatment: int


@dataclass(frozen=True, slots=True)
class AncSummary:
    """The latest usable ANC; a bound keeps its comparator and the bound in cells/uL."""

    value_per_ul: int
    collected: date
    category: Category
    derived: bool
    comparator: Comparator | None = None
    bound_per_ul: Decimal | None = None

    @property
    def shown(self) -> str:
        """The value as messages show it: "1800", or the bound as reported, "<500"."""
        if self.comparator is None or self.bound_per_ul is None:
            return str(self.value_per_ul)
        return f"{self.comparator.value}{decimal_shown(self.bound_per_ul)}"


@dataclass(frozen=True, slots=True)
class Monitoring:
    """The ANC schedule and where the patient stands against it."""

    frequency: Frequency | None
    interval_days: int | None
    next_due: date | None
    status: MonitoringStatus
    days_overdue: int | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One patient's clozapine monitoring evaluation on one as-of date under one policy.

    `rules_applied` lists the ids of the policy rows that decided it (evidence for the page);
    `standing` is the program standing and the current order the findings were made from (for
    the program panel and the write-back). Neither is part of the contract's JSON. `review` is
    whether the policy's tables are verified; the JSON carries it as `policy_review`, a field
    added to the contract's (None, for an evaluation made by hand, reads as awaiting).
    """

    as_of: date
    policy: str
    patient: str
    on_clozapine: bool
    population: Population
    treatment: Treatment | None
    anc: AncSummary | None
    monitoring: Monitoring
    recommendation: Recommendation
    findings: tuple[Finding, ...]
    overall: Overall
    rules_applied: tuple[str, ...] = ()
    standing: ProgramStanding | None = None
    review: PolicyReview | None = None


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def evaluation_to_json(evaluation: Evaluation) -> dict[str, Any]:
    """The contract's JSON object, keys in the contract's order, then `policy_review`."""
    treatment = evaluation.treatment
    anc = evaluation.anc
    monitoring = evaluation.monitoring
    return {
        "as_of": evaluation.as_of.isoformat(),
        "policy": evaluation.policy,
        "patient": evaluation.patient,
        "on_clozapine": evaluation.on_clozapine,
        "population": evaluation.population.value,
        "treatment": None
        if treatment is None
        else {
            "episode_start": treatment.episode_start.isoformat(),
            "days_on_treatment": treatment.days_on_treatment,
        },
        "anc": None
        if anc is None
        else {
            "value_per_ul": anc.value_per_ul,
            "collected": anc.collected.isoformat(),
            "category": anc.category.value,
            "derived": anc.derived,
            "comparator": None if anc.comparator is None else anc.comparator.value,
        },
        "monitoring": {
            "frequency": None if monitoring.frequency is None else monitoring.frequency.value,
            "interval_days": monitoring.interval_days,
            "next_due": _iso(monitoring.next_due),
            "status": monitoring.status.value,
            "days_overdue": monitoring.days_overdue,
        },
        "recommendation": evaluation.recommendation.value,
        "findings": [
            {
                "code": finding.code.value,
                "severity": finding.severity.value,
                "message": finding.message,
                "rule": finding.rule,
                "citation": finding.citation,
            }
            for finding in evaluation.findings
        ],
        "overall": evaluation.overall.value,
        "policy_review": _review_json(evaluation),
    }


def _review_json(evaluation: Evaluation) -> dict[str, Any]:
    if evaluation.review is None:
        return {
            "status": AWAITING,
            "policy": evaluation.policy,
            "message": f"The rules of policy {evaluation.policy} await pharmacist verification.",
            "review_overdue": False,
            "overdue_message": None,
            "tables": [],
        }
    return policy_review_to_json(evaluation.review, evaluation.as_of)
