"""What the prescriber's page shows, built from one evaluation and the facts behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from clozapine import Evaluation, PatientFacts, Policy, ResultProblem
from clozapine.policy import PolicyReview
from clozapine.review import overdue_message
from clozapine.vocabulary import MonitoringStatus, Population
from fhir_mappings.person_name import person_name
from fhir_mappings.record_number import RecordNumber, current_record_number
from smartapp.chart.headline import CATEGORY_WORDS, Headline, headline
from smartapp.ehr.completeness import COMPLETE, ReadCompleteness
from smartapp.web.findings import FindingView, finding_view, page_units


@dataclass(frozen=True, slots=True)
class Banner:
    """The patient banner: who this is, so the prescriber can confirm the chart."""

    name: str
    birth_date: str | None
    gender: str | None
    record: RecordNumber | None


@dataclass(frozen=True, slots=True)
class PageModel:
    """Everything the chart page template renders (the template escapes all of it).

    `ben_notice` is the prominent notice shown when BEN status could not be read;
    `review_overdue` says the policy's tables are past their review date on the as-of date."""

    evaluation: Evaluation
    banner: Banner | None
    headline: Headline
    ben_notice: str | None
    anc_category_words: str | None
    schedule_words: str
    findings: tuple[FindingView, ...]
    notes: tuple[str, ...]
    chart: dict[str, Any]
    fhir_user: str | None
    review: PolicyReview
    review_overdue: str | None


def banner_from_patient(
    patient: dict[str, Any] | None, today: date, zone: ZoneInfo | None
) -> Banner | None:
    """Name, birth date, gender and the current record number from a Patient, leniently."""
    if not isinstance(patient, dict):
        return None
    text = person_name(patient) or "Name not recorded"
    birth = patient.get("birthDate")
    gender = patient.get("gender")
    return Banner(
        text,
        birth if isinstance(birth, str) else None,
        gender if isinstance(gender, str) else None,
        current_record_number(patient, today, zone),
    )


def schedule_words(evaluation: Evaluation) -> str:
    """The ANC schedule in a sentence."""
    monitoring = evaluation.monitoring
    if monitoring.status is MonitoringStatus.NOT_APPLICABLE or monitoring.frequency is None:
        return "No ANC schedule: the patient is not on clozapine."
    frequency = monitoring.frequency.value.replace("-", " ")
    if monitoring.status is MonitoringStatus.NO_ANC_ON_FILE:
        return f"ANC {frequency}. No usable ANC is on file: draw one now."
    due = monitoring.next_due.isoformat() if monitoring.next_due else "unknown"
    if monitoring.status is MonitoringStatus.OVERDUE:
        return (
            f"ANC {frequency}. Next ANC was due {due}: overdue by {monitoring.days_overdue} day(s)."
        )
    if monitoring.status is MonitoringStatus.DUE:
        return f"ANC {frequency}. Next ANC is due today ({due})."
    return f"ANC {frequency}. Next ANC due {due}."


def data_notes(
    facts: PatientFacts, evaluation: Evaluation, read_notes: tuple[str, ...]
) -> tuple[str, ...]:
    """Data-quality notes: records left out, pending and unusable results, derived ANCs."""
    notes = list(read_notes)
    notes += [page_units(f"{note.resource}: {note.reason}") for note in facts.notes]
    for problem in facts.unusable:
        kind = "Pending" if problem.problem is ResultProblem.PENDING else "Not usable"
        detail = page_units(problem.detail)
        notes.append(f"{kind}: result collected {problem.collected_on} ({detail}).")
    derived = sum(1 for r in facts.ancs if r.derived)
    if derived:
        notes.append(f"{derived} ANC value(s) derived from the white count and differential.")
    return tuple(notes)


def chart_data(facts: PatientFacts, evaluation: Evaluation, policy: Policy) -> dict[str, Any]:
    """ANC points over the current treatment episode, the category bands and the due date."""
    start: date | None = evaluation.treatment.episode_start if evaluation.treatment else None
    points = [
        {"date": r.collected_on.isoformat(), "value": r.value_per_ul, "derived": r.derived}
        for r in facts.ancs
        if r.collected_on <= evaluation.as_of and (start is None or r.collected_on >= start)
    ]
    rules = policy.rules_for(evaluation.population)
    bands = [
        {
            "category": b.category.value,
            "label": CATEGORY_WORDS[b.category],
            "from": b.lower_per_ul,
            "to": b.upper_per_ul,
        }
        for b in rules.bands
    ]
    due = evaluation.monitoring.next_due
    return {
        "points": points,
        "bands": bands,
        "due": due.isoformat() if due else None,
        "as_of": evaluation.as_of.isoformat(),
        "population": evaluation.population.value,
        "ben": evaluation.population is Population.BEN,
    }


def page_model(
    evaluation: Evaluation,
    facts: PatientFacts,
    policy: Policy,
    patient: dict[str, Any] | None,
    *,
    read_notes: tuple[str, ...] = (),
    show_banner: bool = True,
    zone: ZoneInfo | None = None,
    fhir_user: str | None = None,
    shown_elsewhere: frozenset[str] = frozenset(),
    completeness: ReadCompleteness = COMPLETE,
) -> PageModel:
    """The page for one evaluation; findings in `shown_elsewhere` (the program panel's) are
    left out of the main list, so each finding appears once. `completeness` says which reads
    were not whole (an evaluation is shown only when orders and results were). The banner's
    record number is the one in force on the as-of date in `zone`, the organisation's."""
    anc = evaluation.anc
    return PageModel(
        evaluation=evaluation,
        banner=banner_from_patient(patient, evaluation.as_of, zone) if show_banner else None,
        headline=headline(evaluation, ben_status_unknown=completeness.ben_status_unknown),
        ben_notice=completeness.ben_notice(),
        anc_category_words=CATEGORY_WORDS[anc.category] if anc else None,
        schedule_words=schedule_words(evaluation),
        findings=tuple(
            finding_view(f) for f in evaluation.findings if f.code not in shown_elsewhere
        ),
        notes=data_notes(facts, evaluation, read_notes),
        chart=chart_data(facts, evaluation, policy),
        fhir_user=fhir_user,
        review=policy.review,
        review_overdue=overdue_message(policy.review, evaluation.as_of),
    )
