"""The fetch's parts: the kick-off URL, one folder and one run per EHR, rows as stored."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from fhir_mappings import LocalCode
from launch import IssuerConfig
from smartapp.ehr.patient_reads import lab_code_query
from smartapp.worklist.fetch import (
    FetchBusy,
    download_folder,
    export_url,
    only_fetch,
    stored_patient,
)
from smartapp.worklist.patient_row import patient_phone
from smartapp.worklist.run import WorklistRow

ISSUER = IssuerConfig(iss="https://ehr.example.org/fhir/R4", client_id="app", backend_client_id="b")


def test_export_url_names_the_group_or_every_patient() -> None:
    assert export_url(ISSUER, "clinic 7").startswith(
        "https://ehr.example.org/fhir/R4/Group/clinic%207/$export?_type=Patient%2CMedicationRequest"
    )
    assert export_url(ISSUER, None).startswith("https://ehr.example.org/fhir/R4/Patient/$export?")


def test_download_folder_is_one_per_ehr(tmp_path: Path) -> None:
    other = IssuerConfig(iss="https://other.example.org/fhir", client_id="app")
    assert download_folder(tmp_path, ISSUER) == tmp_path / "worklist" / "ehr-example-org-fhir-R4"
    assert download_folder(tmp_path, other) != download_folder(tmp_path, ISSUER)


def test_only_one_fetch_per_ehr_at_a_time(tmp_path: Path) -> None:
    with only_fetch(tmp_path), pytest.raises(FetchBusy, match="another worklist fetch"):
        with only_fetch(tmp_path):
            pass
    with only_fetch(tmp_path):  # released once the first run ends
        pass


def test_stored_patient_keeps_the_evaluation_and_its_sort_cells() -> None:
    evaluation = {
        "patient": "Patient/p1",
        "overall": "action-required",
        "monitoring": {"next_due": "2026-11-20", "days_overdue": 5},
    }
    row = WorklistRow(
        "Patient/p1", json.dumps(evaluation), "Doe, Jo", "M1", "Dr X", False, "555-0101"
    )
    stored = stored_patient(row)
    assert (stored.overall, stored.next_due, stored.days_overdue) == (
        "action-required",
        date(2026, 11, 20),
        5,
    )
    assert stored.data_complete is False and json.loads(stored.evaluation_json) == evaluation
    assert stored.phone == "555-0101"
    no_anc = {"patient": "Patient/p2", "overall": "attention", "monitoring": None}
    bare = stored_patient(WorklistRow("Patient/p2", json.dumps(no_anc), "", "", "", True))
    assert (bare.next_due, bare.days_overdue) == (None, None)


def test_export_type_filter_narrows_only_observations_to_the_chart_codes() -> None:
    filtered = IssuerConfig(
        iss="https://ehr.example.org/fhir", client_id="app", export_type_filter=True
    )
    local = [LocalCode("https://ehr.example.org/lab", "ANC,AUTO")]
    params = dict(parse_qsl(urlsplit(export_url(filtered, "g", local)).query))
    kind, _, query = params["_typeFilter"].partition("?")
    assert kind == "Observation" and "," not in query  # one filter: its commas are encoded
    assert dict(parse_qsl(query)) == {"code": lab_code_query(local)}
    assert "_typeFilter" not in export_url(ISSUER, "g")


def test_patient_phone_is_the_number_to_call_on_the_as_of_date() -> None:
    as_of = date(2026, 11, 25)
    telecom = [
        {"system": "email", "value": "jo@example.org"},
        {"system": "phone", "value": "old-1", "use": "old"},
        {"system": "phone", "value": "work-1", "use": "work"},
        {
            "system": "phone",
            "value": "mobile-ended",
            "use": "mobile",
            "period": {"end": "2026-01-01"},
        },
        {"system": "phone", "value": "home-2", "use": "home", "rank": 2},
        {"system": "phone", "value": "home-1", "use": "home", "rank": 1},
    ]
    assert patient_phone({"telecom": telecom}, as_of) == "home-1"
    assert patient_phone({"telecom": telecom[:3]}, as_of) == "work-1"
    assert patient_phone({"telecom": telecom[:2]}, as_of) == ""
    assert patient_phone({}, as_of) == ""
