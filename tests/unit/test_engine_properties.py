"""Properties: random facts and random well-formed Bundles never crash and never give a false ok."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clozapine import evaluate, evaluation_to_json, policy_in_force
from fhir_mappings import patient_facts_from_bundle
from tests.unit.cases import AS_OF, anc, facts, order

offsets = st.integers(min_value=-800, max_value=30)
values = st.integers(min_value=0, max_value=20000)
as_of_dates = st.dates(min_value=date(2015, 10, 12), max_value=date(2030, 12, 31))


@st.composite
def patient_facts(draw: st.DrawFn) -> Any:
    ancs = [anc(v, o) for v, o in draw(st.lists(st.tuples(values, offsets), max_size=40))]
    orders = []
    for start, length in draw(
        st.lists(st.tuples(offsets, st.none() | st.integers(0, 400)), max_size=4)
    ):
        orders.append(order(start, None if length is None else start + length))
    return facts(ancs, orders, ben=draw(st.booleans()))


def _assert_no_false_ok(output: dict[str, Any]) -> None:
    if output["overall"] == "ok":
        assert output["anc"] is not None, "ok without a usable ANC"
        assert output["monitoring"]["next_due"] > output["as_of"], "ok with an ANC already due"
    if not output["on_clozapine"]:
        assert output["overall"] == "not-applicable" and output["findings"] == []


@settings(max_examples=300, deadline=None)
@given(patient=patient_facts(), shift=st.integers(-40, 40))
def test_engine_random_facts_never_crash_or_give_false_ok(patient: Any, shift: int) -> None:
    as_of = AS_OF + timedelta(days=shift)
    output = evaluation_to_json(evaluate(patient, as_of, policy_in_force(as_of)))
    _assert_no_false_ok(output)
    codes = [f["code"] for f in output["findings"]]
    assert len(codes) == len(set(codes))
    for finding in output["findings"]:
        assert finding["rule"] and finding["citation"] and finding["message"]


UNITS = ["10*3/uL", "10*9/L", "K/uL", "/uL", "cells/uL", "/mm3", "%", "G/L", "", "x10(3)/mcL"]
CODES = ["751-8", "753-4", "26499-4", "6690-2", "770-8", "764-1", "768-2", "763-3", "718-7"]
STATUSES = ["final", "amended", "corrected", "preliminary", "entered-in-error", "cancelled"]


@st.composite
def observation(draw: st.DrawFn) -> dict[str, Any]:
    day = AS_OF + timedelta(days=draw(st.integers(-400, 5)))
    quantity: dict[str, Any] = {"unit": draw(st.sampled_from(UNITS))}
    if draw(st.booleans()):
        quantity["code"] = quantity["unit"]
    if draw(st.integers(0, 9)):
        quantity["value"] = draw(
            st.floats(min_value=-5, max_value=5e6, allow_nan=False) | st.integers(-10, 10**6)
        )
    when = draw(
        st.sampled_from(
            [
                day.isoformat(),
                f"{day.isoformat()}T03:40:00Z",
                f"{day.isoformat()}T23:30:00-08:00",
                f"{day.isoformat()}T12:00:00",
                "not a date",
            ]
        )
    )
    return {
        "resourceType": "Observation",
        "status": draw(st.sampled_from(STATUSES)),
        "code": {"coding": [{"system": "http://loinc.org", "code": draw(st.sampled_from(CODES))}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": when,
        "valueQuantity": quantity,
    }


@st.composite
def medication_request(draw: st.DrawFn) -> dict[str, Any]:
    start = AS_OF + timedelta(days=draw(st.integers(-900, 10)))
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "intent": "order",
        "status": draw(st.sampled_from(["active", "on-hold", "completed", "stopped", "draft"])),
        "subject": {"reference": "Patient/p"},
        "authoredOn": start.isoformat(),
        "medicationCodeableConcept": {
            "text": draw(st.sampled_from(["clozapine 100 mg", "Clozaril", "olanzapine 10 mg"]))
        },
    }
    if draw(st.booleans()):
        end = start + timedelta(days=draw(st.integers(-10, 500)))
        request["dispenseRequest"] = {
            "validityPeriod": {"start": start.isoformat(), "end": end.isoformat()}
        }
    return request


@st.composite
def bundles(draw: st.DrawFn) -> dict[str, Any]:
    resources: list[dict[str, Any]] = [{"resourceType": "Patient", "id": "p"}]
    resources += draw(st.lists(medication_request(), max_size=3))
    resources += draw(st.lists(observation(), max_size=25))
    if draw(st.booleans()):
        resources.append(
            {
                "resourceType": "Condition",
                "subject": {"reference": "Patient/p"},
                "code": {"text": "Benign ethnic neutropenia"},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": draw(st.sampled_from(["collection", "searchset"])),
        "entry": [{"resource": r} for r in draw(st.permutations(resources))],
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundle=bundles(), timezone=st.sampled_from([None, "America/Los_Angeles", "Asia/Tokyo"]))
def test_random_bundles_never_crash_or_give_false_ok(
    bundle: dict[str, Any], timezone: str | None
) -> None:
    from smartapp.org_config import OrgConfig

    settings_ = OrgConfig(timezone=timezone).mapping_settings()
    (patient,) = patient_facts_from_bundle(bundle, settings_)
    output = evaluation_to_json(evaluate(patient, AS_OF, policy_in_force(AS_OF)))
    _assert_no_false_ok(output)
