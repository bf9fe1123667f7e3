"""The typed reading of Bundle text gives exactly what the dict reading gives: facts, evaluations
and errors, over generated Bundles of every shape the junk tests make and every scenario file."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import patient_bundle
from clozapine import evaluate, policy_in_force
from clozapine.labs import LabResult
from fhir_mappings import (
    BundleError,
    JsonReadError,
    LocalCode,
    MappingSettings,
    patient_facts_from_bundle,
    patient_facts_from_text,
    read_json,
    typed_observations,
)
from fhir_mappings.observations import lab_reading
from fhir_mappings.typed_json import decode_bundle
from tests.conftest import PROJECT_ROOT, SHARED
from tests.unit.test_engine_properties import bundles
from tests.unit.test_mapping_junk import ENTRY, JUNK, OTHER, SETTINGS, maybe

AS_OF = date(2026, 11, 25)
DEFAULTS = MappingSettings()
FOLDERS = [PROJECT_ROOT / "tests" / "scenarios", SHARED / "scenarios", SHARED / "rulings"]
SCENARIOS = [p for folder in FOLDERS if folder.is_dir() for p in sorted(folder.glob("*.json"))]


def written(value: Any) -> str:
    """JSON text for a generated value, numbers written as they are (a Decimal's own digits)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{written(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(written(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value).replace("sNaN", "NaN")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def outcome(read: Any) -> tuple[str, Any]:
    """What a reading gives: the facts and their evaluations, or the error and its message."""
    try:
        everyone = read()
    except (BundleError, JsonReadError) as error:
        return type(error).__name__, str(error)
    evaluations = [evaluate(facts, AS_OF, policy_in_force(AS_OF)) for facts in everyone]
    return "facts", (everyone, evaluations)


def assert_same(text: str | bytes, mapping_settings: MappingSettings = DEFAULTS) -> None:
    by_dicts = outcome(lambda: patient_facts_from_bundle(read_json(text), mapping_settings))
    typed = outcome(lambda: patient_facts_from_text(text, mapping_settings))
    assert typed == by_dicts


FIRST = {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "pt-1"}}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(ENTRY, max_size=8),
    patients=st.lists(maybe(OTHER), max_size=2),
    mapping_settings=SETTINGS,
)
def test_junk_bundles_read_the_same_typed_and_as_dicts(entries, patients, mapping_settings):
    others = [{"resource": patient} for patient in patients]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [FIRST, *others, *entries]}
    assert_same(written(bundle), mapping_settings)


@settings(max_examples=150, deadline=None)
@given(
    document=st.one_of(
        JUNK, st.fixed_dictionaries({"resourceType": st.just("Bundle")}, optional={"entry": JUNK})
    )
)
def test_junk_documents_read_the_same_typed_and_as_dicts(document):
    assert_same(written(document))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundle=bundles(), zone=st.sampled_from([None, "America/Los_Angeles", "Asia/Tokyo"]))
def test_generated_patients_read_the_same_typed_and_as_dicts(bundle, zone):
    mapping_settings = MappingSettings(timezone=ZoneInfo(zone) if zone else None)
    text = written(bundle)
    assert decode_bundle(text) is not None  # well-formed Bundles take the typed path
    assert_same(text, mapping_settings)


@given(text=st.text(max_size=40) | st.binary(max_size=20))
def test_any_text_reads_the_same_typed_and_as_dicts(text):
    assert_same(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": 1'
        + "0" * 5000
        + "}}]}",
        '{"resourceType": "Bundle", "entry": {"resource": {}}}',
        '{"resourceType": "Bundle", "entry": [null, 3, {"resource": null}]}',
        '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}},'
        ' {"resource": {"resourceType": "Observation", "code": {"coding": {"code": "751-8"}},'
        ' "valueQuantity": {"value": 1.5, "unit": "10*3/uL"}, "status": "final",'
        ' "effectiveDateTime": "2026-11-20"}}]}',
        "[]",
        '"Bundle"',
    ],
    ids=["integer-too-long", "entry-object", "odd-entries", "lone-coding", "list", "string"],
)
def test_odd_shapes_read_the_same(text: str) -> None:
    assert_same(text)


