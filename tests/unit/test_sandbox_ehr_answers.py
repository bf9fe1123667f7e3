"""Answer faults: each reshaped searchset is one the app's client must refuse as incomplete."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_client.completeness import read_searchset_page, short_of_total, total_of
from sandbox.ehr.answers import cut_short, failing_next, malformed, other_patient
from sandbox.ehr.faults import Variant


def _searchset(count: int, *, next_page: bool = False, total: int | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": "https://x/fhir/Observation"}],
        "entry": [
            {
                "resource": {"resourceType": "Observation", "id": f"o{i}"},
                "search": {"mode": "match"},
            }
            for i in range(count)
        ]
        + [{"resource": {"resourceType": "Patient", "id": "p"}, "search": {"mode": "include"}}],
    }
    if next_page:
        bundle["link"].append({"relation": "next", "url": "https://x/fhir/Observation?page=2"})
    if total is not None:
        bundle["total"] = total
    return bundle


@pytest.mark.parametrize("variant", list(Variant))
@pytest.mark.parametrize("count", [0, 3])
def test_answers_malformed_searchset_is_read_as_incomplete(variant, count) -> None:
    original = _searchset(count)
    spoilt = malformed(original, variant, "Observation")
    assert read_searchset_page(original, "Observation").problems == ()
    assert read_searchset_page(spoilt, "Observation").problems
    assert original == _searchset(count)  # the engine's answer itself is left alone


@pytest.mark.parametrize(
    ("count", "next_page", "total"), [(3, False, None), (3, True, 7), (0, False, 0), (2, False, 2)]
)
def test_answers_cut_short_reads_fewer_matches_than_total(count, next_page, total) -> None:
    short = cut_short(_searchset(count, next_page=next_page, total=total))
    reading = read_searchset_page(short, "Observation")
    assert reading.problems == ()
    assert all(link["relation"] != "next" for link in short["link"])
    assert short_of_total(reading.matches, total_of(short)) is not None


@pytest.mark.parametrize("variant", [Variant.ENTRY_STRING, Variant.ENTRY_NUMBER])
def test_answers_entry_not_an_object_is_named(variant) -> None:
    spoilt = malformed(_searchset(2), variant, "Observation")
    assert not isinstance(spoilt["entry"][0], dict) and isinstance(spoilt["entry"], list)
    assert any("is not an object" in p for p in read_searchset_page(spoilt, "Observation").problems)


@pytest.mark.parametrize("next_page", [False, True])
def test_answers_failing_next_leads_to_the_failing_page_only(next_page) -> None:
    original = _searchset(2, next_page=next_page, total=2)
    paged = failing_next(original, "https://x/fhir/Observation?_failing=500")
    nexts = [link["url"] for link in paged["link"] if link["relation"] == "next"]
    assert nexts == ["https://x/fhir/Observation?_failing=500"]
    assert (
        paged["entry"] == original["entry"]
        and read_searchset_page(paged, "Observation").problems == ()
    )
    assert original == _searchset(2, next_page=next_page, total=2)


def test_answers_other_patient_is_never_the_patient_asked_for() -> None:
    asked = {"resourceType": "Patient", "id": "sbx-severe"}
    assert other_patient(asked, None)["id"] == "sbx-severe-other"
    assert other_patient(asked, {"resourceType": "Patient", "id": "sbx-mild"})["id"] == "sbx-mild"
    assert asked["id"] == "sbx-severe"
