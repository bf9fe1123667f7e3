"""Who is reading the patient view: the patient, or a caregiver linked to the patient.

A portal signs in the patient (fhirUser a Patient) or a proxy (fhirUser a RelatedPerson whose
`patient` is the launch's patient): SMART App Launch 2.2, "fhirUser"
(https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html). Anyone else, a
practitioner included, is refused here: the chart is their view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clozapine.registry import normalise_reference
from fhir_client import FhirError
from fhir_mappings.person_name import person_name
from smartapp.errors import Forbidden
from smartapp.web.audience import portal_user

NOT_FOR_YOU = (
    "This page is for the patient and their caregivers. Care team members open the app "
    "from the patient's chart."
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in reader: `caregiver_name` is set (possibly empty) only for a caregiver."""

    is_caregiver: bool
    caregiver_name: str = ""


def identify_viewer(fhir_user: str | None, patient_id: str, read: Any) -> Viewer:
    """The Viewer, or Forbidden unless the user is this patient or a caregiver linked to them.

    `read(resource_type, id)` reads from the EHR with the launch's token."""
    reference = portal_user(fhir_user)
    if reference is None:
        raise Forbidden(NOT_FOR_YOU)
    resource_type, user_id = reference.split("/", 1)
    if resource_type == "Patient":
        if user_id != patient_id:
            raise Forbidden(NOT_FOR_YOU)
        return Viewer(is_caregiver=False)
    try:
        person = read("RelatedPerson", user_id)
    except FhirError:
        raise Forbidden(
            "The app could not check that you are this patient's caregiver. "
            "Open the app again from the patient portal."
        ) from None
    linked = normalise_reference(str((person.get("patient") or {}).get("reference", "")))
    if person.get("resourceType") != "RelatedPerson" or linked != f"Patient/{patient_id}":
        raise Forbidden(NOT_FOR_YOU)
    if person.get("active") is False:  # the EHR ended this person's proxy access
        raise Forbidden(NOT_FOR_YOU)
    return Viewer(is_caregiver=True, caregiver_name=person_name(person))
