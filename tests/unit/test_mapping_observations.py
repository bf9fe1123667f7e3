"""Golden cases: laboratory Observations to ANC facts (units, statuses, derivation, dates)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clozapine.facts import AncResult, PatientFacts, ResultProblem
from fhir_mappings import LocalCode, MappingSettings, patient_facts_from_bundle

LOINC = "http://loinc.org"
WHEN = "2026-11-20T08:00:00-05:00"
LA = ZoneInfo("America/Los_Angeles")

THOUSANDS = ["10*3/uL", "10*9/L", "K/uL", "x10E3/uL", "10^3/uL", "x10(3)/uL", "thou/uL"]
CELLS = ["/uL", "{cells}/uL", "cells/uL", "/mm3", "/cmm", "10*6/L"]


def observation(
    loinc: str,
    value: Any = None,
    unit: str | None = None,
    *,
    obs_id: str = "anc-1",
    when: Any = WHEN,
    status: Any = "final",
    unit_field: str = "code",
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": "Patient/pt-1"},
    }
    if when is not None:
        resource["effectiveDateTime"] = when
    quantity = {key: val for key, val in (("value", value), (unit_field, unit)) if val is not None}
    if quantity:
        resource["valueQuantity"] = quantity
    resource.update(extra)
    return resource


def facts(*resources: dict[str, Any], settings: MappingSettings | None = None) -> PatientFacts:
    entries = [{"resource": {"resourceType": "Patient", "id": "pt-1"}}]
    entries += [{"resource": resource} for resource in resources]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    [only] = patient_facts_from_bundle(bundle, settings or MappingSettings())
    return only


def only_anc(*resources: dict[str, Any], settings: MappingSettings | None = None) -> AncResult:
    result = facts(*resources, settings=settings)
    assert result.unusable == ()
    [anc] = result.ancs
    return anc


# Units -------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit_field", ["code", "unit"])
@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [*((unit, 1.2, 1200) for unit in THOUSANDS), *((unit, 1200, 1200) for unit in CELLS)],
)
def test_units_each_listed_unit_converts_to_cells_per_ul(unit_field, unit, value, expected):
    anc = only_anc(observation("751-8", value, unit, unit_field=unit_field))
    assert anc.value_per_ul == expected
    assert anc.derived is False


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("10*3/\u00b5L", 1500),  # micro sign
        ("10*3/\u03bcL", 1500),  # Greek mu
        ("x10(3)/mcL", 1500),  # Oracle's display string
        ("K/\u00b5L", 1500),
        ("k/uL", 1500),  # case-insensitive
        ("10*3/UL", 1500),
        (" 10*3 / uL ", 1500),  # whitespace
        ("THOU/UL", 1500),
        ("cells/mcL", 2),
        ("/\u00b5L", 2),
        ("/MM3", 2),
    ],
)
def test_units_spelling_variants_convert(unit, expected):
    value = 1.5 if expected == 1500 else 2
    assert only_anc(observation("751-8", value, unit)).value_per_ul == expected


@pytest.mark.parametrize(
    ("quantity", "detail_part"),
    [
        ({"value": 1.2, "code": "G/L"}, "'G/L'"),
        ({"value": 14, "code": "10*6/uL", "unit": "x10(6)/mcL"}, "'10*6/uL'"),
        ({"value": 1.2, "code": "mmol/L"}, "'mmol/L'"),
        ({"value": 1.2, "code": "%"}, "'%'"),
        ({"value": 1.2}, "unit (none)"),
        ({"value": 1.2, "code": "G/L", "unit": "10*3/uL"}, "'G/L'"),  # code wins over unit
        ({"code": "10*3/uL"}, "no value"),
        ({"value": None, "code": "10*3/uL"}, "no value"),
        ({"value": "abc", "code": "10*3/uL"}, "no readable value"),
        ({"value": True, "code": "10*3/uL"}, "no readable value"),
        ({"value": -0.1, "code": "10*3/uL"}, "negative"),
        ({"value": 3000, "code": "10*3/uL"}, "above 100,000/uL"),
        ({"value": 100.001, "code": "10*3/uL"}, "above 100,000/uL"),
        ({"value": 100000.4, "code": "/uL"}, "above 100,000/uL"),  # before rounding
        ({"value": 0.4, "comparator": "ad", "code": "10*3/uL"}, "comparator"),
        ({"value": 0.4, "comparator": 1, "code": "10*3/uL"}, "comparator"),
        ({"value": 0, "comparator": "<", "code": "10*3/uL"}, "below 0"),
        ({"value": 100.0015, "comparator": ">", "code": "10*3/uL"}, "above 100,000/uL"),
        ({"value": "1" * 101, "code": "/uL"}, "no readable value"),
        ({"value": "0." + "0" * 99, "code": "/uL"}, "no readable value"),
        ({"value": 10**100, "code": "/uL"}, "no readable value"),
        ({"value": -(10**99), "code": "/uL"}, "no readable value"),
    ],
)
def test_units_unusable_value_is_unit_error(quantity, detail_part):
    result = facts(observation("751-8", valueQuantity=quantity))
    assert result.ancs == ()
    [unusable] = result.unusable
    assert unusable.problem is ResultProblem.UNIT_ERROR
    assert detail_part in unusable.detail
    assert unusable.source == "Observation/anc-1"
    assert unusable.collected_on == date(2026, 11, 20)


def test_units_missing_value_quantity_is_unit_error():
    [unusable] = facts(observation("751-8")).unusable
    assert (unusable.problem, unusable.detail) == (ResultProblem.UNIT_ERROR, "no value")


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (100, "10*3/uL", 100000),  # the cap itself is usable
        (100000, "/uL", 100000),
        (0, "/uL", 0),
        ("1.8", "10*3/uL", 1800),  # a decimal written as a string
        (1.0005, "10*3/uL", 1001),  # halves up on the value as written (float math gives 1000)
        (2.5, "/uL", 3),  # halves up, not to even
        (1499.5, "/uL", 1500),
        (1499.4999, "/uL", 1499),
        (0.0005, "K/uL", 1),
    ],
)
def test_units_value_rounds_half_up(value, unit, expected):
    assert only_anc(observation("751-8", value, unit)).value_per_ul == expected


def test_units_unit_with_blank_code_is_read_from_unit():
    quantity = {"value": 1.2, "code": "  ", "unit": "K/uL"}
    assert only_anc(observation("751-8", valueQuantity=quantity)).value_per_ul == 1200


# Codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["751-8", "753-4", "26499-4"])
@pytest.mark.parametrize("system", [LOINC, None, ""])
def test_codes_anc_loinc_with_loinc_or_no_system_counts(code, system):
    coding = {"code": code} if system is None else {"system": system, "code": code}
    anc = only_anc(observation(code, 2.0, "10*3/uL", code={"coding": [coding]}))
    assert anc.value_per_ul == 2000


@pytest.mark.parametrize(
    "coding",
    [
        {"system": "http://snomed.info/sct", "code": "751-8"},
        {"system": LOINC, "code": "718-7"},  # haemoglobin
        {"system": LOINC, "code": 7518},
        {"system": LOINC},
    ],
)
def test_codes_other_codes_are_ignored(coding):
    result = facts(observation("x", 2.0, "10*3/uL", code={"coding": [coding]}))
    assert (result.ancs, result.unusable, result.notes) == ((), (), ())


@pytest.mark.parametrize(
    ("local", "coding"),
    [
        (LocalCode("urn:lab", "NEUT#"), {"system": "urn:lab", "code": "NEUT#"}),
        (LocalCode(None, "NEUT#"), {"code": "NEUT#"}),
    ],
)
def test_codes_configured_local_anc_code_counts(local, coding):
    settings = MappingSettings(local_anc_codes=frozenset({local}))
    resource = observation("x", 900, "/uL", code={"coding": [coding]})
    assert only_anc(resource, settings=settings).value_per_ul == 900
    assert facts(resource).ancs == ()  # not without the setting


def test_codes_local_code_system_must_match():
    settings = MappingSettings(local_anc_codes=frozenset({LocalCode("urn:lab", "NEUT#")}))
    resource = observation("x", 900, "/uL", code={"coding": [{"code": "NEUT#"}]})
    assert facts(resource, settings=settings).ancs == ()


# Statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["final", "amended", "corrected", " Final ", "CORRECTED"])
def test_statuses_counting_status_is_used(status):
    assert only_anc(observation("751-8", 1.7, "10*3/uL", status=status)).value_per_ul == 1700


@pytest.mark.parametrize(
    "status",
    ["entered-in-error", "entered-in-error ", "cancelled", "registered", "unknown", "", None, 7],
)
def test_statuses_other_status_is_ignored(status):
    result = facts(observation("751-8", 1.7, "10*3/uL", status=status))
    assert (result.ancs, result.unusable, result.notes) == ((), (), ())


@pytest.mark.parametrize(
    ("quantity", "detail"),
    [
        ({"value": 0.4, "code": "10*3/uL"}, "preliminary, 0.4 10*3/uL"),
        ({"value": 3000, "code": "10*3/uL"}, "preliminary, 3000 10*3/uL"),  # whatever its value
        ({"value": 1.2, "code": "G/L"}, "preliminary, 1.2 G/L"),
        (None, "preliminary, no value (masked)"),
    ],
)
def test_statuses_preliminary_is_pending_whatever_its_value(quantity, detail):
    extra: dict[str, Any] = {"dataAbsentReason": {"coding": [{"code": "masked"}]}}
    if quantity is not None:
        extra = {"valueQuantity": quantity}
    result = facts(observation("751-8", status="preliminary", **extra))
    assert result.ancs == ()
    [pending] = result.unusable
    assert (pending.problem, pending.detail) == (ResultProblem.PENDING, detail)


def test_statuses_preliminary_beside_final_at_same_instant_still_pending():
    result = facts(
        observation("751-8", 1.8, "10*3/uL", obs_id="final"),
        observation("751-8", 0.4, "10*3/uL", obs_id="prelim", status="preliminary"),
    )
    assert [anc.value_per_ul for anc in result.ancs] == [1800]
    assert [u.problem for u in result.unusable] == [ResultProblem.PENDING]


# Measured results at one instant -------------------------------------------------------------


def test_measured_two_at_same_instant_count_as_the_lower_with_its_own_date():
    late_evening = observation(
        "751-8", 1.8, "10*3/uL", obs_id="a", when="2026-11-17T23:30:00-08:00"
    )
    same_instant = observation("751-8", 1.6, "10*3/uL", obs_id="b", when="2026-11-18T07:30:00Z")
    [anc] = facts(late_evening, same_instant).ancs
    assert (anc.value_per_ul, anc.collected_on, anc.source) == (
        1600,
        date(2026, 11, 18),
        "Observation/b",
    )


def test_measured_unusable_beside_usable_at_same_instant_yields_both():
    result = facts(
        observation("751-8", 1.8, "10*3/uL", obs_id="good"),
        observation("751-8", 1.8, "G/L", obs_id="bad"),
    )
    assert [anc.source for anc in result.ancs] == ["Observation/good"]
    assert [u.source for u in result.unusable] == ["Observation/bad"]


def test_measured_results_are_sorted_by_collection_instant():
    result = facts(
        observation("751-8", 1.9, "10*3/uL", obs_id="late", when="2026-11-20T08:00:00Z"),
        observation("751-8", 1.7, "10*3/uL", obs_id="early", when="2026-11-10T08:00:00Z"),
        observation("751-8", 1.5, "10*3/uL", obs_id="mid", when="2026-11-15"),
    )
    assert [anc.source for anc in result.ancs] == [
        "Observation/early",
        "Observation/mid",
        "Observation/late",
    ]


# Derived ANC ----------------------------------------------------------------------------------


def wbc(value: Any = 3.0, unit: str = "10*3/uL", **kw: Any) -> dict[str, Any]:
    return observation("6690-2", value, unit, obs_id=kw.pop("obs_id", "wbc"), **kw)


def neut(value: Any = 40, **kw: Any) -> dict[str, Any]:
    return observation("770-8", value, "%", obs_id=kw.pop("obs_id", "neut"), **kw)


def band(value: Any = 5, **kw: Any) -> dict[str, Any]:
    return observation("764-1", value, "%", obs_id=kw.pop("obs_id", "band"), **kw)


def segs(value: Any = 1.1, **kw: Any) -> dict[str, Any]:
    return observation("768-2", value, "10*3/uL", obs_id=kw.pop("obs_id", "segs"), **kw)


def band_count(value: Any = 0.2, **kw: Any) -> dict[str, Any]:
    return observation("763-3", value, "10*3/uL", obs_id=kw.pop("obs_id", "bands"), **kw)


@pytest.mark.parametrize(
    ("resources", "expected", "source"),
    [
        ((wbc(), neut(), band()), 1350, "Observation/wbc+Observation/neut+Observation/band"),
        ((wbc(), neut()), 1200, "Observation/wbc+Observation/neut"),
        ((segs(), band_count()), 1300, "Observation/segs+Observation/bands"),
        ((segs(),), 1100, "Observation/segs"),
        ((wbc(), neut(), segs()), 1200, "Observation/wbc+Observation/neut"),  # WBC x % first
        ((wbc(4.1, unit="K/uL"), neut(33.3)), 1365, "Observation/wbc+Observation/neut"),
        ((wbc(), neut(when="2026-11-20T13:00:00Z")), 1200, "Observation/wbc+Observation/neut"),
        (
            (
                observation("26464-8", 5, "10*9/L", obs_id="w2"),
                observation("23761-0", 30, "%", obs_id="n2"),
                observation("35332-6", 2, "%", obs_id="b2"),
            ),
            1600,
            "Observation/w2+Observation/n2+Observation/b2",
        ),
        (
            (
                observation("30451-9", 1500, "/uL", obs_id="s2"),
                observation("26507-4", 100, "/uL", obs_id="b2"),
            ),
            1600,
            "Observation/s2+Observation/b2",
        ),
    ],
)
def test_derived_anc_from_parts_at_one_instant(resources, expected, source):
    anc = only_anc(*resources)
    assert (anc.value_per_ul, anc.derived, anc.source) == (expected, True, source)
    assert anc.collected_on == date(2026, 11, 20)


def test_derived_lower_of_two_parts_of_a_kind_is_used():
    anc = only_anc(wbc(3.0), wbc(2.0, obs_id="wbc-2"), neut())
    assert (anc.value_per_ul, anc.source) == (800, "Observation/wbc-2+Observation/neut")


@pytest.mark.parametrize(
    "resources",
    [
        (wbc(),),
        (neut(), band()),
        (band_count(),),
        (wbc(), neut(when="2026-11-20T08:00:01-05:00")),  # not the same instant
        (wbc(), neut(when="2026-11-20")),  # same date, not the same instant
        (wbc(status="preliminary"),),  # a pending part where no derivation is possible
    ],
)
def test_derived_nothing_without_a_complete_recipe_at_one_instant(resources):
    result = facts(*resources)
    assert (result.ancs, result.unusable) == ((), ())


def test_derived_measured_usable_anc_wins_and_a_usable_derived_yields_nothing():
    result = facts(observation("751-8", 1.8, "10*3/uL"), wbc(), neut())
    [anc] = result.ancs
    assert (anc.value_per_ul, anc.derived, anc.source) == (1800, False, "Observation/anc-1")
    assert result.unusable == ()


def test_derived_parts_still_report_problems_when_a_measured_anc_decides():
    # Rulings: a pending part whose recipe is complete is always reported, and an unusable
    # counting part is a unit error even when a measured ANC decides the instant.
    result = facts(
        observation("751-8", 1.8, "10*3/uL"), wbc(unit="G/L"), neut(status="preliminary")
    )
    [anc] = result.ancs
    assert (anc.value_per_ul, anc.derived) == (1800, False)
    assert sorted((u.problem.value, u.source) for u in result.unusable) == [
        ("result-pending", "Observation/neut"),
        ("unit-error", "Observation/wbc"),
    ]


def test_derived_counts_decide_when_wbc_x_percent_has_an_unusable_part():
    # "Both derivations possible" means both have usable parts; the unusable WBC is reported.
    result = facts(wbc(unit="G/L"), neut(), segs())
    [anc] = result.ancs
    assert (anc.value_per_ul, anc.derived, anc.source) == (1100, True, "Observation/segs")
    [error] = result.unusable
    assert (error.problem, error.source) == (ResultProblem.UNIT_ERROR, "Observation/wbc")


def test_derived_used_when_measured_anc_at_same_instant_is_unusable():
    result = facts(observation("751-8", 1.8, "G/L"), wbc(), neut())
    assert [(a.value_per_ul, a.derived) for a in result.ancs] == [(1200, True)]
    assert [u.problem for u in result.unusable] == [ResultProblem.UNIT_ERROR]


def test_derived_used_when_measured_anc_at_same_instant_is_pending():
    result = facts(observation("751-8", 0.4, "10*3/uL", status="preliminary"), wbc(), neut())
    assert [(a.value_per_ul, a.derived) for a in result.ancs] == [(1200, True)]
    assert [u.problem for u in result.unusable] == [ResultProblem.PENDING]


@pytest.mark.parametrize(
    ("resources", "pending_source"),
    [
        ((wbc(), neut(status="preliminary")), "Observation/neut"),
        ((wbc(status="preliminary"), neut()), "Observation/wbc"),
        ((wbc(), neut(), band(status="preliminary")), "Observation/band"),
        ((segs(), band_count(status="preliminary")), "Observation/bands"),
        ((wbc(), neut(status="preliminary", valueQuantity=None)), "Observation/neut"),
    ],
)
def test_derived_preliminary_part_blocks_derivation_and_is_pending(resources, pending_source):
    result = facts(*resources)
    assert result.ancs == ()
    [pending] = result.unusable
    assert pending.problem is ResultProblem.PENDING
    assert pending.source == pending_source
    assert "preliminary" in pending.detail


@pytest.mark.parametrize(
    ("resources", "expected", "pending_source"),
    [
        # A preliminary count blocks only segmented + band: WBC x % derives.
        ((wbc(), neut(), segs(status="preliminary")), 1200, "Observation/segs"),
        # A preliminary WBC blocks only WBC x %: the counts derive.
        ((wbc(status="preliminary"), neut(), segs()), 1100, "Observation/wbc"),
        # Beside a counting result of its kind it blocks nothing.
        (
            (wbc(), wbc(9.9, obs_id="wbc-p", status="preliminary"), neut()),
            1200,
            "Observation/wbc-p",
        ),
        ((segs(), segs(0.3, obs_id="segs-p", status="preliminary")), 1100, "Observation/segs-p"),
    ],
)
def test_derived_preliminary_part_blocks_only_its_own_recipe(resources, expected, pending_source):
    result = facts(*resources)
    [anc] = result.ancs
    assert (anc.value_per_ul, anc.derived) == (expected, True)
    [pending] = result.unusable
    assert (pending.problem, pending.source) == (ResultProblem.PENDING, pending_source)


@pytest.mark.parametrize(
    ("resources", "detail_part"),
    [
        ((wbc(14, "10*6/uL"), neut()), "WBC 14 10*6/uL"),
        ((wbc(3000), neut()), "above 100,000/uL"),
        (
            (wbc(), neut(40, **{"valueQuantity": {"value": 40, "code": "/100{WBCs}"}})),
            "neutrophil %",
        ),
        ((wbc(), neut(140)), "percentage above 100"),
        ((wbc(), neut(90), band(20)), "above 100"),
        ((wbc(), neut(-1)), "negative"),
        ((wbc(), neut(), band(None)), "band % no value"),
        ((segs(90), band_count(20)), "derived ANC 110000/uL is above 100,000/uL"),
        ((segs(101),), "above 100,000/uL"),
    ],
)
def test_derived_unusable_part_is_unit_error(resources, detail_part):
    result = facts(*resources)
    assert result.ancs == ()
    [error] = result.unusable
    assert error.problem is ResultProblem.UNIT_ERROR
    assert detail_part in error.detail


# Collection dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "zone", "expected_on", "expected_at"),
    [
        # The contract's examples.
        ("2026-11-17T23:30:00-08:00", None, date(2026, 11, 17), "2026-11-18T07:30:00+00:00"),
        ("2026-11-19T03:40:00Z", LA, date(2026, 11, 18), "2026-11-19T03:40:00+00:00"),
        ("2026-11-19T03:40:00Z", None, date(2026, 11, 19), "2026-11-19T03:40:00+00:00"),
        # A time with no offset: local in the zone, UTC with none.
        ("2026-11-19T03:40:00", LA, date(2026, 11, 19), "2026-11-19T11:40:00+00:00"),
        ("2026-11-19T03:40:00", None, date(2026, 11, 19), "2026-11-19T03:40:00+00:00"),
        # A date with no time: that date, at its start in the zone.
        ("2026-11-19", LA, date(2026, 11, 19), "2026-11-19T08:00:00+00:00"),
        ("2026-11-19", None, date(2026, 11, 19), "2026-11-19T00:00:00+00:00"),
        # Lenient spellings.
        ("2026-11-19T03:40Z", None, date(2026, 11, 19), "2026-11-19T03:40:00+00:00"),
        (
            "2026-11-19T03:40:00.123456789+05:30",
            None,
            date(2026, 11, 19),
            "2026-11-18T22:10:00.123456+00:00",
        ),
        ("2026-11-19T16: 09: 08.000Z", None, date(2026, 11, 19), "2026-11-19T16:09:08+00:00"),
        ("2026-11-19 03:40:00-0500", None, date(2026, 11, 19), "2026-11-19T08:40:00+00:00"),
        (" 2026-11-19T03:40:00+05:30 ", LA, date(2026, 11, 18), "2026-11-18T22:10:00+00:00"),
    ],
)
def test_dates_collection_date_and_instant(when, zone, expected_on, expected_at):
    anc = only_anc(observation("751-8", 1.8, "10*3/uL", when=when), settings=MappingSettings(zone))
    assert anc.collected_on == expected_on
    assert anc.collected_at.tzinfo is not None
    assert anc.collected_at.astimezone(UTC).isoformat() == expected_at


def test_dates_with_zone_instant_is_expressed_in_that_zone():
    anc = only_anc(
        observation("751-8", 1.8, "10*3/uL", when="2026-11-19T03:40:00Z"),
        settings=MappingSettings(LA),
    )
    assert anc.collected_at.utcoffset() == timedelta(hours=-8)


def test_dates_without_zone_instant_keeps_written_offset():
    anc = only_anc(observation("751-8", 1.8, "10*3/uL", when="2026-11-17T23:30:00-08:00"))
    assert anc.collected_at == datetime(2026, 11, 17, 23, 30, tzinfo=timezone(timedelta(hours=-8)))
    assert anc.collected_at.utcoffset() == timedelta(hours=-8)


def test_dates_effective_period_start_is_used():
    resource = observation("751-8", 1.8, "10*3/uL", when=None)
    resource["effectivePeriod"] = {"start": "2026-11-12T10:00:00Z", "end": "2026-11-13T10:00:00Z"}
    assert only_anc(resource).collected_on == date(2026, 11, 12)


@pytest.mark.parametrize(
    ("when", "reason_part"),
    [
        (None, "is missing"),
        ("2026-11", "has no day"),
        ("2026", "has no day"),
        ("yesterday", "is not a FHIR date"),
        ("2026-02-30", "not a valid date"),
        ("2026-11-19T25:00:00Z", "not a valid date"),
        ("2026-11-19T10:00:00+25:00", "not a valid date"),
        (20261119, "is not a FHIR date"),
        ({"start": "2026-11-19"}, "is not a FHIR date"),
        ("0001-01-01T00:00:00+14:00", "outside the calendar"),
        ("9999-12-31T23:59:59-12:00", "outside the calendar"),
    ],
)
def test_dates_unreadable_collection_time_is_a_data_note(when, reason_part):
    result = facts(observation("751-8", 1.8, "10*3/uL", when=when))
    assert (result.ancs, result.unusable) == ((), ())
    [note] = result.notes
    assert note.resource == "Observation/anc-1"
    assert reason_part in note.reason


def test_dates_unreadable_part_note_does_not_block_other_results():
    result = facts(
        observation("751-8", 1.8, "10*3/uL", obs_id="ok"),
        observation("751-8", 1.8, "10*3/uL", obs_id="bad", when="2026-13-01"),
    )
    assert [anc.source for anc in result.ancs] == ["Observation/ok"]
    assert [note.resource for note in result.notes] == ["Observation/bad"]
