"""The registry store: JSON round trip, the engine's view of one patient, and audited changes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clozapine import Registry, RegistryFormatError, evaluate, evaluation_to_json, policy_by_id
from fhir_mappings import patient_facts_from_bundle
from smartapp.db import AuditLog
from smartapp.db.registry_store import ImportSummary, RegistryStore
from smartapp.org_config import OrgConfig
from tests.app_helpers import ISS
from tests.conftest import PROJECT_ROOT, SHARED


def _readable_by_a_program(registry: Any) -> bool:
    try:
        Registry.from_json(registry, program_fields=True)
    except RegistryFormatError:
        return False
    return True


_WITH_REGISTRY = [
    path
    for folder in (SHARED / "scenarios", PROJECT_ROOT / "tests" / "scenarios")
    if folder.is_dir()
    for path in sorted(folder.glob("*.json"))
    if "registry" in json.loads(path.read_text())
]
# The database keeps typed expiry and status columns, so it stores a registry only when an
# organisation program could read every field of it; scenarios whose REMS-ignored fields hold
# junk are refused on import (tested below), though `smartapp evaluate --registry` reads them.
SCENARIO_FILES = [
    p for p in _WITH_REGISTRY if _readable_by_a_program(json.loads(p.read_text())["registry"])
]
JUNK_FIELD_FILES = [p for p in _WITH_REGISTRY if p not in SCENARIO_FILES]
WITH_EXTRAS: dict[str, list[dict[str, Any]]] = {
    "prescribers": [
        {"practitioner": "Practitioner/dr-a", "certified": "2021-09-01", "name": "Dr A. Able"},
        {"practitioner": "Practitioner/dr-b", "certified": "2021-10-02", "expires": "2023-10-01"},
    ],
    "pharmacies": [
        {
            "organization": "Organization/ph-1",
            "certified": "2021-10-01",
            "expires": "2024-01-31",
            "name": "Main Street Pharmacy",
        }
    ],
    "patients": [
        {"patient": "Patient/pt-1", "enrolled": "2021-11-20", "prescriber": "Practitioner/dr-a"},
        {"patient": "Patient/pt-1", "enrolled": "2022-03-01", "status": "interrupted"},
        {
            "patient": "Patient/pt-2",
            "enrolled": "2021-12-01",
            "prescriber": "Practitioner/dr-b",
            "status": "discontinued",
            "expires": "2022-12-01",
        },
    ],
    "status_forms": [
        {"patient": "Patient/pt-1", "submitted": "2021-12-01", "anc_reported": 1800},
        {"patient": "Patient/pt-1", "submitted": "2022-01-05"},
    ],
}

UNRELATED = {
    "prescribers": [{"practitioner": "Practitioner/elsewhere", "certified": "2016-01-01"}],
    "pharmacies": [{"organization": "Organization/elsewhere", "certified": "2016-01-01"}],
    "patients": [{"patient": "Patient/elsewhere", "enrolled": "2016-01-01"}],
    "status_forms": [{"patient": "Patient/elsewhere", "submitted": "2016-02-01"}],
}


def _complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its missing lists written out empty (a missing list is empty)."""
    lists = ("prescribers", "pharmacies", "patients", "status_forms")
    return {key: document.get(key) or [] for key in lists}


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_registry_round_trip_of_scenario_registries(database, path: Path):
    registry = json.loads(path.read_text())["registry"]
    store = RegistryStore(database)
    store.import_json(ISS, registry, actor="test")
    assert store.export(ISS) == _complete(registry)


@pytest.mark.parametrize("path", JUNK_FIELD_FILES, ids=lambda p: p.stem)
def test_registry_import_refuses_unreadable_program_fields_and_keeps_the_store(
    database, path: Path
):
    store = RegistryStore(database)
    store.import_json(ISS, WITH_EXTRAS, actor="test")
    with pytest.raises(RegistryFormatError):
        store.import_json(ISS, json.loads(path.read_text())["registry"], actor="test")
    assert store.export(ISS) == WITH_EXTRAS


def test_registry_round_trip_with_extra_fields_is_exact(database):
    store = RegistryStore(database)
    assert store.import_json(ISS, WITH_EXTRAS, actor="test") == ImportSummary(created=8)
    assert store.export(ISS) == WITH_EXTRAS
    assert json.dumps(store.export(ISS)) == json.dumps(WITH_EXTRAS)  # same order, same keys


def test_registry_empty_database_exports_four_empty_lists(database):
    assert RegistryStore(database).export(ISS) == _complete({})


