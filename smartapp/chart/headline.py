"""The page's headline: the most urgent thing to do, in words, and the recommendation beside it.

Built from the evaluation's typed fields (status, recommendation, the latest ANC, finding codes);
the engine's English messages are shown as they are and never parsed here. When BEN status could
not be read (the problem list was not read whole), the evaluation stands on the general
thresholds and the headline is never the all-clear: no "up to date", no plain "continue". Units are written
with the micro sign on the page (`/µL`); the engine and the JSON output spell them `/uL`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clozapine import Evaluation
from clozapine.vocabulary import Category, FindingCode, MonitoringStatus, Overall, Recommendation

CATEGORY_WORDS = {
    Category.NORMAL: "normal",
    Category.MILD: "mild neutropenia",
    Category.MODERATE: "moderate neutropenia",
    Category.SEVERE: "severe neutropenia",
    Category.BEN_NORMAL: "normal for BEN",
    Category.BEN_NEUTROPENIA: "BEN neutropenia",
    Category.BEN_SEVERE: "severe neutropenia (BEN)",
}
# The short category the headline names after the value ("ANC 420/µL, severe").
CATEGORY_SHORT = {
    Category.NORMAL: "normal",
    Category.MILD: "mild",
    Category.MODERATE: "moderate",
    Category.SEVERE: "severe",
    Category.BEN_NORMAL: "normal (BEN)",
    Category.BEN_NEUTROPENIA: "BEN neutropenia",
    Category.BEN_SEVERE: "severe (BEN)",
}
RECOMMENDATION_WORDS = {
    Recommendation.CONTINUE: "Continue clozapine",
    Recommendation.INTERRUPT: "Interrupt clozapine",
    Recommendation.RESUME_ALLOWED: "Clozapine may be resumed (prescriber's judgement)",
    Recommendation.DO_NOT_START: "Do not start clozapine",
    Recommendation.NOT_APPLICABLE: "Not applicable",
}
STATUS_LOOK = {
    Overall.OK: ("Monitoring up to date", "status-ok", "✓"),
    Overall.ATTENTION: ("Needs attention", "status-attention", "!"),
    Overall.ACTION_REQUIRED: ("Action required", "status-action", "‼"),
    Overall.NOT_APPLICABLE: ("Not on clozapine", "status-na", "-"),
}
DRAW = "Draw a CBC with differential today"
BEN_UNKNOWN_STATUS = ("BEN status unknown", "status-attention", "!")
BEN_UNKNOWN_ACTION = (
    "Check the problem list for benign ethnic neutropenia: it could not be read, so the general "
    "thresholds were applied"
)
BEN_UNKNOWN_RECOMMENDATION = "Recommendation on the general thresholds (BEN status unknown): "
# On the general thresholds "continue" only means nothing calls for an interruption.
BEN_UNKNOWN_CONTINUE = "no interruption indicated; confirm BEN status"
# Findings that name an action of their own, most urgent first, and the words for it.
FINDING_ACTIONS = (
    (FindingCode.BASELINE_MISSING, "Do not start clozapine: no baseline ANC on file"),
    (FindingCode.BASELINE_BELOW_THRESHOLD, "Do not start clozapine: the baseline ANC is too low"),
    (FindingCode.BEN_BASELINE_INCOMPLETE, "Do not start clozapine: the BEN baseline is incomplete"),
    (FindingCode.LOW_ANC_UNCONFIRMED, "Repeat the ANC within 24 hours to confirm the low result"),
    (FindingCode.RESULT_PENDING, "Check the pending lab result before acting"),
    (FindingCode.UNIT_ERROR, "Check a lab result the app could not read"),
    (FindingCode.HEMATOLOGY_CONSULT_RECOMMENDED, "Ask hematology for a consultation"),
)


@dataclass(frozen=True, slots=True)
class Headline:
    """What the top of the page says: the action, the recommendation, and the status's look."""

    action: str
    recommendation: str
    status: str
    css: str
    icon: str


def anc_words(evaluation: Evaluation) -> str:
    """The latest ANC as the headline names it ("ANC 420/µL, severe"; a result reported as a
    bound keeps its comparator, "ANC <500/µL, severe"); empty without one."""
    anc = evaluation.anc
    return f"ANC {anc.shown}/µL, {CATEGORY_SHORT[anc.category]}" if anc else ""


def headline(evaluation: Evaluation, *, ben_status_unknown: bool = False) -> Headline:
    """The headline for one evaluation; `ben_status_unknown` when the problem list could not
    be read whole, so the general thresholds were applied."""
    status, css, icon = STATUS_LOOK[evaluation.overall]
    recommendation = f"Recommendation: {RECOMMENDATION_WORDS[evaluation.recommendation]}"
    if ben_status_unknown and evaluation.on_clozapine:
        if evaluation.overall is Overall.OK:
            status, css, icon = BEN_UNKNOWN_STATUS
        words = RECOMMENDATION_WORDS[evaluation.recommendation]
        if evaluation.recommendation is Recommendation.CONTINUE:
            words = BEN_UNKNOWN_CONTINUE
        recommendation = BEN_UNKNOWN_RECOMMENDATION + words
    return Headline(
        action=action_words(evaluation, ben_status_unknown=ben_status_unknown),
        recommendation=recommendation,
        status=status,
        css=css,
        icon=icon,
    )


def action_words(evaluation: Evaluation, *, ben_status_unknown: bool = False) -> str:
    """The single most urgent action, in words (never "up to date" without BEN status)."""
    monitoring = evaluation.monitoring
    if not evaluation.on_clozapine or monitoring.status is MonitoringStatus.NOT_APPLICABLE:
        return "Not on clozapine: no ANC monitoring applies"
    if evaluation.recommendation is Recommendation.INTERRUPT:
        return f"Interrupt clozapine: {anc_words(evaluation)}".rstrip(": ")
    codes = {finding.code for finding in evaluation.findings}
    if monitoring.status is MonitoringStatus.OVERDUE:
        days = monitoring.days_overdue or 0
        return f"{DRAW}: ANC {days} day{'' if days == 1 else 's'} overdue"
    if monitoring.status is MonitoringStatus.NO_ANC_ON_FILE:
        return f"{DRAW}: no usable ANC is on file"
    for code, words in FINDING_ACTIONS:
        if code in codes:
            return words
    if monitoring.status is MonitoringStatus.DUE:
        return f"{DRAW}: the ANC is due today"
    if evaluation.recommendation is Recommendation.RESUME_ALLOWED:
        return f"Clozapine may be resumed: {anc_words(evaluation)}"
    if ben_status_unknown:
        return BEN_UNKNOWN_ACTION
    if evaluation.overall is Overall.OK:
        due = f", next ANC due {monitoring.next_due}" if monitoring.next_due else ""
        return f"Monitoring is up to date{due}"
    return _review(evaluation)


def _review(evaluation: Evaluation) -> str:
    """Attention without a named action: the ANC category, or the findings to review."""
    anc = evaluation.anc
    if anc is not None and anc.category in (Category.MILD, Category.BEN_NEUTROPENIA):
        return f"Follow the schedule closely: {anc_words(evaluation)}"
    count = sum(1 for f in evaluation.findings if f.severity.value != "info")
    if count:
        return f"Review {count} finding{'' if count == 1 else 's'} below"
    return "Review the findings below"
