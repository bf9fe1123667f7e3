"""The start command's failure path, and the rule that the sandbox imports nothing of the app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sandbox.run import free_port, main
from tests.conftest import PROJECT_ROOT

APP_PACKAGES = {"clozapine", "fhir_mappings", "launch", "smartapp"}


def test_run_bad_config_stops_with_a_message_naming_it(tmp_path, capsys):
    config = tmp_path / "sandbox.toml"
    config.write_text("[ehr]\nport = 'nine'\n")
    assert main(["--config", str(config)]) == 1
    assert "port" in capsys.readouterr().err


def test_run_free_port_is_a_usable_port():
    assert 0 < free_port() < 65536


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


SANDBOX_MODULES = sorted(
    path for path in (PROJECT_ROOT / "sandbox").rglob("*.py") if "node_modules" not in path.parts
)


@pytest.mark.parametrize("path", SANDBOX_MODULES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_run_sandbox_imports_nothing_of_the_app(path):
    assert not _imported_roots(path) & APP_PACKAGES
