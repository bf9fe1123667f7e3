"""Golden cases: Bundle shape, Patients, and whose resource each entry is."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings import BundleError, patient_facts_from_bundle

LOINC = "http://loinc.org"


def anc(obs_id: str, subject: Any = "Patient/pt-1", value: float = 1.8) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "751-8"}]},
        "effectiveDateTime": "2026-11-20T08:00:00Z",
        "valueQuantity": {"value": value, "code": "10*3/uL"},
    }
    if isinstance(subject, str):
        resource["subject"] = {"reference": subject}
    elif subject is not None:
        resource["subject"] = subject
    return resource


def patient(patient_id: str | None = "pt-1") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient"}
    if patient_id is not None:
        resource["id"] = patient_id
    return resource


def bundle(*entries: Any, bundle_type: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": bundle_type, "entry": list(entries)}


def sources(bundle_json: dict[str, Any]) -> dict[str, list[str | None]]:
    return {
        facts.patient: [result.source for result in facts.ancs]
        for facts in patient_facts_from_bundle(bundle_json)
    }


# Not a Bundle ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message_part"),
    [
        (None, "not a FHIR Bundle"),
        ([], "not a FHIR Bundle"),
        ("Bundle", "not a FHIR Bundle"),
        ({"resourceType": "Patient", "id": "pt-1"}, "not a FHIR Bundle"),
        ({"resourceType": "bundle", "entry": []}, "not a FHIR Bundle"),
        ({"entry": [{"resource": patient()}]}, "not a FHIR Bundle"),
        ({"resourceType": "Bundle", "entry": {"resource": patient()}}, "entry is not a list"),
        ({"resourceType": "Bundle", "entry": "x"}, "entry is not a list"),
        ({"resourceType": "Bundle"}, "no Patient"),
        ({"resourceType": "Bundle", "entry": None}, "no Patient"),
        ({"resourceType": "Bundle", "entry": []}, "no Patient"),
        (bundle({"resource": anc("a")}), "no Patient"),
        (
            bundle({"fullUrl": "urn:uuid:1"}, {"resource": None}, {"resource": "Patient"}),
            "no Patient",
        ),
        (bundle({"resource": {"id": "pt-1"}}), "no Patient"),
    ],
)
def test_bundle_error_for_not_a_bundle_or_no_patient(document, message_part):
    with pytest.raises(BundleError, match=message_part) as caught:
        patient_facts_from_bundle(document)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_bundle_error_message_holds_no_patient_data():
    document = {"resourceType": "SMART, JOE 1976-04-29"}
    with pytest.raises(BundleError) as caught:
        patient_facts_from_bundle(document)
    assert "SMART" not in str(caught.value)


@pytest.mark.parametrize("bundle_type", ["collection", "transaction", "searchset", "batch", "x"])
def test_bundle_any_type_is_read(bundle_type):
    document = bundle(
        {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
        {"resource": anc("a")},
        bundle_type=bundle_type,
    )
    assert sources(document) == {"Patient/pt-1": ["Observation/a"]}


def test_bundle_entries_without_resource_are_ignored():
    document = bundle(
        {"fullUrl": "urn:uuid:nothing"},
        {"resource": patient()},
        {"search": {"mode": "outcome"}},
        "not an entry",
        {"resource": anc("a")},
    )
    assert sources(document) == {"Patient/pt-1": ["Observation/a"]}


# Patients -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"resource": patient("123")}, "Patient/123"),
        ({"fullUrl": "urn:uuid:abc", "resource": patient(None)}, "urn:uuid:abc"),
        ({"fullUrl": "https://ehr.example/r4/Patient/77", "resource": patient(None)}, "Patient/77"),
        ({"fullUrl": "urn:uuid:abc", "resource": patient("p-9")}, "Patient/p-9"),
        ({"resource": patient(None)}, "Patient at Bundle.entry[0]"),
    ],
)
def test_patients_are_named_by_id_else_full_url(entry, expected):
    [facts] = patient_facts_from_bundle(bundle(entry))
    assert facts.patient == expected


def test_patients_several_in_order_of_appearance_with_their_own_resources():
    document = bundle(
        {"resource": anc("b1", "Patient/pt-b")},
        {"resource": patient("pt-b")},
        {"resource": anc("a1", "Patient/pt-a")},
        {"resource": patient("pt-a")},
        {"resource": anc("no-subject", None)},
        {"resource": anc("other", "Patient/pt-z")},
    )
    assert sources(document) == {
        "Patient/pt-b": ["Observation/b1"],
        "Patient/pt-a": ["Observation/a1"],
    }
    assert [f.patient for f in patient_facts_from_bundle(document)] == [
        "Patient/pt-b",
        "Patient/pt-a",
    ]


def test_patients_the_same_patient_twice_gives_one_facts():
    document = bundle({"resource": patient()}, {"resource": patient()}, {"resource": anc("a")})
    assert sources(document) == {"Patient/pt-1": ["Observation/a"]}


# Whose resource -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Patient/pt-1",
        " Patient/pt-1 ",
        "https://ehr.example/fhir/Patient/pt-1",
        "https://ehr.example/fhir/Patient/pt-1/_history/4",
        "urn:uuid:11111111-2222-4333-8444-555555555555",
        None,  # no subject, single Patient
        {"display": "SMART, JOE"},  # a subject that references nothing
        {"reference": 42},
    ],
)
def test_owner_single_patient_resolves_reference_or_takes_unreferenced(subject):
    document = bundle(
        {"fullUrl": "urn:uuid:11111111-2222-4333-8444-555555555555", "resource": patient()},
        {"resource": anc("a", subject)},
    )
    assert sources(document) == {"Patient/pt-1": ["Observation/a"]}


def test_owner_patient_key_is_read_when_there_is_no_subject():
    resource = anc("a", None)
    resource["patient"] = {"reference": "Patient/pt-2"}
    document = bundle(
        {"resource": patient("pt-1")}, {"resource": patient("pt-2")}, {"resource": resource}
    )
    assert sources(document) == {"Patient/pt-1": [], "Patient/pt-2": ["Observation/a"]}


@pytest.mark.parametrize(
    "subject",
    ["Patient/someone-else", "urn:uuid:not-here", "Group/pt-1", "Practitioner/pt-1"],
)
def test_owner_reference_to_no_patient_in_the_bundle_is_ignored(subject):
    document = bundle({"resource": patient()}, {"resource": anc("a", subject)})
    assert sources(document) == {"Patient/pt-1": []}


def test_owner_urn_patient_without_id_owns_resources_referencing_its_full_url():
    document = bundle(
        {"fullUrl": "urn:uuid:p1", "resource": patient(None)},
        {"fullUrl": "urn:uuid:p2", "resource": patient(None)},
        {"resource": anc("one", "urn:uuid:p1")},
        {"resource": anc("two", "urn:uuid:p2")},
    )
    assert sources(document) == {
        "urn:uuid:p1": ["Observation/one"],
        "urn:uuid:p2": ["Observation/two"],
    }


def test_owner_resource_without_id_is_named_by_full_url():
    absolute, urn = anc("x"), anc("x")
    del absolute["id"], urn["id"]
    urn["effectiveDateTime"] = "2026-11-21T08:00:00Z"
    document = bundle(
        {"resource": patient()},
        {"fullUrl": "https://ehr.example/fhir/Observation/o-7", "resource": absolute},
        {"fullUrl": "urn:uuid:o-8", "resource": urn},
    )
    assert sources(document) == {"Patient/pt-1": ["Observation/o-7", "urn:uuid:o-8"]}
