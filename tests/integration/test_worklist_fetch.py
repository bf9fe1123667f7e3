"""`smartapp worklist fetch` against the real sandbox: token, export, downloads, stored run.

Each fault of the sandbox's Bulk Data server gives a clear message, and a run that failed
loses nothing it had downloaded: the next run takes up the same export where it stopped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet

from launch import KeyRing
from launch.issuers import DEFAULT_BACKEND_SCOPES
from smartapp.commands.cli import main
from smartapp.commands.db import upgrade
from smartapp.db import Database, SecretCipher, SigningKeyStore, WorklistRuns
from tests.integration.app_harness import ORG_CONFIG, issuers_file
from tests.integration.smart import SmartClient
from tests.jwks_server import JwksServer

pytestmark = pytest.mark.integration

GROUP = "clozapine-patients"


class Fetch:
    """The app's settings for one test, and `smartapp worklist fetch` run with them."""

    def __init__(self, folder: Path, smart: SmartClient, backend_client: str, monkeypatch):
        self.folder = folder
        self.backend = backend_client
        self.database_url = f"sqlite:///{folder / 'app.db'}"
        upgrade(self.database_url)
        key = Fernet.generate_key().decode()
        self.issuers = issuers_file(
            folder, smart, "clozapine-smartapp", backend_client_id=backend_client
        )
        for name, value in {
            "SMARTAPP_ISSUERS_FILE": str(self.issuers),
            "SMARTAPP_DATABASE_URL": self.database_url,
            "SMARTAPP_TOKEN_KEY": key,
            "SMARTAPP_INSTANCE_DIR": str(folder),
            "SMARTAPP_ORG_CONFIG": str(ORG_CONFIG),
        }.items():
            monkeypatch.setenv(name, value)
        self.database = Database(self.database_url)
        self.cipher = SecretCipher(key)
        self.keys = KeyRing.load_or_create(
            SigningKeyStore(self.database, self.cipher), now=datetime.now(UTC)
        )

    def __call__(self, capsys, *extra: str) -> tuple[int, str]:
        status = main(["worklist", "fetch", "--issuer", "Sandbox EHR", "--group", GROUP, *extra])
        return status, capsys.readouterr().err

    def runs(self, iss: str):
        return WorklistRuns(self.database, self.cipher).runs(iss)

    def state(self) -> dict[str, Any]:
        (state,) = self.folder.glob("worklist/*/fetch-state.json")
        return json.loads(state.read_text())

    def files(self) -> list[str]:
        return sorted(p.name for p in self.folder.glob("worklist/*/*") if p.suffix != ".lock")


@pytest.fixture
def jwks_server():
    with JwksServer({"keys": []}) as server:
        yield server


@pytest.fixture
def fetch(tmp_path, smart, jwks_server, monkeypatch):
    backend = smart.register(
        DEFAULT_BACKEND_SCOPES,
        "private_key_jwt",
        jwks_uri=jwks_server.url,
        grant_types=["client_credentials"],
    )
    runner = Fetch(tmp_path, smart, backend, monkeypatch)
    jwks_server.jwks = runner.keys.public_jwks()
    yield runner
    runner.database.dispose()


def _group_members(smart: SmartClient) -> set[str]:
    manifest = json.loads(smart.sandbox.manifest_path.read_text())
    assert manifest["group"]["id"] == GROUP
    return {
        f"Patient/{p['id']}"
        for p in manifest["patients"]
        if p["resources"].get("MedicationRequest")
    }


