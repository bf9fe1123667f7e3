"""What each prefetch key holds: its resources, or why it is missing or not whole.

A key may hold a resource, a searchset Bundle, `null` or an OperationOutcome (the EHR could not
fetch it). Searchsets are judged by the same completeness rules as the page's reads
(fhir_client.completeness): a malformed one, one cut short by paging (a `next` link) or short of
its `total`, and one naming another patient's records are not whole; what is not whole is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fhir_client.completeness import read_searchset_page, short_of_total, total_of
from fhir_mappings.fhir_json import FhirJson
from smartapp.cds.catalogue import PREFETCH_KEYS

# The resource type each key searches.
KEY_TYPES = {
    "patient": "Patient",
    "medications": "MedicationRequest",
    "observations": "Observation",
    "conditions": "Condition",
}
# Resources a MedicationRequest search includes; an EHR may leave their `search.mode` out.
INCLUDED_TYPES = frozenset({"Medication", "PractitionerRole", "Practitioner", "Organization"})


@dataclass(frozen=True, slots=True)
class KeyData:
    """One key: its resources when it was given whole; else `missing` or `problems`."""

    resources: tuple[FhirJson, ...] = ()
    missing: bool = False
    problems: tuple[str, ...] = field(default=())

    @property
    def usable(self) -> bool:
        """Whether the key's data can be used as it is."""
        return not self.missing and not self.problems


def read_prefetch(prefetch: object, patient_id: str) -> dict[str, KeyData]:
    """Each of the four keys of a request's `prefetch` (anything else is ignored)."""
    given = prefetch if isinstance(prefetch, Mapping) else {}
    names = {f"Patient/{patient_id}", *_full_urls_of_patient(given.get("patient"), patient_id)}
    return {key: _key(key, given.get(key), patient_id, names) for key in PREFETCH_KEYS}


def _full_urls_of_patient(value: object, patient_id: str) -> set[str]:
    """The fullUrl the Patient was given with, when the `patient` key is a Bundle."""
    entries = value.get("entry") if isinstance(value, dict) else None
    found: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(full_url, str):
            continue
        if resource.get("resourceType") == "Patient" and str(resource.get("id")) == patient_id:
            found.add(full_url)
    return found


def _key(key: str, value: object, patient_id: str, names: set[str]) -> KeyData:
    resource_type = KEY_TYPES[key]
    if not isinstance(value, dict) or value.get("resourceType") in (None, "OperationOutcome"):
        return KeyData(missing=True)
    if value.get("resourceType") == resource_type:
        resources: tuple[FhirJson, ...] = (value,)
        problems: tuple[str, ...] = ()
    elif value.get("resourceType") == "Bundle":
        resources, problems = _searchset(value, resource_type)
    else:
        return KeyData(missing=True)
    if key == "patient":
        patients = [r for r in resources if r.get("resourceType") == "Patient"]
        if not patients or str(patients[0].get("id")) != patient_id:
            return KeyData(missing=True)
        return KeyData((patients[0],))
    others = sum(1 for r in resources if not _patients(r, patient_id, names))
    if others:
        problems = (*problems, f"{others} of {len(resources)} results name another patient")
    return KeyData(resources, problems=problems)


def _searchset(
    bundle: FhirJson, resource_type: str
) -> tuple[tuple[FhirJson, ...], tuple[str, ...]]:
    entries = bundle.get("entry")
    if isinstance(entries, list) and resource_type == "MedicationRequest":
        entries = [_marked_include(entry) for entry in entries]
        bundle = {**bundle, "entry": entries}
    page = read_searchset_page(bundle, resource_type)
    problems = list(page.problems)
    links = bundle.get("link")
    if isinstance(links, list) and any(
        isinstance(link, dict) and link.get("relation") == "next" for link in links
    ):
        problems.append("the prefetch was cut short by paging (it has a next link)")
    short = short_of_total(page.matches, total_of(bundle))
    if short is not None:
        problems.append(short)
    return page.resources, tuple(problems)


def _marked_include(entry: object) -> object:
    """An included Medication (or prescriber) entry marked `include` when the EHR left it out."""
    if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
        return entry
    if entry["resource"].get("resourceType") in INCLUDED_TYPES and "search" not in entry:
        return {**entry, "search": {"mode": "include"}}
    return entry


def _patients(resource: FhirJson, patient_id: str, names: set[str]) -> bool:
    """Whether a resource's subject (or `patient`) is the patient (by `Patient/id`, relative or
    absolute, or by the fullUrl it was given with), or names no one (included resources such as
    Medications name no patient)."""
    for name in ("subject", "patient"):
        value = resource.get(name)
        written = value.get("reference") if isinstance(value, dict) else None
        if isinstance(written, str) and written:
            if written in names:
                return True
            parts = written.split("/_history/")[0].rstrip("/").split("/")
            return parts[-2:] == ["Patient", patient_id]
    return True
