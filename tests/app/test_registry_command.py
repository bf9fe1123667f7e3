"""`smartapp db ...` and `smartapp registry ...` as a user runs them, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REGISTRY = {
    "prescribers": [{"practitioner": "Practitioner/dr-a", "certified": "2021-09-01", "name": "A"}],
    "pharmacies": [{"organization": "Organization/ph-1", "certified": "2021-10-01"}],
    "patients": [{"patient": "Patient/pt-1", "enrolled": "2021-11-20", "status": "interrupted"}],
    "status_forms": [{"patient": "Patient/pt-1", "submitted": "2021-12-01", "anc_reported": 1900}],
}


def smartapp(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMARTAPP_")}
    return subprocess.run(
        [sys.executable, "-m", "smartapp.commands.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(Path(__file__).parents[2]), **(env or {})},
    )


def test_cli_db_and_registry_commands_end_to_end(empty_database_url, tmp_path):
    url = ["--database-url", empty_database_url]
    assert smartapp("db", "current", *url).stdout.startswith("none (not migrated)")
    upgraded = smartapp("db", "upgrade", *url)
    assert (upgraded.returncode, upgraded.stdout) == (0, "0002 (at head)\n")
    source = tmp_path / "registry.json"
    source.write_text(json.dumps(REGISTRY))
    imported = smartapp("registry", "import", str(source), *url, "--actor", "pharmacist-1")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "registry import: 4 created, 0 updated, 0 unchanged\n"
    exported = smartapp("registry", "export", *url)
    assert exported.returncode == 0 and json.loads(exported.stdout) == REGISTRY
    written = tmp_path / "out.json"
    assert smartapp("registry", "export", *url, "-o", str(written)).stdout == ""
    assert json.loads(written.read_text()) == REGISTRY
    downgraded = smartapp("db", "downgrade", "base", *url)
    assert downgraded.returncode == 0 and downgraded.stdout.startswith("none")


def test_cli_registry_malformed_file_exits_2_with_one_line(database_url, tmp_path):
    source = tmp_path / "registry.json"
    source.write_text(json.dumps({"prescribers": [{"practitioner": "Practitioner/a"}]}))
    done = smartapp("registry", "import", str(source), "--database-url", database_url)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "is malformed" in done.stderr
    exported = smartapp("registry", "export", "--database-url", database_url)
    assert json.loads(exported.stdout)["prescribers"] == []


def test_cli_database_url_comes_from_the_environment(database_url):
    done = smartapp("registry", "export", env={"SMARTAPP_DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["patients"] == []


def test_cli_default_database_is_sqlite_in_var(tmp_path):
    assert smartapp("db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / "var" / "smartapp.db").is_file()
    assert smartapp("db", "current", cwd=tmp_path).stdout == "0002 (at head)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["registry", "export", "--database-url", "not a url"], "--database-url"),
        (["db", "current", "--database-url", "postgresql+psycopg://u:pw@127.0.0.1:9/x"],
         "connection"),
        (["registry", "import", "/nonexistent/registry.json"], "cannot read registry file"),
        (["db"], "required"),
    ],
)  # fmt: skip
def test_cli_database_errors_exit_2_without_traceback(tmp_path, args, message):
    done = smartapp(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "pw@" not in done.stderr


def test_cli_registry_export_of_unmigrated_database_says_to_upgrade(tmp_path):
    done = smartapp("registry", "export", "--database-url", f"sqlite:///{tmp_path / 'new.db'}")
    assert done.returncode == 2 and "smartapp db upgrade" in done.stderr
