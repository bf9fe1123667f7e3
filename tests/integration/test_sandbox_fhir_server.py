"""The sandbox FHIR server over real HTTP, loaded with every synthetic patient."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import date
from typing import Any

import pytest
import requests

from sandbox.fhirserver import PUBLIC_BASE_HEADER, is_installed, start_fhir_server
from sandbox.patients import build
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.integration

FhirJson = dict[str, Any]

FHIR_JSON = "application/fhir+json"
LOINC = "http://loinc.org"
ANC_QUERY = f"code={LOINC}|751-8,{LOINC}|753-4,{LOINC}|26499-4&category=laboratory"
LONG_HISTORY = "sbx-long-weekly-history"
WRITE_BACK_SYSTEM = "urn:oid:2.25.1.sandbox-test"


@pytest.fixture(scope="session")
def cohort(tmp_path_factory):
    bundle, manifest = build(date(2026, 11, 25))
    path = tmp_path_factory.mktemp("fhir") / "cohort.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path, bundle, manifest


@pytest.fixture(scope="session")
def fhir_engine(cohort):
    if not is_installed():
        skip_or_fail(
            "sandbox FHIR server (Node) not installed: run `npm ci` in sandbox/fhir-server"
        )
    server = start_fhir_server(0, load_file=cohort[0])
    yield server
    server.stop()


@pytest.fixture
def fhir(fhir_engine):
    session = requests.Session()
    session.headers.update({"Accept": FHIR_JSON, "Content-Type": FHIR_JSON})
    yield lambda path: f"{fhir_engine.base_url}/{path}", session
    session.close()


def manifest_patient(cohort, patient_id):
    return next(p for p in cohort[2]["patients"] if p["id"] == patient_id)


def flag(value: str, status: str = "active") -> FhirJson:
    return {
        "resourceType": "Flag",
        "identifier": [{"system": WRITE_BACK_SYSTEM, "value": value}],
        "status": status,
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": "lab"}
                ]
            }
        ],
        "code": {"text": "Clozapine ANC monitoring overdue"},
        "subject": {"reference": "Patient/sbx-no-anc"},
    }


def test_server_ready_line_reports_every_resource(fhir_engine, cohort, capsys):
    assert fhir_engine.resources_loaded == len(cohort[1]["entry"])
    with capsys.disabled():
        sys.stdout.write(f"\nfhir-server start-up: {fhir_engine.startup_ms} ms\n")


def test_metadata_lists_resources_and_interactions(fhir):
    url, http = fhir
    response = http.get(url("metadata"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    statement = response.json()
    assert (
        statement["resourceType"] == "CapabilityStatement" and statement["fhirVersion"] == "4.0.1"
    )
    rest = statement["rest"][0]
    assert {"transaction", "batch"} <= {i["code"] for i in rest["interaction"]}
    resources = {r["type"]: r for r in rest["resource"]}
    for name in ("Patient", "Observation", "MedicationRequest", "Condition", "Flag", "Task",
                 "DocumentReference", "Communication"):  # fmt: skip
        interactions = {i["code"] for i in resources[name]["interaction"]}
        assert {"read", "search-type", "create", "update"} <= interactions, name
        assert resources[name]["conditionalCreate"] is True
    params = {p["name"] for p in resources["Observation"]["searchParam"]}
    assert {"patient", "subject", "code", "category", "identifier"} <= params


def test_read_patient_with_etag(fhir):
    url, http = fhir
    response = http.get(url("Patient/sbx-mild"))
    assert response.status_code == 200
    assert response.json()["name"][0]["family"] == "Synthson"
    assert response.headers["ETag"].startswith('W/"')


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status"),
    [
        ("GET", "Patient/no-such-patient", None, FHIR_JSON, 404),
        ("GET", "Basic/1", None, FHIR_JSON, 404),
        ("GET", "Observation?_count=-1", None, FHIR_JSON, 400),
        ("POST", "Flag", "{not json", FHIR_JSON, 400),
        ("POST", "Flag", "<Flag/>", "application/fhir+xml", 415),
        (
            "POST",
            "Flag",
            '{"resourceType": "Flag", "status": "active", "bogus": 1}',
            FHIR_JSON,
            400,
        ),
        ("PUT", "Flag/abc", '{"resourceType": "Flag", "id": "other"}', FHIR_JSON, 400),
    ],
)
def test_errors_answer_operation_outcome(fhir, method, path, body, content_type, status):
    url, http = fhir
    response = http.request(method, url(path), data=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    outcome = response.json()
    assert (
        outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"
    )


def follow_pages(http, first_url, public_base=None, local_base=None):
    """Every page of a search; with a public base, each link is sent to the local server."""
    headers = {PUBLIC_BASE_HEADER: public_base} if public_base else None
    pages, next_url = [], first_url
    while next_url:
        response = http.get(next_url, headers=headers)
        assert response.status_code == 200
        pages.append(response.json())
        links = pages[-1]["link"]
        next_url = next((link["url"] for link in links if link["relation"] == "next"), None)
        if next_url and public_base:
            assert next_url.startswith(public_base + "/")
            next_url = local_base + next_url.removeprefix(public_base)
    return pages


def test_search_pages_follow_next_to_the_end(fhir, fhir_engine, cohort):
    url, http = fhir
    pages = follow_pages(http, url(f"Observation?patient={LONG_HISTORY}&{ANC_QUERY}&_count=10"))
    expected = manifest_patient(cohort, f"{LONG_HISTORY}")["resources"]["Observation"]
    ids = [e["resource"]["id"] for page in pages for e in page.get("entry", [])]
    assert len(ids) == len(set(ids)) == expected == pages[0]["total"] == 107
    assert len(pages) == 11 and all(len(p["entry"]) <= 10 for p in pages)
    assert all(p["total"] == expected for p in pages)
    links = [link["url"] for page in pages for link in page["link"]]
    assert all(link.startswith(fhir_engine.base_url + "/Observation?") for link in links)
    assert all(e["fullUrl"].startswith(fhir_engine.base_url) for p in pages for e in p["entry"])


def test_search_links_use_forwarded_public_base(fhir, fhir_engine):
    url, http = fhir
    public = "https://localhost:8443/ehr/fhir"
    first = url(f"Observation?patient={LONG_HISTORY}&_count=50")
    pages = follow_pages(http, first, public, fhir_engine.base_url)
    assert [len(p["entry"]) for p in pages] == [50, 50, 7]
    assert pages[0]["link"][0] == {
        "relation": "self",
        "url": f"{public}/Observation?patient={LONG_HISTORY}&_count=50",
    }
    assert all(e["fullUrl"].startswith(public + "/Observation/") for p in pages for e in p["entry"])


@pytest.mark.parametrize(
    ("query", "patient_id", "resource_type"),
    [
        ("MedicationRequest?patient={}", "sbx-interruption-short", "MedicationRequest"),
        ("MedicationRequest?subject=Patient/{}", "sbx-olanzapine", "MedicationRequest"),
        ("Condition?patient={}", "sbx-ben-severe", "Condition"),
        ("Observation?patient=Patient/{}&category=laboratory", "sbx-derived-anc", "Observation"),
        ("Observation?subject=Patient/{}", "sbx-units-mixed", "Observation"),
        ("Patient?_id={}", "sbx-xss-name", "Patient"),
    ],
)
def test_search_by_patient_finds_exactly_their_resources(
    fhir, cohort, query, patient_id, resource_type
):
    url, http = fhir
    bundle = http.get(url(query.format(patient_id))).json()
    assert bundle["type"] == "searchset"
    assert bundle["total"] == manifest_patient(cohort, patient_id)["resources"][resource_type]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["resourceType"] == resource_type
        assert (
            resource.get("subject", {"reference": f"Patient/{resource['id']}"})["reference"]
            == f"Patient/{patient_id}"
        )


def test_search_by_code_or_list_and_post_search_agree(fhir):
    url, http = fhir
    query = f"patient=sbx-derived-anc&code={LOINC}|6690-2,{LOINC}|770-8,{LOINC}|764-1"
    by_get = http.get(url(f"Observation?{query}")).json()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    by_post = http.post(url("Observation/_search"), data=query, headers=form).json()
    assert by_get["total"] == by_post["total"] == 3
    assert [e["resource"]["id"] for e in by_get["entry"]] == [
        e["resource"]["id"] for e in by_post["entry"]
    ]


def test_create_answers_201_with_location(fhir):
    url, http = fhir
    response = http.post(url("Flag"), json=flag(str(uuid.uuid4())))
    assert response.status_code == 201
    created = response.json()
    assert response.headers["Location"] == url(
        f"Flag/{created['id']}/_history/{created['meta']['versionId']}"
    )
    assert http.get(url(f"Flag/{created['id']}")).json()["identifier"] == created["identifier"]


@pytest.mark.parametrize("resource_type", ["Flag", "Task", "DocumentReference", "Communication"])
def test_conditional_create_twice_makes_one(fhir, resource_type):
    url, http = fhir
    value = str(uuid.uuid4())
    resource = write_back(resource_type, value)
    header = {"If-None-Exist": f"identifier={WRITE_BACK_SYSTEM}|{value}"}
    first = http.post(url(resource_type), json=resource, headers=header)
    second = http.post(url(resource_type), json=resource, headers=header)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    found = http.get(url(f"{resource_type}?identifier={WRITE_BACK_SYSTEM}|{value}")).json()
    assert found["total"] == 1


def write_back(resource_type: str, value: str) -> FhirJson:
    identifier = [{"system": WRITE_BACK_SYSTEM, "value": value}]
    subject = {"reference": "Patient/sbx-no-anc"}
    note = "Clozapine ANC monitoring: no ANC on file"
    return {
        "Flag": flag(value),
        "Task": {"resourceType": "Task", "identifier": identifier, "status": "requested",
                 "intent": "order", "description": note, "for": subject},
        "DocumentReference": {"resourceType": "DocumentReference", "identifier": identifier,
                              "status": "current", "subject": subject,
                              "content": [{"attachment": {"contentType": "text/plain", "title": note}}]},
        "Communication": {"resourceType": "Communication", "identifier": identifier,
                          "status": "completed", "subject": subject, "payload": [{"contentString": note}]},
    }[resource_type]  # fmt: skip


def test_update_changes_version_and_checks_if_match(fhir):
    url, http = fhir
    created = http.post(url("Flag"), json=flag(str(uuid.uuid4()))).json()
    changed = {**created, "status": "inactive"}
    response = http.put(url(f"Flag/{created['id']}"), json=changed)
    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] != created["meta"]["versionId"]
    assert http.get(url(f"Flag/{created['id']}")).json()["status"] == "inactive"
    stale = {"If-Match": f'W/"{created["meta"]["versionId"]}"'}
    assert http.put(url(f"Flag/{created['id']}"), json=changed, headers=stale).status_code == 412


def test_transaction_resolves_local_references(fhir):
    url, http = fhir
    patient_urn, value = f"urn:uuid:{uuid.uuid4()}", str(uuid.uuid4())
    task = write_back("Task", value) | {"for": {"reference": patient_urn}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": patient_urn, "resource": {"resourceType": "Patient", "name": [{"family": "Sandbox-Tx"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": task, "request": {"method": "POST", "url": "Task"}},
    ]}  # fmt: skip
    response = http.post(url(""), json=bundle)
    assert response.status_code == 200
    result = response.json()
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201", "201"]
    patient_id = result["entry"][0]["resource"]["id"]
    assert result["entry"][1]["resource"]["for"]["reference"] == f"Patient/{patient_id}"
    assert result["entry"][0]["response"]["location"].startswith(url(f"Patient/{patient_id}"))


def test_transaction_is_all_or_nothing(fhir):
    url, http = fhir
    value = str(uuid.uuid4())
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": flag(value), "request": {"method": "POST", "url": "Flag"}},
        {"resource": {"resourceType": "Flag", "status": "nonsense-status", "bogus": True},
         "request": {"method": "POST", "url": "Flag"}},
    ]}  # fmt: skip
    response = http.post(url(""), json=bundle)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    found = http.get(url(f"Flag?identifier={WRITE_BACK_SYSTEM}|{value}")).json()
    assert found["total"] == 0
