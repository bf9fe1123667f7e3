"""The synthetic patient builder: reproducible, valid, as-of-relative, and true to its manifest."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from sandbox.patients import build
from sandbox.patients.__main__ import main

FhirJson = dict[str, Any]
AS_OF = date(2026, 11, 25)
ROOT = Path(__file__).resolve().parents[2]
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ANC_CODES = {"751-8", "753-4", "26499-4"}
CLOZAPINE_RXNORM = {"2626", "197536", "429212", "197535", "309374", "721773", "476179", "476177"}
CELLS_PER_UNIT = {"10*3/uL": 1000, "10*9/L": 1000, "K/uL": 1000, "/uL": 1, "{cells}/uL": 1}
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
DATE_PREFIX = re.compile(r"^(\d{4}-\d\d-\d\d)(T\d\d:\d\d:\d\d\.000Z)?$")
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@pytest.fixture(scope="module")
def built() -> tuple[FhirJson, FhirJson]:
    return build(AS_OF, seed=1)


@pytest.fixture(scope="module")
def resources(built) -> list[FhirJson]:
    return [entry["resource"] for entry in built[0]["entry"]]


@pytest.fixture(scope="module")
def charts(built, resources) -> dict[str, Chart]:
    by_ref = {f"{r['resourceType']}/{r['id']}": r for r in resources}
    return {p["id"]: Chart(p["id"], resources, by_ref) for p in built[1]["patients"]}


class Chart:
    """One patient's resources, read the way a test needs them (no app code)."""

    def __init__(self, patient_id: str, resources: list[FhirJson], by_ref: dict[str, FhirJson]):
        ref = f"Patient/{patient_id}"
        self.patient = by_ref[ref]
        mine = [r for r in resources if r.get("subject", {}).get("reference") == ref]
        self.orders = [r for r in mine if r["resourceType"] == "MedicationRequest"]
        self.conditions = [r for r in mine if r["resourceType"] == "Condition"]
        self.labs = sorted(
            (r for r in mine if r["resourceType"] == "Observation"),
            key=lambda r: r["effectiveDateTime"],
        )
        self.by_ref = by_ref

    def rxnorm(self, order: FhirJson) -> set[str]:
        reference = order.get("medicationReference", {}).get("reference", "")
        if reference.startswith("#"):
            concept = next(c for c in order["contained"] if c["id"] == reference[1:])["code"]
        elif reference:
            concept = self.by_ref[reference]["code"]
        else:
            concept = order["medicationCodeableConcept"]
        return {c["code"] for c in concept["coding"] if c["system"] == RXNORM}

    @property
    def clozapine_orders(self) -> list[FhirJson]:
        return [o for o in self.orders if self.rxnorm(o) & CLOZAPINE_RXNORM]

    @property
    def ancs(self) -> list[FhirJson]:
        return [o for o in self.labs if loinc(o) in ANC_CODES]

    @property
    def final_ancs(self) -> list[FhirJson]:
        return [o for o in self.ancs if o["status"] == "final" and "valueQuantity" in o]

    @property
    def documented_ben(self) -> bool:
        texts = [c["code"].get("text", "").lower() for c in self.conditions]
        return any("benign ethnic neutropenia" in t or "duffy-null" in t for t in texts)

    @property
    def current_start(self) -> date:
        return max(start(o) for o in self.clozapine_orders if o["status"] == "active")

    def days_on_treatment(self) -> int:
        return (day(self.final_ancs[-1]["effectiveDateTime"]) - self.current_start).days

    def days_since_anc(self) -> int:
        return (AS_OF - day(self.final_ancs[-1]["effectiveDateTime"])).days


def loinc(observation: FhirJson) -> str:
    return next(c["code"] for c in observation["code"]["coding"] if c["system"] == LOINC)


def cells(observation: FhirJson) -> float:
    quantity = observation["valueQuantity"]
    return quantity["value"] * CELLS_PER_UNIT[quantity.get("code") or quantity["unit"]]


def day(text: str) -> date:
    return date.fromisoformat(text[:10])


def start(order: FhirJson) -> date:
    return day(order["dispenseRequest"]["validityPeriod"]["start"])


