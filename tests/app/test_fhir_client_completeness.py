"""The searchset shapes that make a read incomplete, page by page and across pages."""

from __future__ import annotations

import pytest
import responses

from fhir_client import FhirClient, FhirIncompleteRead
from fhir_client.completeness import read_searchset_page, short_of_total, total_of

BASE = "https://ehr.test/fhir"
ORDER = {"resourceType": "MedicationRequest", "id": "mr-1"}
MEDICATION = {"resourceType": "Medication", "id": "med-1"}


def page(entries: object, **extra: object) -> dict[str, object]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries, **extra}


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ({"resource": ORDER}, "its entry is not a list"),
        ([None], "entry 1 is not an object"),
        (["text"], "entry 1 is not an object"),
        ([{"resource": None}], "entry 1 has no resource"),
        ([{"fullUrl": "x"}], "entry 1 has no resource"),
        ([{"resource": {"id": "mr-1"}}], "entry 1 has no resourceType"),
        ([{"resource": {"id": "mr-1"}, "search": {"mode": "match"}}], "has no resourceType"),
        ([{"resource": MEDICATION}], "entry 1 is a Medication where MedicationRequest"),
        ([{"resource": MEDICATION, "search": {"mode": "match"}}], "is a Medication where"),
        ([{"resource": {"id": "x"}, "search": {"mode": "include"}}], "(included) has no"),
    ],
)
def test_completeness_each_malformed_shape_is_named(entries: object, problem: str) -> None:
    reading = read_searchset_page(page(entries), "MedicationRequest")
    assert reading.resources == ()
    assert any(problem in found for found in reading.problems), reading.problems


def test_completeness_includes_and_outcomes_are_fine() -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": []}
    reading = read_searchset_page(
        page(
            [
                {"resource": ORDER, "search": {"mode": "match"}},
                {"resource": ORDER | {"id": "mr-2"}},
                {"resource": MEDICATION, "search": {"mode": "include"}},
                {"resource": outcome, "search": {"mode": "outcome"}},
                {"resource": outcome},
            ]
        ),
        "MedicationRequest",
    )
    assert reading.problems == ()
    assert reading.matches == 2
    assert [r["id"] for r in reading.resources] == ["mr-1", "mr-2", "med-1"]


def test_completeness_no_entry_is_an_empty_complete_page() -> None:
    reading = read_searchset_page({"resourceType": "Bundle", "type": "searchset"}, "Condition")
    assert reading == read_searchset_page(page(None), "Condition")
    assert reading.problems == () and reading.resources == ()


def test_completeness_total_counts_only_usable_numbers() -> None:
    assert total_of(page([], total=3)) == 3
    assert total_of(page([], total=True)) is None
    assert total_of(page([], total="3")) is None
    assert short_of_total(2, 3) == "2 of the 3 results the EHR counted were read"
    assert short_of_total(3, 3) is None and short_of_total(0, None) is None


def make_client() -> FhirClient:
    return FhirClient(BASE, lambda: "token", max_retries=0, sleep=lambda _: None)


@responses.activate
def test_completeness_client_refuses_a_malformed_page() -> None:
    responses.get(f"{BASE}/MedicationRequest", json=page({"resource": ORDER}))
    with pytest.raises(FhirIncompleteRead) as raised:
        make_client().search("MedicationRequest", {"patient": "p1"})
    assert raised.value.problems == ("its entry is not a list",)
    assert "medication orders could not be read completely" in raised.value.user_message


@responses.activate
def test_completeness_client_refuses_fewer_matches_than_total() -> None:
    responses.get(
        f"{BASE}/MedicationRequest",
        json=page([{"resource": ORDER, "search": {"mode": "match"}}], total=2),
    )
    with pytest.raises(FhirIncompleteRead) as raised:
        make_client().search("MedicationRequest", {"patient": "p1"})
    assert raised.value.problems == ("1 of the 2 results the EHR counted were read",)


@responses.activate
def test_completeness_client_counts_matches_across_pages_against_total() -> None:
    second = f"{BASE}/MedicationRequest?page=2"
    responses.get(
        second,
        json=page([{"resource": ORDER | {"id": "mr-2"}, "search": {"mode": "match"}}]),
    )
    responses.get(
        f"{BASE}/MedicationRequest",
        json=page(
            [
                {"resource": ORDER, "search": {"mode": "match"}},
                {"resource": MEDICATION, "search": {"mode": "include"}},
            ],
            total=2,
            link=[{"relation": "next", "url": second}],
        ),
    )
    found = make_client().search("MedicationRequest", {"patient": "p1"})
    assert [r["id"] for r in found] == ["mr-1", "med-1", "mr-2"]


@responses.activate
def test_completeness_client_a_failing_next_page_is_an_incomplete_read() -> None:
    second = f"{BASE}/Condition?page=2"
    responses.get(second, status=503)
    responses.get(
        f"{BASE}/Condition",
        json=page(
            [{"resource": {"resourceType": "Condition", "id": "c1"}}],
            link=[{"relation": "next", "url": second}],
        ),
    )
    with pytest.raises(FhirIncompleteRead) as raised:
        make_client().search("Condition", {"patient": "p1"})
    assert raised.value.problems == ("page 2 could not be read",)
    assert raised.value.retryable
    assert "Only part of the problem list was read" in raised.value.user_message
