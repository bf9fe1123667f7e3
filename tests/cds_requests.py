"""CDS Hooks requests for tests: a patient's Bundle split into the service's four prefetch keys."""

from __future__ import annotations

import uuid
from typing import Any

KEYS = {
    "MedicationRequest": "medications",
    "Medication": "medications",
    "PractitionerRole": "medications",
    "Practitioner": "medications",
    "Observation": "observations",
    "Condition": "conditions",
}


MATCHED = ("Patient", "MedicationRequest", "Observation", "Condition")


def searchset(resources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A searchset Bundle of these resources, or of these entries (with their fullUrl), included
    types marked `include`."""
    entries = []
    for item in resources:
        entry = item if "resource" in item else {"resource": item}
        mode = "match" if entry["resource"]["resourceType"] in MATCHED else "include"
        entries.append({**entry, "search": {"mode": mode}})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": sum(1 for e in entries if e["search"]["mode"] == "match"),
        "entry": entries,
        **extra,
    }


def prefetch_of(bundle: dict[str, Any]) -> dict[str, Any]:
    """The four prefetch keys of a Bundle holding one Patient and its records; entries keep
    their fullUrl (the Patient then comes as a searchset of one, to keep its own)."""
    grouped: dict[str, list[dict[str, Any]]] = {key: [] for key in set(KEYS.values())}
    patient = None
    for entry in bundle["entry"]:
        kept = {k: entry[k] for k in ("fullUrl", "resource") if k in entry}
        resource_type = entry["resource"]["resourceType"]
        if resource_type == "Patient":
            patient = kept
        elif resource_type in KEYS:
            grouped[KEYS[resource_type]].append(kept)
    assert patient is not None
    given = searchset([patient]) if "fullUrl" in patient else patient["resource"]
    return {"patient": given, **{key: searchset(found) for key, found in grouped.items()}}


def patient_id_of(bundle: dict[str, Any]) -> str:
    """The id of the Bundle's Patient."""
    return next(
        e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )


def hook_request(
    bundle: dict[str, Any] | None,
    hook: str = "patient-view",
    *,
    patient_id: str | None = None,
    drafts: list[dict[str, Any]] | None = None,
    selections: list[str] | None = None,
    prefetch: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A hook request for the Bundle's patient, its prefetch taken from the Bundle."""
    patient_id = patient_id or patient_id_of(bundle or {"entry": []})
    context: dict[str, Any] = {"userId": "Practitioner/dr-a", "patientId": patient_id}
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts or []],
        }
    if hook == "order-select":
        context["selections"] = (
            selections
            if selections is not None
            else [f"MedicationRequest/{d['id']}" for d in drafts or []]
        )
    request: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        **extra,
    }
    if prefetch is not None:
        request["prefetch"] = prefetch
    elif bundle is not None:
        request["prefetch"] = prefetch_of(bundle)
    return request


def clozapine_draft(order_id: str, patient_id: str, start: str | None = None) -> dict[str, Any]:
    """A draft clozapine MedicationRequest (RxNorm 2626), starting on `start` if given."""
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "2626"}],
            "text": "clozapine",
        },
    }
    if start is not None:
        order["dispenseRequest"] = {"validityPeriod": {"start": start}}
    return order
