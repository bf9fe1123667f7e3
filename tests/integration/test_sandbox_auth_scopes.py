"""Scope enforcement on FHIR calls through the proxy: writes, other patients, searches."""

from __future__ import annotations

from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration


def _flag(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Flag",
        "status": "active",
        "code": {"text": "Clozapine ANC monitoring due"},
        "subject": {"reference": f"Patient/{patient}"},
    }


def _assert_forbidden(response: requests.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "forbidden"


def test_sandbox_auth_read_only_token_cannot_create_a_flag(smart):
    token = smart.ehr_launch(scope="launch patient/*.rs")
    patient = token["patient"]
    response = smart.fhir("POST", "Flag", token["access_token"], json=_flag(patient))
    _assert_forbidden(response)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_sandbox_auth_write_scope_creates_a_flag_for_the_launch_patient_only(smart):
    token = smart.ehr_launch(scope="launch patient/*.rs patient/Flag.c")
    patient, other = token["patient"], smart.patients[1]
    created = smart.fhir("POST", "Flag", token["access_token"], json=_flag(patient))
    assert created.status_code == 201, created.text
    assert created.headers["Location"].startswith(f"{smart.iss}/Flag/")
    flag_id = created.json()["id"]
    read = smart.fhir("GET", f"Flag/{flag_id}", token["access_token"])
    assert read.status_code == 200
    _assert_forbidden(smart.fhir("POST", "Flag", token["access_token"], json=_flag(other)))
    _assert_forbidden(
        smart.fhir("POST", "Task", token["access_token"], json={"resourceType": "Task"})
    )


def test_sandbox_auth_patient_scope_cannot_read_another_patient(smart):
    token = smart.ehr_launch(scope="launch patient/*.rs", patient=smart.patients[0])
    access = token["access_token"]
    _assert_forbidden(smart.fhir("GET", f"Patient/{smart.patients[1]}", access))
    _assert_forbidden(
        smart.fhir("GET", "Observation", access, params={"patient": smart.patients[1]})
    )
    _assert_forbidden(smart.fhir("GET", "Observation", access))


def test_sandbox_auth_patient_scope_cannot_read_another_patients_resource_by_id(smart):
    other = smart.ehr_launch(scope="launch patient/*.rs", patient=smart.patients[1])
    found = smart.fhir(
        "GET",
        "Observation",
        other["access_token"],
        params={"patient": smart.patients[1], "_count": "1"},
    ).json()
    observation_id = found["entry"][0]["resource"]["id"]
    token = smart.ehr_launch(scope="launch patient/*.rs", patient=smart.patients[0])
    _assert_forbidden(smart.fhir("GET", f"Observation/{observation_id}", token["access_token"]))


def test_sandbox_auth_patient_search_pages_stay_on_the_public_base(smart):
    token = smart.ehr_launch(scope="launch patient/*.rs")
    bundle = smart.fhir(
        "GET",
        "Observation",
        token["access_token"],
        params={"patient": token["patient"], "_count": "2"},
    ).json()
    assert bundle["resourceType"] == "Bundle"
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert all(url.startswith(smart.iss + "/") for url in links.values())
    following = smart.session.get(
        links["next"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    )
    assert following.status_code == 200
    assert all(e["fullUrl"].startswith(smart.iss) for e in following.json()["entry"])


def test_sandbox_auth_user_scope_reads_any_patient(smart):
    token = smart.ehr_launch(scope="launch user/*.rs")
    assert (
        smart.fhir("GET", f"Patient/{smart.patients[3]}", token["access_token"]).status_code == 200
    )


def test_sandbox_auth_v1_scopes_are_enforced_too(smart):
    token = smart.ehr_launch(scope="launch patient/*.read")
    assert smart.fhir("GET", f"Patient/{token['patient']}", token["access_token"]).ok
    patient = token["patient"]
    _assert_forbidden(smart.fhir("POST", "Flag", token["access_token"], json=_flag(patient)))


@pytest.mark.parametrize(
    ("scope", "included"),
    [
        ("launch patient/*.rs", ["PractitionerRole"]),
        ("launch patient/MedicationRequest.rs", []),  # no scope to read the prescriber's role
    ],
)
def test_sandbox_auth_include_gives_only_what_the_token_may_read(smart, scope, included):
    patient = "sbx-long-weekly-history"  # ordered through a PractitionerRole
    token = smart.ehr_launch(scope=scope, patient=patient)
    offered = smart.fhir("GET", "metadata", None).json()["rest"][0]["resource"]
    assert "MedicationRequest:requester" in next(
        r["searchInclude"] for r in offered if r["type"] == "MedicationRequest"
    )
    params = {"patient": patient, "_include": "MedicationRequest:requester"}
    found = smart.fhir("GET", "MedicationRequest", token["access_token"], params=params).json()
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in found["entry"]]
    assert ("MedicationRequest", "match") in modes
    assert sorted({kind for kind, mode in modes if mode == "include"}) == included
