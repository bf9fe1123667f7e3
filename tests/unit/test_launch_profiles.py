"""The patient-facing launch profile: read-only scopes in the issuer's syntax."""

from __future__ import annotations

import pytest

from launch import IssuerConfig, ScopeVersion, patient_scopes, scopes_grant
from launch.authorize import requested_scopes

ISS = "https://ehr.example.org/fhir"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (ScopeVersion.V2, "launch/patient openid fhirUser patient/*.rs"),
        (ScopeVersion.V1, "launch/patient openid fhirUser patient/*.read"),
    ],
)
def test_patient_scopes_follow_the_issuer_syntax(version, expected) -> None:
    issuer = IssuerConfig(iss=ISS, client_id="c", scope_version=version)
    assert patient_scopes(issuer) == expected


@pytest.mark.parametrize("version", list(ScopeVersion))
def test_patient_scopes_read_and_never_write(version) -> None:
    scopes = patient_scopes(IssuerConfig(iss=ISS, client_id="c", scope_version=version)).split()
    assert scopes_grant(scopes, "Observation", "r") and scopes_grant(scopes, "RelatedPerson", "r")
    assert not any(scopes_grant(scopes, "Flag", letter) for letter in "cud")
    assert "offline_access" not in scopes


def test_requested_scopes_of_a_profile_replace_the_issuers() -> None:
    issuer = IssuerConfig(iss=ISS, client_id="c", scopes="launch openid patient/Flag.crus")
    portal = patient_scopes(issuer)
    assert requested_scopes(issuer, scopes=portal) == f"launch {portal}"
    assert requested_scopes(issuer, standalone=True, scopes=portal) == portal
    assert "Flag" in requested_scopes(issuer)
