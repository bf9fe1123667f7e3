"""The contract's rulings on laboratory results, from FHIR JSON to the evaluation's JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clozapine import evaluate, evaluation_to_json, policy_in_force
from fhir_mappings import MappingSettings, patient_facts_from_bundle, read_json

AS_OF = date(2026, 11, 25)
WHEN = "2026-11-20T09:00:00Z"
LOINC = "http://loinc.org"


def result(
    code: str, value: Any, unit: str = "10*3/uL", *, status: str = "final", **extra: Any
) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value, "code": unit}
    quantity.update(extra.pop("quantity", {}))
    return {
        "resourceType": "Observation",
        "id": extra.pop("obs_id", code),
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": extra.pop("when", WHEN),
        "valueQuantity": quantity,
        **extra,
    }


def bounded(code: str, comparator: str, value: Any, unit: str = "10*3/uL", **kw: Any):
    return result(code, value, unit, quantity={"comparator": comparator}, **kw)


def bundle(*resources: dict[str, Any], patient_id: Any = "p") -> dict[str, Any]:
    order = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "medicationCodeableConcept": {"text": "clozapine 100 mg"},
        "authoredOn": "2026-03-02",
    }
    entries = [{"resource": {"resourceType": "Patient", "id": patient_id}}, {"resource": order}]
    entries += [{"resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def output(document: dict[str, Any], as_of: date = AS_OF, **settings: Any) -> dict[str, Any]:
    [facts] = patient_facts_from_bundle(document, MappingSettings(**settings))
    return evaluation_to_json(evaluate(facts, as_of, policy_in_force(as_of)))


def codes(out: dict[str, Any]) -> list[str]:
    return [f["code"] for f in out["findings"]]


def message(out: dict[str, Any], code: str) -> str:
    return next(f["message"] for f in out["findings"] if f["code"] == code)


# -- Comparators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comparator", "value", "expected", "category"),
    [
        ("<", 0.5, 499, "severe"),
        ("<=", 0.5, 500, "moderate"),
        (">=", 1.5, 1500, "normal"),
        (">", 1.5, 1500, "normal"),
        ("<", 1.0, 999, "moderate"),
        ("<", 0.0004995, 0, "severe"),  # 0.4995/uL: one cell below is never below 0
        (" < ", 0.5, 499, "severe"),
    ],
)
def test_comparator_is_a_bound_and_is_used(comparator, value, expected, category):
    older = result("751-8", 2.6, obs_id="older", when="2026-11-13T09:00:00Z")
    out = output(bundle(older, bounded("751-8", comparator, value)))
    assert out["anc"]["value_per_ul"] == expected
    assert out["anc"]["category"] == category
    assert out["anc"]["comparator"] == comparator.strip()
    assert out["anc"]["collected"] == "2026-11-20"
    assert "unit-error" not in codes(out)


def test_comparator_is_null_without_one_and_follows_derived_in_the_output():
    out = output(bundle(result("751-8", 1.8)))
    assert list(out["anc"]) == ["value_per_ul", "collected", "category", "derived", "comparator"]
    assert out["anc"]["comparator"] is None


def test_comparator_messages_show_the_bound_as_reported_normalised():
    out = output(bundle(bounded("751-8", "<", 0.5)))
    assert "<500/uL" in message(out, "interrupt-recommended")
    assert "<500/uL" in message(out, "low-anc-unconfirmed")
    assert out["recommendation"] == "interrupt"


@pytest.mark.parametrize("order", [1, -1])
def test_comparator_equal_values_at_one_instant_the_one_without_counts(order):
    results = [bounded("751-8", "<", 0.5, obs_id="bound"), result("751-8", 0.499, obs_id="plain")]
    out = output(bundle(*results[::order]))
    assert (out["anc"]["value_per_ul"], out["anc"]["comparator"]) == (499, None)


def test_comparator_lower_of_two_at_one_instant_may_be_the_bound():
    out = output(bundle(bounded("751-8", "<", 0.5, obs_id="bound"), result("751-8", 0.8)))
    assert (out["anc"]["value_per_ul"], out["anc"]["comparator"]) == (499, "<")


@pytest.mark.parametrize(
    ("parts", "expected", "bound"),
    [
        ((bounded("6690-2", "<", 1.0), result("770-8", 45, "%")), 449, "<450"),
        ((bounded("6690-2", "<=", 1.0), result("770-8", 45, "%")), 449, "<450"),
        ((result("6690-2", 1.0), bounded("770-8", "<", 45, "%")), 449, "<450"),
        ((bounded("768-2", "<", 0.5), result("763-3", 0.1)), 599, "<600"),
    ],
)
def test_comparator_upper_bound_parts_make_a_derived_upper_bound(parts, expected, bound):
    out = output(bundle(*parts))
    assert out["anc"]["value_per_ul"] == expected
    assert (out["anc"]["derived"], out["anc"]["comparator"]) == (True, "<")
    assert f"{bound}/uL" in message(out, "interrupt-recommended")


@pytest.mark.parametrize("comparator", [">", ">="])
def test_comparator_lower_bound_part_gives_no_derivation_by_its_recipe(comparator):
    out = output(bundle(bounded("6690-2", comparator, 4.0), result("770-8", 45, "%")))
    assert out["anc"] is None and "unit-error" in codes(out)
    # the other recipe decides, and the lower-bound part is still a unit error
    out = output(
        bundle(bounded("6690-2", comparator, 4.0), result("770-8", 45, "%"), result("768-2", 1.7))
    )
    assert (out["anc"]["value_per_ul"], out["anc"]["derived"]) == (1700, True)
    assert "unit-error" in codes(out)


# -- Preliminary beside final ---------------------------------------------------------------


def test_preliminary_wbc_beside_a_final_wbc_does_not_block_the_derivation():
    # The case: a pending WBC beside the final one hid a derived 499/uL.
    parts = (
        result("6690-2", 1.0),
        result("6690-2", 4.0, status="preliminary", obs_id="wbc-p"),
        result("770-8", 49.9, "%"),
    )
    out = output(bundle(result("751-8", 2.6, when="2026-11-13T09:00:00Z"), *parts))
    assert (out["anc"]["value_per_ul"], out["anc"]["derived"]) == (499, True)
    assert out["recommendation"] == "interrupt"
    assert "result-pending" in codes(out)


def test_preliminary_part_is_reported_where_a_measured_anc_decides():
    parts = (result("6690-2", 4.0), result("770-8", 45, "%", status="preliminary"))
    out = output(bundle(result("751-8", 1.8), *parts))
    assert (out["anc"]["value_per_ul"], out["anc"]["derived"]) == (1800, False)
    assert "result-pending" in codes(out)


def test_preliminary_part_without_a_complete_recipe_is_not_reported():
    out = output(bundle(result("751-8", 1.8), result("6690-2", 4.0, status="preliminary")))
    assert "result-pending" not in codes(out)


def test_preliminary_status_spelling_ignores_case():
    out = output(bundle(result("751-8", 1.8, status="Preliminary")))
    assert out["anc"] is None and "result-pending" in codes(out)


# -- "Both derivations possible" -------------------------------------------------------------


def test_both_derivations_means_usable_parts_and_unusable_ones_are_unit_errors():
    parts = (result("6690-2", 4.0, "mmol/L"), result("770-8", 45, "%"), result("768-2", 1.7))
    out = output(bundle(*parts))
    assert (out["anc"]["value_per_ul"], out["anc"]["derived"]) == (1700, True)
    assert "unit-error" in codes(out)


def test_unusable_part_is_a_unit_error_even_where_a_measured_anc_decides():
    parts = (result("6690-2", None), result("770-8", 45, "%"))
    out = output(bundle(result("751-8", 1.8), *parts))
    assert out["anc"]["value_per_ul"] == 1800 and "unit-error" in codes(out)


# -- Spelling -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "unit", "value", "expected"),
    [
        ("Final", "k/ul", 1.8, 1800),
        ("AMENDED", "10 * 3/uL", 1.8, 1800),
        (" corrected ", "X10E3/UL", 1.8, 1800),
        ("final", "cells / \u00b5L", 1800, 1800),
        ("final", "10*3/uL", "1.8", 1800),
        ("final", "10*3/uL", " 0.4995 ", 500),
        ("final", "/uL", "1.5e3", 1500),
    ],
)
def test_spelling_statuses_units_and_string_decimals(status, unit, value, expected):
    out = output(bundle(result("751-8", value, unit, status=status)))
    assert out["anc"]["value_per_ul"] == expected


@pytest.mark.parametrize(
    ("words", "ben"),
    [
        ("Duffy null associated neutrophil count", True),
        ("Duffy-null phenotype", True),
        ("DUFFY  -  NULL", True),
        ("duffy\tnull", True),
        ("Benign   ethnic\nneutropenia", True),
        ("Duffynull", False),
        ("Duffy antigen", False),
    ],
)
def test_spelling_ben_text(words, ben):
    condition = {"resourceType": "Condition", "code": {"text": words}}
    assert output(bundle(result("751-8", 1.2), condition))["population"] == (
        "ben" if ben else "general"
    )


# -- Exact numbers --------------------------------------------------------------------------

TEMPLATE = (
    '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "p"}},'
    ' {"resource": {"resourceType": "MedicationRequest", "status": "active", "authoredOn":'
    ' "2026-03-02", "medicationCodeableConcept": {"text": "clozapine"}}},'
    ' {"resource": {"resourceType": "Observation", "status": "final", "code": {"coding":'
    ' [{"system": "http://loinc.org", "code": "751-8"}]}, "effectiveDateTime":'
    ' "2026-11-20T09:00:00Z", "valueQuantity": {"value": VALUE, "code": "10*3/uL"}}}]}'
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.49949999999999999999", 1499),
        ("1.4995", 1500),
        ("0.49949999999999999999999999999999999999", 499),
        ("1.49950000000000000000000000000000000000001", 1500),
        ("1.5E0", 1500),
        ("15e-1", 1500),
    ],
)
def test_exact_numbers_never_pass_through_a_float(value, expected):
    out = output(read_json(TEMPLATE.replace("VALUE", value)))
    assert out["anc"]["value_per_ul"] == expected


@pytest.mark.parametrize(
    "value",
    [
        "1" * 101,
        "9" * 5000,
        "-" + "9" * 100,
        "0." + "0" * 98 + "1",
        "1." + "4" * 99,
        '"' + "1" * 101 + '"',
        "NaN",
        "Infinity",
    ],
)
def test_exact_numbers_over_100_characters_are_unit_errors(value):
    out = output(read_json(TEMPLATE.replace("VALUE", value)))
    assert out["anc"] is None
    assert "unit-error" in codes(out)


def test_exact_numbers_of_100_characters_are_read():
    out = output(read_json(TEMPLATE.replace("VALUE", "1." + "4" * 98)))
    assert out["anc"]["value_per_ul"] == 1444


def test_exact_numbers_huge_exponents_are_values_not_errors():
    out = output(read_json(TEMPLATE.replace("VALUE", "1e999999999")))
    assert "unit-error" in codes(out)
    out = output(read_json(TEMPLATE.replace("VALUE", "1e-999999999")))
    assert out["anc"]["value_per_ul"] == 0


# -- Results after the as-of date, dropped before merging -------------------------------------


def test_later_result_is_dropped_by_its_own_date_before_same_instant_merging():
    # The same instant written in two offsets: with no zone each is dated as written.
    on_the_25th = result("751-8", 1.8, when="2026-11-25T23:30:00-08:00", obs_id="a")
    on_the_26th = result("751-8", 0.4, when="2026-11-26T07:30:00Z", obs_id="b")
    out = output(bundle(on_the_25th, on_the_26th))
    assert (out["anc"]["value_per_ul"], out["anc"]["collected"]) == (1800, "2026-11-25")
    out = output(bundle(on_the_25th, on_the_26th), as_of=date(2026, 11, 26))
    assert (out["anc"]["value_per_ul"], out["anc"]["collected"]) == (400, "2026-11-26")


def test_later_part_is_dropped_before_a_derivation():
    wbc = result("6690-2", 4.0, when="2026-11-25T23:30:00-08:00")
    neutrophils = result("770-8", 45, "%", when="2026-11-26T07:30:00Z")
    assert output(bundle(wbc, neutrophils))["anc"] is None
    assert output(bundle(wbc, neutrophils), as_of=date(2026, 11, 26))["anc"]["value_per_ul"] == 1800


# -- Identifiers ----------------------------------------------------------------------------


def test_numeric_patient_id_is_read_as_its_string_and_references_match():
    document = read_json(
        '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": 123}},'
        ' {"resource": {"resourceType": "Patient", "id": "456"}},'
        ' {"resource": {"resourceType": "MedicationRequest", "status": "active", "authoredOn":'
        ' "2026-03-02", "subject": {"reference": "Patient/123"}, "medicationCodeableConcept":'
        ' {"text": "clozapine"}}}]}'
    )
    first, second = patient_facts_from_bundle(document)
    assert (first.patient, len(first.orders)) == ("Patient/123", 1)
    assert (second.patient, len(second.orders)) == ("Patient/456", 0)