def test_worklist_fetch_exports_evaluates_and_stores_the_group(fetch, smart, capsys):
    status, err = fetch(capsys)
    assert status == 0, err
    (run,) = fetch.runs(smart.iss)
    patients = WorklistRuns(fetch.database, fetch.cipher).patients(smart.iss, run.run_id)
    assert {p.patient for p in patients} == _group_members(smart)
    assert run.patients == len(patients) and run.group_id == GROUP
    assert sum(run.counts["by_status"].values()) == len(patients)
    order = ["action-required", "attention", "ok", "not-applicable"]
    assert [order.index(p.overall) for p in patients] == sorted(
        order.index(p.overall) for p in patients
    )
    phones = {p.phone for p in patients}
    assert "" in phones and any(phone.startswith("+1-555-01") for phone in phones)
    first = json.loads(patients[0].evaluation_json)
    assert first["patient"] == patients[0].patient and "findings" in first
    assert f"worklist run {run.run_id} stored for Sandbox EHR: {len(patients)} patients" in err
    assert "export " in err and " download " in err and " evaluation " in err
    assert fetch.files() == []  # the downloaded patient data is removed once stored


@pytest.fixture
def heart_rate(smart):
    """A vital-sign Observation of a Group member (not a lab the evaluation reads), put in the
    engine for one test and deleted after it."""
    member = sorted(_group_members(smart))[0]
    body = {
        "resourceType": "Observation",
        "id": "test-heart-rate",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": member},
        "effectiveDateTime": "2026-11-20T10:00:00Z",
        "valueQuantity": {"value": 72, "unit": "/min"},
    }
    url = f"{smart.sandbox.engine_base}/Observation/test-heart-rate"
    assert requests.put(url, json=body, timeout=10).status_code in (200, 201)
    yield
    requests.delete(url, timeout=10)


def test_worklist_fetch_with_type_filter_evaluates_every_patient_the_same(
    fetch, smart, capsys, heart_rate
):
    assert fetch(capsys)[0] == 0
    issuers_file(
        fetch.folder,
        smart,
        "clozapine-smartapp",
        backend_client_id=fetch.backend,
        export_type_filter=True,
    )
    status, err = fetch(capsys)
    assert status == 0, err
    filtered, whole = fetch.runs(smart.iss)  # newest first
    runs = WorklistRuns(fetch.database, fetch.cipher)

    def evaluations(run):
        return [p.evaluation_json for p in runs.patients(smart.iss, run.run_id)]

    assert evaluations(filtered) == evaluations(whole)
    assert filtered.counts["lines"] == whole.counts["lines"] - 1  # not the heart rate


def test_worklist_fetch_without_a_group_exports_every_patient(fetch, smart, capsys):
    status = main(["worklist", "fetch", "--issuer", "Sandbox EHR"])
    err = capsys.readouterr().err
    assert status == 0, err
    (run,) = fetch.runs(smart.iss)
    stored = WorklistRuns(fetch.database, fetch.cipher).patients(smart.iss, run.run_id)
    # Patient/$export is every patient the EHR holds: the cohort, and any patient another test
    # of this session created in the shared engine.
    assert {f"Patient/{p}" for p in smart.patients} <= {p.patient for p in stored}
    assert run.group_id is None


def test_worklist_fetch_waits_out_429_on_the_status_url(fetch, smart, capsys):
    smart.fault(fault="rate_limit", on="export_status", client_id=fetch.backend, count=2)
    status, err = fetch(capsys)
    assert status == 0, err
    assert "export status: HTTP 429, waiting as asked" in err


def test_worklist_fetch_throttled_for_good_keeps_the_job_for_the_next_run(fetch, smart, capsys):
    smart.fault(fault="rate_limit", on="export_status", client_id=fetch.backend)
    status, err = fetch(capsys)
    assert status == 1
    assert (
        "worklist fetch failed: the EHR kept answering the export status with HTTP 429; the"
        " export job is kept: run the command again later to resume it" in err
    )
    smart.control("DELETE", "faults")
    status, err = fetch(capsys)
    assert status == 0, err
    assert "resuming the export an earlier run started" in err


