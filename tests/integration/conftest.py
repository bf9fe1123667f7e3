"""Integration fixtures: the whole sandbox EHR (Node FHIR engine + HTTPS EHR front) per session."""

from __future__ import annotations

import pytest

from sandbox.ehr.config import load_config
from sandbox.fhirserver import is_installed
from sandbox.run import Sandbox
from tests.conftest import skip_or_fail
from tests.integration.smart import SmartClient


@pytest.fixture(scope="session")
def sandbox_ehr(tmp_path_factory):
    """The sandbox on free loopback ports, with its own CA and data in a temporary folder."""
    if not is_installed():
        skip_or_fail(
            "sandbox FHIR engine (Node) not installed: run `npm ci` in sandbox/fhir-server"
        )
    folder = tmp_path_factory.mktemp("sandbox")
    # The chart calls no CDS service unless a test points it at one (PUT /_sandbox/cds).
    config = load_config().replace(
        port=0,
        engine_port=0,
        tls_dir=folder / "tls",
        data_dir=folder / "data",
        cds_services_url="",
    )
    with Sandbox(config) as sandbox:
        yield sandbox


@pytest.fixture
def smart(sandbox_ehr):
    """A SMART test client of the running sandbox; faults and vendor switches reset after."""
    client = SmartClient(sandbox_ehr)
    yield client
    client.reset()
    client.session.close()
