"""Two sandbox EHRs on two ports, with the same patients and practitioners: records stay per EHR.

The second sandbox is a second issuer (its own FHIR engine, authorization server and CA) serving
the same synthetic cohort, so every Patient and Practitioner id exists at both. The app allows
both; an enrollment recorded at one and the administrator named at one must not carry over.
Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from sandbox.ehr.config import load_config
from sandbox.run import Sandbox
from smartapp.app import create_app
from tests.integration.app_harness import APP_ORIGIN, ORG_CONFIG, SCOPES, Launched, ehr_launch
from tests.integration.smart import SmartClient
from tests.integration.writeback_harness import database_url_fixture  # noqa: F401 - a fixture
from tests.postgres import postgres_cluster  # noqa: F401 - a fixture, by name

pytestmark = pytest.mark.integration

ADMIN = "sbx-dr-ada"
PATIENT = "sbx-weekly-current"
CLIENT_ID = "clozapine-smartapp"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture(scope="module")
def other_smart(sandbox_ehr, tmp_path_factory) -> Iterator[SmartClient]:
    """A second sandbox EHR beside the session's: another port, so another issuer."""
    folder = tmp_path_factory.mktemp("sandbox-b")
    config = load_config().replace(
        port=0, engine_port=0, tls_dir=folder / "tls", data_dir=folder / "data"
    )
    with Sandbox(config) as sandbox:
        client = SmartClient(sandbox)
        yield client
        client.session.close()


def _issuer(smart: SmartClient, name: str) -> str:
    return (
        "[[issuer]]\n"
        f'name = "{name}"\n'
        f'iss = "{smart.iss}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        'auth_method = "none"\n'
        f'scopes = "{SCOPES}"\n'
        f'frame_ancestors = ["{smart.origin}"]\n'
        f'tls_ca_file = "{smart.sandbox.ca_path}"\n'
    )


@pytest.fixture
def app(smart, other_smart, tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """The app allowing both EHRs; the registry administrator is EHR A's Dr Ada only."""
    assert smart.iss != other_smart.iss
    issuers = tmp_path / "issuers.toml"
    issuers.write_text(_issuer(smart, "EHR A") + _issuer(other_smart, "EHR B"))
    application = create_app(
        {
            "BASE_URL": APP_ORIGIN,
            "SECRET_KEY": "tenancy-secret-key-" + "x" * 32,
            "TOKEN_KEY": Fernet.generate_key().decode(),
            "ISSUERS_FILE": str(issuers),
            "ORG_CONFIG": str(ORG_CONFIG),
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(tmp_path),
            "REGISTRY_ADMINS": f"{smart.iss}/Practitioner/{ADMIN}",
            "FHIR_TIMEOUT_S": "20",
            "LOG_LEVEL": "WARNING",
        }
    )
    yield application
    application.extensions["smartapp"].close()


def _form(launched: Launched) -> dict[str, str]:
    """The page's launch handle and CSRF token, as its forms carry them."""
    fields = dict(HIDDEN.findall(launched.html))
    return {"h": fields["h"], "csrf_token": fields["csrf_token"]}


def _as_of(launched: Launched) -> str:
    match = re.search(r'data-testid="as-of">([0-9-]{10})<', launched.html)
    assert match
    return match.group(1)


def test_two_ehrs_an_enrollment_at_one_does_not_count_at_the_other(app, smart, other_smart):
    client = app.test_client()
    at_a = ehr_launch(client, smart, PATIENT, practitioner=ADMIN)
    at_b = ehr_launch(client, other_smart, PATIENT, practitioner=ADMIN)
    for launched in (at_a, at_b):
        assert launched.response.status_code == 200, launched.html[:500]
        assert "patient-not-enrolled" in launched.finding_codes()
    enrolled_on = _as_of(at_a)
    answer = client.post(
        "/program/enrollment",
        data={**_form(at_a), "enrolled_on": enrolled_on, "status": "active"},
    )
    assert answer.status_code == 303
    page_a = client.get("/chart", query_string={"h": at_a.handle}).get_data(as_text=True)
    page_b = client.get("/chart", query_string={"h": at_b.handle}).get_data(as_text=True)
    assert 'data-code="patient-not-enrolled"' not in page_a
    assert 'data-code="patient-not-enrolled"' in page_b
    registry = app.extensions["smartapp"].registry
    assert [p["patient"] for p in registry.export(smart.iss)["patients"]] == [f"Patient/{PATIENT}"]
    assert registry.export(other_smart.iss)["patients"] == []
    [event] = app.extensions["smartapp"].audit.events(smart.iss, action_prefix="registry.")
    assert event.iss == smart.iss
    assert app.extensions["smartapp"].audit.events(other_smart.iss, action_prefix="registry.") == []


def test_two_ehrs_the_same_user_id_is_an_administrator_at_one_only(app, smart, other_smart):
    client = app.test_client()
    at_a = ehr_launch(client, smart, PATIENT, practitioner=ADMIN)
    at_b = ehr_launch(client, other_smart, PATIENT, practitioner=ADMIN)
    assert client.get("/admin/registry", query_string={"h": at_a.handle}).status_code == 200
    assert client.get("/admin/audit", query_string={"h": at_a.handle}).status_code == 200
    assert client.get("/admin/registry", query_string={"h": at_b.handle}).status_code == 403
    assert client.get("/admin/audit", query_string={"h": at_b.handle}).status_code == 403
    certification = {"practitioner": f"Practitioner/{ADMIN}", "certified_on": "2026-01-10"}
    refused = client.post("/admin/registry/prescribers", data={**_form(at_b), **certification})
    assert refused.status_code == 403
    saved = client.post("/admin/registry/prescribers", data={**_form(at_a), **certification})
    assert saved.status_code == 303
    registry = app.extensions["smartapp"].registry
    assert len(registry.export(smart.iss)["prescribers"]) == 1
    assert registry.export(other_smart.iss)["prescribers"] == []
