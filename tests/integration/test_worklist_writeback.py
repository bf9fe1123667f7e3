"""`smartapp worklist fetch --writeback` against the sandbox: each patient's Flag written once,
with the chart page's identifiers, whichever of the page and the run writes first."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet

from launch.issuers import DEFAULT_BACKEND_SCOPES
from smartapp.commands.cli import main
from tests.integration.app_harness import APP_ORIGIN, ORG_CONFIG, SCOPES
from tests.integration.writeback_harness import (  # noqa: F401 - fixtures, by name
    app_for_fixture,
    ehr_fixture,
    identifier_search,
    launch,
    outcomes,
    post_writeback,
    today,
)
from tests.jwks_server import JwksServer

pytestmark = pytest.mark.integration
WRITE_SCOPES = "system/Flag.crus system/Task.crus"


@pytest.fixture(name="database_url")
def database_url_fixture(tmp_path):
    from smartapp.commands.db import upgrade

    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return url


@pytest.fixture
def jwks_server():
    with JwksServer({"keys": []}) as server:
        yield server


class Coordinator:
    """The app (its chart and write-back) and the scheduled fetch, on one database and key."""

    def __init__(self, smart, app_for, jwks_server, tmp_path, database_url, monkeypatch):
        key = Fernet.generate_key().decode()
        jwks_url = jwks_server.url
        self.backend = smart.register(
            f"{DEFAULT_BACKEND_SCOPES} system/Group.rs {WRITE_SCOPES}",
            "private_key_jwt",
            jwks_uri=jwks_url,
            grant_types=["client_credentials"],
        )
        self.client_id = smart.register(SCOPES)
        self.app = app_for(
            self.client_id,
            settings={"TOKEN_KEY": key},
            backend_client_id=self.backend,
            backend_scopes=f"{DEFAULT_BACKEND_SCOPES} {WRITE_SCOPES}",
        )
        jwks_server.jwks = self.app.extensions["smartapp"].keys.public_jwks()
        self.smart = smart
        for name, value in {
            "SMARTAPP_ISSUERS_FILE": str(tmp_path / f"issuers-{self.client_id}.toml"),
            "SMARTAPP_DATABASE_URL": database_url,
            "SMARTAPP_TOKEN_KEY": key,
            "SMARTAPP_INSTANCE_DIR": str(tmp_path),
            "SMARTAPP_ORG_CONFIG": str(ORG_CONFIG),
            "SMARTAPP_BASE_URL": APP_ORIGIN,
        }.items():
            monkeypatch.setenv(name, value)

    def fetch(self, capsys, group: str) -> str:
        status = main(
            ["worklist", "fetch", "--issuer", "Sandbox EHR", "--group", group, "--writeback"]
        )
        err = capsys.readouterr().err
        assert status == 0, err
        return err

    def chart_writes(self, patient: str) -> dict[str, str]:
        client, launched = launch(self.app, self.smart, patient)
        [outcome] = outcomes(
            post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
        )
        return outcome


@pytest.fixture
def coordinator(smart, app_for, jwks_server, tmp_path, database_url, monkeypatch):
    return Coordinator(smart, app_for, jwks_server, tmp_path, database_url, monkeypatch)


def group_of(ehr, *patients: str) -> str:
    """A Group of fresh patients only, so no bundled patient is written to."""
    group = f"wl-{uuid.uuid4().hex[:10]}"
    ehr.put(
        {
            "resourceType": "Group",
            "id": group,
            "type": "person",
            "actual": True,
            "member": [{"entity": {"reference": f"Patient/{p}"}} for p in patients],
        }
    )
    return group


def overdue_flags(ehr, patient: str) -> list[Any]:
    value = f"{patient}/monitoring-overdue/{(today() - timedelta(days=3)).isoformat()}"
    return identifier_search(ehr, "Flag", patient, value)


def written(err: str) -> dict[str, int]:
    """The run's write-back line as counts by outcome."""
    (line,) = [x for x in err.splitlines() if x.startswith("smartapp: write-back: ")]
    parts = line.removeprefix("smartapp: write-back: ").split(", ")
    return {kind: int(n) for n, kind in (part.split(" ", 1) for part in parts)}


def test_the_run_writes_once_and_the_page_then_finds_its_flag(coordinator, ehr, capsys):
    patient, other = ehr.new_patient(), ehr.new_patient()
    group = group_of(ehr, patient, other)
    created = written(coordinator.fetch(capsys, group))
    # the overdue ANC and the program's findings, for each of the two patients
    assert set(created) == {"created"} and created["created"] >= 2
    assert len(overdue_flags(ehr, patient)) == 1 and len(overdue_flags(ehr, other)) == 1
    assert written(coordinator.fetch(capsys, group)) == {"existing": created["created"]}
    assert coordinator.chart_writes(patient)["outcome"] == "existing"
    assert len(overdue_flags(ehr, patient)) == 1


def test_a_patient_flagged_from_the_chart_is_not_flagged_again_by_the_run(coordinator, ehr, capsys):
    patient = ehr.new_patient()
    chart = coordinator.chart_writes(patient)
    assert chart["outcome"] == "created"
    counts = written(coordinator.fetch(capsys, group_of(ehr, patient)))
    assert counts["existing"] == 1  # the chart's Flag; the program's findings are new
    assert set(counts) <= {"created", "existing"}
    (flag,) = overdue_flags(ehr, patient)
    assert chart["resource"] == f"Flag/{flag['id']}"
