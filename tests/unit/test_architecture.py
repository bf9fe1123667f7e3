"""The import rules: the engine is stdlib-only and clock-free; the evaluate path stays light."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

CLOCK_CALLS = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("datetime", "today"),
}


def _modules(package: str) -> list[Path]:
    return sorted((PROJECT_ROOT / package).rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", _modules("clozapine"), ids=lambda p: p.name)
def test_engine_imports_only_the_standard_library(path: Path) -> None:
    foreign = {
        root
        for root in _imported_roots(path)
        if root not in sys.stdlib_module_names and root not in ("clozapine", "__future__")
    }
    assert not foreign, f"{path.name} imports {foreign}"
    assert not (_imported_roots(path) & {"os", "logging", "time", "socket", "pathlib"})


@pytest.mark.parametrize("path", _modules("clozapine"), ids=lambda p: p.name)
def test_engine_reads_no_clock(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in CLOCK_CALLS, f"{path.name} reads the clock"


@pytest.mark.parametrize(
    ("package", "allowed"),
    [("fhir_mappings", {"clozapine", "fhir_mappings"}), ("launch", {"launch"})],
)
def test_package_imports_follow_the_architecture(package: str, allowed: set[str]) -> None:
    app_packages = {"clozapine", "fhir_mappings", "launch", "smartapp"}
    for path in _modules(package):
        assert _imported_roots(path) & app_packages <= allowed, path.name


def test_modules_open_with_a_docstring() -> None:
    for package in ("clozapine", "fhir_mappings", "launch", "smartapp"):
        for path in _modules(package):
            tree = ast.parse(path.read_text())
            assert ast.get_docstring(tree), f"{path} has no module docstring"
