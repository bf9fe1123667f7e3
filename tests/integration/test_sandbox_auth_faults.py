"""Each simulated fault, switched on per client or per launch through the control API."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.smart import SmartClient

pytestmark = pytest.mark.integration

SCOPE = "launch offline_access patient/*.rs"


@pytest.fixture
def client_id(smart):
    """A client of the test's own, so its faults reach no other test."""
    return smart.register(SCOPE)


def _read(smart: SmartClient, token: dict[str, Any], **kwargs: Any) -> requests.Response:
    return smart.fhir("GET", f"Patient/{token['patient']}", token["access_token"], **kwargs)


def test_sandbox_auth_fault_invalid_client(smart, client_id):
    smart.fault(fault="invalid_client", client_id=client_id)
    authorization = smart.authorize(client_id, SCOPE, launch=smart.launch(client_id=client_id))
    response = smart.exchange(authorization)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_sandbox_auth_fault_invalid_scope(smart, client_id):
    smart.fault(fault="invalid_scope", client_id=client_id)
    authorization = smart.authorize(client_id, SCOPE, launch=smart.launch(client_id=client_id))
    assert authorization.response.status_code == 302
    assert authorization.redirect["error"] == "invalid_scope"
    assert authorization.redirect["state"] == authorization.state


def test_sandbox_auth_fault_bad_redirect_uri(smart, client_id):
    smart.fault(fault="bad_redirect_uri", client_id=client_id)
    authorization = smart.authorize(client_id, SCOPE, launch=smart.launch(client_id=client_id))
    assert authorization.response.status_code == 400
    assert "Location" not in authorization.response.headers


def test_sandbox_auth_fault_token_expired_then_refresh_recovers(smart, client_id):
    token = smart.ehr_launch(client_id, SCOPE)
    smart.fault(fault="token_expired", client_id=client_id, count=1)
    expired = _read(smart, token)
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    fresh = smart.refresh(token["refresh_token"], client_id=client_id).json()
    assert _read(smart, fresh).status_code == 200


def test_sandbox_auth_fault_refresh_revoked(smart, client_id):
    token = smart.ehr_launch(client_id, SCOPE)
    smart.fault(fault="refresh_revoked", client_id=client_id)
    refused = smart.refresh(token["refresh_token"], client_id=client_id)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_sandbox_auth_fault_rate_limit_for_k_calls_then_success(smart, client_id):
    token = smart.ehr_launch(client_id, SCOPE)
    smart.fault(fault="rate_limit", client_id=client_id, count=2, retry_after=3)
    for _ in range(2):
        limited = _read(smart, token)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "3"
        assert limited.json()["resourceType"] == "OperationOutcome"
    assert _read(smart, token).status_code == 200


@pytest.mark.parametrize(
    ("fault", "status", "retry_after"),
    [("server_error", 500, None), ("unavailable", 503, None), ("unavailable", 503, 7)],
)
def test_sandbox_auth_fault_server_errors(smart, client_id, fault, status, retry_after):
    token = smart.ehr_launch(client_id, SCOPE)
    smart.fault(fault=fault, client_id=client_id, count=1, retry_after=retry_after)
    failed = _read(smart, token)
    assert failed.status_code == status
    assert failed.headers.get("Retry-After") == (str(retry_after) if retry_after else None)
    assert _read(smart, token).status_code == 200


def test_sandbox_auth_fault_slow_response_times_out_the_client(smart, client_id):
    token = smart.ehr_launch(client_id, SCOPE)
    smart.fault(fault="slow", client_id=client_id, delay=1.5, count=1)
    with pytest.raises(requests.Timeout):
        _read(smart, token, timeout=0.3)
    assert _read(smart, token).status_code == 200


def test_sandbox_auth_fault_on_the_token_endpoint(smart, client_id):
    smart.fault(fault="unavailable", client_id=client_id, on="token", count=1, retry_after=2)
    authorization = smart.authorize(client_id, SCOPE, launch=smart.launch(client_id=client_id))
    unavailable = smart.exchange(authorization)
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "2"
    assert smart.exchange(authorization).status_code == 200


def test_sandbox_auth_fault_per_launch_reaches_only_that_launch(smart, client_id):
    faulty = smart.launch(client_id=client_id, faults=[{"fault": "server_error"}])
    authorization = smart.authorize(client_id, SCOPE, launch=faulty)
    faulty_token = smart.exchange(authorization).json()
    healthy_token = smart.ehr_launch(client_id, SCOPE)
    assert _read(smart, faulty_token).status_code == 500
    assert _read(smart, healthy_token).status_code == 200


def test_sandbox_auth_faults_are_listed_and_cleared(smart, client_id):
    created = smart.fault(fault="server_error", client_id=client_id)
    listed = smart.control("GET", "faults").json()["faults"]
    assert created["id"] in [fault["id"] for fault in listed]
    removed = smart.control("DELETE", "faults", params={"client_id": client_id}).json()
    assert removed == {"removed": 1}
    assert _read(smart, smart.ehr_launch(client_id, SCOPE)).status_code == 200


def test_sandbox_fault_no_conditional_create(smart, client_id):
    scope = "launch patient/*.cruds"
    writer = smart.register(scope)
    smart.fault(fault="no_conditional_create", client_id=writer)
    token = smart.ehr_launch(writer, scope, patient=smart.patients[0])
    access = token["access_token"]
    statement = smart.fhir("GET", "metadata", access).json()
    resources = [r for rest in statement["rest"] for r in rest["resource"]]
    assert resources and not any(r.get("conditionalCreate") for r in resources)
    # Another client still sees conditional create declared.
    other = smart.ehr_launch(client_id, SCOPE, patient=smart.patients[0])["access_token"]
    assert any(
        r.get("conditionalCreate")
        for rest in smart.fhir("GET", "metadata", other).json()["rest"]
        for r in rest["resource"]
    )
    value = f"no-conditional-create-{writer}"
    flag = {
        "resourceType": "Flag",
        "status": "active",
        "identifier": [{"system": "urn:test:fault", "value": value}],
        "code": {"text": "test"},
        "subject": {"reference": f"Patient/{token['patient']}"},
    }
    headers = {
        "Content-Type": "application/fhir+json",
        "If-None-Exist": f"identifier=urn:test:fault|{value}",
    }
    answers = [smart.fhir("POST", "Flag", access, json=flag, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]  # If-None-Exist is ignored
    assert answers[0].json()["id"] != answers[1].json()["id"]
