"""read_patient_bundle against faked FHIR endpoints: what is read, in parallel, and what may fail."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from fhir_client import FhirAuthError, FhirClient
from fhir_mappings import FhirJson, LocalCode, patient_facts_from_bundle
from smartapp.ehr.patient_reads import lab_code_query, read_patient_bundle

BASE = "https://ehr.example.org/fhir/r4"
PATIENT = "pat-9f2"
SUBJECT = {"reference": f"Patient/{PATIENT}"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LAB = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory",
        }
    ]
}

PATIENT_JSON = {"resourceType": "Patient", "id": PATIENT}
CLOZAPINE_ORDER = {
    "resourceType": "MedicationRequest",
    "id": "rx-1",
    "status": "active",
    "intent": "order",
    "subject": SUBJECT,
    "authoredOn": "2026-09-16",
    "medicationReference": {"reference": "Medication/med-1"},
    "requester": {"reference": "PractitionerRole/role-1"},
}
OTHER_ORDER = {
    "resourceType": "MedicationRequest",
    "id": "rx-2",
    "status": "active",
    "intent": "order",
    "subject": SUBJECT,
    "authoredOn": "2026-09-16",
    "medicationCodeableConcept": {
        "coding": [{"system": RXNORM, "code": "61381"}],
        "text": "olanzapine",
    },
    "requester": {"reference": "Practitioner/dr-other"},
}
MEDICATION = {
    "resourceType": "Medication",
    "id": "med-1",
    "code": {
        "coding": [{"system": RXNORM, "code": "197535", "display": "clozapine 100 MG Oral Tablet"}]
    },
}
ROLE = {
    "resourceType": "PractitionerRole",
    "id": "role-1",
    "practitioner": {"reference": "Practitioner/dr-1"},
    "organization": {"reference": f"{BASE}/Organization/org-1"},
}
BEN = {
    "resourceType": "Condition",
    "id": "dx-1",
    "subject": SUBJECT,
    "code": {"text": "Benign ethnic neutropenia"},
}


def anc(number: int, day: str, value: float) -> FhirJson:
    return {
        "resourceType": "Observation",
        "id": f"lab-{number}",
        "status": "final",
        "category": [LAB],
        "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
        "subject": SUBJECT,
        "effectiveDateTime": f"{day}T09:00:00-05:00",
        "valueQuantity": {"value": value, "unit": "10*3/uL", "code": "10*3/uL"},
    }


def searchset(*resources: FhirJson) -> FhirJson:
    """A searchset as servers send it: the first resource's type matched, the others included."""
    searched = resources[0]["resourceType"] if resources else None

    def mode(resource: FhirJson) -> str:
        return "match" if resource["resourceType"] == searched else "include"

    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": mode(r)}} for r in resources],
    }


def capability(includes: list[str]) -> FhirJson:
    resource = {"type": "MedicationRequest", "searchInclude": includes}
    return {
        "resourceType": "CapabilityStatement",
        "rest": [{"mode": "server", "resource": [resource]}],
    }


def denied(text: str) -> FhirJson:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden", "diagnostics": text}],
    }


