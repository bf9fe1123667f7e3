"""The vendor profile from the CapabilityStatement (`software.name`, `publisher`) when the issuer
names none; the issuer's `vendor` overrides it; Epic's requests carry `Epic-Client-ID`."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from fhir_client import FhirClient
from fhir_client.vendors import detect_vendor
from tests.app.test_fhir_client import BASE, PATIENT, TOKEN, FakeClock, searchset, sent_query

CLIENT_ID = "clozapine-app-at-epic"


def statement(software: str | None = None, publisher: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "kind": "instance",
    }
    if software is not None:
        body["software"] = {"name": software, "version": "1"}
    if publisher is not None:
        body["publisher"] = publisher
    return body


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def client(**options) -> FhirClient:
    clock = FakeClock()
    return FhirClient(BASE, lambda: TOKEN, clock=clock, sleep=clock.sleep, **options)


@pytest.mark.parametrize(
    ("capability", "vendor"),
    [
        (statement("Epic", "Epic Systems Corporation"), "epic"),
        (statement(publisher="Epic Systems Corporation"), "epic"),
        (statement("Oracle Health Millennium Platform"), "oracle"),
        (statement("Cerner Millennium", "Cerner"), "oracle"),
        (statement(publisher="Oracle Health"), "oracle"),
        (statement("HAPI FHIR Server", "Not provided"), "generic"),
        (statement(), "generic"),
        ({"software": "Epic"}, "generic"),  # malformed: not an object
        (None, "generic"),
    ],
)
def test_detect_vendor_reads_software_name_and_publisher(capability, vendor) -> None:
    assert detect_vendor(capability).name == vendor


def test_fhir_client_without_a_vendor_detects_epic_and_applies_its_profile(fake) -> None:
    fake.get(f"{BASE}/metadata", json=statement("Epic", "Epic Systems Corporation"))
    fake.get(f"{BASE}/Observation", json=searchset([]))
    found = client(vendor=None, client_id=CLIENT_ID)
    found.search("Observation", {"patient": PATIENT})
    assert found.vendor.name == "epic"
    search = next(c for c in fake.calls if "/Observation" in c.request.url)
    assert sent_query(search)["category"] == ["laboratory"]
    assert search.request.headers["Epic-Client-ID"] == CLIENT_ID


def test_fhir_client_issuer_vendor_overrides_the_statement(fake) -> None:
    fake.get(f"{BASE}/metadata", json=statement("Epic"))
    fake.get(f"{BASE}/Observation", json=searchset([]))
    found = client(vendor="generic", client_id=CLIENT_ID)
    found.search("Observation", {"patient": PATIENT})
    assert found.vendor.name == "generic"
    assert not any(c.request.url.endswith("/metadata") for c in fake.calls)
    assert "Epic-Client-ID" not in fake.calls[0].request.headers


def test_fhir_client_configured_epic_sends_its_client_id_header_on_every_request(fake) -> None:
    fake.get(f"{BASE}/Patient/{PATIENT}", json={"resourceType": "Patient", "id": PATIENT})
    fake.post(f"{BASE}/Flag", status=201, json={"resourceType": "Flag", "id": "f1"})
    found = client(vendor="epic", client_id=CLIENT_ID)
    found.read("Patient", PATIENT)
    found.create({"resourceType": "Flag", "status": "active"})
    assert [c.request.headers["Epic-Client-ID"] for c in fake.calls] == [CLIENT_ID, CLIENT_ID]


def test_fhir_client_unreadable_statement_falls_back_to_generic_without_failing(fake) -> None:
    fake.get(f"{BASE}/metadata", status=404)
    fake.get(f"{BASE}/Observation", json=searchset([]))
    found = client(vendor=None, client_id=CLIENT_ID)
    assert found.search("Observation", {"patient": PATIENT}) == []
    assert found.vendor.name == "generic"
    assert "Epic-Client-ID" not in fake.calls[-1].request.headers


def test_fhir_client_other_vendors_send_no_client_id_header(fake) -> None:
    fake.get(f"{BASE}/metadata", json=statement("Oracle Health Millennium Platform"))
    fake.get(f"{BASE}/Observation", json=searchset([]))
    found = client(vendor=None, client_id=CLIENT_ID)
    found.search("Observation", {"patient": PATIENT, "_count": "500"})
    search = fake.calls[-1]
    assert found.vendor.name == "oracle" and sent_query(search)["_count"] == ["200"]
    assert "Epic-Client-ID" not in search.request.headers
