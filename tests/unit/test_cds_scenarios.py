"""Every scenario with one patient, as a patient-view request whose prefetch holds its Bundle:
the service's evaluation is the one `smartapp evaluate` makes, and its card follows `overall`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clozapine import Registry, evaluate, evaluation_to_json, policy_in_force
from fhir_mappings import MappingSettings, patient_facts_from_bundle, read_json
from smartapp.cds.catalogue import BY_HOOK
from smartapp.cds.response import HookSettings, answer_hook
from tests.cds_requests import hook_request
from tests.conftest import PROJECT_ROOT, SHARED

FOLDERS = [PROJECT_ROOT / "tests" / "scenarios", SHARED / "scenarios", SHARED / "rulings"]
SCENARIOS = [p for folder in FOLDERS if folder.is_dir() for p in sorted(folder.glob("*.json"))]
INDICATOR = {"action-required": "critical", "attention": "warning"}


def _bundle(case: dict[str, Any]) -> Any:
    """The case's Bundle; `bundle_text` is read exactly (its numbers do not survive a float)."""
    return read_json(case["bundle_text"]) if case.get("bundle_text") else case.get("bundle")


def _one_patient(case: dict[str, Any]) -> bool:
    bundle = _bundle(case)
    if not isinstance(bundle, dict):
        return False
    entries = bundle.get("entry") or []
    resources = [e.get("resource") for e in entries if isinstance(e, dict)]
    patients = [r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Patient"]
    return len(patients) == 1 and isinstance(patients[0].get("id"), str)


CASES = [p for p in SCENARIOS if _one_patient(json.loads(p.read_text()))]


def test_cds_scenarios_found() -> None:
    assert CASES, "no single-patient scenario to run"


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cds_scenario_answers_with_the_evaluation_smartapp_evaluate_makes(path: Path) -> None:
    case = json.loads(path.read_text())
    as_of = date.fromisoformat(case["as_of"])
    zone = ZoneInfo(case["timezone"]) if case.get("timezone") else None
    mapping = MappingSettings(timezone=zone)
    policy = policy_in_force(as_of)
    registry = (
        Registry.from_json(case["registry"], program_fields=False) if "registry" in case else None
    )
    bundle = _bundle(case)
    [facts] = patient_facts_from_bundle(bundle, mapping)
    expected = evaluation_to_json(evaluate(facts, as_of, policy, registry))
    settings = HookSettings(
        mapping, as_of, policy, "https://app.example.org/launch", lambda _facts: registry
    )
    answer = answer_hook(BY_HOOK["patient-view"], hook_request(bundle), settings)
    assert answer.evaluation is not None
    assert evaluation_to_json(answer.evaluation) == expected
    cards = answer.response["cards"]
    if expected["overall"] in INDICATOR:
        assert [card["indicator"] for card in cards] == [INDICATOR[expected["overall"]]]
    else:
        assert cards == []
