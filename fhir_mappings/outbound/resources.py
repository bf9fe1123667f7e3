"""Write-back targets to FHIR resources: Flag, Task, DocumentReference, Communication.

Pure functions (no I/O, no clock: the write time comes in). Shapes follow clozapine-monitoring.md
section 5.4 and the codes of section 4.6; each resource carries its target's identifier
(`fhir_mappings.outbound.targets`). Retiring and reopening change only the status, the Flag's
period and the Task's business status.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

from clozapine import Evaluation, Finding
from clozapine.registry import normalise_reference
from clozapine.vocabulary import FindingCode, Severity
from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.outbound.targets import (
    ENROLLMENT_FINDINGS,
    FINDING_TEXTS,
    LAB_FINDINGS,
    WritebackTarget,
)

FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
LOINC = "http://loinc.org"
DOCUMENT_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
URI_IDENTIFIER = "urn:ietf:rfc:3986"
FINDING_CODE_SYSTEM = "urn:smartapp:clozapine-monitoring:finding"
TASK_INTENTS = ("proposal", "order")
RETIRED_STATUS = {"Flag": "inactive", "Task": "completed"}
OPEN_STATUS = {"Flag": "active", "Task": "requested"}


@dataclass(frozen=True, slots=True)
class Authorship:
    """Who writes, when, under which codes, about which order, with which Task intent."""

    author: FhirJson
    written_at: datetime
    code_system: str = FINDING_CODE_SYSTEM
    medication_request: str | None = None
    task_intent: str = "proposal"


def app_device(base_url: str) -> FhirJson:
    """The app as a logical Device reference (no Device resource needs to exist in the EHR)."""
    return {
        "type": "Device",
        "identifier": {"system": URI_IDENTIFIER, "value": base_url},
        "display": "Clozapine monitoring app",
    }


def practitioner_reference(fhir_user: str | None) -> FhirJson | None:
    """The signed-in user as a relative reference, when the user is a Practitioner(Role)."""
    if not fhir_user:
        return None
    reference = normalise_reference(fhir_user)
    kind = reference.split("/", 1)[0]
    return {"reference": reference} if kind in ("Practitioner", "PractitionerRole") else None


def current_order_reference(evaluation: Evaluation) -> str | None:
    """The current clozapine MedicationRequest (the engine's current order), if it has an id."""
    order = evaluation.standing.order if evaluation.standing is not None else None
    source = order.source if order is not None else None
    return source if source and source.startswith("MedicationRequest/") else None


def _finding_concept(target: WritebackTarget, authorship: Authorship) -> FhirJson:
    coding = {"system": authorship.code_system, "code": target.finding.code}
    return {"coding": [{**coding, "display": target.title}], "text": target.finding.message}


def _priority(finding: Finding) -> str:
    if finding.severity is Severity.CRITICAL:
        return "stat"
    return (
        "urgent"
        if finding.code in (FindingCode.MONITORING_DUE, FindingCode.ANC_TOO_OLD_TO_DISPENSE)
        else "routine"
    )


def _note_text(target: WritebackTarget, authorship: Authorship) -> str:
    finding = target.finding
    lines = [f"Clozapine monitoring: {target.title}", finding.message]
    if finding.code in LAB_FINDINGS:
        lines.append(f"ANC due by {target.period.due_on.isoformat()}.")
    lines.append(f"Rule {finding.rule}; {finding.citation}.")
    written_on = authorship.written_at.date().isoformat()
    lines.append(f"Written by the clozapine monitoring app on {written_on}.")
    return "\n".join(lines)


def flag_from_target(target: WritebackTarget, authorship: Authorship) -> FhirJson:
    """An active Flag: category lab (monitoring, clinical) or admin (enrollment)."""
    admin = target.finding.code in ENROLLMENT_FINDINGS
    category = {
        "system": FLAG_CATEGORY,
        "code": "admin" if admin else "lab",
        "display": "Administrative" if admin else "Lab",
    }
    return {
        "resourceType": "Flag",
        "identifier": [target.identifier],
        "status": "active",
        "category": [{"coding": [category]}],
        "code": _finding_concept(target, authorship),
        "subject": {"reference": target.patient},
        "period": {"start": target.period.start_on.isoformat()},
        "author": authorship.author,
    }


def task_from_target(target: WritebackTarget, authorship: Authorship) -> FhirJson:
    """A requested Task (code fulfill) for the patient, due by the finding's due date."""
    if authorship.task_intent not in TASK_INTENTS:
        raise ValueError(f"task intent must be one of {TASK_INTENTS}")
    finding = target.finding
    template = FINDING_TEXTS.get(finding.code, ("", finding.message))[1]
    task: FhirJson = {
        "resourceType": "Task",
        "identifier": [target.identifier],
        "status": "requested",
        "intent": authorship.task_intent,
        "priority": _priority(finding),
        "code": {"coding": [{"system": TASK_CODE, "code": "fulfill"}]},
        "description": template.format(due_on=target.period.due_on.isoformat()),
        "for": {"reference": target.patient},
        "authoredOn": authorship.written_at.isoformat(timespec="seconds"),
        "requester": authorship.author,
        "reasonCode": _finding_concept(target, authorship),
        "restriction": {"period": {"end": target.period.due_on.isoformat()}},
        "note": [{"text": f"{finding.message} Rule {finding.rule}; {finding.citation}."}],
    }
    if target.business_status:
        task["businessStatus"] = {"text": target.business_status}
    if authorship.medication_request:
        task["reasonReference"] = {"reference": authorship.medication_request}
    return task


def note_from_target(target: WritebackTarget, authorship: Authorship) -> FhirJson:
    """A DocumentReference administrative note (LOINC 51851-4) holding the finding as text."""
    text = _note_text(target, authorship).encode("utf-8")
    note: FhirJson = {
        "resourceType": "DocumentReference",
        "identifier": [target.identifier],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC, "code": "51851-4", "display": "Administrative note"}],
            "text": "Administrative note",
        },
        "category": [
            {"coding": [{"system": DOCUMENT_CATEGORY, "code": "clinical-note"}]},
        ],
        "subject": {"reference": target.patient},
        "date": authorship.written_at.isoformat(timespec="seconds"),
        "author": [authorship.author],
        "description": target.title,
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(text).decode("ascii"),
                    "title": target.title,
                }
            }
        ],
    }
    if authorship.medication_request:
        note["context"] = {"related": [{"reference": authorship.medication_request}]}
    return note