def test_registry_references_are_normalised_on_import(database):
    store = RegistryStore(database)
    store.import_json(ISS,
        {"prescribers": [{"practitioner": "https://ehr/fhir/Practitioner/a/_history/2",
                          "certified": "2021-09-01"}]},
        actor="test",
    )  # fmt: skip
    assert store.export(ISS)["prescribers"] == [
        {"practitioner": "Practitioner/a", "certified": "2021-09-01"}
    ]


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_registry_for_gives_the_same_evaluation_as_the_whole_file(database, path: Path):
    case = json.loads(path.read_text())
    as_of = date.fromisoformat(case["as_of"])
    policy = policy_by_id(case["expected"]["policy"])
    store = RegistryStore(database)
    store.import_json(ISS, case["registry"], actor="test")
    store.import_json(ISS, UNRELATED, actor="test")  # other people's records must not matter
    whole = Registry.from_json(case["registry"])
    settings = OrgConfig().mapping_settings(case.get("timezone"))
    for facts in patient_facts_from_bundle(case["bundle"], settings):
        expected = evaluation_to_json(evaluate(facts, as_of, policy, whole))
        loaded = store.registry_for_facts(ISS, facts)
        assert evaluation_to_json(evaluate(facts, as_of, policy, loaded)) == expected
        prescribers = {o.prescriber for o in facts.orders} - {None}
        pharmacies = {o.pharmacy for o in facts.orders} - {None}
        if len(prescribers) <= 1 and len(pharmacies) <= 1:
            one = store.registry_for(
                ISS, facts.patient, *prescribers or [None], *pharmacies or [None]
            )
            assert evaluation_to_json(evaluate(facts, as_of, policy, one)) == expected


def test_registry_for_loads_only_one_patients_records(database):
    store = RegistryStore(database)
    store.import_json(ISS, WITH_EXTRAS, actor="test")
    registry = store.registry_for(
        ISS, "https://ehr/fhir/Patient/pt-1", "Practitioner/dr-a", "Organization/ph-1"
    )
    assert [c.reference for c in registry.prescribers] == ["Practitioner/dr-a"]
    assert [c.expires_on for c in registry.pharmacies] == [date(2024, 1, 31)]
    assert [(e.enrolled_on, e.status) for e in registry.patients] == [
        (date(2021, 11, 20), "active"),
        (date(2022, 3, 1), "interrupted"),
    ]
    assert [f.submitted_on for f in registry.status_forms] == [date(2021, 12, 1), date(2022, 1, 5)]
    assert store.registry_for(ISS, "Patient/nobody") == Registry()


def test_registry_import_is_idempotent_and_audits_only_changes(database):
    store, audit = RegistryStore(database), AuditLog(database)
    store.import_json(ISS, WITH_EXTRAS, actor="admin-1", request_id="req-1")
    assert len(audit.events(ISS)) == 8
    assert store.import_json(ISS, WITH_EXTRAS, actor="admin-1") == ImportSummary(unchanged=8)
    assert len(audit.events(ISS)) == 8
    changed = {**WITH_EXTRAS, "prescribers": [{**WITH_EXTRAS["prescribers"][0], "name": "Dr Able"}]}
    assert store.import_json(ISS, changed, actor="admin-2") == ImportSummary(updated=1, unchanged=6)
    [latest, *_] = audit.events(ISS)
    assert (latest.actor, latest.action, latest.target) == (
        "admin-2",
        "registry.prescribers.update",
        "prescribers:Practitioner/dr-a",
    )
    assert latest.before is not None and latest.before["name"] == "Dr A. Able"
    assert latest.after is not None and latest.after["name"] == "Dr Able"
    assert {e.request_id for e in audit.events(ISS, limit=100)} == {"req-1", None}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "JSON object"),
        ({"prescribers": {}}, "must be a list"),
        ({"prescribers": [{"certified": "2021-09-01"}]}, "no 'practitioner'"),
        ({"pharmacies": [{"organization": "Organization/x", "certified": "2021-9-1"}]}, "YYYY"),
        ({"patients": [{"patient": "Patient/p", "enrolled": "2021-09-01", "status": "paused"}]},
         "status"),
        ({"status_forms": [{"patient": "Patient/p", "submitted": "2021-09-01",
                            "anc_reported": 1.8}]}, "whole number"),
        ({"status_forms": [{"patient": "Patient/p", "submitted": "2021-09-01",
                            "anc_reported": True}]}, "whole number"),
        ({"prescribers": [{"practitioner": "Practitioner/a", "certified": "2021-09-01",
                           "name": 7}]}, "name"),
        ({"prescribers": [{"practitioner": "Practitioner/a", "certified": "2021-09-01"},
                          {"practitioner": "Practitioner/a", "certified": "2019-01-01"}]},
         r"prescribers\[1\] repeats prescribers\[0\]"),
        ({"patients": [{"patient": "Patient/p", "enrolled": "2021-09-01"},
                       {"patient": "Patient/p", "enrolled": "2021-09-01", "status": "interrupted"}]},
         "repeats"),
        ({**WITH_EXTRAS, "status_forms": [{"patient": "Patient/p"}]}, "submitted"),
    ],
)  # fmt: skip
def test_registry_malformed_import_writes_nothing(database, document, reason):
    store = RegistryStore(database)
    with pytest.raises(RegistryFormatError, match=reason):
        store.import_json(ISS, document, actor="test")
    assert store.export(ISS) == _complete({})
    assert AuditLog(database).events(ISS) == []


