"""A small FHIR R4 client: reads and writes, with an error tree that says whether to retry.

Knows FHIR, not clozapine, SMART or the app: imports none of them. `FhirClient` talks to one
FHIR server with one (refreshable) access token; which resources and codes to read is the
caller's business. Errors are in `errors.py`, vendor profiles in `vendors.py`.
"""

from fhir_client.capability_cache import CapabilityCache
from fhir_client.client import FhirClient, SearchParams
from fhir_client.errors import (
    FhirAuthError,
    FhirBadRequest,
    FhirError,
    FhirIncompleteRead,
    FhirNotFound,
    FhirUnavailable,
)
from fhir_client.retry import DEFAULT_RETRY_STATUSES, RetryPolicy
from fhir_client.vendors import PROFILES, VendorProfile, detect_vendor, vendor_profile

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "PROFILES",
    "CapabilityCache",
    "FhirAuthError",
    "FhirBadRequest",
    "FhirClient",
    "FhirError",
    "FhirIncompleteRead",
    "FhirNotFound",
    "FhirUnavailable",
    "RetryPolicy",
    "SearchParams",
    "VendorProfile",
    "detect_vendor",
    "vendor_profile",
]
