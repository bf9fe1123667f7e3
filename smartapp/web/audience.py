"""Whose pages a launch session may open: a patient's or caregiver's session is the portal's.

A patient portal signs in the patient (fhirUser a Patient) or a proxy (fhirUser a
RelatedPerson). Such a session opens the patient view only: never the chart, write-back, the
program's forms or the registry administration, whatever its scopes would allow.
"""

from __future__ import annotations

from clozapine.registry import normalise_reference
from smartapp.errors import Forbidden

PORTAL_USER_TYPES = ("Patient", "RelatedPerson")
CARE_TEAM_ONLY = "This page is for the care team. Patients and caregivers use the patient portal."


def portal_user(fhir_user: str | None) -> str | None:
    """The signed-in user as `Patient/x` or `RelatedPerson/y`, else None (a practitioner)."""
    reference = normalise_reference(fhir_user) if fhir_user else None
    if reference and reference.split("/", 1)[0] in PORTAL_USER_TYPES:
        return reference
    return None


def refuse_portal_user(fhir_user: str | None) -> None:
    """Forbidden when a patient or caregiver signed in: the page is the care team's."""
    if portal_user(fhir_user) is not None:
        raise Forbidden(CARE_TEAM_ONLY)
