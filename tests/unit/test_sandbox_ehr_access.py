"""Scope enforcement for FHIR calls: interaction classification and the patient compartment."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.ehr.access import (
    Check,
    Denied,
    FhirCall,
    Unsupported,
    check_access,
    classify,
    in_compartment,
    patient_id_of,
    readable_includes,
    searches_patient,
)
from sandbox.ehr.scopes import Interaction, resource_scopes

R, S, C, U, D = (
    Interaction.READ,
    Interaction.SEARCH,
    Interaction.CREATE,
    Interaction.UPDATE,
    Interaction.DELETE,
)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "Observation", ("Observation", None, S)),
        ("POST", "Observation/_search", ("Observation", None, S)),
        ("POST", "Flag", ("Flag", None, C)),
        ("GET", "Patient/p1", ("Patient", "p1", R)),
        ("GET", "Patient/p1/_history/2", ("Patient", "p1", R)),
        ("PUT", "Flag/f1", ("Flag", "f1", U)),
        ("PATCH", "Flag/f1", ("Flag", "f1", U)),
        ("DELETE", "Flag/f1", ("Flag", "f1", D)),
    ],
)
def test_access_classify_known_interactions(method, path, expected):
    assert classify(method, path.split("/")) == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", ""),
        ("GET", ""),
        ("PUT", "Flag"),
        ("GET", "Flag/_history"),
        ("GET", "flag"),
        ("POST", "Patient/p1/$everything"),
        ("DELETE", "Flag"),
    ],
)
def test_access_classify_refuses_what_the_proxy_cannot_check(method, path):
    with pytest.raises(Unsupported):
        classify(method, path.split("/"))


def _call(
    resource_type: str,
    interaction: Interaction,
    resource_id: str | None = None,
    params: dict[str, list[str]] | None = None,
    body: dict[str, Any] | None = None,
) -> FhirCall:
    return FhirCall(resource_type, resource_id, interaction, params or {}, body)


PATIENT_READ = resource_scopes("patient/*.rs patient/Flag.c")
FLAG = {"resourceType": "Flag", "subject": {"reference": "Patient/p1"}}


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (_call("Patient", R, "p1"), Check.NONE),
        (_call("Patient", S, params={"_id": ["p1"]}), Check.NONE),
        (_call("Observation", S, params={"patient": ["p1"]}), Check.NONE),
        (_call("Observation", S, params={"subject": ["Patient/p1"]}), Check.NONE),
        (_call("Observation", R, "o1"), Check.RESULT_IN_COMPARTMENT),
        (_call("Medication", R, "m1"), Check.NONE),
        (_call("Flag", C, body=FLAG), Check.NONE),
    ],
)
def test_access_patient_scopes_allow_the_patients_compartment(call, expected):
    assert check_access(PATIENT_READ, "p1", call) is expected


@pytest.mark.parametrize(
    "call",
    [
        _call("Patient", R, "p2"),
        _call("Patient", S, params={"name": ["Lee"]}),
        _call("Observation", S),
        _call("Observation", S, params={"patient": ["p1,p2"]}),
        _call("Observation", S, params={"subject": ["Patient/p2"]}),
        _call("Flag", C, body={"resourceType": "Flag", "subject": {"reference": "Patient/p2"}}),
        _call("Flag", C, body={"resourceType": "Flag"}),
        _call("Flag", U, "f1", body=FLAG),  # no update scope
        _call("Task", C, body={"resourceType": "Task", "for": {"reference": "Patient/p1"}}),
        _call("Observation", D, "o1"),
    ],
)
def test_access_patient_scopes_deny_outside_the_compartment_or_grant(call):
    with pytest.raises(Denied):
        check_access(PATIENT_READ, "p1", call)


def test_access_user_scopes_are_not_confined_to_a_patient():
    scopes = resource_scopes("user/*.rs")
    assert check_access(scopes, None, _call("Observation", S)) is Check.NONE
    assert check_access(scopes, "p1", _call("Patient", R, "p2")) is Check.NONE
    with pytest.raises(Denied):
        check_access(scopes, None, _call("Flag", C, body=FLAG))


def test_access_patient_scopes_need_a_patient():
    with pytest.raises(Denied):
        check_access(PATIENT_READ, None, _call("Patient", R, "p1"))


def test_access_query_scope_grants_only_matching_searches():
    scopes = resource_scopes("patient/Observation.rs?category=laboratory")
    lab = {"patient": ["p1"], "category": ["laboratory"]}
    assert check_access(scopes, "p1", _call("Observation", S, params=lab)) is Check.NONE
    with pytest.raises(Denied):
        check_access(scopes, "p1", _call("Observation", S, params={"patient": ["p1"]}))


def test_access_update_checks_the_stored_resource():
    scopes = resource_scopes("patient/Flag.u")
    assert check_access(scopes, "p1", _call("Flag", U, "f1", body=FLAG)) is (
        Check.EXISTING_IN_COMPARTMENT
    )


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("Patient/p1", "p1"),
        ("https://x/fhir/Patient/p1/_history/2", "p1"),
        ("Group/g1", None),
        ("Patient/", None),
    ],
)
def test_access_patient_id_of_reference(reference, expected):
    assert patient_id_of(reference) == expected


def test_access_compartment_membership():
    assert in_compartment(FLAG, "p1")
    assert not in_compartment(FLAG, "p2")
    assert in_compartment({"resourceType": "Patient", "id": "p1"}, "p1")
    assert not in_compartment({"resourceType": "Observation"}, "p1")
    assert searches_patient({"subject:Patient": ["p1"]}, "p1")
    assert not searches_patient({"code": ["x"]}, "p1")


def _searchset(*entries: tuple[dict[str, Any], str]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": mode}} for r, mode in entries],
    }


ORDER = {"resourceType": "MedicationRequest", "id": "o1", "subject": {"reference": "Patient/p1"}}
ROLE = {"resourceType": "PractitionerRole", "id": "r1"}
OTHER_PATIENT = {"resourceType": "Patient", "id": "p2"}


@pytest.mark.parametrize(
    ("scope", "patient", "kept"),
    [
        ("patient/MedicationRequest.rs patient/PractitionerRole.rs", "p1", ["o1", "r1"]),
        ("patient/MedicationRequest.rs", "p1", ["o1"]),  # no PractitionerRole scope
        ("patient/MedicationRequest.rs patient/PractitionerRole.s", "p1", ["o1"]),  # search only
        ("patient/*.rs", "p1", ["o1", "r1"]),  # another patient is never included
        ("user/*.rs", None, ["o1", "r1", "p2"]),
    ],
)
def test_access_includes_never_widen_what_the_token_reads(scope, patient, kept):
    found = _searchset((ORDER, "match"), (ROLE, "include"), (OTHER_PATIENT, "include"))
    filtered = readable_includes(found, resource_scopes(scope), patient)
    assert [e["resource"]["id"] for e in filtered["entry"]] == kept
