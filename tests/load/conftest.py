"""The deployed stack for load runs: sandbox EHR, PostgreSQL, gunicorn (2 workers) over HTTPS."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.ehr.config import load_config
from sandbox.run import Sandbox, free_port
from tests.conftest import skip_or_fail
from tests.e2e.stack import (
    AppServer,
    Stack,
    app_environment,
    http_session,
    prepare_database,
    register_app_client,
)

LOAD_CLIENT_ID = "clozapine-smartapp-load"
PATIENTS = [
    "sbx-weekly-current", "sbx-weekly-due", "sbx-weekly-overdue", "sbx-biweekly-current",
    "sbx-monthly-current", "sbx-mild", "sbx-moderate", "sbx-ben-severe", "sbx-derived-anc",
    "sbx-long-weekly-history",
]  # fmt: skip


@pytest.fixture(scope="session")
def wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        skip_or_fail("wrk is absent: install Debian's wrk (scripts/install does)")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def load_stack(wrk, postgres_cluster, tmp_path_factory) -> Iterator[Stack]:
    """Everything as deployed, with the app's database on the private PostgreSQL cluster."""
    folder = tmp_path_factory.mktemp("load")
    app_port = free_port()
    config = load_config().replace(
        port=0,
        engine_port=0,
        tls_dir=folder / "tls",
        data_dir=folder / "sandbox",
        app_launch_url=f"https://localhost:{app_port}/launch",
        app_client_id=LOAD_CLIENT_ID,
    )
    database_url = postgres_cluster.create_database(f"load_{uuid.uuid4().hex[:8]}")
    with Sandbox(config) as sandbox:
        env = app_environment(folder, sandbox, LOAD_CLIENT_ID, app_port)
        env.update(
            {
                "SMARTAPP_DATABASE_URL": database_url,
                "SMARTAPP_WORKERS": "2",
                # Every page load also writes its findings back: the run proves no duplicates.
                "SMARTAPP_AUTO_WRITEBACK": "true",
            }
        )
        register_app_client(sandbox, LOAD_CLIENT_ID, env["SMARTAPP_BASE_URL"])
        registry = prepare_database(folder, sandbox, env)
        app = AppServer(env, folder / "gunicorn.log").start(sandbox.ca_path)
        try:
            yield Stack(sandbox, app, registry)
        finally:
            app.stop()


def launch_session(stack: Stack, patient: str) -> str:
    """A real EHR launch through the running app; the launch handle of the new session."""
    sandbox, origin = stack.sandbox, stack.app.origin
    with http_session(sandbox) as ehr:
        control = f"{sandbox.config.origin}/_sandbox/launches"
        launch = ehr.post(
            control, json={"patient": patient, "client_id": LOAD_CLIENT_ID}, timeout=10
        )
        value = launch.json()["launch"]
        step = ehr.get(
            f"{origin}/launch",
            params={"iss": sandbox.config.fhir_base, "launch": value},
            allow_redirects=False,
            timeout=30,
        )
        for _ in range(4):  # app -> EHR authorize -> app callback -> chart
            location = step.headers["Location"]
            if location.startswith("/chart?h="):
                return location.removeprefix("/chart?h=")
            step = ehr.get(
                location if location.startswith("http") else origin + location,
                allow_redirects=False,
                timeout=30,
            )
    raise AssertionError(f"the launch of {patient} did not reach the chart")


SCRIPT = Path(__file__).with_name("pages.lua")
