"""Bundle JSON text to PatientFacts through the typed decode, with the dict reading as fallback.

`patient_facts_from_text` gives exactly what `patient_facts_from_bundle(read_json(text))` gives,
results and errors alike (a property test compares the two): the typed decode (`typed_json`)
builds no dict for the elements nobody reads, and whenever it refuses the text the dicts are read.
"""

from __future__ import annotations

from clozapine.facts import PatientFacts
from clozapine.labs import LabResult
from fhir_mappings.exact_json import read_json
from fhir_mappings.inbound import (
    NO_PATIENT,
    NOT_A_BUNDLE,
    BundleError,
    Collected,
    facts_of,
    patient_facts_from_bundle,
    read_entry,
)
from fhir_mappings.references import BundleIndex
from fhir_mappings.settings import MappingSettings
from fhir_mappings.typed_json import TypedBundle, TypedResource, decode_bundle
from fhir_mappings.typed_observations import typed_lab_reading

_DEFAULT_SETTINGS = MappingSettings()


def patient_facts_from_text(
    text: str | bytes, settings: MappingSettings = _DEFAULT_SETTINGS
) -> list[PatientFacts]:
    """One PatientFacts per Patient of the Bundle written in `text`, in the order they appear.

    Raises JsonReadError when the text is not JSON, BundleError as `patient_facts_from_bundle`.
    """
    bundle = decode_bundle(text)
    if bundle is None:
        return patient_facts_from_bundle(read_json(text), settings)
    return _typed_facts(bundle, settings)


def _typed_facts(bundle: TypedBundle, settings: MappingSettings) -> list[PatientFacts]:
    index = _index(bundle)
    if not index.patients:
        raise BundleError(NO_PATIENT)
    collected = {patient: Collected() for patient in index.patients}
    for entry in index.entries:
        if entry.resource_type == "Patient":
            continue
        resource = entry.resource
        if not isinstance(resource, TypedResource):
            owner = index.owner(resource)
            if owner is not None:
                read_entry(entry, index, settings, collected[owner])
            continue
        subject = resource.subject
        written = subject.reference if subject is not None else None
        owner = index.owner_by_reference(written, resource.patient)
        if owner is not None:
            reading = typed_lab_reading(resource, entry.name, settings)
            if isinstance(reading, LabResult):
                collected[owner].readings.append(reading)
            elif reading is not None:
                collected[owner].notes.append(reading)
    return [facts_of(patient, collected[patient]) for patient in index.patients]


def _index(bundle: TypedBundle) -> BundleIndex:
    """The entries indexed; an Observation stays typed, any other resource becomes its dict."""
    if bundle.resourceType != "Bundle":
        raise BundleError(NOT_A_BUNDLE)
    index = BundleIndex([])
    for position, entry in enumerate(bundle.entry or ()):
        resource = entry.resource
        if resource is None:
            continue
        resource_type = resource.resourceType
        if not isinstance(resource_type, str) or not (resource_type := resource_type.strip()):
            continue
        kept = resource if resource_type == "Observation" else resource.as_json()
        index.add(kept, resource_type, resource.id, entry.fullUrl, position)
    index.find_patients()
    return index
