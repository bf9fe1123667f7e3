"""Discovery over real HTTPS: smart-configuration (relative to iss), JWKS, CapabilityStatement."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("where", ["origin", "iss"])
def test_sandbox_auth_smart_configuration_lists_what_is_supported(smart, where):
    base = smart.origin if where == "origin" else smart.iss
    response = smart.session.get(f"{base}/.well-known/smart-configuration", timeout=10)
    assert response.status_code == 200
    document = response.json()
    assert document["authorization_endpoint"] == f"{smart.origin}/auth/authorize"
    assert document["token_endpoint"] == f"{smart.origin}/auth/token"
    assert document["introspection_endpoint"] == f"{smart.origin}/auth/introspect"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert set(document["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert "private_key_jwt" in document["token_endpoint_auth_methods_supported"]
    for capability in (
        "launch-ehr",
        "launch-standalone",
        "client-confidential-asymmetric",
        "sso-openid-connect",
        "permission-v1",
        "permission-v2",
        "context-ehr-patient",
        "permission-offline",
    ):
        assert capability in document["capabilities"]
    jwks = smart.session.get(document["jwks_uri"], timeout=10).json()
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])


def test_sandbox_auth_metadata_needs_no_token_and_names_the_oauth_uris(smart):
    response = smart.fhir("GET", "metadata", token=None)
    assert response.status_code == 200
    capability = response.json()
    assert capability["resourceType"] == "CapabilityStatement"
    security = capability["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["token"] == f"{smart.origin}/auth/token"
    assert smart.iss in capability["implementation"]["url"]


def test_sandbox_auth_fhir_needs_a_token(smart):
    response = smart.fhir("GET", f"Patient/{smart.patients[0]}", token=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["resourceType"] == "OperationOutcome"
    bad = smart.fhir("GET", f"Patient/{smart.patients[0]}", token="not-a-token")
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
