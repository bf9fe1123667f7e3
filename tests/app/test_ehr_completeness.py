"""ReadCompleteness and the patient check: what an incomplete read or another patient stops."""

from __future__ import annotations

import pytest

from fhir_client import FhirIncompleteRead, FhirUnavailable
from smartapp.ehr.completeness import COMPLETE, IncompleteRead, ReadCompleteness, data_words
from smartapp.ehr.patient_identity import check_patient, launch_patient, patient_id_of
from smartapp.errors import IncompleteRecord, WrongPatient


def _read(resource_type: str, problem: str = "entry 1 has no resource") -> IncompleteRead:
    error = FhirIncompleteRead("GET x", user_message=f"{resource_type} said", problems=(problem,))
    return IncompleteRead.from_error(resource_type, error)


def test_completeness_of_everything_read_evaluates_and_writes() -> None:
    assert COMPLETE.complete and COMPLETE.can_evaluate and not COMPLETE.ben_status_unknown
    assert COMPLETE.ben_notice() is None and COMPLETE.writeback_problem() is None


@pytest.mark.parametrize("resource_type", ["MedicationRequest", "Observation"])
def test_completeness_without_orders_or_results_refuses_to_evaluate(resource_type) -> None:
    completeness = COMPLETE.adding(_read(resource_type))
    assert not completeness.can_evaluate and not completeness.ben_status_unknown
    refusal = completeness.refusal()
    assert isinstance(refusal, IncompleteRecord) and refusal.status == 502
    words = {"MedicationRequest": "medication orders", "Observation": "lab results"}
    assert words[resource_type] in refusal.title
    assert refusal.details == (f"{resource_type} said",)
    assert refusal.resource_types == (resource_type,)


def test_completeness_without_conditions_evaluates_with_ben_unknown_and_writes_nothing() -> None:
    completeness = COMPLETE.adding(_read("Condition"))
    assert completeness.can_evaluate and completeness.ben_status_unknown
    notice = completeness.ben_notice() or ""
    assert "BEN status could not be read" in notice and "general thresholds" in notice
    assert "the problem list" in (completeness.writeback_problem() or "")
    assert "Nothing was written" in completeness.write_refusal().title


def test_completeness_keeps_one_read_per_type_in_order() -> None:
    completeness = ReadCompleteness().adding(_read("Observation")).adding(_read("Condition"))
    completeness = completeness.adding(_read("Observation", "page 2 could not be read"))
    assert [r.resource_type for r in completeness.incomplete] == ["Observation", "Condition"]
    assert completeness.of("Observation") == _read("Observation")
    assert data_words(completeness.incomplete) == "lab results and the problem list"


def test_incomplete_read_of_another_failure_names_its_status() -> None:
    error = FhirUnavailable("GET Condition -> 503", user_message="busy", status=503)
    assert IncompleteRead.from_error("Condition", error).problems == ("the EHR answered 503",)


def test_patient_check_accepts_the_launch_patient_and_a_numeric_id() -> None:
    check_patient({"resourceType": "Patient", "id": "p-1"}, "p-1", "p-1")
    check_patient({"resourceType": "Patient", "id": 42}, "42", "42")
    assert patient_id_of({"resourceType": "Patient", "id": True}) is None
    assert launch_patient("p-1") == "p-1"


@pytest.mark.parametrize(
    ("patient", "asked_for", "token_patient", "title"),
    [
        ({"resourceType": "Patient", "id": "p-2"}, "p-1", "p-1", "another patient's record"),
        ({"resourceType": "Patient", "id": "p-1"}, "p-1", "p-2", "another patient's record"),
        ({"resourceType": "Patient"}, "p-1", "p-1", "did not return the patient's record"),
        ({"resourceType": "Group", "id": "p-1"}, "p-1", "p-1", "did not return the patient"),
        ({"resourceType": "Patient", "id": "p-1"}, "p-1", None, "did not say which patient"),
    ],
)
def test_patient_check_stops_on_anything_else(patient, asked_for, token_patient, title) -> None:
    with pytest.raises(WrongPatient) as raised:
        check_patient(patient, asked_for, token_patient)
    assert title in raised.value.title
    assert "p-2" not in str(raised.value)  # another patient's id is never shown


def test_incomplete_read_of_a_searchset_sent_another_way_names_its_problems() -> None:
    from fhir_client.completeness import read_searchset_page

    prefetch = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": None}]}
    reading = read_searchset_page(prefetch, "Observation")
    read = IncompleteRead.from_problems("Observation", reading.problems)
    assert read.problems == ("entry 1 has no resource",)
    assert "lab results could not be read completely (entry 1 has no resource)" in read.message
    assert not COMPLETE.adding(read).can_evaluate
