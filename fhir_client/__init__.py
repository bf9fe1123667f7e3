"""The app's FHIR client: reads and writes on the EHR, with an error tree that says whether to retry.

`FhirClient` talks to one FHIR server with one (refreshable) access token; `read_patient_bundle`
reads what the evaluation needs for one patient, concurrently; errors are in `errors.py`.
"""

from smartapp.fhir.capability_cache import CapabilityCache
from smartapp.fhir.client import FhirClient, SearchParams
from smartapp.fhir.errors import (
    FhirAuthError,
    FhirBadRequest,
    FhirError,
    FhirNotFound,
    FhirUnavailable,
)
from smartapp.fhir.patient_reads import PatientReads, lab_code_query, read_patient_bundle
from smartapp.fhir.retry import DEFAULT_RETRY_STATUSES, RetryPolicy
from smartapp.fhir.vendors import PROFILES, VendorProfile, vendor_profile

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "PROFILES",
    "CapabilityCache",
    "FhirAuthError",
    "FhirBadRequest",
    "FhirClient",
    "FhirError",
    "FhirNotFound",
    "FhirUnavailable",
    "PatientReads",
    "RetryPolicy",
    "SearchParams",
    "VendorProfile",
    "lab_code_query",
    "read_patient_bundle",
    "vendor_profile",
]