def communication_from_target(target: WritebackTarget, authorship: Authorship) -> FhirJson:
    """A completed Communication about the patient carrying the finding as its message."""
    communication: FhirJson = {
        "resourceType": "Communication",
        "identifier": [target.identifier],
        "status": "completed",
        "category": [{"text": "Clozapine monitoring"}],
        "priority": _priority(target.finding),
        "subject": {"reference": target.patient},
        "sent": authorship.written_at.isoformat(timespec="seconds"),
        "sender": authorship.author,
        "reasonCode": [_finding_concept(target, authorship)],
        "payload": [{"contentString": _note_text(target, authorship)}],
    }
    if authorship.medication_request:
        communication["about"] = [{"reference": authorship.medication_request}]
    return communication


BUILDERS = {
    "Flag": flag_from_target,
    "Task": task_from_target,
    "DocumentReference": note_from_target,
    "Communication": communication_from_target,
}


def resource_from_target(
    resource_type: str, target: WritebackTarget, authorship: Authorship
) -> FhirJson:
    """The resource of this type for a target; ValueError for a type the app does not write."""
    builder = BUILDERS.get(resource_type)
    if builder is None:
        raise ValueError(f"the app does not write {resource_type}")
    return builder(target, authorship)


def retired_resource(resource_json: FhirJson, *, on: date, at: datetime, reason: str) -> FhirJson:
    """A Flag set inactive (period ended) or a Task completed, as read back; `meta` left out."""
    resource = {key: value for key, value in resource_json.items() if key != "meta"}
    kind = resource.get("resourceType")
    if kind == "Flag":
        period = dict(resource.get("period") or {})
        start = str(period.get("start", ""))[:10]
        period["end"] = max(start, on.isoformat()) if start else on.isoformat()
        resource.update(status=RETIRED_STATUS["Flag"], period=period)
    elif kind == "Task":
        resource.update(
            status=RETIRED_STATUS["Task"],
            businessStatus={"text": reason},
            lastModified=at.isoformat(timespec="seconds"),
        )
    else:
        raise ValueError(f"only a Flag or a Task is retired, not {kind}")
    return resource


def reopened_resource(resource_json: FhirJson, *, reason: str) -> FhirJson:
    """A retired Flag active again (period open) or a Task requested again; `meta` left out."""
    resource = {key: value for key, value in resource_json.items() if key != "meta"}
    kind = resource.get("resourceType")
    if kind == "Flag":
        period = {k: v for k, v in (resource.get("period") or {}).items() if k != "end"}
        resource.update(status=OPEN_STATUS["Flag"], period=period)
    elif kind == "Task":
        resource.update(status=OPEN_STATUS["Task"], businessStatus={"text": reason})
    else:
        raise ValueError(f"only a Flag or a Task is reopened, not {kind}")
    return resource
