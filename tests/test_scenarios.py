"""Every scenario file (the project's; the shared scenarios and rulings) through `smartapp evaluate`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT, SHARED, skip_or_fail

FOLDERS = [PROJECT_ROOT / "tests" / "scenarios", SHARED / "scenarios", SHARED / "rulings"]
SCENARIOS = [
    path for folder in FOLDERS if folder.is_dir() for path in sorted(folder.glob("*.json"))
]
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def _command() -> list[str]:
    found = shutil.which("smartapp", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "smartapp.commands.cli"]


def _dig(document: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(document, dict) or key not in document:
            return "<missing>"
        document = document[key]
    return document


def _run(case: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    bundle = tmp_path / "bundle.json"
    # bundle_text holds a Bundle whose numbers a float cannot carry: written out verbatim.
    bundle.write_text(
        case["bundle_text"] if case.get("bundle_text") else json.dumps(case["bundle"])
    )
    args = [*_command(), "evaluate", str(bundle), "--as-of", case["as_of"]]
    if "registry" in case:
        registry = tmp_path / "registry.json"
        registry.write_text(json.dumps(case["registry"]))
        args += ["--registry", str(registry)]
    if "timezone" in case:
        args += ["--timezone", case["timezone"]]
    run = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    output: dict[str, Any] = json.loads(run.stdout)
    return output


def test_scenarios_found() -> None:
    assert any(p.parent == FOLDERS[0] for p in SCENARIOS), "the project's own scenarios are missing"


@pytest.mark.scenario
@pytest.mark.parametrize(
    "path", SCENARIOS, ids=[f"{p.parent.parent.name}/{p.stem}" for p in SCENARIOS]
)
def test_scenario_evaluates_as_expected(path: Path, tmp_path: Path) -> None:
    case = json.loads(path.read_text())
    output = _run(case, tmp_path)
    problems = [
        f"{key}: want {want!r}, got {_dig(output, key)!r}"
        for key, want in case["expected"].items()
        if _dig(output, key) != want
    ]
    codes = [finding["code"] for finding in output["findings"]]
    problems += [f"finding {c} missing" for c in case["findings_include"] if c not in codes]
    problems += [f"finding {c} present" for c in case["findings_exclude"] if c in codes]
    keys = [(SEVERITY_RANK[f["severity"]], f["code"]) for f in output["findings"]]
    if keys != sorted(keys) or len(set(codes)) != len(codes):
        problems.append("findings not one per code, ordered critical, warning, info, then code")
    assert not problems, f"{case['id']} ({case['title']}): " + "; ".join(problems)


def test_shared_scenarios_are_beside_the_project() -> None:
    """The shared scenarios run when ../shared is there; under CI it must be."""
    if not (SHARED / "scenarios").is_dir():
        skip_or_fail(f"{SHARED / 'scenarios'} is absent: the shared scenarios did not run")
    assert any((SHARED / "scenarios").glob("*.json"))