@pytest.fixture
def ehr():
    """A small chart: a clozapine order by reference, an olanzapine order, two ANCs, BEN."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/metadata", json=capability([]))
        mock.get(f"{BASE}/Patient/{PATIENT}", json=PATIENT_JSON)
        mock.get(f"{BASE}/MedicationRequest", json=searchset(CLOZAPINE_ORDER, OTHER_ORDER))
        mock.get(
            f"{BASE}/Observation",
            json=searchset(anc(1, "2026-11-10", 2.1), anc(2, "2026-11-17", 1.8)),
        )
        mock.get(f"{BASE}/Condition", json=searchset(BEN))
        mock.get(f"{BASE}/Medication/med-1", json=MEDICATION)
        mock.get(f"{BASE}/PractitionerRole/role-1", json=ROLE)
        mock.get(f"{BASE}/Practitioner/dr-1", json={"resourceType": "Practitioner", "id": "dr-1"})
        mock.get(f"{BASE}/Organization/org-1", json={"resourceType": "Organization", "id": "org-1"})
        yield mock


def read(**options):
    client = FhirClient(BASE, lambda: "token", sleep=lambda _: None, **options)
    with ThreadPoolExecutor(max_workers=4) as executor:
        return read_patient_bundle(client, PATIENT, executor=executor)


def paths(mock) -> list[str]:
    return [urlsplit(call.request.url).path.removeprefix("/fhir/r4/") for call in mock.calls]


def query_of(mock, path: str) -> dict[str, list[str]]:
    call = next(c for c in mock.calls if urlsplit(c.request.url).path.endswith(path))
    return parse_qs(urlsplit(call.request.url).query)


def test_fhir_client_patient_reads_bundle_maps_to_facts(ehr):
    reads = read()
    facts = patient_facts_from_bundle(reads.bundle())[0]
    assert facts.patient == f"Patient/{PATIENT}"
    assert [result.value_per_ul for result in facts.ancs] == [2100, 1800]
    assert len(facts.orders) == 1 and facts.ben_documented
    assert reads.notes == [] and not reads.ben_status_unknown
    assert set(reads.timings_ms) >= {
        "Patient",
        "MedicationRequest",
        "Observation",
        "Condition",
        "total",
    }


def test_fhir_client_patient_reads_bundle_is_a_collection_with_absolute_full_urls(ehr):
    bundle = read().bundle()
    assert bundle["type"] == "collection"
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert urls[0] == f"{BASE}/Patient/{PATIENT}"
    assert f"{BASE}/Medication/med-1" in urls and len(urls) == len(set(urls))


def test_fhir_client_patient_reads_observation_query_names_every_lab_code(ehr):
    read()
    query = query_of(ehr, "/Observation")
    codes = query["code"][0].split(",")
    assert len(codes) == 16 and all(code.startswith("http://loinc.org|") for code in codes)
    for code in ("751-8", "753-4", "26499-4", "6690-2", "770-8", "764-1", "768-2", "763-3"):
        assert f"http://loinc.org|{code}" in codes
    assert query["category"] == ["laboratory"] and query["patient"] == [PATIENT]
    assert query["_count"] == ["100"]


def test_fhir_client_patient_reads_local_anc_codes_are_searched(ehr):
    client = FhirClient(BASE, lambda: "token")
    local = [LocalCode("urn:oid:1.2.3", "ANC,abs"), LocalCode(None, "NEUT#")]
    with ThreadPoolExecutor(max_workers=4) as executor:
        read_patient_bundle(client, PATIENT, executor=executor, local_anc_codes=local)
    codes = query_of(ehr, "/Observation")["code"][0]
    assert codes.endswith(",urn:oid:1.2.3|ANC\\,abs,NEUT#")


def test_fhir_client_patient_reads_lab_code_query_escapes_search_characters():
    query = lab_code_query([LocalCode("sys|x", "a$b\\c")])
    assert query.endswith(",sys\\|x|a\\$b\\\\c")


def test_fhir_client_patient_reads_referenced_medication_read_when_not_included(ehr):
    reads = read()
    assert "_include" not in query_of(ehr, "/MedicationRequest")
    assert "Medication/med-1" in paths(ehr)
    assert reads.medications == [MEDICATION]


def test_fhir_client_patient_reads_include_used_when_the_server_offers_it(ehr):
    ehr.replace(
        responses.GET, f"{BASE}/metadata", json=capability(["MedicationRequest:medication"])
    )
    ehr.replace(
        responses.GET,
        f"{BASE}/MedicationRequest",
        json=searchset(CLOZAPINE_ORDER, OTHER_ORDER, MEDICATION),
    )
    reads = read()
    assert query_of(ehr, "/MedicationRequest")["_include"] == ["MedicationRequest:medication"]
    assert "Medication/med-1" not in paths(ehr)
    assert reads.medications == [MEDICATION] and len(reads.medication_requests) == 2


def test_fhir_client_patient_reads_prescribers_of_clozapine_orders_only(ehr):
    reads = read()
    names = [f"{r['resourceType']}/{r['id']}" for r in reads.prescribers]
    assert names == ["PractitionerRole/role-1"]  # the role names its practitioner
    assert "Practitioner/dr-other" not in paths(ehr)
    assert "Practitioner/dr-1" not in paths(ehr) and "Organization/org-1" not in paths(ehr)


BOTH_INCLUDES = ["MedicationRequest:medication", "MedicationRequest:requester"]


def test_fhir_client_patient_reads_requester_included_needs_no_second_read(ehr):
    other_role = {**ROLE, "id": "role-9"}  # requested an order that is not clozapine
    ehr.replace(responses.GET, f"{BASE}/metadata", json=capability(BOTH_INCLUDES))
    ehr.replace(
        responses.GET,
        f"{BASE}/MedicationRequest",
        json=searchset(CLOZAPINE_ORDER, OTHER_ORDER, MEDICATION, ROLE, other_role),
    )
    reads = read()
    assert query_of(ehr, "/MedicationRequest")["_include"] == BOTH_INCLUDES
    assert [p for p in paths(ehr) if p.startswith(("PractitionerRole", "Medication/"))] == []
    assert reads.prescribers == [ROLE] and reads.medications == [MEDICATION]
    assert reads.notes == []


def test_fhir_client_patient_reads_requester_left_out_of_the_include_is_read(ehr):
    """An EHR may leave out an included resource (scopes, policy): it is then read on its own."""
    ehr.replace(responses.GET, f"{BASE}/metadata", json=capability(["*"]))
    ehr.replace(
        responses.GET,
        f"{BASE}/MedicationRequest",
        json=searchset(CLOZAPINE_ORDER, OTHER_ORDER, MEDICATION),
    )
    reads = read()
    assert query_of(ehr, "/MedicationRequest")["_include"] == BOTH_INCLUDES
    assert paths(ehr).count("PractitionerRole/role-1") == 1
    assert reads.prescribers == [ROLE]


def test_fhir_client_patient_reads_include_refused_falls_back_to_separate_reads(ehr, caplog):
    """An EHR that lists the includes but answers 400 to them: the page is still complete."""
    ehr.replace(responses.GET, f"{BASE}/metadata", json=capability(BOTH_INCLUDES))
    refusal = denied("_include is not supported")
    searches = []

    def searched(request):
        searches.append(parse_qs(urlsplit(request.url).query).get("_include"))
        if searches[-1]:
            return 400, {}, json.dumps(refusal)
        return 200, {}, json.dumps(searchset(CLOZAPINE_ORDER, OTHER_ORDER))

    ehr.remove(responses.GET, f"{BASE}/MedicationRequest")
    ehr.add_callback(responses.GET, f"{BASE}/MedicationRequest", callback=searched)
    reads = read()
    assert searches == [BOTH_INCLUDES, None]
    assert reads.medications == [MEDICATION] and reads.prescribers == [ROLE]
    assert reads.notes == []
    assert "search include refused" in caplog.text


def test_fhir_client_patient_reads_prescriber_not_found_leaves_a_note(ehr):
    ehr.replace(responses.GET, f"{BASE}/PractitionerRole/role-1", status=404)
    reads = read()
    assert reads.prescribers == []
    assert reads.notes == ["The ordering prescriber (PractitionerRole) could not be read (404)."]


def test_fhir_client_patient_reads_medication_forbidden_leaves_a_note(ehr):
    ehr.replace(responses.GET, f"{BASE}/Medication/med-1", status=403, json=denied("no"))
    reads = read()
    assert reads.medications == []
    assert reads.notes[0].startswith("A referenced Medication could not be read (403)")


def test_fhir_client_patient_reads_conditions_forbidden_flags_ben_unknown(ehr):
    ehr.replace(responses.GET, f"{BASE}/Condition", status=403, json=denied("no Condition scope"))
    reads = read()
    assert reads.ben_status_unknown and reads.conditions == []
    assert reads.notes == ["Conditions could not be read (403): documented BEN cannot be checked."]
    assert not patient_facts_from_bundle(reads.bundle())[0].ben_documented


def test_fhir_client_patient_reads_conditions_unavailable_flags_ben_unknown(ehr):
    ehr.replace(responses.GET, f"{BASE}/Condition", status=503)
    reads = read(max_retries=1)
    assert reads.ben_status_unknown
    assert reads.notes == ["Conditions could not be read (503): documented BEN cannot be checked."]


@pytest.mark.parametrize("path", ["Observation", f"Patient/{PATIENT}", "MedicationRequest"])
def test_fhir_client_patient_reads_required_read_forbidden_raises(ehr, path):
    ehr.replace(responses.GET, f"{BASE}/{path}", status=403, json=denied("not granted"))
    with pytest.raises(FhirAuthError) as raised:
        read()
    assert raised.value.resource_type == path.split("/")[0]
    assert '"not granted"' in raised.value.user_message


def test_fhir_client_patient_reads_run_concurrently(ehr):
    # Patient, Observation and Condition each wait for the other two: read one after another,
    # the first would wait alone until the barrier's timeout broke it.
    barrier = threading.Barrier(3, timeout=5)
    bodies = {
        "Patient": PATIENT_JSON,
        "Observation": searchset(anc(1, "2026-11-10", 2.1)),
        "Condition": searchset(BEN),
    }

    def answer(request):
        barrier.wait()
        resource_type = urlsplit(request.url).path.split("/")[3]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(bodies[resource_type])

    for path in (f"Patient/{PATIENT}", "Observation", "Condition"):
        ehr.remove(responses.GET, f"{BASE}/{path}")
        ehr.add_callback(
            responses.GET, re.compile(re.escape(f"{BASE}/{path}") + r"(\?.*)?$"), callback=answer
        )
    reads = read()
    assert reads.patient == PATIENT_JSON and len(reads.observations) == 1


def test_fhir_client_patient_reads_follow_up_reads_are_capped(ehr, monkeypatch):
    monkeypatch.setattr("smartapp.ehr.patient_reads.MAX_FOLLOW_UP_READS", 1)
    second = {
        **CLOZAPINE_ORDER,
        "id": "rx-3",
        "medicationReference": {"reference": "Medication/med-2"},
    }
    ehr.replace(responses.GET, f"{BASE}/MedicationRequest", json=searchset(CLOZAPINE_ORDER, second))
    reads = read()
    assert "Medication/med-2" not in paths(ehr) and reads.medications == [MEDICATION]
    assert "Only the first 1 of 2 references were read." in reads.notes


def test_fhir_client_patient_reads_everything_read_whole_is_complete(ehr):
    assert read().completeness.complete


@pytest.mark.parametrize("resource_type", ["MedicationRequest", "Observation"])
def test_fhir_client_patient_reads_incomplete_required_search_is_recorded_not_skipped(
    ehr, resource_type
):
    ehr.replace(
        responses.GET,
        f"{BASE}/{resource_type}",
        json={"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": None}]},
    )
    reads = read()
    found = reads.completeness.of(resource_type)
    assert found is not None and found.problems == ("entry 1 has no resource",)
    assert not reads.completeness.can_evaluate and not reads.ben_status_unknown
    assert "could not be read completely" in found.message


def test_fhir_client_patient_reads_both_incomplete_required_searches_are_named(ehr):
    entry_object = {"resourceType": "Bundle", "type": "searchset", "entry": {"resource": BEN}}
    for resource_type in ("MedicationRequest", "Observation"):
        ehr.replace(responses.GET, f"{BASE}/{resource_type}", json=entry_object)
    completeness = read().completeness
    assert [r.resource_type for r in completeness.blocking] == ["MedicationRequest", "Observation"]
    assert "medication orders and lab results could not be read" in completeness.refusal().title


def test_fhir_client_patient_reads_incomplete_conditions_leave_ben_unknown(ehr):
    short = {**searchset(BEN), "total": 2}
    ehr.replace(responses.GET, f"{BASE}/Condition", json=short)
    reads = read()
    assert reads.ben_status_unknown and reads.conditions == []
    assert reads.completeness.can_evaluate
    condition = reads.completeness.of("Condition")
    assert condition is not None
    assert condition.problems == ("1 of the 2 results the EHR counted were read",)
    assert reads.notes == [
        "Conditions could not be read (not read completely): documented BEN cannot be checked."
    ]


def test_fhir_client_patient_reads_unreadable_unnamed_medication_leaves_orders_incomplete(ehr):
    ehr.replace(responses.GET, f"{BASE}/Medication/med-1", status=403, json=denied("no"))
    completeness = read().completeness
    orders = completeness.of("MedicationRequest")
    assert orders is not None and not completeness.can_evaluate
    assert orders.problems == ("a referenced Medication could not be read",)
    assert "cannot tell whether it is clozapine" in orders.message


def test_fhir_client_patient_reads_unreadable_medication_named_by_its_reference_is_read(ehr):
    named = {
        **CLOZAPINE_ORDER,
        "medicationReference": {
            "reference": "Medication/med-1",
            "display": "clozapine 100 mg tablet",
        },
    }
    ehr.replace(responses.GET, f"{BASE}/MedicationRequest", json=searchset(named, OTHER_ORDER))
    ehr.replace(responses.GET, f"{BASE}/Medication/med-1", status=403, json=denied("no"))
    reads = read()
    assert reads.completeness.complete
    assert len(patient_facts_from_bundle(reads.bundle())[0].orders) == 1


@pytest.mark.parametrize("resource_type", ["MedicationRequest", "Observation", "Condition"])
def test_fhir_client_patient_reads_another_patients_records_are_not_read_as_this_ones(
    ehr, resource_type
):
    own = {"MedicationRequest": CLOZAPINE_ORDER, "Condition": BEN}.get(
        resource_type, anc(1, "2026-11-10", 2.1)
    )
    other = {**own, "id": "theirs", "subject": {"reference": f"{BASE}/Patient/someone-else"}}
    ehr.replace(responses.GET, f"{BASE}/{resource_type}", json=searchset(own, other))
    reads = read()
    found = reads.completeness.of(resource_type)
    assert found is not None and found.problems == ("1 of 2 results name another patient",)
    assert "records of another patient" in found.message
    assert reads.completeness.can_evaluate is (resource_type == "Condition")
    assert reads.ben_status_unknown is (resource_type == "Condition")


def test_fhir_client_patient_reads_subjects_by_absolute_url_are_this_patients(ehr):
    absolute = {**anc(3, "2026-11-18", 2.0), "subject": {"reference": f"{BASE}/Patient/{PATIENT}"}}
    ehr.replace(responses.GET, f"{BASE}/Observation", json=searchset(absolute))
    reads = read()
    assert reads.completeness.complete and len(reads.observations) == 1
