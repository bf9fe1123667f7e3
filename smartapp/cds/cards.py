"""Cards from an evaluation (cds-hooks.md "Cards"): one card or none, suggestions, overrides.

Pure: the evaluation, the service and the draft orders in, the card JSON out. No card for `ok`
or `not-applicable`; otherwise one, `critical` for `action-required` and `warning` for
`attention`. A record not read whole gives one `warning` card saying what could not be read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clozapine import Evaluation
from clozapine.vocabulary import FindingCode, Overall, Recommendation
from fhir_mappings.outbound.targets import finding_period
from smartapp.cds.markdown import escape_markdown

APP_LABEL = "Clozapine monitoring app"
TOPIC_SYSTEM = "urn:smartapp:clozapine-monitoring:cds-topic"
OVERRIDE_SYSTEM = "urn:smartapp:clozapine-monitoring:override-reason"
TOPIC = {"system": TOPIC_SYSTEM, "code": "clozapine-anc", "display": "Clozapine ANC monitoring"}
SUMMARY_MAX = 140
LOINC_CBC_WITH_DIFFERENTIAL = "57021-8"

OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("benefit-outweighs-risk", "Benefit outweighs risk, prescriber's judgement"),
    ("anc-drawn-not-filed", "ANC drawn, result not yet filed"),
    ("anc-at-other-organisation", "ANC on file at another organisation"),
    ("patient-declined-draw", "Patient declined the draw"),
)

# Findings that ask for a blood draw: the card suggests ordering a CBC with differential.
BLOOD_DRAW_FINDINGS = frozenset(
    {
        FindingCode.MONITORING_OVERDUE,
        FindingCode.MONITORING_DUE,
        FindingCode.NO_ANC_ON_FILE,
        FindingCode.BASELINE_MISSING,
        FindingCode.LOW_ANC_UNCONFIRMED,
    }
)

# What to do, per finding code, for the summary (the first finding decides).
ACTIONS: dict[str, str] = {
    FindingCode.MONITORING_OVERDUE: "Draw an ANC now: clozapine ANC monitoring is overdue",
    FindingCode.NO_ANC_ON_FILE: "Draw an ANC: no ANC is on file for this clozapine patient",
    FindingCode.INTERRUPT_RECOMMENDED: "Interrupt clozapine: the latest ANC is too low to continue",
    FindingCode.BASELINE_BELOW_THRESHOLD: "Do not start clozapine: the baseline ANC is below threshold",
    FindingCode.BASELINE_MISSING: "Draw a baseline ANC before starting clozapine",
    FindingCode.MONITORING_DUE: "Draw an ANC today: clozapine ANC monitoring is due",
    FindingCode.RESULT_PENDING: "Check the pending ANC result before relying on clozapine status",
    FindingCode.LOW_ANC_UNCONFIRMED: "Repeat the ANC within 24 hours to confirm the low result",
    FindingCode.HEMATOLOGY_CONSULT_RECOMMENDED: "Consider a hematology consult for the low ANC",
    FindingCode.RECHALLENGE_REQUIRES_PRESCRIBER_JUDGEMENT: (
        "Rechallenge after a severe ANC is the prescriber's judgement: review before continuing"
    ),
    FindingCode.BEN_BASELINE_INCOMPLETE: "Draw a second baseline ANC (BEN) before starting clozapine",
    FindingCode.UNIT_ERROR: "Check an ANC result the app could not read (unit or value)",
    FindingCode.TREATMENT_RATIONALE_REQUIRED: "Document the treatment rationale for the low ANC",
    FindingCode.PATIENT_NOT_ENROLLED: "Enroll the patient in the clozapine program before dispensing",
    FindingCode.PRESCRIBER_NOT_CERTIFIED: "Check the prescriber's clozapine certification",
    FindingCode.PHARMACY_NOT_CERTIFIED: "Check the dispensing pharmacy's clozapine certification",
    FindingCode.PRESCRIBER_UNKNOWN: "Identify the prescriber of the clozapine order",
    FindingCode.ENROLLMENT_ANC_STALE: "Draw an ANC: none was collected around the enrollment",
    FindingCode.PSF_OVERDUE: "Submit the clozapine Patient Status Form: it is overdue",
    FindingCode.ENROLLMENT_EXPIRED: "Renew the patient's clozapine program enrollment",
    FindingCode.CERTIFICATION_EXPIRED: "Renew the expired clozapine certification",
    FindingCode.ANC_TOO_OLD_TO_DISPENSE: "Draw an ANC: the latest is too old to dispense clozapine",
}


@dataclass(frozen=True, slots=True)
class CardContext:
    """What a card needs beside the evaluation: the service, the patient, the app's launch URL,
    the draft clozapine orders (order-sign may suggest removing them), a notice to add."""

    hook: str
    patient_id: str
    launch_url: str
    policy: str
    draft_orders: tuple[str, ...] = ()
    notice: str | None = None
    new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())


def finding_keys(evaluation: Evaluation) -> tuple[str, ...]:
    """Each finding as `code/period` (the write-back identifiers' periods): a card is the same
    card while these are the same."""
    return tuple(
        f"{finding.code}/{finding_period(evaluation, finding.code).key}"
        for finding in evaluation.findings
    )


def evaluation_card(evaluation: Evaluation, context: CardContext) -> dict[str, Any] | None:
    """The one card of an evaluation, or None (no alert fatigue)."""
    if evaluation.overall is Overall.NOT_APPLICABLE:
        return None  # not on clozapine: nothing to say, whatever could not be read
    if evaluation.overall is Overall.OK:
        if context.notice is None:
            return None
        return _card(context, "warning", context.notice[:SUMMARY_MAX], _detail(evaluation, context))
    indicator = "critical" if evaluation.overall is Overall.ACTION_REQUIRED else "warning"
    card = _card(context, indicator, _summary(evaluation), _detail(evaluation, context))
    suggestions = _suggestions(evaluation, context)
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    if indicator == "critical":
        card["overrideReasons"] = [
            {"system": OVERRIDE_SYSTEM, "code": code, "display": display}
            for code, display in OVERRIDE_REASONS
        ]
    return card


def unread_card(context: CardContext, data: str, messages: tuple[str, ...]) -> dict[str, Any]:
    """The one warning card for a record that could not be read whole: never an all-clear."""
    summary = f"Clozapine ANC status unknown: the {data} could not be read"
    lines = [
        f"The app could not read the patient's {escape_markdown(data)} completely, so it cannot "
        "say whether clozapine ANC monitoring is up to date. Check the chart by hand, or open "
        "the app.",
        "",
        *(f"- {escape_markdown(message)}" for message in messages),
    ]
    return _card(context, "warning", summary[:SUMMARY_MAX], "\n".join(lines).rstrip())


def _card(context: CardContext, indicator: str, summary: str, detail: str) -> dict[str, Any]:
    return {
        "uuid": context.new_uuid(),
        "summary": summary,
        "detail": detail,
        "indicator": indicator,
        "source": {"label": f"{APP_LABEL} (policy {context.policy})", "topic": TOPIC},
        "links": [
            {
                "label": "Open the clozapine monitoring app",
                "url": context.launch_url,
                "type": "smart",
            }
        ],
    }


def _summary(evaluation: Evaluation) -> str:
    first = evaluation.findings[0] if evaluation.findings else None
    if first is None:
        text = "Review clozapine ANC monitoring: the latest ANC needs attention"
    else:
        text = ACTIONS.get(first.code, f"Review clozapine monitoring: {first.code}")
    return text[:SUMMARY_MAX]


def _detail(evaluation: Evaluation, context: CardContext) -> str:
    lines = [f"**Clozapine ANC monitoring** under policy {escape_markdown(evaluation.policy)}", ""]
    if context.notice is not None:
        lines += [escape_markdown(context.notice), ""]
    for finding in evaluation.findings:
        lines.append(
            f"- **{finding.severity.value}**: {escape_markdown(finding.message)} "
            f"(rule {escape_markdown(finding.rule)}; {escape_markdown(finding.citation)})"
        )
    if evaluation.findings:
        lines.append("")
    anc = evaluation.anc
    if anc is None:
        lines.append("Latest ANC: none on file.")
    else:
        lines.append(
            f"Latest ANC: {escape_markdown(anc.shown)}/uL on {anc.collected.isoformat()} "
            f"({anc.category.value})."
        )
    due = evaluation.monitoring.next_due
    lines.append(f"Next ANC due: {due.isoformat() if due else 'not set'}.")
    return "\n".join(lines)


def _suggestions(evaluation: Evaluation, context: CardContext) -> list[dict[str, Any]]:
    codes = {finding.code for finding in evaluation.findings}
    suggestions: list[dict[str, Any]] = []
    if codes & BLOOD_DRAW_FINDINGS:
        suggestions.append(
            {
                "label": "Order a CBC with differential",
                "uuid": context.new_uuid(),
                "isRecommended": True,
                "actions": [
                    {
                        "type": "create",
                        "description": "Order a CBC with differential for the ANC",
                        "resource": cbc_order(context.patient_id),
                    }
                ],
            }
        )
    stop = (
        FindingCode.INTERRUPT_RECOMMENDED in codes
        or evaluation.recommendation is Recommendation.DO_NOT_START
    )
    if context.hook == "order-sign" and stop and context.draft_orders:
        suggestions.append(
            {
                "label": "Remove the draft clozapine order",
                "uuid": context.new_uuid(),
                "isRecommended": False,
                "actions": [
                    {
                        "type": "delete",
                        "description": "Remove the draft clozapine order",
                        "resourceId": list(context.draft_orders),
                    }
                ],
            }
        )
    return suggestions


def cbc_order(patient_id: str) -> dict[str, Any]:
    """A draft ServiceRequest for a CBC with differential (LOINC 57021-8) for the patient."""
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": LOINC_CBC_WITH_DIFFERENTIAL,
                    "display": "CBC W Auto Differential panel - Blood",
                }
            ],
            "text": "CBC with differential",
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "reasonCode": [{"text": "Clozapine ANC monitoring"}],
    }
