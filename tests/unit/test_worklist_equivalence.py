"""One engine: each patient of `smartapp worklist` is exactly what `smartapp evaluate` prints.

Over generated populations (the benchmark's generator, every shape it makes) and over every
scenario file (the project's, and the shared scenarios and rulings) turned into an export: the
Bundle's resources split into one NDJSON file per type, as a Bulk Data server writes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from benchmarks.bulk_export import write_export
from benchmarks.synthetic import AS_OF
from fhir_mappings import read_json
from smartapp.commands.cli import main
from tests.conftest import PROJECT_ROOT, SHARED

FOLDERS = [PROJECT_ROOT / "tests" / "scenarios", SHARED / "scenarios", SHARED / "rulings"]
SCENARIOS = [p for folder in FOLDERS if folder.is_dir() for p in sorted(folder.glob("*.json"))]
# Resources a single-patient Bundle gives its Patient without a subject; an export never does.
_PATIENT_COMPARTMENT = ("Observation", "MedicationRequest", "Condition")
_ENCODE = msgspec.json.Encoder(decimal_format="number").encode


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _by_patient(output: str) -> dict[str, str]:
    lines = output.splitlines()
    found = {json.loads(line)["patient"]: line for line in lines}
    assert len(found) == len(lines), "one line per patient"
    return found


def test_generated_population_worklist_equals_evaluate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundles = tmp_path / "bundles.ndjson"
    manifest = write_export(tmp_path / "export", 120, bundles)
    config = ["--config", str(tmp_path / "export" / "organisation.toml")]
    as_of = ["--as-of", AS_OF.isoformat()]
    status, evaluated, _ = _run(capsys, "evaluate", "--ndjson", str(bundles), *as_of, *config)
    assert status == 0
    for export in (manifest, manifest.parent):  # the manifest, and the folder of its files
        status, listed, errors = _run(capsys, "worklist", str(export), *as_of, *config)
        assert status == 0, errors
        assert _by_patient(listed) == _by_patient(evaluated)
    statuses = {json.loads(line)["overall"] for line in evaluated.splitlines()}
    assert {"action-required", "ok"} <= statuses  # the generator's shapes are not all alike


def _entries_as_export(bundle: Any) -> list[Any] | None:
    """The Bundle's resources as a Bulk Data server writes them, or None when it cannot be.

    References by fullUrl become "Type/id"; a patient-compartment resource with no subject in a
    single-patient Bundle is given that Patient as its subject (an export always names it).
    """
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    resources: list[dict[str, Any]] = [e["resource"] for e in entries if "resource" in e]
    if len(resources) < len(entries):
        return None
    if not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in resources):
        return None
    names = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in entries
        if isinstance(e.get("fullUrl"), str)
    }
    patients = [f"Patient/{r['id']}" for r in resources if r["resourceType"] == "Patient"]
    text = _ENCODE(resources).decode()
    for full_url, name in names.items():
        text = text.replace(json.dumps(full_url), json.dumps(name))
    converted: list[Any] = read_json(text)
    for resource in converted:
        named = resource.get("subject") or resource.get("patient")
        if resource["resourceType"] in _PATIENT_COMPARTMENT and named is None:
            if len(patients) != 1:
                return None
            resource["subject"] = {"reference": patients[0]}
    return converted


def _write_export(folder: Path, resources: list[Any]) -> None:
    folder.mkdir()
    by_type: dict[str, list[bytes]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(_ENCODE(resource))
    for resource_type, lines in by_type.items():
        (folder / f"{resource_type}.ndjson").write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("path", SCENARIOS, ids=[f"{p.parent.name}/{p.stem}" for p in SCENARIOS])
def test_scenario_as_an_export_worklist_equals_evaluate(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = json.loads(path.read_text())
    text = case.get("bundle_text") or json.dumps(case["bundle"])
    (tmp_path / "bundle.json").write_text(text)
    options = ["--as-of", case["as_of"]]
    if "registry" in case:
        (tmp_path / "registry.json").write_text(json.dumps(case["registry"]))
        options += ["--registry", str(tmp_path / "registry.json")]
    if "timezone" in case:
        options += ["--timezone", case["timezone"]]
    status, evaluated, errors = _run(capsys, "evaluate", str(tmp_path / "bundle.json"), *options)
    assert status == 0, errors
    resources = _entries_as_export(read_json(text))
    if resources is None:
        pytest.skip("the Bundle relies on what an export cannot carry (entries without an id)")
    _write_export(tmp_path / "export", resources)
    status, listed, errors = _run(capsys, "worklist", str(tmp_path / "export"), *options)
    assert status == 0, errors
    assert _by_patient(listed) == _by_patient(evaluated)


def _bundle(path: Path) -> Any:
    case = json.loads(path.read_text())
    return read_json(case["bundle_text"]) if case.get("bundle_text") else case["bundle"]


def test_most_scenarios_convert_to_exports() -> None:
    convertible = [p for p in SCENARIOS if _entries_as_export(_bundle(p)) is not None]
    assert len(convertible) >= 0.8 * len(SCENARIOS)
