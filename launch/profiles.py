"""Launch profiles: the scopes a patient-facing launch asks for, in the issuer's scope syntax.

A patient portal launches apps for the patient and their proxies (SMART App Launch 2.2, "Scopes
and Launch Context": `launch/patient` and `patient/*` scopes, with `openid fhirUser` naming who
signed in, https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html). The view only
reads: no write scope, no `offline_access`.
"""

from __future__ import annotations

from launch.issuers import IssuerConfig
from launch.scopes import ScopeVersion, join_scopes, to_v1

__all__ = ["PATIENT_SCOPES", "patient_scopes"]

PATIENT_SCOPES = "launch/patient openid fhirUser patient/*.rs"


def patient_scopes(issuer: IssuerConfig) -> str:
    """The patient-facing scopes for `issuer`: v2 `patient/*.rs`, or v1 `patient/*.read`."""
    if issuer.scope_version is ScopeVersion.V1:
        return join_scopes(to_v1(PATIENT_SCOPES))
    return PATIENT_SCOPES
