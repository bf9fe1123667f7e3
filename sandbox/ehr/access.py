"""Scope enforcement for FHIR calls: which interaction a call is, and whether the token allows it.

Patient-level scopes (`patient/...`) confine the token to the launch patient's compartment: a
Patient read must be of that patient, a search must name that patient (`patient=`/`subject=`),
a read or write must reference that patient. User-level scopes are not confined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sandbox.ehr.scopes import Interaction, ResourceScope

FhirJson = dict[str, Any]

# Resource types whose instances belong to one patient (R4 Patient compartment, plus Task by
# `Task.for`), and the elements that name that patient.
COMPARTMENT_TYPES = frozenset(
    {
        "AllergyIntolerance", "Appointment", "CarePlan", "CareTeam", "Claim", "Communication",
        "CommunicationRequest", "Composition", "Condition", "Consent", "Coverage",
        "DetectedIssue", "DeviceRequest", "DiagnosticReport", "DocumentReference", "Encounter",
        "EpisodeOfCare", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal",
        "ImagingStudy", "Immunization", "List", "MedicationAdministration",
        "MedicationDispense", "MedicationRequest", "MedicationStatement", "NutritionOrder",
        "Observation", "Procedure", "QuestionnaireResponse", "RelatedPerson", "RiskAssessment",
        "ServiceRequest", "Specimen", "Task",
    }
)  # fmt: skip
PATIENT_ELEMENTS = ("subject", "patient", "for", "beneficiary")
PATIENT_SEARCH_PARAMS = frozenset({"patient", "subject", "for"})
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class Unsupported(ValueError):
    """A request the sandbox proxy does not pass on (batch, whole-system, conditional ...)."""


class Denied(PermissionError):
    """The token's scopes do not allow this call; the message says why."""


class Check(Enum):
    """What remains to check once the scopes allow a call."""

    NONE = "none"
    RESULT_IN_COMPARTMENT = "result"  # read: the answer must be the patient's
    EXISTING_IN_COMPARTMENT = "existing"  # update/delete: the stored resource must be the patient's


@dataclass(frozen=True, slots=True)
class FhirCall:
    """One FHIR REST call, classified."""

    resource_type: str
    resource_id: str | None
    interaction: Interaction
    params: dict[str, list[str]]
    body: FhirJson | None = None


def classify(method: str, segments: list[str]) -> tuple[str, str | None, Interaction]:
    """Resource type, id and interaction of `METHOD /fhir/<segments>`; Unsupported otherwise."""
    if not segments or not _RESOURCE_TYPE.match(segments[0]):
        raise Unsupported("Only type and instance interactions pass through the sandbox proxy")
    resource_type, rest = segments[0], segments[1:]
    if not rest:
        if method == "GET":
            return resource_type, None, Interaction.SEARCH
        if method == "POST":
            return resource_type, None, Interaction.CREATE
    elif rest == ["_search"] and method == "POST":
        return resource_type, None, Interaction.SEARCH
    elif _ID.match(rest[0]) and not rest[0].startswith(("_", "$")):
        resource_id, tail = rest[0], rest[1:]
        if not tail:
            by_method = {
                "GET": Interaction.READ,
                "PUT": Interaction.UPDATE,
                "PATCH": Interaction.UPDATE,
                "DELETE": Interaction.DELETE,
            }
            if method in by_method:
                return resource_type, resource_id, by_method[method]
        elif method == "GET" and (tail[0] == "_history" or tail[0].startswith("$")):
            return resource_type, resource_id, Interaction.READ
    raise Unsupported(f"{method} on this path is not supported by the sandbox proxy")


