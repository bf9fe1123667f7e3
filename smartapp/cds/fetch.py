"""What the prefetch lacks, read with the request's `fhirAuthorization` from its own EHR.

Through the app's FHIR client (paging, retries, vendor profile, completeness), and only from
the FHIR server configured for the CDS client. The token lives in this request's memory: never
stored, never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from fhir_client import FhirClient
from launch import IssuerConfig
from launch.urls import normalise_iss
from smartapp.cds.response import ReadMissing
from smartapp.ehr.patient_reads import PatientReads, read_patient_bundle
from smartapp.services import Services

LOGGER = logging.getLogger(__name__)


def authorized_reader(
    services: Services, issuer: IssuerConfig, request_json: Any
) -> ReadMissing | None:
    """The reader of the patient's record with the request's token, or None when the request
    carries none, or names a FHIR server other than the one configured for its CDS client."""
    if not isinstance(request_json, dict):
        return None
    server, authorization = request_json.get("fhirServer"), request_json.get("fhirAuthorization")
    token = authorization.get("access_token") if isinstance(authorization, dict) else None
    if not isinstance(server, str) or not isinstance(token, str) or not token:
        return None
    try:
        named = normalise_iss(server)
    except ValueError:
        named = None
    if named is None or named != issuer.cds_fhir_server:
        LOGGER.warning("fhirServer not allowed", extra={"fields": {"issuer": issuer.name}})
        return None
    base_url = named

    def read(patient_id: str, resource_types: frozenset[str]) -> PatientReads:
        client = FhirClient(
            base_url,
            lambda: token,
            session=services.http_for(issuer),
            vendor=issuer.vendor,
            page_size=issuer.page_size,
            timeout=services.settings.fhir_timeout_s,
            capability_cache=services.capabilities,
            cache_key=f"cds:{issuer.cds_client_iss}",
        )
        return read_patient_bundle(
            client,
            patient_id,
            executor=services.executor,
            local_anc_codes=services.org.local_anc_codes,
            only=resource_types,  # the prefetch holds the rest
        )

    return read
