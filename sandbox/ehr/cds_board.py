"""What the chart keeps of its CDS Hooks exchanges: the cards shown, drafted orders (in memory)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sandbox.ehr.engine import FhirJson

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CLOZAPINE_RXCUI = "2626"


@dataclass(slots=True)
class ShownCard:
    """One card the service returned, and what the user did with it."""

    card: dict[str, Any]
    service_id: str
    patient: str
    draft_id: str | None = None
    outcome: str | None = None  # "accepted" or "overridden"
    detail: str = ""  # what the action did (the ServiceRequest made, the draft removed)

    @property
    def uuid(self) -> str:
        return str(self.card.get("uuid", ""))

    @property
    def needs_decision(self) -> bool:
        """A critical card must be accepted or overridden before its order is signed."""
        return self.card.get("indicator") == "critical" and self.outcome is None


@dataclass(slots=True)
class Draft:
    """A clozapine order drafted in the chart, until it is signed or removed."""

    draft_id: str
    patient: str
    resource: FhirJson
    select_cards: list[str] = field(default_factory=list)
    sign_cards: list[str] = field(default_factory=list)
    signed: bool = False
    signed_as: str | None = None
    removed: bool = False


def clozapine_draft(
    draft_id: str, patient: str, practitioner: str, *, dose_mg: int, start: date, supply_days: int
) -> FhirJson:
    """The draft MedicationRequest the order form describes."""
    return {
        "resourceType": "MedicationRequest",
        "id": draft_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "requester": {"reference": f"Practitioner/{practitioner}"},
        "authoredOn": date.today().isoformat(),
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": CLOZAPINE_RXCUI, "display": "clozapine"}],
            "text": "clozapine",
        },
        "dosageInstruction": [
            {
                "text": f"clozapine {dose_mg} mg by mouth daily",
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": dose_mg,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
        "dispenseRequest": {
            "validityPeriod": {"start": start.isoformat()},
            "expectedSupplyDuration": {
                "value": supply_days,
                "unit": "days",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            },
        },
    }


class CdsBoard:
    """Cards by uuid and drafts by id, for the chart's pages and actions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cards: dict[str, ShownCard] = {}
        self._drafts: dict[str, Draft] = {}

    def add_cards(
        self,
        cards: list[dict[str, Any]],
        service_id: str,
        patient: str,
        draft_id: str | None = None,
    ) -> list[str]:
        """Keep the cards (each under its uuid, one given when the service gave none)."""
        kept = []
        with self._lock:
            for card in cards:
                if not isinstance(card.get("uuid"), str) or not card["uuid"]:
                    card = {**card, "uuid": f"sbx-{secrets.token_hex(8)}"}
                shown = ShownCard(card, service_id, patient, draft_id)
                self._cards[shown.uuid] = shown
                kept.append(shown.uuid)
        return kept

    def card(self, patient: str, card_uuid: str) -> ShownCard | None:
        with self._lock:
            found = self._cards.get(card_uuid)
        return found if found is not None and found.patient == patient else None

    def cards(self, uuids: list[str]) -> list[ShownCard]:
        with self._lock:
            return [self._cards[u] for u in uuids if u in self._cards]

    def add_draft(self, patient: str, resource: FhirJson) -> Draft:
        draft = Draft(str(resource["id"]), patient, resource)
        with self._lock:
            self._drafts[draft.draft_id] = draft
        return draft

    def draft(self, patient: str, draft_id: str) -> Draft | None:
        with self._lock:
            found = self._drafts.get(draft_id)
        return found if found is not None and found.patient == patient else None
