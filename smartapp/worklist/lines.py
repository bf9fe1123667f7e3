"""What one export line is: a Patient, a patient's resource, a shared resource, or unusable.

A first, light reading: only `resourceType`, `id`, `subject` and `patient` are decoded (msgspec
skips the rest, still checking it is JSON); the whole resource is read exactly later, with the
patient's other resources. Ownership follows the Bundle's rule (`fhir_mappings.references`): the
`subject` reference, else `patient`, as "Patient/id" once normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import msgspec

from clozapine.registry import normalise_reference
from fhir_mappings import JsonReadError, read_json
from fhir_mappings.fhir_json import identifier, reference, text

# Resources a patient's orders name by reference, resolved across the export's files.
SHARED_TYPES = frozenset({"Medication", "Practitioner", "PractitionerRole", "Organization"})


class Kind(Enum):
    PATIENT = "patient"
    OWNED = "owned"  # a resource naming a Patient
    SHARED = "shared"  # a Medication, Practitioner, PractitionerRole or Organization with an id
    IGNORED = "ignored"  # a resource naming no Patient (the Bundle rule: not a patient's)
    OUTCOME = "outcome"  # an OperationOutcome: the server reporting a problem in the export
    UNUSABLE = "unusable"  # not JSON, or not a resource


@dataclass(frozen=True, slots=True)
class Line:
    """One line read lightly: its kind, and the key it is stored under (a reference)."""

    kind: Kind
    key: str = ""
    reason: str = ""


class _Head(msgspec.Struct):
    resourceType: Any = None
    id: Any = None
    subject: Any = None
    patient: Any = None


_HEAD = msgspec.json.Decoder(_Head)
_IGNORED = Line(Kind.IGNORED)
_NOT_AN_OBJECT = Line(Kind.UNUSABLE, reason="not a FHIR resource (not a JSON object)")


def classify(line: bytes) -> Line:
    """The line's kind and key; never raises."""
    try:
        head = _HEAD.decode(line)
    except msgspec.ValidationError:
        return _NOT_AN_OBJECT
    except (msgspec.DecodeError, UnicodeError, RecursionError):
        # What msgspec refuses the exact reader may still take (see `read_json`): its verdict.
        try:
            tree = read_json(line)
        except JsonReadError as exc:
            return Line(Kind.UNUSABLE, reason=f"not valid JSON ({exc})")
        if not isinstance(tree, dict):
            return _NOT_AN_OBJECT
        head = _Head(
            tree.get("resourceType"), tree.get("id"), tree.get("subject"), tree.get("patient")
        )
    return _kind(head)


# The usual line names its patient as the lines before it did: its verdict is kept by the
# reference as written, for resource types already seen to need no other reading.
_OWNERS: dict[str, Line] = {}
_OWNABLE: set[str] = set()
_OWNERS_KEPT = 1_000  # a few recent patients: memory stays flat


def _kind(head: _Head) -> Line:
    subject = head.subject
    resource_type_written = head.resourceType
    if (
        isinstance(resource_type_written, str)
        and resource_type_written in _OWNABLE
        and isinstance(subject, dict)
    ):
        written = subject.get("reference")
        known = _OWNERS.get(written) if isinstance(written, str) else None
        if known is not None:
            return known
    resource_type = text(head.resourceType)
    if resource_type is None:
        return Line(Kind.UNUSABLE, reason="not a FHIR resource (no resourceType)")
    resource_id = identifier(head.id)
    if resource_type == "Patient":
        if resource_id is None:
            return Line(Kind.UNUSABLE, reason="a Patient without an id")
        return Line(Kind.PATIENT, f"Patient/{resource_id}")
    if resource_type == "OperationOutcome":
        return Line(Kind.OUTCOME)
    by_subject = reference(subject)
    named = by_subject or reference(head.patient)
    if named is not None:
        owner = normalise_reference(named)
        if owner.startswith("Patient/") and not named.startswith(("urn:", "#")):
            found = Line(Kind.OWNED, owner)
        else:
            found = _IGNORED
        if by_subject is not None and resource_type == head.resourceType:
            _remember(subject["reference"], resource_type, found)
        return found
    if resource_type in SHARED_TYPES and resource_id is not None:
        return Line(Kind.SHARED, f"{resource_type}/{resource_id}")
    return _IGNORED


def _remember(written: str, resource_type: str, found: Line) -> None:
    if len(_OWNERS) >= _OWNERS_KEPT:
        _OWNERS.clear()
    _OWNERS[written] = found
    _OWNABLE.add(resource_type)


_PATIENT_REFERENCE = re.compile(rb'"reference"\s*:\s*"(?:[^"]*/)?Patient/([^"/\s]+)"')
_RESOURCE_TYPE = re.compile(rb'"resourceType"\s*:\s*"([A-Za-z]+)"')
_ID = re.compile(rb'"id"\s*:\s*"([^"]+)"')


def names_in_unusable(line: bytes) -> set[str]:
    """References an unusable line seems to name: Patients, and the resource it was meant to be.

    Read from the raw text, so a cut or garbled line still marks whose data is incomplete.
    """
    names = {
        "Patient/" + found.decode("utf-8", "replace") for found in _PATIENT_REFERENCE.findall(line)
    }
    resource_type = _RESOURCE_TYPE.search(line)
    resource_id = _ID.search(line)
    if resource_type is not None and resource_id is not None:
        kind = resource_type.group(1).decode()
        if kind == "Patient" or kind in SHARED_TYPES:
            names.add(f"{kind}/{resource_id.group(1).decode('utf-8', 'replace')}")
    return names
