"""Outbound resources checked against fhir.resources' R4B models before they are sent.

R4B is close enough to R4 for Flag, Task, DocumentReference and Communication (style.md). The
check catches unknown elements, wrong types and missing required elements; a failure is a
programming error, reported without the resource's values (they may hold patient data).
"""

from __future__ import annotations

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.task import Task
from pydantic import BaseModel, ValidationError

from fhir_mappings.fhir_json import FhirJson
from smartapp.errors import SmartAppError

MODELS: dict[str, type[BaseModel]] = {
    "Flag": Flag,
    "Task": Task,
    "DocumentReference": DocumentReference,
    "Communication": Communication,
}


class OutboundInvalid(SmartAppError):
    """The app built a resource that is not valid FHIR (a bug in the builders)."""

    status = 500
    error = "outbound_invalid"


def validate_outbound(resource: FhirJson) -> FhirJson:
    """The resource itself, once its R4B model accepts it; OutboundInvalid otherwise."""
    resource_type = resource.get("resourceType")
    model = MODELS.get(resource_type) if isinstance(resource_type, str) else None
    if model is None:
        raise OutboundInvalid(f"the app does not write {resource_type!r} resources")
    try:
        model.model_validate(resource)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['type']}"
            for issue in error.errors(include_input=False, include_url=False)
        )
        raise OutboundInvalid(f"the app built an invalid {resource_type}: {problems}") from None
    return resource