def test_worklist_fetch_token_refused_between_downloads_says_so_and_resumes(fetch, smart, capsys):
    smart.fault(
        fault="token_expired", on="export_file", client_id=fetch.backend, resource_type="Condition"
    )
    status, err = fetch(capsys)
    assert status == 1
    assert "the EHR refused a newly issued access token (HTTP 401)" in err
    done = [url.rsplit("/", 1)[-1] for url in fetch.state()["done"]]
    assert "4.Observation.ndjson" in done and "5.Condition.ndjson" not in done
    smart.control("DELETE", "faults")
    status, err = fetch(capsys)
    assert status == 0, err
    assert "(resumed)" in err


def test_worklist_fetch_retries_a_file_answering_500_and_a_token_expired_between_downloads(
    fetch, smart, capsys
):
    smart.fault(
        fault="server_error",
        on="export_file",
        client_id=fetch.backend,
        resource_type="Observation",
        count=1,
    )
    smart.fault(
        fault="token_expired",
        on="export_file",
        client_id=fetch.backend,
        resource_type="Condition",
        count=1,
    )
    status, err = fetch(capsys)
    assert status == 0, err
    assert "Observation.ndjson: HTTP 500, OperationOutcome exception; trying again (1 of 3)" in err
    assert "the access token expired; getting a new one" in err


def test_worklist_fetch_file_cut_short_resumes_next_run_without_losing_downloads(
    fetch, smart, capsys
):
    smart.fault(fault="file_cut_short", client_id=fetch.backend, resource_type="Observation")
    status, err = fetch(capsys)
    assert status == 1
    assert "worklist fetch failed: file 4.Observation.ndjson could not be downloaded" in err
    assert "the connection broke before the file was whole" in err
    assert "run the command again to resume" in err
    kept = fetch.state()
    assert [url.rsplit("/", 1)[-1] for url in kept["done"]] == [
        "1.Patient.ndjson",
        "2.MedicationRequest.ndjson",
        "3.Medication.ndjson",
    ]
    assert "4.Observation.ndjson.part" in fetch.files() and fetch.runs(smart.iss) == []
    smart.control("DELETE", "faults")
    # The files already downloaded must not be asked for again: they would fail now.
    smart.fault(
        fault="server_error", on="export_file", client_id=fetch.backend, resource_type="Patient"
    )
    status, err = fetch(capsys)
    assert status == 0, err
    assert "resuming the export an earlier run started" in err
    assert "(resumed)" in err
    (run,) = fetch.runs(smart.iss)
    assert run.patients == len(_group_members(smart))
    assert run.counts["unusable_lines"] == 0


def test_worklist_fetch_export_failure_says_so_and_the_next_run_starts_afresh(fetch, smart, capsys):
    smart.fault(fault="export_failed", client_id=fetch.backend, count=1)
    status, err = fetch(capsys)
    assert status == 1
    assert (
        "worklist fetch failed: the EHR's export failed (HTTP 500, OperationOutcome exception);"
        " run the command again to start a new export" in err
    )
    status, err = fetch(capsys)
    assert status == 0, err
    assert "resuming" not in err and "export started" in err


def test_worklist_fetch_refused_token_names_the_backend_client(fetch, jwks_server, smart, capsys):
    jwks_server.jwks = {"keys": []}  # keys the EHR cannot verify with
    status, err = fetch(capsys)
    assert status == 1
    assert "worklist fetch failed: The EHR refused the Backend Services token request" in err
    assert f"check the Backend Services client at the EHR (its id {fetch.backend}" in err
    assert fetch.runs(smart.iss) == []


def test_worklist_fetch_without_a_backend_client_says_what_to_register(
    tmp_path, smart, monkeypatch, capsys
):
    issuers = issuers_file(tmp_path, smart, "clozapine-smartapp")
    monkeypatch.setenv("SMARTAPP_ISSUERS_FILE", str(issuers))
    monkeypatch.setenv("SMARTAPP_INSTANCE_DIR", str(tmp_path))
    assert main(["worklist", "fetch", "--issuer", "Sandbox EHR"]) == 2
    assert "has no backend_client_id" in capsys.readouterr().err
