"""`smartapp db ...` and `smartapp registry ...` as a user runs them, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartapp.commands.db import head

REGISTRY = {
    "prescribers": [{"practitioner": "Practitioner/dr-a", "certified": "2021-09-01", "name": "A"}],
    "pharmacies": [{"organization": "Organization/ph-1", "certified": "2021-10-01"}],
    "patients": [{"patient": "Patient/pt-1", "enrolled": "2021-11-20", "status": "interrupted"}],
    "status_forms": [{"patient": "Patient/pt-1", "submitted": "2021-12-01", "anc_reported": 1900}],
}


ISS = "https://ehr.example.org/fhir"
OTHER_ISS = "https://other-ehr.example.org/fhir"


def issuers_file(folder: Path, *issuers: str) -> str:
    """An issuer allow-list naming `issuers`, as SMARTAPP_ISSUERS_FILE points to."""
    path = folder / "issuers.toml"
    path.write_text("".join(f'[[issuer]]\niss = "{i}"\nclient_id = "c"\n' for i in issuers))
    return str(path)


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
    assert (upgraded.returncode, upgraded.stdout) == (0, f"{head()} (at head)\n")
    source = tmp_path / "registry.json"
    source.write_text(json.dumps(REGISTRY))
    imported = smartapp(
        "registry", "import", str(source), *url, "--actor", "pharmacist-1", "--issuer", ISS
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == f"registry import ({ISS}): 4 created, 0 updated, 0 unchanged\n"
    exported = smartapp("registry", "export", *url, "--issuer", ISS)
    assert exported.returncode == 0 and json.loads(exported.stdout) == {"issuer": ISS, **REGISTRY}
    written = tmp_path / "out.json"
    assert smartapp("registry", "export", *url, "--issuer", ISS, "-o", str(written)).stdout == ""
    assert json.loads(written.read_text()) == {"issuer": ISS, **REGISTRY}
    downgraded = smartapp("db", "downgrade", "base", *url)
    assert downgraded.returncode == 0 and downgraded.stdout.startswith("none")


def test_cli_registry_malformed_file_exits_2_with_one_line(database_url, tmp_path):
    source = tmp_path / "registry.json"
    source.write_text(json.dumps({"prescribers": [{"practitioner": "Practitioner/a"}]}))
    url = ["--database-url", database_url, "--issuer", ISS]
    done = smartapp("registry", "import", str(source), *url)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "is malformed" in done.stderr
    exported = smartapp("registry", "export", *url)
    assert json.loads(exported.stdout)["prescribers"] == []


def test_cli_database_url_comes_from_the_environment(database_url):
    done = smartapp(
        "registry", "export", "--issuer", ISS, env={"SMARTAPP_DATABASE_URL": database_url}
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["patients"] == []


def test_cli_default_database_is_sqlite_in_var(tmp_path):
    assert smartapp("db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / "var" / "smartapp.db").is_file()
    assert smartapp("db", "current", cwd=tmp_path).stdout == f"{head()} (at head)\n"


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
    url = f"sqlite:///{tmp_path / 'new.db'}"
    done = smartapp("registry", "export", "--database-url", url, "--issuer", ISS)
    assert done.returncode == 2 and "smartapp db upgrade" in done.stderr


def test_cli_registry_is_imported_and_exported_per_ehr(database_url, tmp_path):
    """The file's `issuer` (or --issuer, or the only configured issuer) decides the EHR; the same
    ids at two EHRs are two records, and each export holds only its EHR's."""
    env = {"SMARTAPP_DATABASE_URL": database_url}
    source = tmp_path / "registry.json"
    source.write_text(json.dumps({"issuer": f"{OTHER_ISS}/", **REGISTRY}))
    assert smartapp("registry", "import", str(source), env=env).returncode == 0
    only_one = {**env, "SMARTAPP_ISSUERS_FILE": issuers_file(tmp_path, ISS)}
    refused = smartapp("registry", "import", str(source), env=only_one)
    assert refused.returncode == 2 and f"issuer {OTHER_ISS} is not in" in refused.stderr
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"prescribers": REGISTRY["prescribers"]}))
    imported = smartapp("registry", "import", str(plain), env=only_one)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(f"registry import ({ISS}): 1 created")
    at_one = json.loads(smartapp("registry", "export", env=only_one).stdout)
    assert at_one == {"issuer": ISS, "prescribers": REGISTRY["prescribers"], "pharmacies": [],
                      "patients": [], "status_forms": []}  # fmt: skip
    at_other = json.loads(smartapp("registry", "export", "--issuer", OTHER_ISS, env=env).stdout)
    assert at_other == {"issuer": OTHER_ISS, **REGISTRY}


