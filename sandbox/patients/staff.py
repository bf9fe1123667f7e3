"""The sandbox's prescribers, their roles, the clinic and the pharmacies that orders name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.patients import codes
from sandbox.patients.clinical import Prescriber, medication
from sandbox.patients.labs import instant

FhirJson = dict[str, Any]

CLINIC_ID = "sbx-clinic"
CLINIC_NAME = "Sandbox Behavioral Health Clinic"
SHARED_MEDICATION_ID = "sbx-med-clozapine-100"
PSYCHIATRY = {
    "system": "http://nucc.org/provider-taxonomy",
    "code": "2084P0800X",
    "display": "Psychiatry",
}


@dataclass(frozen=True, slots=True)
class Clinician:
    """A prescriber; with `role_id`, orders name the PractitionerRole, not the Practitioner."""

    practitioner_id: str
    family: str
    given: str
    role_id: str | None = None

    @property
    def display(self) -> str:
        return f"{self.family}, {self.given}"


@dataclass(frozen=True, slots=True)
class Pharmacy:
    organization_id: str
    name: str


CLINICIANS = (
    Clinician("sbx-dr-ada", "Sandbox-Prescriber", "Ada"),
    Clinician("sbx-dr-bo", "Sandbox-Prescriber", "Bo", role_id="sbx-role-bo"),
    Clinician("sbx-dr-cy", "Sandbox-Prescriber", "Cy", role_id="sbx-role-cy"),
)
PHARMACIES = (
    Pharmacy("sbx-pharmacy-main", "Sandbox Community Pharmacy"),
    Pharmacy("sbx-pharmacy-outpatient", "Sandbox Outpatient Pharmacy"),
)


def prescriber(index: int) -> Prescriber:
    """The prescriber and pharmacy for the index-th patient (round robin)."""
    clinician = CLINICIANS[index % len(CLINICIANS)]
    pharmacy = PHARMACIES[index % len(PHARMACIES)]
    requester = (
        f"PractitionerRole/{clinician.role_id}"
        if clinician.role_id
        else f"Practitioner/{clinician.practitioner_id}"
    )
    return Prescriber(
        practitioner=f"Practitioner/{clinician.practitioner_id}",
        requester=requester,
        requester_display=clinician.display,
        pharmacy=f"Organization/{pharmacy.organization_id}",
        pharmacy_display=pharmacy.name,
    )


def _identifier(value: str) -> list[FhirJson]:
    return [{"system": codes.STAFF_ID_SYSTEM, "value": value}]


def _organization(org_id: str, name: str, kind: str, updated: str) -> FhirJson:
    org_type = "http://terminology.hl7.org/CodeSystem/organization-type"
    return {
        "resourceType": "Organization",
        "id": org_id,
        "meta": {"versionId": "1", "lastUpdated": updated},
        "identifier": _identifier(org_id),
        "active": True,
        "type": [
            {
                "coding": [{"system": org_type, "code": "prov", "display": "Healthcare Provider"}],
                "text": kind,
            }
        ],
        "name": name,
    }


def _practitioner(clinician: Clinician, updated: str) -> FhirJson:
    return {
        "resourceType": "Practitioner",
        "id": clinician.practitioner_id,
        "meta": {"versionId": "1", "lastUpdated": updated},
        "identifier": _identifier(clinician.practitioner_id),
        "active": True,
        "name": [
            {
                "use": "official",
                "text": clinician.display,
                "family": clinician.family,
                "given": [clinician.given],
            }
        ],
    }


def _role(clinician: Clinician, role_id: str, updated: str) -> FhirJson:
    role_system = "http://terminology.hl7.org/CodeSystem/practitioner-role"
    return {
        "resourceType": "PractitionerRole",
        "id": role_id,
        "meta": {"versionId": "1", "lastUpdated": updated},
        "active": True,
        "practitioner": {
            "reference": f"Practitioner/{clinician.practitioner_id}",
            "display": clinician.display,
        },
        "organization": {"reference": f"Organization/{CLINIC_ID}"},
        "code": [
            {
                "coding": [{"system": role_system, "code": "doctor", "display": "Doctor"}],
                "text": "Prescriber",
            }
        ],
        "specialty": [{"coding": [PSYCHIATRY], "text": "Psychiatry"}],
    }


def staff_resources(updated_at: datetime) -> list[FhirJson]:
    """Organizations, Practitioners, PractitionerRoles and the shared Medication."""
    updated = instant(updated_at)
    resources = [_organization(CLINIC_ID, CLINIC_NAME, "Clinic", updated)]
    resources += [_organization(p.organization_id, p.name, "Pharmacy", updated) for p in PHARMACIES]
    for clinician in CLINICIANS:
        resources.append(_practitioner(clinician, updated))
        if clinician.role_id:
            resources.append(_role(clinician, clinician.role_id, updated))
    shared = medication(SHARED_MEDICATION_ID, codes.CLOZAPINE_100)
    resources.append({**shared, "meta": {"versionId": "1", "lastUpdated": updated}})
    return resources
