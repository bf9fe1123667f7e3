"""Feedback on cards (`POST /cds-services/{id}/feedback`): read it, record it in the audit trail.

Each outcome is one audit event at the card's EHR: `cds.feedback.accepted` with the accepted
suggestions, `cds.feedback.overridden` with the reason and the comment, or
`cds.feedback.unknown-card` for a card id the service did not answer with (the EHR may retry, so
it is answered 200 all the same). The user and the patient are those the card was shown for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartapp.db.audit import AuditEvent
from smartapp.db.cds_store import CardStore, IssuedCard

OUTCOMES = frozenset({"accepted", "overridden"})
MAX_COMMENT = 1000


class FeedbackError(Exception):
    """Malformed feedback (400)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One feedback item."""

    card: str
    outcome: str
    accepted: tuple[str, ...]
    reason: dict[str, Any] | None
    comment: str | None
    outcome_at: str | None


def read_feedback(body: object) -> list[Outcome]:
    """The items of a feedback body; FeedbackError when it is not CDS Hooks 2.0 feedback."""
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise FeedbackError("the body has no feedback list")
    return [_item(number, item) for number, item in enumerate(items, start=1)]


def _item(number: int, item: object) -> Outcome:
    if not isinstance(item, dict):
        raise FeedbackError(f"feedback {number} is not an object")
    card, outcome = item.get("card"), item.get("outcome")
    if not isinstance(card, str) or not card:
        raise FeedbackError(f"feedback {number} names no card")
    if outcome not in OUTCOMES:
        raise FeedbackError(f"feedback {number}: outcome must be accepted or overridden")
    accepted = item.get("acceptedSuggestions", [])
    if not isinstance(accepted, list) or not all(
        isinstance(a, dict) and isinstance(a.get("id"), str) for a in accepted
    ):
        raise FeedbackError(f"feedback {number}: acceptedSuggestions must list {{id}} objects")
    if outcome == "accepted" and not accepted:
        raise FeedbackError(f"feedback {number}: an accepted card names its suggestions")
    override = item.get("overrideReason")
    if override is not None and not isinstance(override, dict):
        raise FeedbackError(f"feedback {number}: overrideReason is not an object")
    reason = (override or {}).get("reason")
    comment = (override or {}).get("userComment")
    if reason is not None and not (
        isinstance(reason, dict) and isinstance(reason.get("code"), str)
    ):
        raise FeedbackError(f"feedback {number}: overrideReason.reason is not a Coding")
    if comment is not None and not isinstance(comment, str):
        raise FeedbackError(f"feedback {number}: overrideReason.userComment is not text")
    at = item.get("outcomeTimestamp")
    return Outcome(
        card,
        outcome,
        tuple(a["id"] for a in accepted),
        {k: reason[k] for k in ("system", "code", "display") if isinstance(reason.get(k), str)}
        if reason
        else None,
        comment[:MAX_COMMENT] if comment else None,
        at if isinstance(at, str) else None,
    )


def feedback_event(
    outcome: Outcome,
    card: IssuedCard | None,
    *,
    iss: str,
    service: str,
    client: str,
    at: datetime,
    request_id: str | None,
) -> AuditEvent:
    """The audit event one outcome is recorded as."""
    after: dict[str, Any] = {"card": outcome.card, "service": service, "outcome": outcome.outcome}
    if outcome.outcome_at:
        after["outcome_at"] = outcome.outcome_at[:40]
    if outcome.accepted:
        after["suggestions"] = list(outcome.accepted)
    if outcome.reason:
        after["reason"] = outcome.reason
    if outcome.comment:
        after["comment"] = outcome.comment
    if card is None:
        return AuditEvent(
            actor=f"CDS client {client}",
            action="cds.feedback.unknown-card",
            target=f"card {outcome.card[:64]}",
            iss=iss,
            after=after,
            request_id=request_id,
            at=at,
        )
    after["findings"] = list(card.findings)
    if card.findings:
        after["finding"] = card.findings[0].split("/", 1)[0]
    return AuditEvent(
        actor=card.user or f"CDS client {client}",
        action=f"cds.feedback.{outcome.outcome}",
        target=card.patient,
        iss=iss,
        after=after,
        request_id=request_id,
        at=at,
    )


def record_feedback(
    cards: CardStore,
    record: Any,
    outcomes: list[Outcome],
    *,
    iss: str,
    service: str,
    client: str,
    at: datetime,
    request_id: str | None,
) -> None:
    """Record every outcome; an override of a card with findings also silences patient-view
    for those findings."""
    for outcome in outcomes:
        card = cards.get(iss, outcome.card)
        if card is not None and card.service != service:
            card = None  # feedback names a card of another service: not this service's card
        record(
            feedback_event(
                outcome, card, iss=iss, service=service, client=client, at=at, request_id=request_id
            )
        )
        # A card about data that could not be read has no findings: overriding it silences
        # nothing, so the next chart open asks again.
        if card is not None and outcome.outcome == "overridden" and card.findings:
            cards.mark_overridden(iss, card.uuid, at)
