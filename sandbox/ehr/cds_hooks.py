"""One CDS Hooks call from the chart: its context built, its cards kept for the chart's pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.ehr.cds_board import Draft, ShownCard
from sandbox.ehr.cds_client import CdsUnavailable
from sandbox.ehr.engine import EngineError
from sandbox.ehr.services import EhrServices


@dataclass(frozen=True, slots=True)
class HookShown:
    """What one hook call gave the chart: its cards, or what went wrong."""

    cards: list[ShownCard]
    error: str | None = None


def user_of(ehr: EhrServices) -> str:
    return f"Practitioner/{ehr.default_practitioner()}"


def run_hook(ehr: EhrServices, hook: str, patient: str, draft: Draft | None = None) -> HookShown:
    """Call the service for `hook` and keep its cards; an error names what the EHR shows."""
    context: dict[str, Any] = {"userId": user_of(ehr), "patientId": patient}
    if draft is not None:
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": draft.resource}],
        }
        if hook == "order-select":
            context["selections"] = [f"MedicationRequest/{draft.draft_id}"]
    try:
        answer = ehr.cds.call(hook, context)
    except CdsUnavailable as error:
        return HookShown([], str(error))
    except EngineError:
        return HookShown([], "the EHR could not read the record to send to decision support")
    if answer is None:
        return HookShown([])
    kept = ehr.board.add_cards(
        answer.cards, answer.service_id, patient, draft.draft_id if draft else None
    )
    return HookShown(ehr.board.cards(kept))
