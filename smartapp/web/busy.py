"""The Retry-After header of an "EHR busy" answer: the wait the EHR asked for, passed on."""

from __future__ import annotations

import math

from fhir_client import FhirError, FhirUnavailable
from launch import SmartClientError

__all__ = ["BUSY_STATUS", "busy_headers", "ehr_busy"]

# The EHR asked the app to wait (RFC 6585, section 4): the app is unavailable for now, not broken.
BUSY_STATUS = 503


def ehr_busy(error: FhirError) -> bool:
    """Whether a FHIR failure is the server asking the app to wait (a 429)."""
    return isinstance(error, FhirUnavailable) and error.status == 429


def busy_headers(error: FhirError | SmartClientError) -> dict[str, str]:
    """`Retry-After` in whole seconds (RFC 9110, section 10.2.3) when the EHR said how long."""
    if isinstance(error, SmartClientError):
        wait: float | None = error.retry_after_s if error.status == BUSY_STATUS else None
    else:
        wait = error.retry_after_s if ehr_busy(error) else None
    if wait is None or wait < 0:
        return {}
    return {"Retry-After": str(math.ceil(wait))}
