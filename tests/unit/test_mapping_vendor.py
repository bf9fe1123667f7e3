"""The real vendor payloads (Oracle Health, HL7 US Core) read through the mapping.

The fixtures live in ../shared/fixtures/vendor-examples beside the project; the tests skip when
that folder is absent. Bundles are built around them, changing only what a test says it changes.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from clozapine.facts import PatientFacts, ResultProblem
from fhir_mappings import patient_facts_from_bundle
from tests.conftest import skip_or_fail

VENDOR = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "vendor-examples"
LOINC = "http://loinc.org"


def vendor(relative: str) -> dict[str, Any]:
    path = VENDOR / relative
    if not path.is_file():
        skip_or_fail(f"vendor fixture {relative} not found in ../shared beside the project")
    resource: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return resource


def facts_for(patient_id: str, *resources: dict[str, Any]) -> PatientFacts:
    entries = [{"resource": {"resourceType": "Patient", "id": patient_id}}]
    entries += [{"resource": resource} for resource in resources]
    [facts] = patient_facts_from_bundle(
        {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    )
    return facts


def neutrophil_percent(when: str, subject: str, value: float = 60.0) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "neut-pct",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "770-8"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        },
    }


def test_oracle_wbc_in_10_6_per_ul_is_a_unit_error_not_a_derived_anc():
    wbc = vendor("oracle-health/observation-lab-wbc.json")
    neut = neutrophil_percent(wbc["effectiveDateTime"], wbc["subject"]["reference"])
    facts = facts_for("3998008", wbc, neut)
    assert facts.ancs == ()
    [error] = facts.unusable
    assert error.problem is ResultProblem.UNIT_ERROR
    assert "10*6/uL" in error.detail
    assert error.collected_on == date(2016, 1, 26)


def test_oracle_wbc_unit_display_without_code_is_also_a_unit_error():
    wbc = vendor("oracle-health/observation-lab-wbc.json")
    del wbc["valueQuantity"]["code"]  # leaves "x10(6)/mcL", which reads as 10*6/uL
    neut = neutrophil_percent(wbc["effectiveDateTime"], wbc["subject"]["reference"])
    [error] = facts_for("3998008", wbc, neut).unusable
    assert "x10(6)/mcL" in error.detail


def test_oracle_wbc_with_a_count_unit_derives_the_anc():
    wbc = vendor("oracle-health/observation-lab-wbc.json")
    wbc["valueQuantity"].update({"value": 4.5, "unit": "x10(3)/mcL", "code": "10*3/uL"})
    neut = neutrophil_percent(wbc["effectiveDateTime"], wbc["subject"]["reference"])
    [anc] = facts_for("3998008", wbc, neut).ancs
    assert (anc.value_per_ul, anc.derived) == (2700, True)
    assert anc.source == "Observation/M-5851280+Observation/neut-pct"


def test_oracle_wbc_unit_display_only_converts_from_mcl():
    wbc = vendor("oracle-health/observation-lab-wbc.json")
    wbc["valueQuantity"] = {"value": 4.5, "unit": "x10(3)/mcL"}
    neut = neutrophil_percent(wbc["effectiveDateTime"], wbc["subject"]["reference"])
    [anc] = facts_for("3998008", wbc, neut).ancs
    assert anc.value_per_ul == 2700


def test_oracle_masked_preliminary_recoded_as_anc_is_pending():
    preliminary = vendor("oracle-health/observation-lab-preliminary.json")
    preliminary["code"]["coding"][1]["code"] = "751-8"  # the Hgb example, recoded as an ANC
    facts = facts_for("12742400", preliminary)
    assert facts.ancs == ()
    [pending] = facts.unusable
    assert pending.problem is ResultProblem.PENDING
    assert pending.detail == "preliminary, no value (masked)"
    assert pending.collected_on == date(2022, 6, 1)


def test_oracle_masked_preliminary_hemoglobin_is_ignored():
    facts = facts_for("12742400", vendor("oracle-health/observation-lab-preliminary.json"))
    assert (facts.ancs, facts.unusable, facts.notes) == ((), (), ())


def test_oracle_entered_in_error_with_trailing_space_is_ignored():
    wbc = vendor("oracle-health/observation-lab-wbc.json")
    wbc["code"]["coding"][1]["code"] = "751-8"
    wbc["valueQuantity"].update({"value": 0.3, "code": "10*3/uL"})
    wbc["status"] = "entered-in-error "
    facts = facts_for("3998008", wbc)
    assert (facts.ancs, facts.unusable) == ((), ())


def test_oracle_medication_request_swapped_to_clozapine_is_an_ongoing_order():
    order_json = vendor("oracle-health/medication-request.json")
    order_json["medicationCodeableConcept"] = {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "197536",
                "display": "clozapine 25 MG Oral Tablet",
            }
        ],
        "text": "clozapine (clozapine 25 mg oral tablet)",
    }
    [order] = facts_for("12724065", order_json).orders
    assert order.start_on == date(2020, 7, 14)
    assert order.end_on is None  # active; boundsPeriod has a start and no end
    assert order.authored_on == date(2020, 7, 14)
    assert order.prescriber == "Practitioner/12732044"
    assert order.pharmacy is None
    assert order.source == "MedicationRequest/314010287"


def test_oracle_medication_request_for_acetaminophen_is_no_order():
    assert facts_for("12724065", vendor("oracle-health/medication-request.json")).orders == ()


def test_oracle_medication_request_completed_uses_its_dates_as_written():
    order_json = copy.deepcopy(vendor("oracle-health/medication-request.json"))
    order_json["medicationCodeableConcept"] = {"text": "Clozaril 100 mg"}
    order_json["status"] = "completed"
    [order] = facts_for("12724065", order_json).orders
    assert (order.start_on, order.end_on) == (date(2020, 7, 14), date(2020, 7, 14))


def test_oracle_patient_with_race_and_ethnicity_is_not_ben():
    patient = vendor("oracle-health/patient.json")
    bundle = {"resourceType": "Bundle", "entry": [{"resource": patient}]}
    [facts] = patient_facts_from_bundle(bundle)
    assert (facts.patient, facts.ben_documented) == ("Patient/12724067", False)


def test_oracle_resolved_condition_is_not_ben_even_when_named_so():
    condition = vendor("oracle-health/condition.json")
    assert facts_for("12724066", condition).ben_documented is False
    condition["code"] = {"text": "Benign ethnic neutropenia"}
    assert facts_for("12724066", condition).ben_documented is False  # resolved
    condition["clinicalStatus"]["coding"][0]["code"] = "active"
    assert facts_for("12724066", condition).ben_documented is True


def test_oracle_vital_signs_are_ignored():
    facts = facts_for("12724066", vendor("oracle-health/observation-vital-signs.json"))
    assert (facts.ancs, facts.unusable, facts.notes) == ((), (), ())


def test_us_core_neutrophil_percent_with_date_only_derives_with_a_wbc_that_day():
    neut = vendor("hl7-us-core/observation-neutrophils.json")
    wbc = {
        "resourceType": "Observation",
        "id": "wbc",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "6690-2"}]},
        "subject": {"reference": "Patient/example"},
        "effectiveDateTime": "2005-07-05",
        "valueQuantity": {"value": 5.0, "unit": "10*3/uL"},
    }
    [anc] = facts_for("example", neut, wbc).ancs
    assert (anc.value_per_ul, anc.collected_on, anc.derived) == (2000, date(2005, 7, 5), True)
