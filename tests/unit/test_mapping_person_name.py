"""A person's name from raw FHIR JSON (Patient, RelatedPerson), read leniently."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.person_name import person_name

CASES: list[tuple[str, Any, str]] = [
    ("text-first", [{"text": "Pat Example", "given": ["P"], "family": "X"}], "Pat Example"),
    ("given-and-family", [{"given": ["Ann", "Marie"], "family": "Jones"}], "Ann Marie Jones"),
    ("family-only", [{"family": "Jones"}], "Jones"),
    ("blank-text-falls-back", [{"text": "  ", "given": ["Ann"]}], "Ann"),
    (
        "official-before-usual",
        [{"use": "usual", "text": "Patty"}, {"use": "official", "given": ["Pat"], "family": "Ex"}],
        "Pat Ex",
    ),
    ("lone-object", {"text": "Robin Lee"}, "Robin Lee"),
    ("given-not-a-list", [{"given": "Ann", "family": "Lee"}], "Lee"),
    ("junk-parts", [{"given": [None, 3, " Ann "], "family": ["Lee"]}], "Ann"),
    ("junk-entries", [None, 3, "Pat"], ""),
    ("no-name", None, ""),
]


@pytest.mark.parametrize(("case", "name", "expected"), CASES, ids=[c[0] for c in CASES])
def test_person_name_reads_leniently(case: str, name: Any, expected: str) -> None:
    assert person_name({"resourceType": "Patient", "name": name}) == expected


def test_person_name_of_a_resource_without_name_is_empty() -> None:
    assert person_name({"resourceType": "RelatedPerson"}) == ""