@pytest.mark.parametrize(
    ("args", "issuers", "message"),
    [
        (["export"], (), "name the EHR with --issuer"),
        (["export"], (ISS, OTHER_ISS), f"lists {ISS}, {OTHER_ISS}"),
        (["export", "--issuer", "http://ehr.example.org/fhir"], (), "not an https issuer URL"),
        (["import", "FILE", "--issuer", OTHER_ISS], (), "but the registry file names issuer"),
    ],
)
def test_cli_registry_refuses_to_guess_the_ehr(database_url, tmp_path, args, issuers, message):
    source = tmp_path / "registry.json"
    source.write_text(json.dumps({"issuer": ISS, **REGISTRY}))
    env = {"SMARTAPP_DATABASE_URL": database_url}
    if issuers:
        env["SMARTAPP_ISSUERS_FILE"] = issuers_file(tmp_path, *issuers)
    done = smartapp("registry", *[str(source) if a == "FILE" else a for a in args], env=env)
    assert done.returncode == 2 and done.stdout == "" and message in done.stderr
    assert (
        json.loads(smartapp("registry", "export", "--issuer", ISS, env=env).stdout)["prescribers"]
        == []
    )


def test_cli_db_upgrade_refuses_to_guess_the_ehr_of_older_rows(empty_database_url, tmp_path):
    """A 0002 database holding registry records, with two issuers configured: the upgrade says
    how to name one and changes nothing; named, it moves the records there."""
    url = ["--database-url", empty_database_url]
    assert smartapp("db", "upgrade", "0002", *url).returncode == 0
    from sqlalchemy import text

    from smartapp.db import Database

    database = Database(empty_database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO prescribers (practitioner_reference, certified_on, updated_at)"
                    " VALUES ('Practitioner/dr-a', '2021-09-01', '2026-11-25 14:00:00+00')"
                )
            )
    finally:
        database.dispose()
    env = {"SMARTAPP_ISSUERS_FILE": issuers_file(tmp_path, ISS, OTHER_ISS)}
    refused = smartapp("db", "upgrade", *url, env=env)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "will not guess" in refused.stderr and "smartapp db upgrade --issuer" in refused.stderr
    assert smartapp("db", "current", *url).stdout == f"0002 (head is {head()})\n"
    named = smartapp("db", "upgrade", *url, "--issuer", OTHER_ISS, env=env)
    assert (named.returncode, named.stdout) == (0, f"{head()} (at head)\n"), named.stderr
    exported = smartapp("registry", "export", *url, "--issuer", OTHER_ISS, env=env)
    assert json.loads(exported.stdout)["prescribers"] == [
        {"practitioner": "Practitioner/dr-a", "certified": "2021-09-01"}
    ]


def test_cli_exported_registry_naming_its_issuer_still_evaluates(database_url, tmp_path):
    """`smartapp evaluate --registry` reads an export (with its `issuer`) as the plain file."""
    env = {"SMARTAPP_DATABASE_URL": database_url}
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(REGISTRY))
    assert smartapp("registry", "import", str(plain), "--issuer", ISS, env=env).returncode == 0
    exported = tmp_path / "exported.json"
    done = smartapp("registry", "export", "--issuer", ISS, "-o", str(exported), env=env)
    assert done.returncode == 0 and json.loads(exported.read_text())["issuer"] == ISS
    example = str(Path(__file__).parents[2] / "examples" / "week-12-patient.json")
    rems = ["--as-of", "2026-11-25", "--policy", "us-rems-2021"]
    runs = [smartapp("evaluate", example, *rems, "--registry", str(f)) for f in (plain, exported)]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout == runs[1].stdout
    assert "enrollment-unknown" not in runs[1].stdout  # the registry was read
    assert "patient-not-enrolled" in runs[1].stdout
