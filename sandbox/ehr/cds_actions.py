"""What the chart does when the user acts on a card: a suggestion's actions, then feedback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sandbox.ehr.cds_board import CdsBoard, Draft, ShownCard
from sandbox.ehr.engine import Engine, EngineError, FhirJson


class ActionRefused(ValueError):
    """The action cannot be done as asked; the message says why."""


def now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def suggestion_of(shown: ShownCard, suggestion_uuid: str) -> dict[str, Any]:
    for suggestion in shown.card.get("suggestions") or []:
        if isinstance(suggestion, dict) and suggestion.get("uuid") == suggestion_uuid:
            return suggestion
    raise ActionRefused("the card has no such suggestion")


def apply_suggestion(
    engine: Engine, board: CdsBoard, shown: ShownCard, suggestion: dict[str, Any], user: str
) -> str:
    """Do the suggestion's actions: a `create` is placed in the FHIR engine, a `delete` of the
    draft order removes it. What was done, in words."""
    done = []
    for action in suggestion.get("actions") or []:
        kind = action.get("type") if isinstance(action, dict) else None
        if kind == "create" and isinstance(action.get("resource"), dict):
            done.append(_create(engine, action["resource"], shown.patient, user))
        elif kind == "delete":
            done.append(_delete(board, shown, action.get("resourceId")))
        else:
            raise ActionRefused(f"the chart cannot do a {str(kind)[:20]!r} action")
    return "; ".join(done)


def _create(engine: Engine, resource: FhirJson, patient: str, user: str) -> str:
    subject = (resource.get("subject") or {}).get("reference")
    if subject != f"Patient/{patient}":
        raise ActionRefused("the suggested resource is for another patient")
    placed = {k: v for k, v in resource.items() if k != "id"}
    if placed.get("resourceType") == "ServiceRequest":
        # Accepting the suggestion signs the order: it is active, authored by the user now.
        placed.update(status="active", authoredOn=now_stamp(), requester={"reference": user})
    resource_type = str(placed.get("resourceType", ""))
    try:
        answer = engine.request(
            "POST",
            resource_type,
            body=json.dumps(placed).encode("utf-8"),
            headers={"Content-Type": "application/fhir+json"},
        )
    except EngineError as error:
        raise ActionRefused(str(error)) from None
    if answer.status_code not in (200, 201):
        raise ActionRefused(f"the FHIR engine refused the {resource_type} ({answer.status_code})")
    created = answer.json()
    return f"created {resource_type}/{created.get('id')}"


def _delete(board: CdsBoard, shown: ShownCard, targets: object) -> str:
    if shown.draft_id is None:
        raise ActionRefused("the card is not about a draft order")
    draft = board.draft(shown.patient, shown.draft_id)
    wanted = {str(t) for t in targets} if isinstance(targets, list) else set()
    if draft is None or f"MedicationRequest/{draft.draft_id}" not in wanted:
        raise ActionRefused("the suggestion does not name the draft order")
    draft.removed = True
    return f"removed the draft order MedicationRequest/{draft.draft_id}"


def sign_draft(engine: Engine, draft: Draft) -> str:
    """The signed order, placed in the FHIR engine as an active MedicationRequest."""
    resource = {k: v for k, v in draft.resource.items() if k != "id"}
    resource["status"] = "active"
    try:
        answer = engine.request(
            "POST",
            "MedicationRequest",
            body=json.dumps(resource).encode("utf-8"),
            headers={"Content-Type": "application/fhir+json"},
        )
    except EngineError as error:
        raise ActionRefused(str(error)) from None
    if answer.status_code not in (200, 201):
        raise ActionRefused(f"the FHIR engine refused the order ({answer.status_code})")
    return f"MedicationRequest/{answer.json().get('id')}"


def accepted_feedback(shown: ShownCard, suggestion_uuid: str) -> dict[str, Any]:
    return {
        "card": shown.uuid,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion_uuid}],
        "outcomeTimestamp": now_stamp(),
    }


def override_feedback(shown: ShownCard, reason_code: str, comment: str) -> dict[str, Any]:
    """The feedback of an override; a card offering reasons needs one of them, any other card a
    comment saying why."""
    offered = [r for r in shown.card.get("overrideReasons") or [] if isinstance(r, dict)]
    override: dict[str, Any] = {}
    if offered:
        reason = next((r for r in offered if r.get("code") == reason_code), None)
        if reason is None:
            raise ActionRefused("choose one of the card's override reasons")
        override["reason"] = reason
    elif not comment.strip():
        raise ActionRefused("say why the card is overridden")
    if comment.strip():
        override["userComment"] = comment.strip()[:1000]
    return {
        "card": shown.uuid,
        "outcome": "overridden",
        "overrideReason": override,
        "outcomeTimestamp": now_stamp(),
    }