def test_registry_admin_changes_each_write_an_audit_event(database):
    store, audit = RegistryStore(database), AuditLog(database)
    outcomes = [
        store.upsert_prescriber(
            ISS, "Practitioner/dr-a", date(2021, 9, 1), actor="Practitioner/adm"
        ),
        store.upsert_prescriber(
            ISS, "Practitioner/dr-a", date(2021, 9, 1), actor="Practitioner/adm"
        ),
        store.upsert_prescriber(
            ISS, "Practitioner/dr-a", date(2021, 9, 1), actor="adm", expires_on=date(2023, 9, 1)
        ),
        store.upsert_pharmacy(
            ISS, "Organization/ph-1", date(2021, 10, 1), actor="adm", name="Ph 1"
        ),
        store.record_enrollment(
            ISS,
            "Patient/pt-1",
            date(2021, 11, 20),
            actor="adm",
            prescriber_reference="Practitioner/dr-a",
        ),
        store.record_enrollment(
            ISS, "Patient/pt-1", date(2021, 11, 20), actor="adm", status="discontinued"
        ),
        store.record_status_form(
            ISS, "Patient/pt-1", date(2021, 12, 1), actor="adm", anc_reported_per_ul=2100
        ),
    ]
    assert outcomes == [
        "created",
        "unchanged",
        "updated",
        "created",
        "created",
        "updated",
        "created",
    ]
    events = list(reversed(audit.events(ISS)))
    assert [(e.action, e.target) for e in events] == [
        ("registry.prescribers.create", "prescribers:Practitioner/dr-a"),
        ("registry.prescribers.update", "prescribers:Practitioner/dr-a"),
        ("registry.pharmacies.create", "pharmacies:Organization/ph-1"),
        ("registry.patient_enrollments.create", "patient_enrollments:Patient/pt-1@2021-11-20"),
        ("registry.patient_enrollments.update", "patient_enrollments:Patient/pt-1@2021-11-20"),
        ("registry.status_forms.create", "status_forms:Patient/pt-1@2021-12-01"),
    ]
    assert events[0].before is None and events[0].actor == "Practitioner/adm"
    assert events[4].before == {
        "patient": "Patient/pt-1",
        "enrolled": "2021-11-20",
        "prescriber": "Practitioner/dr-a",
    }
    assert events[4].after == {
        "patient": "Patient/pt-1",
        "enrolled": "2021-11-20",
        "status": "discontinued",
    }
    assert events[5].after == {"patient": "Patient/pt-1", "submitted": "2021-12-01",
                               "anc_reported": 2100}  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.record_enrollment(ISS, "Patient/p", date(2021, 1, 1), actor="a", status="paused"),
        lambda s: s.upsert_prescriber(ISS, "", date(2021, 1, 1), actor="a"),
        lambda s: s.record_status_form(ISS, "Patient/p", date(2021, 1, 1), actor="a",
                                       anc_reported_per_ul=-1),
    ],
)  # fmt: skip
def test_registry_admin_change_with_bad_values_writes_nothing(database, change):
    store = RegistryStore(database)
    with pytest.raises(RegistryFormatError):
        change(store)
    assert store.export(ISS) == _complete({}) and AuditLog(database).events(ISS) == []


def test_registry_records_of_one_ehr_never_count_at_another(database):
    """The same ids at two EHRs are two records: reads, exports and edits stay with their EHR."""
    other = "https://other-ehr.example.org/fhir"
    store = RegistryStore(database)
    store.import_json(ISS, WITH_EXTRAS, actor="test")
    assert store.export(other) == _complete({})
    assert store.registry_for(other, "Patient/pt-1", "Practitioner/dr-a", "Organization/ph-1") == (
        Registry()
    )
    assert store.import_json(other, WITH_EXTRAS, actor="test") == ImportSummary(created=8)
    assert store.upsert_prescriber(other, "Practitioner/dr-a", date(2020, 1, 1), actor="t") == (
        "updated"
    )
    assert store.export(ISS) == WITH_EXTRAS
    assert store.export(other)["prescribers"][0]["certified"] == "2020-01-01"
    assert {e.iss for e in AuditLog(database).events(other)} == {other}
    assert len(AuditLog(database).events(ISS)) == 8
