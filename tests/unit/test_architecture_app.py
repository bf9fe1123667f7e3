"""The app's shape: one settings reader, one "today", a FHIR client that knows only FHIR."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PACKAGES = ("clozapine", "fhir_mappings", "launch", "fhir_client", "smartapp")
SETTINGS_MODULE = PROJECT_ROOT / "smartapp" / "settings.py"
CLOCK_MODULE = PROJECT_ROOT / "smartapp" / "clock.py"
MAX_LOOSE_MODULES = 8


def _modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _reads_environment(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                return True
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if {alias.name for alias in node.names} & {"environ", "getenv", "environb"}:
                return True
    return False


def _dates_from_the_clock(tree: ast.Module) -> bool:
    """`date.today()`, or `.date()` called on `datetime.now(...)` / `datetime.today()`."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        func = node.func
        if func.attr == "today" and isinstance(func.value, ast.Name) and func.value.id == "date":
            return True
        inner = func.value
        if func.attr == "date" and isinstance(inner, ast.Call):
            called = inner.func
            if isinstance(called, ast.Attribute) and called.attr in ("now", "today"):
                return True
    return False


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_only_the_settings_module_reads_the_environment(path: Path) -> None:
    if path == SETTINGS_MODULE:
        assert _reads_environment(_tree(path))
        return
    assert not _reads_environment(_tree(path)), f"{path} reads os.environ: use smartapp.settings"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_only_the_clock_module_says_what_day_it_is(path: Path) -> None:
    if path == CLOCK_MODULE:
        assert _dates_from_the_clock(_tree(path))
        return
    assert not _dates_from_the_clock(_tree(path)), f"{path} computes today: use smartapp.clock"


def test_the_architecture_checks_see_a_planted_violation(tmp_path: Path) -> None:
    planted = ast.parse("import os\nfrom datetime import datetime\nx = os.environ['A']\n")
    assert _reads_environment(planted)
    assert _dates_from_the_clock(ast.parse("from datetime import datetime\ndatetime.now(z).date()"))
    assert _dates_from_the_clock(ast.parse("from datetime import date\ndate.today()"))
    assert not _dates_from_the_clock(ast.parse("from datetime import datetime\ndatetime.now(z)"))


def test_smartapp_keeps_at_most_eight_loose_modules() -> None:
    loose = sorted(p.name for p in (PROJECT_ROOT / "smartapp").glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose


def test_fhir_client_imports_nothing_of_the_app() -> None:
    app_packages = {"clozapine", "fhir_mappings", "launch", "smartapp"}
    for path in sorted((PROJECT_ROOT / "fhir_client").rglob("*.py")):
        for node in ast.walk(_tree(path)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            roots = {name.split(".")[0] for name in names}
            assert not roots & app_packages, f"{path.name} imports {roots & app_packages}"


def test_every_new_package_module_opens_with_a_docstring() -> None:
    for package in ("fhir_client", "smartapp"):
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            assert ast.get_docstring(_tree(path)), f"{path} has no module docstring"
