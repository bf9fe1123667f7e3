"""The sandbox EHR as a Bulk Data server: Backend Services tokens, export, status, files."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.smart import (
    ASSERTION_TYPE,
    SmartClient,
    client_assertion,
    new_key,
    public_jwks,
)

pytestmark = pytest.mark.integration

SCOPE = (
    "system/Patient.rs system/Observation.rs system/MedicationRequest.rs system/Condition.rs"
    " system/Group.rs"
)
GROUP = "clozapine-patients"


@pytest.fixture(scope="module")
def key():
    return new_key("RS384")


@pytest.fixture
def backend(smart, key):
    client_id = smart.register(
        SCOPE, "private_key_jwt", jwks=public_jwks(key), grant_types=["client_credentials"]
    )
    return client_id


def _token_response(smart: SmartClient, key, client_id: str, scope: str = SCOPE, **claims):
    audience = claims.pop("aud", f"{smart.origin}/auth/token")
    assertion = claims.pop("assertion", None) or client_assertion(
        key, client_id, audience, alg="RS384", **claims
    )
    data = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    return smart.token(data)


def _token(smart: SmartClient, key, client_id: str) -> str:
    response = _token_response(smart, key, client_id)
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    return str(response.json()["access_token"])


def _kick_off(smart: SmartClient, token: str, path: str = f"Group/{GROUP}/$export", **params):
    return smart.fhir("GET", path, token, params=params, headers={"Prefer": "respond-async"})


def _finished(smart: SmartClient, token: str, status_url: str) -> dict[str, Any]:
    polls = []
    for _ in range(30):
        response = smart.session.get(
            status_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        if response.status_code != 202:
            break
        polls.append(response.headers)
        time.sleep(float(response.headers["Retry-After"]))
    assert response.status_code == 200, response.text
    assert polls and all("X-Progress" in headers for headers in polls)
    return dict(response.json())


def _ndjson(smart: SmartClient, token: str, url: str) -> list[dict[str, Any]]:
    response = smart.session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_sandbox_bulk_group_export_gives_the_clozapine_patients(smart, key, backend):
    token = _token(smart, key, backend)
    kicked = _kick_off(smart, token, _type="Patient,Observation")
    assert kicked.status_code == 202, kicked.text
    manifest = _finished(smart, token, kicked.headers["Content-Location"])
    assert manifest["requiresAccessToken"] is True
    assert {item["type"] for item in manifest["output"]} == {"Patient", "Observation"}
    patients_file = next(i["url"] for i in manifest["output"] if i["type"] == "Patient")
    patients = _ndjson(smart, token, patients_file)
    group = smart.fhir("GET", f"Group/{GROUP}", token).json()
    members = {m["entity"]["reference"] for m in group["member"]}
    assert {f"Patient/{p['id']}" for p in patients} == members
    assert members and len(members) <= len(smart.patients)
    unauthenticated = smart.session.get(patients_file, timeout=10)
    assert unauthenticated.status_code == 401
    status_url = kicked.headers["Content-Location"]
    deleted = smart.session.delete(status_url, headers={"Authorization": f"Bearer {token}"})
    assert deleted.status_code == 202
    gone = smart.session.get(status_url, headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 404


def test_sandbox_bulk_type_filter_narrows_and_a_refused_filter_goes_to_the_error_file(
    smart, key, backend
):
    token = _token(smart, key, backend)
    loinc_anc = "http://loinc.org|751-8"
    kicked = _kick_off(
        smart,
        token,
        "Patient/$export",
        _type="Observation,Condition",
        _typeFilter=f"Observation?code={loinc_anc},Condition?onset-date=notadate",
    )
    assert kicked.status_code == 202, kicked.text
    manifest = _finished(smart, token, kicked.headers["Content-Location"])
    observations = _ndjson(smart, token, manifest["output"][0]["url"])
    codes = {c["code"] for o in observations for c in o["code"]["coding"]}
    assert "751-8" in codes and observations
    assert all(any(c["code"] == "751-8" for c in o["code"]["coding"]) for o in observations)
    assert [e["type"] for e in manifest["error"]] == ["OperationOutcome"]
    outcomes = _ndjson(smart, token, manifest["error"][0]["url"])
    said = outcomes[0]["issue"][0]["diagnostics"]
    assert "Condition" in said and "notadate" in said


def _refused_client(response) -> bool:
    return response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_sandbox_bulk_assertion_checked_as_an_ehr_checks_it(smart, key, backend):
    too_long = _token_response(smart, key, backend, lifetime_s=600)
    assert _refused_client(too_long) and "five minutes" in too_long.text
    assert _refused_client(_token_response(smart, key, backend, aud=f"{smart.iss}"))
    assertion = client_assertion(key, backend, f"{smart.origin}/auth/token", alg="RS384")
    assert _token_response(smart, key, backend, assertion=assertion).status_code == 200
    assert _refused_client(_token_response(smart, key, backend, assertion=assertion))
    assert _refused_client(_token_response(smart, new_key("RS384"), backend))


def test_sandbox_bulk_only_system_scopes_export(smart, key, backend):
    patient_scope = _token_response(smart, key, backend, scope="patient/*.rs")
    assert patient_scope.status_code == 400 and "invalid_scope" in patient_scope.text
    token = _token(smart, key, backend)
    not_granted = _kick_off(smart, token, _type="Practitioner")
    assert not_granted.status_code == 403
    without_prefer = smart.fhir("GET", f"Group/{GROUP}/$export", token)
    assert without_prefer.status_code == 400
    user_token = smart.ehr_launch()["access_token"]
    assert _kick_off(smart, user_token).status_code == 403


def test_sandbox_bulk_faults_strike_status_and_files(smart, key, backend):
    token = _token(smart, key, backend)
    kicked = _kick_off(smart, token, _type="Patient")
    status_url = kicked.headers["Content-Location"]
    auth = {"Authorization": f"Bearer {token}"}
    smart.fault(fault="rate_limit", on="export_status", client_id=backend, count=1, retry_after=2)
    limited = smart.session.get(status_url, headers=auth)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    manifest = _finished(smart, token, status_url)
    url = manifest["output"][0]["url"]
    whole = smart.session.get(url, headers=auth).content
    smart.fault(fault="server_error", on="export_file", client_id=backend, count=1)
    assert smart.session.get(url, headers=auth).status_code == 500
    smart.fault(fault="token_expired", on="export_file", client_id=backend, count=1)
    expired = smart.session.get(url, headers=auth)
    assert expired.status_code == 401 and "invalid_token" in expired.headers["WWW-Authenticate"]
    resumed = smart.session.get(url, headers={**auth, "Range": "bytes=10-"})
    assert resumed.status_code == 206 and resumed.content == whole[10:]
    smart.fault(fault="export_failed", client_id=backend, count=1)
    failed = smart.session.get(status_url, headers=auth)
    assert failed.status_code == 500
    assert failed.json()["resourceType"] == "OperationOutcome"
