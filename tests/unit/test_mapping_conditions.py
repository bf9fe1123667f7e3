"""Golden cases: Conditions (and never race or ethnicity) to documented BEN."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings import LocalCode, MappingSettings, patient_facts_from_bundle

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
BEN_TEXT = {"text": "Benign ethnic neutropenia (documented, hematology 2023)"}


def status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def condition(code: Any = None, **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": "c-1",
        "clinicalStatus": status(CLINICAL, "active"),
        "verificationStatus": status(VERIFICATION, "confirmed"),
        "code": BEN_TEXT if code is None else code,
        "subject": {"reference": "Patient/pt-1"},
    }
    for key, value in fields.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def ben(
    *resources: dict[str, Any], settings: MappingSettings | None = None, **patient: Any
) -> bool:
    entries = [{"resource": {"resourceType": "Patient", "id": "pt-1", **patient}}]
    entries += [{"resource": resource} for resource in resources]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    [facts] = patient_facts_from_bundle(bundle, settings or MappingSettings())
    return facts.ben_documented


@pytest.mark.parametrize(
    "code",
    [
        BEN_TEXT,
        {"text": "BENIGN ETHNIC NEUTROPENIA"},
        {"text": "Duffy-null associated neutrophil count"},
        {"text": "duffy null phenotype"},
        {
            "coding": [
                {"system": "urn:local", "code": "B1", "display": "Benign  ethnic neutropenia"}
            ]
        },
        {"coding": [{"code": "x", "display": "Neutropenia, Duffy-Null"}], "text": "Neutropenia"},
    ],
)
def test_ben_named_by_text_or_display(code):
    assert ben(condition(code)) is True


@pytest.mark.parametrize(
    "code",
    [
        {"text": "Neutropenia"},
        {"text": "Benign neutropenia"},
        {"coding": [{"system": "http://snomed.info/sct", "code": "165517008"}]},
        {},
        "benign ethnic neutropenia",
    ],
)
def test_ben_other_conditions_are_not_ben(code):
    assert ben(condition(code)) is False


@pytest.mark.parametrize(
    ("clinical", "verification", "expected"),
    [
        (status(CLINICAL, "active"), status(VERIFICATION, "confirmed"), True),
        (status(CLINICAL, "recurrence"), status(VERIFICATION, "confirmed"), True),
        (status(CLINICAL, "relapse"), None, True),
        (None, None, True),  # both absent
        (status(CLINICAL, " Active "), status(VERIFICATION, "CONFIRMED"), True),
        ({"text": "Active"}, {"text": "Confirmed"}, True),
        ("active", "confirmed", True),  # bare codes, as STU3 wrote them
        (status(CLINICAL, "inactive"), status(VERIFICATION, "confirmed"), False),
        (status(CLINICAL, "resolved"), None, False),
        (status(CLINICAL, "remission"), None, False),
        (status(CLINICAL, "active"), status(VERIFICATION, "refuted"), False),
        (status(CLINICAL, "active"), status(VERIFICATION, "entered-in-error"), False),
        (status(CLINICAL, "active"), status(VERIFICATION, "provisional"), False),
        (status(CLINICAL, "active"), status(VERIFICATION, "unconfirmed"), False),
        ("inactive", None, False),
    ],
)
def test_ben_statuses(clinical, verification, expected):
    resource = condition(clinicalStatus=clinical, verificationStatus=verification)
    assert ben(resource) is expected


@pytest.mark.parametrize(
    ("local", "coding", "expected"),
    [
        (LocalCode("urn:ben", "BEN"), {"system": "urn:ben", "code": "BEN"}, True),
        (LocalCode(None, "BEN"), {"code": "BEN"}, True),
        (LocalCode(None, "BEN"), {"system": "urn:ben", "code": "BEN"}, False),
        (LocalCode("urn:ben", "BEN"), {"system": "urn:ben", "code": "OTHER"}, False),
    ],
)
def test_ben_configured_codes(local, coding, expected):
    settings = MappingSettings(ben_codes=frozenset({local}))
    assert ben(condition({"coding": [coding]}), settings=settings) is expected


def test_ben_never_from_race_or_ethnicity():
    race = {
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
        "extension": [
            {
                "url": "ombCategory",
                "valueCoding": {
                    "system": "urn:oid:2.16.840.1.113883.6.238",
                    "code": "2054-5",
                    "display": "Black or African American",
                },
            },
            {"url": "text", "valueString": "Black or African American; Duffy-null"},
        ],
    }
    assert ben(extension=[race]) is False


def test_ben_condition_of_another_patient_does_not_count():
    resource = condition(subject={"reference": "Patient/someone-else"})
    assert ben(resource) is False


def test_ben_any_one_condition_is_enough():
    refuted = condition(verificationStatus=status(VERIFICATION, "refuted"))
    confirmed = condition(id="c-2")
    assert ben(refuted, confirmed) is True