def check_access(scopes: Iterable[ResourceScope], patient: str | None, call: FhirCall) -> Check:
    """Whether the scopes allow the call; raise Denied with the reason if they do not."""
    granting = [
        scope
        for scope in scopes
        if scope.grants(call.resource_type, call.interaction) and _query_allows(scope, call)
    ]
    if not granting:
        raise Denied(
            f"The granted scopes do not allow {call.interaction.name.lower()} "
            f"on {call.resource_type}"
        )
    if any(not scope.is_patient for scope in granting):
        return Check.NONE
    if patient is None:
        raise Denied("Patient-level scopes need a patient in context")
    if call.resource_type == "Patient":
        return _check_patient_resource(patient, call)
    if call.resource_type not in COMPARTMENT_TYPES:
        return Check.NONE
    if call.interaction is Interaction.SEARCH:
        if not searches_patient(call.params, patient):
            raise Denied("A patient-level search must name the patient in context (patient=)")
        return Check.NONE
    if call.interaction in (Interaction.CREATE, Interaction.UPDATE):
        if call.body is None or not in_compartment(call.body, patient):
            raise Denied("A patient-level write must reference the patient in context")
    if call.interaction is Interaction.CREATE:
        return Check.NONE
    if call.interaction is Interaction.READ:
        return Check.RESULT_IN_COMPARTMENT
    return Check.EXISTING_IN_COMPARTMENT


def _check_patient_resource(patient: str, call: FhirCall) -> Check:
    if call.interaction is Interaction.SEARCH:
        ids = [v for value in call.params.get("_id", []) for v in value.split(",")]
        if not ids or any(item != patient for item in ids):
            raise Denied("A patient-level Patient search must be for the patient in context")
        return Check.NONE
    if call.interaction is Interaction.CREATE or call.resource_id != patient:
        raise Denied("Patient-level scopes reach only the patient in context")
    return Check.NONE


def _query_allows(scope: ResourceScope, call: FhirCall) -> bool:
    """A v2 scope with `?param=value` grants only searches carrying those parameters."""
    if not scope.query:
        return True
    if call.interaction is not Interaction.SEARCH:
        return False
    return all(value in call.params.get(name, []) for name, value in scope.query)


def patient_id_of(reference: str) -> str | None:
    """The id in a Patient reference (`Patient/1`, `https://x/fhir/Patient/1/_history/2`)."""
    parts = reference.split("/")
    for index, part in enumerate(parts[:-1]):
        if part == "Patient":
            return parts[index + 1] or None
    return None


def searches_patient(params: dict[str, list[str]], patient: str) -> bool:
    """Whether the search names the patient through a patient parameter, and no other."""
    values = [
        item
        for name, given in params.items()
        if name.split(":")[0] in PATIENT_SEARCH_PARAMS
        for value in given
        for item in value.split(",")
    ]
    if not values:
        return False
    return all((patient_id_of(v) if "/" in v else v) == patient for v in values)


def in_compartment(resource: FhirJson, patient: str) -> bool:
    """Whether a resource references the patient, and no other patient, where it names one."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") == patient
    named = []
    for element in PATIENT_ELEMENTS:
        value = resource.get(element)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("reference"), str):
                found = patient_id_of(item["reference"])
                if found is not None:
                    named.append(found)
    return bool(named) and all(found == patient for found in named)


def bundle_in_compartment(bundle: FhirJson, patient: str) -> bool:
    resources = [e.get("resource") for e in bundle.get("entry", []) if e.get("resource")]
    return all(in_compartment(resource, patient) for resource in resources)


def readable_includes(
    bundle: FhirJson, scopes: Iterable[ResourceScope], patient: str | None
) -> FhirJson:
    """A searchset without the `include` entries the scopes could not have read on their own.

    `_include` must not widen a token's reach: an included resource stays only where a read of it
    would have been allowed (by type, and for patient scopes, in the patient's compartment).
    """
    scopes = list(scopes)

    def readable(resource: FhirJson) -> bool:
        granting = [
            s for s in scopes if s.grants(resource.get("resourceType", ""), Interaction.READ)
        ]
        if any(not scope.is_patient for scope in granting):
            return True
        if not granting or patient is None:
            return False
        kind = resource.get("resourceType")
        if kind == "Patient" or kind in COMPARTMENT_TYPES:
            return in_compartment(resource, patient)
        return True

    entries = [
        entry
        for entry in bundle.get("entry", [])
        if (entry.get("search") or {}).get("mode") != "include"
        or readable(entry.get("resource") or {})
    ]
    return {**bundle, "entry": entries}
