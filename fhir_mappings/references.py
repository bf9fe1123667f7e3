"""The Bundle's entries indexed for references, and whose resource each one is.

Contract ("References", "Whose resource"): a reference resolves by an entry's `fullUrl`
(urn:uuid included) or by type and id, written relative or absolute; a resource belongs to the
Patient its `subject` (or `patient`) names; with a single Patient, a resource with no subject
belongs to it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from clozapine.registry import normalise_reference
from fhir_mappings.fhir_json import FhirJson, identifier, objs, reference, text


class Entry(NamedTuple):
    """One resource of the Bundle and the reference that names it ("Patient/123")."""

    resource: Any  # a dict; in a typed reading, an Observation is a TypedResource
    resource_type: str
    name: str


# Builds a NamedTuple without its Python-level __new__ (all fields given): one per entry.
_new = tuple.__new__


class BundleIndex:
    """Bundle entries by fullUrl and by "Type/id", and the distinct Patients in entry order."""

    def __init__(self, entries_json: list[object]) -> None:
        self.entries: list[Entry] = []
        self._by_full_url: dict[str, Entry] = {}
        self._by_type_id: dict[str, Entry] = {}
        self._owners: dict[str, str | None] = {}
        for position, entry_json in enumerate(entries_json):
            self._add(entry_json, position)
        self.patients: list[str] = []
        self.find_patients()

    def find_patients(self) -> None:
        """List the distinct Patients, in entry order, once every entry has been added."""
        patients = [entry for entry in self.entries if entry.resource_type == "Patient"]
        self.patients = list(dict.fromkeys(entry.name for entry in patients))

    def resolve(self, reference_text: str) -> Entry | None:
        """The entry a reference names: by fullUrl first, then by type and id."""
        found = self._by_full_url.get(reference_text)
        if found is not None or reference_text.startswith(("urn:", "#")):
            return found
        return self._by_type_id.get(normalise_reference(reference_text))

    def name_of(self, reference_text: str) -> str:
        """A reference as "Type/id": the named entry's own name when it is in the Bundle."""
        found = self.resolve(reference_text)
        if found is not None:
            return found.name
        if reference_text.startswith("urn:"):
            return reference_text
        return normalise_reference(reference_text)

    def owner(self, resource_json: FhirJson) -> str | None:
        """The Patient a resource belongs to, or None when it is no Patient's in this Bundle."""
        return self.owner_of(resource_json.get("subject"), resource_json.get("patient"))

    def owner_of(self, subject: object, patient: object) -> str | None:
        """`owner` of a resource with this `subject` and `patient`."""
        written = subject.get("reference") if isinstance(subject, dict) else None
        return self.owner_by_reference(written, patient)

    def owner_by_reference(self, written: object, patient: object) -> str | None:
        """`owner` of a resource whose `subject.reference` is `written` (None: no subject)."""
        if isinstance(written, str) and written in self._owners:  # the usual case
            return self._owners[written]
        subject_reference = text(written) or reference(patient)
        if subject_reference is None:
            return self.patients[0] if len(self.patients) == 1 else None
        if subject_reference not in self._owners:  # most resources name the same few Patients
            found = self.resolve(subject_reference)
            is_patient = found is not None and found.resource_type == "Patient"
            self._owners[subject_reference] = found.name if found and is_patient else None
        return self._owners[subject_reference]

    def _add(self, entry_json: object, position: int) -> None:
        # Once per entry, so the lenient readers (`obj`, `text`) are written out here.
        if not isinstance(entry_json, dict):
            return
        resource = entry_json.get("resource")
        if not isinstance(resource, dict):
            return
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str) or not (resource_type := resource_type.strip()):
            return
        self.add(resource, resource_type, resource.get("id"), entry_json.get("fullUrl"), position)

    def add(
        self,
        resource: Any,
        resource_type: str,
        resource_id: object,
        full_url: object,
        position: int,
    ) -> str:
        """Index one entry's resource (a dict, or a typed Observation) with its id and fullUrl;
        the name it is indexed by ("Observation/123")."""
        url = text(full_url) if full_url is not None else None
        if isinstance(resource_id, str) and (resource_id := resource_id.strip()):
            name = f"{resource_type}/{resource_id}"
        else:
            name = _name(resource_id, resource_type, url, position)
        entry = _new(Entry, (resource, resource_type, name))
        self.entries.append(entry)
        if url is not None:
            self._by_full_url.setdefault(url, entry)
        if "/" in name and not name.startswith("urn:"):
            self._by_type_id.setdefault(name, entry)
        return name


def contained(resource_json: FhirJson, reference_text: str) -> FhirJson | None:
    """The contained resource a local reference ("#med1") names, if there is one."""
    if not reference_text.startswith("#"):
        return None
    wanted = reference_text[1:]
    for candidate in objs(resource_json.get("contained")):
        if identifier(candidate.get("id")) == wanted:
            return candidate
    return None


def _name(written_id: object, resource_type: str, full_url: str | None, position: int) -> str:
    resource_id = identifier(written_id)  # a numeric id reads as its string
    if resource_id is not None:
        return f"{resource_type}/{resource_id}"
    if full_url is not None:
        return full_url if full_url.startswith("urn:") else normalise_reference(full_url)
    # Neither id nor fullUrl: name it by its place, which no reference can match.
    return f"{resource_type} at Bundle.entry[{position}]"