def end(order: FhirJson) -> date:
    return day(order["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["end"])


def interval_days(chart: Chart) -> int:
    days = chart.days_on_treatment()
    return 7 if days < 182 else 14 if days < 365 else 30


def gap_days(chart: Chart) -> int:
    first, second = sorted(chart.clozapine_orders, key=start)
    return (start(second) - end(first)).days


def baseline(chart: Chart) -> list[FhirJson]:
    begins = chart.current_start
    return [
        o
        for o in chart.final_ancs
        if begins - timedelta(days=30) <= day(o["effectiveDateTime"]) <= begins
    ]


def lows(chart: Chart, low: float, high: float) -> bool:
    return any(low <= cells(o) < high for o in chart.final_ancs)


def derived_instant(chart: Chart) -> bool:
    by_instant: dict[str, set[str]] = {}
    for o in chart.labs:
        by_instant.setdefault(o["effectiveDateTime"], set()).add(loinc(o))
    return any({"6690-2", "770-8", "764-1"} <= c and not c & ANC_CODES for c in by_instant.values())


def recovered(chart: Chart) -> bool:
    values = [cells(o) for o in chart.final_ancs]
    first_low = next(i for i, v in enumerate(values) if v < 1500)
    return any(v >= 1500 for v in values[first_low:]) and values[-1] >= 1500


def race_codes(chart: Chart) -> set[str]:
    race = [e for e in chart.patient.get("extension", []) if e["url"].endswith("us-core-race")]
    return {x["valueCoding"]["code"] for e in race for x in e["extension"] if "valueCoding" in x}


def unit_shapes(chart: Chart) -> set[str]:
    return {o["valueQuantity"].get("code") or o["valueQuantity"]["unit"] for o in chart.final_ancs}


def masked(chart: Chart) -> bool:
    return any(
        o["status"] == "preliminary"
        and "valueQuantity" not in o
        and o["dataAbsentReason"]["coding"][0]["code"] == "masked"
        for o in chart.ancs
    )


def names(chart: Chart) -> str:
    return json.dumps(chart.patient["name"], ensure_ascii=False)


# What each manifest tag promises about the data (never an evaluation result).
TAG_CHECKS: dict[str, Callable[[Chart], bool]] = {
    "weekly": lambda c: 0 <= c.days_on_treatment() < 182,
    "every-2-weeks": lambda c: 182 <= c.days_on_treatment() < 365,
    "monthly": lambda c: c.days_on_treatment() >= 365,
    "current": lambda c: c.days_since_anc() < interval_days(c),
    "due": lambda c: c.days_since_anc() == interval_days(c),
    "overdue": lambda c: c.days_since_anc() > interval_days(c),
    "new-start": lambda c: len(c.clozapine_orders) == 1 and c.current_start > AS_OF,
    "planned-start": lambda c: c.current_start > AS_OF,
    "baseline": lambda c: len(baseline(c)) >= 1,
    "baseline-below-threshold": lambda c: cells(baseline(c)[-1]) < 1500,
    "documented-ben": lambda c: c.documented_ben,
    "race-recorded": lambda c: "2054-5" in race_codes(c) and not c.documented_ben,
    "low-result": lambda c: lows(c, 0, 1000 if c.documented_ben else 1500),
    "mild": lambda c: not c.documented_ben and 1000 <= cells(c.final_ancs[-1]) < 1500,
    "moderate": lambda c: not c.documented_ben and lows(c, 500, 1000),
    "severe": lambda c: not c.documented_ben and lows(c, 0, 500),
    "ben-neutropenia": lambda c: c.documented_ben and lows(c, 500, 1000),
    "ben-severe": lambda c: c.documented_ben and lows(c, 0, 500),
    "recovery": recovered,
    "derived-anc": derived_instant,
    "preliminary-masked": masked,
    "unit-error": lambda c: any(cells(o) > 100_000 for o in c.final_ancs),
    "units-mixed": lambda c: unit_shapes(c) >= set(CELLS_PER_UNIT),
    "interruption-short": lambda c: 0 < gap_days(c) < 30,
    "interruption-long": lambda c: gap_days(c) >= 30,
    "stopped": lambda c: (
        all(o["status"] == "stopped" for o in c.clozapine_orders)
        and max(end(o) for o in c.clozapine_orders) <= AS_OF - timedelta(days=30)
    ),
    "not-on-clozapine": lambda c: (
        not c.clozapine_orders
        and any("olanzapine" in o["medicationCodeableConcept"]["text"] for o in c.orders)
    ),
    "no-anc": lambda c: not c.labs,
    "xss-name": lambda c: "<script>alert(1)</script>" in names(c),
    "long-history": lambda c: len(c.final_ancs) >= 100,
    "medication-reference": lambda c: any(
        o.get("medicationReference", {}).get("reference", "").startswith("Medication/")
        for o in c.orders
    ),
    "medication-contained": lambda c: any("contained" in o for o in c.orders),
}

# The situations the sandbox must show (the list), each by the tags that make it.
REQUIRED = [
    {"planned-start", "baseline"},
    {"baseline-below-threshold"},
    *({schedule, status} for schedule in ("weekly", "every-2-weeks", "monthly") for status in ("current", "overdue")),
    {"mild"}, {"moderate"}, {"severe"}, {"ben-neutropenia"}, {"ben-severe"}, {"moderate", "recovery"},
    {"documented-ben"}, {"race-recorded"}, {"derived-anc"}, {"units-mixed"}, {"preliminary-masked"},
    {"unit-error"}, {"interruption-short"}, {"interruption-long"}, {"stopped"}, {"not-on-clozapine"},
    {"no-anc"}, {"xss-name"},
]  # fmt: skip


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")
    else:
        yield path, value


def test_manifest_every_patient_has_what_its_tags_claim(built, charts):
    for patient in built[1]["patients"]:
        for tag in patient["tags"]:
            assert TAG_CHECKS[tag](charts[patient["id"]]), f"{patient['id']}: {tag}"


def test_manifest_covers_every_required_situation(built):
    tag_sets = [set(p["tags"]) for p in built[1]["patients"]]
    missing = [sorted(need) for need in REQUIRED if not any(need <= tags for tags in tag_sets)]
    assert missing == []


def test_manifest_describes_every_patient_once(built, resources):
    manifest = built[1]
    patient_ids = [r["id"] for r in resources if r["resourceType"] == "Patient"]
    assert [p["id"] for p in manifest["patients"]] == patient_ids
    assert len(set(patient_ids)) == len(patient_ids) >= 25
    assert all(p["description"] and p["tags"] and p["name"] for p in manifest["patients"])
    xss = [p for p in manifest["patients"] if "xss-name" in p["tags"]]
    assert len(xss) == 1 and "<script>alert(1)</script>" in xss[0]["description"]


def test_manifest_resource_counts_match_bundle(built, charts):
    for patient in built[1]["patients"]:
        chart = charts[patient["id"]]
        counted = {"Patient": 1, "Condition": len(chart.conditions), "RelatedPerson": 1}
        counted |= {"MedicationRequest": len(chart.orders), "Observation": len(chart.labs)}
        assert patient["resources"] == {k: v for k, v in sorted(counted.items()) if v}


def test_every_patient_has_a_caregiver_linked_to_them(built):
    resources = [entry["resource"] for entry in built[0]["entry"]]
    caregivers = {r["id"]: r for r in resources if r["resourceType"] == "RelatedPerson"}
    for patient in built[1]["patients"]:
        person = caregivers[patient["caregiver"]["id"]]
        assert person["patient"] == {"reference": f"Patient/{patient['id']}"}
        assert person["name"][0]["text"] == patient["caregiver"]["name"]


def test_build_same_seed_is_identical():
    assert json.dumps(build(AS_OF, seed=5)) == json.dumps(build(AS_OF, seed=5))


def test_build_other_seed_changes_values_not_ids(built):
    other = build(AS_OF, seed=2)[0]
    assert [e["fullUrl"] for e in other["entry"]] == [e["fullUrl"] for e in built[0]["entry"]]
    assert json.dumps(other) != json.dumps(built[0])


def test_build_dates_move_with_as_of(built):
    later = build(AS_OF + timedelta(days=100), seed=1)[0]
    for (path, old), (new_path, new) in zip(walk(built[0]), walk(later), strict=True):
        assert path == new_path
        match = DATE_PREFIX.match(old) if isinstance(old, str) else None
        if match and DATE_PREFIX.match(new):
            assert day(new) - day(old) == timedelta(days=100), path
            assert old[10:] == new[10:], path
        else:
            assert old == new, path


def test_bundle_is_a_transaction_of_puts_with_stable_ids(built):
    bundle = built[0]
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    keys = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]
    assert [e["request"] for e in bundle["entry"]] == [{"method": "PUT", "url": k} for k in keys]
    assert len(set(keys)) == len(keys)
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(keys)
    assert all(FHIR_ID.match(e["resource"]["id"]) for e in bundle["entry"])


def test_bundle_size_keeps_loading_and_search_fast(charts, resources):
    assert len(resources) < 1500
    assert max(len(c.labs) for c in charts.values()) <= 120


def test_bundle_references_resolve(resources):
    known = {f"{r['resourceType']}/{r['id']}" for r in resources}
    for resource in resources:
        contained = {f"#{c['id']}" for c in resource.get("contained", [])}
        for path, value in walk(resource):
            if path.endswith(".reference"):
                assert value in known | contained, f"{resource['id']}{path}: {value}"


def test_bundle_times_are_vendor_style_utc(resources):
    fields = (".effectiveDateTime", ".issued", ".lastUpdated", ".authoredOn", ".start", ".end")
    for resource in resources:
        for path, value in walk(resource):
            if path.endswith(fields):
                assert INSTANT.match(value), f"{resource['id']}{path}: {value}"


def test_bundle_labs_carry_vendor_and_loinc_codings(resources):
    labs = [r for r in resources if r["resourceType"] == "Observation"]
    for lab in labs:
        vendor, standard = lab["code"]["coding"]
        assert "/codeSet/72" in vendor["system"] and vendor["userSelected"] is True
        assert standard["system"] == LOINC and "display" not in standard
        assert lab["category"][0]["coding"][0]["code"] == "laboratory"
        assert lab["meta"]["lastUpdated"]
    assert any("interpretation" in lab for lab in labs)


def test_bundle_orders_have_vendor_shape(resources):
    orders = [r for r in resources if r["resourceType"] == "MedicationRequest"]
    for order in orders:
        assert list(order["dispenseRequest"]["validityPeriod"]) == ["start"]
        assert order["dispenseRequest"]["performer"]["reference"].startswith("Organization/")
        concept = order.get("medicationCodeableConcept")
        if concept:
            systems = [c["system"] for c in concept["coding"]]
            assert systems[0] == RXNORM and systems[1].endswith("/synonym")
    requesters = {o["requester"]["reference"].split("/")[0] for o in orders}
    assert requesters == {"Practitioner", "PractitionerRole"}


def test_bundle_patients_have_mrn_and_synthetic_names(built, resources):
    mrn_system = built[1]["mrn_system"]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    for patient in patients:
        assert patient["identifier"][0]["system"] == mrn_system
        assert patient["birthDate"] and patient["gender"]
    families = {p["name"][0]["family"].split("-")[0] for p in patients}
    assert families <= {
        "Sandbox",
        "Testwell",
        "Mockridge",
        "Demofield",
        "Synthson",
        "Samplewood",
        "Fixture",
    }


def test_cli_writes_bundle_and_manifest(tmp_path):
    out, manifest = tmp_path / "bundle.json", tmp_path / "manifest.json"
    assert main(["--out", str(out), "--manifest", str(manifest), "--as-of", "2026-11-25"]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == build(AS_OF)[0]
    assert json.loads(manifest.read_text(encoding="utf-8"))["as_of"] == "2026-11-25"


def test_cli_as_of_defaults_to_today(tmp_path):
    manifest = tmp_path / "manifest.json"
    with time_machine.travel(date(2031, 2, 3), tick=False):
        main(["--out", str(tmp_path / "b.json"), "--manifest", str(manifest)])
    assert json.loads(manifest.read_text(encoding="utf-8"))["as_of"] == "2031-02-03"


@pytest.mark.parametrize("bad", [["--as-of", "2026-13-01"], ["--seed", "x"], []])
def test_cli_bad_arguments_exit_2(tmp_path, bad):
    args = bad if bad == [] else ["--out", str(tmp_path / "b.json"), *bad]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2


def test_cli_runs_as_module(tmp_path):
    out = tmp_path / "bundle.json"
    command = [sys.executable, "-m", "sandbox.patients", "--out", str(out), "--seed", "3"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    assert " patients, " in result.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["type"] == "transaction"
