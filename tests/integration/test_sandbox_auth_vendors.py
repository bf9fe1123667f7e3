"""Vendor profiles through the proxy: epic, oracle and generic, per client or per launch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.smart import SmartClient

pytestmark = pytest.mark.integration

SCOPE = "launch patient/*.rs patient/Flag.c"


def _launched(smart: SmartClient, vendor: str, where: str = "client") -> tuple[str, dict[str, Any]]:
    client_id = smart.register(SCOPE, vendor=vendor) if where == "client" else smart.register(SCOPE)
    binding = {"vendor": vendor} if where == "launch" else {}
    return client_id, smart.ehr_launch(client_id, SCOPE, **binding)


def _token(smart: SmartClient, vendor: str, where: str = "client") -> dict[str, Any]:
    return _launched(smart, vendor, where)[1]


@pytest.mark.parametrize("where", ["client", "launch"])
def test_sandbox_auth_vendor_epic_requires_observation_category(smart, where):
    client_id, token = _launched(smart, "epic", where)
    access, patient = token["access_token"], token["patient"]
    epic = {"Epic-Client-ID": client_id}
    refused = smart.fhir("GET", "Observation", access, params={"patient": patient}, headers=epic)
    assert refused.status_code == 400
    assert refused.json()["resourceType"] == "OperationOutcome"
    allowed = smart.fhir(
        "GET",
        "Observation",
        access,
        params={"patient": patient, "category": "laboratory"},
        headers=epic,
    )
    assert allowed.status_code == 200
    assert allowed.json()["entry"]


@pytest.mark.parametrize("sent", [None, "another-client"])
def test_sandbox_auth_vendor_epic_requires_its_client_id_header(smart, sent):
    client_id, token = _launched(smart, "epic")
    access, patient = token["access_token"], token["patient"]
    headers = {"Epic-Client-ID": sent} if sent else {}
    refused = smart.fhir("GET", f"Patient/{patient}", access, headers=headers)
    assert refused.status_code == 400
    assert "Epic-Client-ID" in refused.json()["issue"][0]["diagnostics"]
    epic = {"Epic-Client-ID": client_id}
    assert smart.fhir("GET", f"Patient/{patient}", access, headers=epic).status_code == 200
    capability = smart.fhir("GET", "metadata", access).json()
    assert capability["software"]["name"] == "Epic"
    assert capability["publisher"] == "Epic Systems Corporation"


def test_sandbox_auth_vendor_oracle_caps_count_and_has_no_flag_or_task(smart):
    token = _token(smart, "oracle")
    access, patient = token["access_token"], token["patient"]
    bundle = smart.fhir("GET", "Observation", access, params={"patient": patient, "_count": "500"})
    assert bundle.status_code == 200
    self_link = next(link["url"] for link in bundle.json()["link"] if link["relation"] == "self")
    assert "_count=200" in self_link
    for resource_type in ("Flag", "Task"):
        missing = smart.fhir("GET", resource_type, access, params={"patient": patient})
        assert missing.status_code == 404
        assert missing.json()["issue"][0]["code"] == "not-supported"
    capability = smart.fhir("GET", "metadata", access).json()
    types = {r["type"] for rest in capability["rest"] for r in rest["resource"]}
    assert not types & {"Flag", "Task"} and "Observation" in types


def test_sandbox_auth_vendor_generic_is_the_engine_as_it_is(smart):
    token = _token(smart, "generic")
    access, patient = token["access_token"], token["patient"]
    assert smart.fhir("GET", "Observation", access, params={"patient": patient}).status_code == 200
    assert smart.fhir("GET", "Flag", access, params={"patient": patient}).status_code == 200
    capability = smart.fhir("GET", "metadata", access).json()
    assert "Flag" in {r["type"] for rest in capability["rest"] for r in rest["resource"]}


def test_sandbox_auth_vendor_switched_at_run_time(smart):
    client_id = smart.register(SCOPE)
    token = smart.ehr_launch(client_id, SCOPE)
    smart.control("PUT", "vendor", json={"vendor": "oracle", "client_id": client_id})
    flags = smart.fhir("GET", "Flag", token["access_token"], params={"patient": token["patient"]})
    assert flags.status_code == 404