def test_the_typed_path_refuses_what_it_does_not_declare() -> None:
    assert decode_bundle('{"resourceType": "Bundle", "entry": {"resource": {}}}') is None
    assert decode_bundle('{"entry": [{"resource": {"code": {"coding": {}}}}]}') is None
    assert decode_bundle("[1]") is None


def test_benchmark_bundles_read_the_same_and_take_the_typed_path() -> None:
    for seed in range(5):
        text = json.dumps(patient_bundle(seed))
        assert decode_bundle(text) is not None
        assert_same(text)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenarios_read_the_same_typed_and_as_dicts(path: Path) -> None:
    case = json.loads(path.read_text())
    text = case.get("bundle_text") or json.dumps(case["bundle"])
    zone = case.get("timezone")
    assert_same(text, MappingSettings(timezone=ZoneInfo(zone) if zone else None))


USUAL_QUANTITIES = [
    '{"value": 3.456, "unit": "x10(3)/mcL", "code": "10*3/uL"}',
    '{"value": 2100, "code": "/uL"}',
    '{"value": 1.9, "unit": "K/uL"}',
    '{"value": 0.499, "code": " 10*9/L "}',
    '{"value": 100, "code": "10*3/uL"}',
]


@pytest.mark.parametrize("quantity", USUAL_QUANTITIES)
@pytest.mark.parametrize("status", ["final", "Amended ", "corrected"])
@pytest.mark.parametrize("zone", [None, "America/Los_Angeles"])
def test_the_usual_result_is_read_in_one_pass_as_the_dict_reading_reads_it(
    quantity: str, status: str, zone: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation",'
        f' "id": "o1", "status": "{status}", "effectiveDateTime": "2026-11-20T03:15:00+01:00",'
        ' "code": {"coding": [{"system": "urn:local", "code": "x"},'
        ' {"system": "http://loinc.org", "code": "751-8"}]},'
        f' "valueQuantity": {quantity}}}}}]}}'
    )
    mapping_settings = MappingSettings(timezone=ZoneInfo(zone) if zone else None)
    by_dict = lab_reading(
        read_json(text)["entry"][0]["resource"], "Observation/o1", mapping_settings
    )

    def general_reader(*_: object) -> None:
        raise AssertionError("the usual result went through the general reader")

    monkeypatch.setattr(typed_observations, "reading_of_kind", general_reader)
    bundle = decode_bundle(text)
    assert bundle is not None and bundle.entry and bundle.entry[0].resource is not None
    typed = typed_observations.typed_lab_reading(
        bundle.entry[0].resource, "Observation/o1", mapping_settings
    )
    assert isinstance(typed, LabResult)
    assert typed == by_dict
    assert str(typed.value) == str(by_dict.value)  # the same digits, not only the same number


CODINGS = [
    '[{"system": "http://loinc.org", "code": "6690-2"}, {"code": "751-8"}]',
    '[{"system": "http://loinc.org", "code": " 751-8 "}]',
    '[{"system": "http://example.org/other", "code": "751-8"}, {"code": "770-8"}]',
    '[{"system": " http://loinc.org ", "code": "753-4"}]',
    '[{"system": "urn:lab", "code": "NEUT"}, {"system": "http://loinc.org", "code": "764-1"}]',
    '[{"code": "26499-4"}, {"system": "urn:lab", "code": "NEUT"}]',
]
LOCAL = MappingSettings(local_anc_codes=frozenset({LocalCode("urn:lab", "NEUT")}))


@pytest.mark.parametrize("codings", CODINGS)
@pytest.mark.parametrize("mapping_settings", [DEFAULTS, LOCAL], ids=["loinc", "local"])
def test_codings_read_the_same_typed_and_as_dicts(
    codings: str, mapping_settings: MappingSettings
) -> None:
    observation = (
        '{"resourceType": "Observation", "id": "o1", "status": "final",'
        f' "code": {{"coding": {codings}}}, "effectiveDateTime": "2026-11-20T09:00:00Z",'
        ' "valueQuantity": {"value": 1.2, "code": "10*3/uL"}}'
    )
    text = (
        '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient",'
        f' "id": "p"}}}}, {{"resource": {observation}}}]}}'
    )
    assert decode_bundle(text) is not None
    assert_same(text, mapping_settings)
