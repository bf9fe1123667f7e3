"""Which identifier the banner shows: the current MRN, never a retired one, else one under its label."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fhir_mappings.record_number import V2_0203, RecordNumber, current_record_number

TODAY = date(2026, 11, 25)
CHICAGO = ZoneInfo("America/Chicago")
MR_TYPE = {"coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}]}


def _mr(value: str | None, **fields: Any) -> dict[str, Any]:
    return {"type": MR_TYPE, "system": "urn:oid:1.2.3.4", "value": value, **fields}


def _chosen(*identifiers: Any, zone: ZoneInfo | None = CHICAGO) -> RecordNumber | None:
    return current_record_number({"identifier": list(identifiers)}, TODAY, zone)


@pytest.mark.parametrize(
    ("identifiers", "expected"),
    [
        ([_mr("M1")], "M1"),
        ([_mr("OLD", use="old"), _mr("NEW")], "NEW"),
        ([_mr("NEW"), _mr("OLD", use="old")], "NEW"),
        ([_mr("ENDED", period={"end": "2026-11-24"}), _mr("NOW")], "NOW"),
        ([_mr("ENDS-TODAY", period={"end": "2026-11-25"})], "ENDS-TODAY"),
        ([_mr("LATER", period={"start": "2026-11-26"}), _mr("NOW")], "NOW"),
        ([_mr("STARTS-TODAY", period={"start": "2026-11-25"})], "STARTS-TODAY"),
        ([_mr("U", use="usual"), _mr("O", use="official")], "O"),
        ([_mr("NONE"), _mr("U", use="usual")], "U"),
        ([_mr("T", use="temp"), _mr("S", use="secondary")], "S"),
        ([_mr("T", use="temp")], "T"),
        # Two in force with the same use: the one that started later (a re-registration).
        (
            [_mr("A", period={"start": "2019-01-01"}), _mr("B", period={"start": "2024-06-01"})],
            "B",
        ),
        ([_mr("A"), _mr("B")], "A"),
        ([_mr("BY-YEAR", period={"start": "2020", "end": "2026"})], "BY-YEAR"),
        ([_mr("MONTH-ENDED", period={"end": "2026-10"}), _mr("NOW")], "NOW"),
        ([_mr("MONTH", period={"end": "2026-11"})], "MONTH"),
        # A coding with no system is read as the v2 table's code; another system's MR is not.
        ([{"type": {"coding": [{"code": "MR"}]}, "value": "NO-SYSTEM"}], "NO-SYSTEM"),
        ([_mr("SPACED", use=" Official ")], "SPACED"),
    ],
)
def test_record_number_chooses_the_current_mrn(identifiers: list[Any], expected: str) -> None:
    assert _chosen(*identifiers) == RecordNumber("MRN", expected, True)


def test_record_number_period_is_read_in_the_organisations_zone() -> None:
    """Ended at 02:00 UTC on the 25th: in Chicago that is the evening of the 24th, so retired."""
    ended = _mr("ENDED", period={"end": "2026-11-25T02:00:00Z"})
    assert _chosen(ended, _mr("NOW", period={"start": "2026-11-25T02:00:00Z"})) == RecordNumber(
        "MRN", "NOW", True
    )
    assert _chosen(ended, zone=None) == RecordNumber("MRN", "ENDED", True)  # dated as written


@pytest.mark.parametrize(
    "identifier",
    [
        _mr("OLD", use="old"),
        _mr("OLD", use="OLD"),
        _mr("ENDED", period={"start": "2001-01-01", "end": "2020-03-01"}),
        _mr("LATER", period={"start": "2027-01-01"}),
        _mr("UNREADABLE", period={"end": "soon"}),
        _mr("OFF-CALENDAR", period={"end": "2026-13"}),
        _mr("NOT-AN-OBJECT", period="2026"),
        _mr("UNKNOWN-USE", use="retired"),
        _mr("", use="official"),
        _mr(None),
    ],
)
def test_record_number_never_shows_a_retired_or_unreadable_mrn(identifier: Any) -> None:
    assert _chosen(identifier) is None


@pytest.mark.parametrize(
    ("identifier", "label"),
    [
        ({"type": {"text": "Clinic number"}, "system": "urn:x", "value": "C1"}, "Clinic number"),
        (
            {"type": {"coding": [{"system": V2_0203, "code": "PI", "display": "Patient id"}]}},
            "Patient id",
        ),
        ({"system": "https://ehr.example.org/ids", "value": "C1"}, "https://ehr.example.org/ids"),
        ({"value": "C1"}, "Identifier"),
        (
            {"type": {"coding": [{"system": "urn:other", "code": "MR"}]}, "value": "C1"},
            "Identifier",
        ),
    ],
)
def test_record_number_without_an_mrn_shows_another_under_its_own_label(
    identifier: dict[str, Any], label: str
) -> None:
    identifier = {"value": "C1", **identifier}
    retired = _mr("RETIRED", use="old")
    assert _chosen(retired, identifier) == RecordNumber(label, "C1", False)


def test_record_number_fallback_skips_retired_and_social_security_numbers() -> None:
    ssn = {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-99-9999"}
    ss_typed = {"type": {"coding": [{"system": V2_0203, "code": "SS"}]}, "value": "999"}
    old_clinic = {"type": {"text": "Clinic"}, "value": "OLD", "use": "old"}
    assert _chosen(ssn, ss_typed, old_clinic) is None
    clinic = {"type": {"text": "Clinic"}, "value": "C2", "use": "usual"}
    assert _chosen(ssn, old_clinic, clinic) == RecordNumber("Clinic", "C2", False)


@pytest.mark.parametrize(
    "patient", [{}, {"identifier": None}, {"identifier": "MRN"}, {"identifier": [1, None]}]
)
def test_record_number_of_a_patient_without_identifiers_is_none(patient: dict[str, Any]) -> None:
    assert current_record_number(patient, TODAY, CHICAGO) is None
