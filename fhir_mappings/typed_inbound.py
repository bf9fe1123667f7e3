"""Bundle JSON text to PatientFacts through the typed decode, with the dict reading as fallback.

`patient_facts_from_text` gives exactly what `patient_facts_from_bundle(read_json(text))` gives,
results and errors alike (a property test compares the two): the typed decode (`typed_json`)
builds no dict for the elements nobody reads, and whenever it refuses the text the dicts are read.
"""

from __future__ import annotations

from clozapine.facts import DataNote, PatientFacts
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
from fhir_mappings.typed_json import TypedBundle, decode_bundle
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
    index, readings = _index(bundle, settings)
    if not index.patients:
        raise BundleError(NO_PATIENT)
    collected = {patient: Collected() for patient in index.patients}
    owner_by_reference = index.owner_by_reference
    # Most results name the same Patient as the one before: its owner is looked up once.
    last_written: str | None = None
    last_into: Collected | None = None
    for entry, reading in zip(index.entries, readings, strict=True):
        if reading is None:
            if entry.resource_type not in _READ_AS_TYPED:
                owner = index.owner(entry.resource)
                if owner is not None:
                    read_entry(entry, index, settings, collected[owner])
            continue
        resource = entry.resource
        subject = resource.subject
        written = subject.reference if subject is not None else None
        if written is not None and written == last_written:
            into = last_into
        else:
            owner = owner_by_reference(written, resource.patient)
            into = collected[owner] if owner is not None else None
            if type(written) is str and written.strip():  # else the owner is read off `patient`
                last_written, last_into = written, into
        if into is not None:
            if isinstance(reading, LabResult):
                into.readings.append(reading)
            else:
                into.notes.append(reading)
    return [facts_of(patient, collected[patient]) for patient in index.patients]


# A Patient is read by its index entry, an Observation by its reading: neither by `read_entry`.
_READ_AS_TYPED = frozenset({"Patient", "Observation"})


def _index(
    bundle: TypedBundle, settings: MappingSettings
) -> tuple[BundleIndex, list[LabResult | DataNote | None]]:
    """The entries indexed, and beside each the reading of an Observation (None for others).

    An Observation stays typed and is read as it is indexed (its reading needs only its name);
    any other resource becomes its dict, read once every Patient is known.
    """
    if bundle.resourceType != "Bundle":
        raise BundleError(NOT_A_BUNDLE)
    index = BundleIndex([])
    add = index.add
    readings: list[LabResult | DataNote | None] = []
    for position, entry in enumerate(bundle.entry or ()):
        resource = entry.resource
        if resource is None:
            continue
        resource_type = resource.resourceType
        if resource_type != "Observation":  # the usual type is compared before any stripping
            if not isinstance(resource_type, str) or not (resource_type := resource_type.strip()):
                continue
            if resource_type != "Observation":
                add(resource.as_json(), resource_type, resource.id, entry.fullUrl, position)
                readings.append(None)
                continue
        name = add(resource, "Observation", resource.id, entry.fullUrl, position)
        readings.append(typed_lab_reading(resource, name, settings))
    index.find_patients()
    return index, readings
