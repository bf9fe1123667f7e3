"""FHIR Bundle JSON to PatientFacts: one per Patient, from its orders, lab results and conditions.

The whole reading is the contract's "Reading the Bundle" (evaluation-contract.md). Only two
things about the input raise, both BundleError: a document that is not a Bundle (not an object,
resourceType not "Bundle", `entry` not a list) and a Bundle with no Patient. Every other
malformed record is left out, with a DataNote where the page should say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clozapine.facts import ClozapineOrder, DataNote, PatientFacts
from clozapine.labs import LabResult
from fhir_mappings.conditions import documents_ben
from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.observations import lab_reading
from fhir_mappings.orders import clozapine_order
from fhir_mappings.references import BundleIndex, Entry
from fhir_mappings.settings import MappingSettings

_DEFAULT_SETTINGS = MappingSettings()


NOT_A_BUNDLE = "the document is not a FHIR Bundle (resourceType must be 'Bundle')"
NO_PATIENT = "the Bundle has no Patient"


class BundleError(ValueError):
    """The input is not a FHIR Bundle, or names no Patient (one line, no patient data)."""


@dataclass(slots=True)
class Collected:
    """What has been read so far for one Patient (the typed reading fills the same)."""

    ben_documented: bool = False
    orders: list[ClozapineOrder] = field(default_factory=list)
    readings: list[LabResult] = field(default_factory=list)
    notes: list[DataNote] = field(default_factory=list)


def patient_facts_from_bundle(
    bundle_json: FhirJson, settings: MappingSettings = _DEFAULT_SETTINGS
) -> list[PatientFacts]:
    """One PatientFacts per Patient entry, in the order the Patients appear."""
    index = BundleIndex(_entries(bundle_json))
    if not index.patients:
        raise BundleError(NO_PATIENT)
    collected = {patient: Collected() for patient in index.patients}
    for entry in index.entries:
        owner = index.owner(entry.resource) if entry.resource_type != "Patient" else None
        if owner is not None:
            read_entry(entry, index, settings, collected[owner])
    return [facts_of(patient, collected[patient]) for patient in index.patients]


def _entries(bundle_json: object) -> list[object]:
    if not isinstance(bundle_json, dict) or bundle_json.get("resourceType") != "Bundle":
        raise BundleError(NOT_A_BUNDLE)
    entries = bundle_json.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise BundleError("the Bundle's entry is not a list")
    return entries


def read_entry(
    entry: Entry, index: BundleIndex, settings: MappingSettings, into: Collected
) -> None:
    """Read one resource (a dict) of the Patient's into what has been collected for them."""
    if entry.resource_type == "Observation":
        reading = lab_reading(entry.resource, entry.name, settings)
        if isinstance(reading, LabResult):
            into.readings.append(reading)
        elif reading is not None:
            into.notes.append(reading)
    elif entry.resource_type == "MedicationRequest":
        order, notes = clozapine_order(entry.resource, entry.name, index, settings.timezone)
        into.notes.extend(notes)
        if order is not None:
            into.orders.append(order)
    elif entry.resource_type == "Condition":
        into.ben_documented = into.ben_documented or documents_ben(entry.resource, settings)


def facts_of(patient: str, collected: Collected) -> PatientFacts:
    """The PatientFacts of what was collected for one Patient."""
    return PatientFacts.create(
        patient,
        ben_documented=collected.ben_documented,
        orders=collected.orders,
        notes=collected.notes,
        lab_results=collected.readings,
    )
