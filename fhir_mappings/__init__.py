"""FHIR JSON to the engine's facts: `patient_facts_from_bundle` reads a Bundle into PatientFacts.

Exceptions: BundleError (a ValueError) when the input is not a Bundle or has no Patient; nothing
else is raised for any input, however malformed.
"""

from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.inbound import BundleError, patient_facts_from_bundle
from fhir_mappings.settings import LocalCode, MappingSettings

__all__ = [
    "BundleError",
    "FhirJson",
    "LocalCode",
    "MappingSettings",
    "patient_facts_from_bundle",
]
