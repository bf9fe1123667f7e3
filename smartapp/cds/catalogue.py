"""The three services the app offers and their prefetch templates (discovery, cds-hooks.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fhir_mappings.settings import LocalCode
from smartapp.ehr.patient_reads import lab_code_query


@dataclass(frozen=True, slots=True)
class Service:
    """One CDS service: its id, the hook it answers and what it is for."""

    id: str
    hook: str
    title: str
    description: str


SERVICES: tuple[Service, ...] = (
    Service(
        "clozapine-anc-patient-view",
        "patient-view",
        "Clozapine ANC monitoring",
        "When a chart opens: whether the patient's clozapine ANC monitoring is up to date.",
    ),
    Service(
        "clozapine-anc-order-select",
        "order-select",
        "Clozapine ANC check on order selection",
        "When a clozapine order is picked: whether the ANC allows it.",
    ),
    Service(
        "clozapine-anc-order-sign",
        "order-sign",
        "Clozapine ANC check on order signing",
        "When orders are signed: whether the ANC allows the clozapine order.",
    ),
)
BY_ID = {service.id: service for service in SERVICES}
BY_HOOK = {service.hook: service for service in SERVICES}
PREFETCH_KEYS = ("patient", "medications", "observations", "conditions")


def prefetch_templates(local_anc_codes: Iterable[LocalCode] = ()) -> dict[str, str]:
    """The four prefetch templates: the same reads the page makes (smartapp.ehr.patient_reads)."""
    patient = "{{context.patientId}}"
    return {
        "patient": f"Patient/{patient}",
        "medications": (
            f"MedicationRequest?patient={patient}&_include=MedicationRequest:medication"
        ),
        "observations": (
            f"Observation?patient={patient}&code={lab_code_query(local_anc_codes)}"
            "&category=laboratory"
        ),
        "conditions": f"Condition?patient={patient}",
    }


def discovery(local_anc_codes: Iterable[LocalCode] = ()) -> dict[str, Any]:
    """The discovery document (`GET /cds-services`)."""
    prefetch = prefetch_templates(local_anc_codes)
    return {
        "services": [
            {
                "id": service.id,
                "hook": service.hook,
                "title": service.title,
                "description": service.description,
                "prefetch": prefetch,
            }
            for service in SERVICES
        ]
    }
