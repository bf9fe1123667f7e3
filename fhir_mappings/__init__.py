"""FHIR JSON to the engine's facts: `patient_facts_from_bundle` reads a Bundle into PatientFacts.

`patient_facts_from_text` reads Bundle JSON text the same way, faster (typed decode, with the
dict reading as its fallback).

`read_json` is the one reader of FHIR and registry JSON text for every entry point: numbers
exact (Decimal), never a float; JsonReadError when the text is not JSON.

Exceptions: BundleError (a ValueError) when the input is not a Bundle or has no Patient; nothing
else is raised for any input, however malformed.
"""

from fhir_mappings.exact_json import JsonReadError, read_json
from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.inbound import BundleError, patient_facts_from_bundle
from fhir_mappings.settings import LocalCode, MappingSettings
from fhir_mappings.typed_inbound import patient_facts_from_text

__all__ = [
    "BundleError",
    "FhirJson",
    "JsonReadError",
    "LocalCode",
    "MappingSettings",
    "patient_facts_from_bundle",
    "patient_facts_from_text",
    "read_json",
]
