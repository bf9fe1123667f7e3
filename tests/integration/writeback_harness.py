"""Shared fixtures for the write-back tests: the app on SQLite or PostgreSQL, fresh sandbox patients.

Each test makes its own patient in the sandbox EHR (the sandbox keeps what is written for the
whole session, and write-back identifiers are derived from the patient), so no test sees
another's Flags and the bundled patients stay as the other tests expect them.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from fhir_mappings.outbound import DEFAULT_IDENTIFIER_SYSTEM
from smartapp.app import create_app
from smartapp.commands.db import upgrade
from smartapp.web.csrf import csrf_token
from tests.integration.app_harness import (
    APP_ORIGIN,
    ORG_CONFIG,
    SCOPES,
    Launched,
    ehr_launch,
    issuers_file,
)
from tests.integration.smart import SmartClient

SECRET_KEY = "writeback-secret-key-" + "x" * 32
ORG_ZONE = ZoneInfo("America/Chicago")  # the sandbox organisation's time zone
ADMIN_SCOPES = "launch openid fhirUser user/*.cruds"
READ_ONLY_SCOPES = " ".join(s for s in SCOPES.split() if not s.endswith((".crus", ".cs")))
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_names = itertools.count()


def today() -> date:
    """Today where the organisation is (the app's as-of date)."""
    return datetime.now(ORG_ZONE).date()


@pytest.fixture(name="database_url", params=BACKENDS)
def database_url_fixture(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh migrated database: a SQLite file, or a new database in the private cluster."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
        upgrade(url)
        yield url
        return
    cluster = request.getfixturevalue("postgres_cluster")
    name = f"writeback_{next(_names)}_{uuid.uuid4().hex[:6]}"
    url = cluster.create_database(name)
    upgrade(url)
    yield url
    cluster.drop_database(name)


def writeback_app(
    folder: Path,
    smart: SmartClient,
    client_id: str,
    database_url: str,
    settings: dict[str, str] | None = None,
    **issuer: Any,
) -> Flask:
    """The app against the sandbox on the given database; `settings` adds SMARTAPP_* values."""
    return create_app(
        {
            "BASE_URL": APP_ORIGIN,
            "SECRET_KEY": SECRET_KEY,
            "TOKEN_KEY": Fernet.generate_key().decode(),
            "ISSUERS_FILE": str(issuers_file(folder, smart, client_id, **issuer)),
            "ORG_CONFIG": str(ORG_CONFIG),
            "DATABASE_URL": database_url,
            "INSTANCE_DIR": str(folder),
            "FHIR_TIMEOUT_S": "20",
            "LOG_LEVEL": "WARNING",
            **(settings or {}),
        }
    )


@pytest.fixture(name="app_for")
def app_for_fixture(tmp_path, smart, database_url):
    """Make apps for this test (closed after it): `app_for(client_id, settings=..., **issuer)`."""
    made: list[Flask] = []

    def make(client_id: str | None = None, settings=None, **issuer: Any) -> Flask:
        """An app whose sandbox client (registered here unless given) is granted its scopes."""
        client_id = client_id or smart.register(issuer.get("scopes", SCOPES))
        app = writeback_app(tmp_path, smart, client_id, database_url, settings, **issuer)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["smartapp"].close()


@dataclass
class Ehr:
    """The sandbox seen by a user-level client: makes patients and results, counts resources."""

    smart: SmartClient
    token: str

    def put(self, resource: dict[str, Any]) -> dict[str, Any]:
        path = f"{resource['resourceType']}/{resource['id']}"
        answer = self.smart.fhir(
            "PUT",
            path,
            self.token,
            json=resource,
            headers={"Content-Type": "application/fhir+json"},
        )
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    def search(self, resource_type: str, **params: str) -> list[dict[str, Any]]:
        answer = self.smart.fhir("GET", resource_type, self.token, params=params)
        assert answer.status_code == 200, answer.text
        return [entry["resource"] for entry in answer.json().get("entry", [])]

    def read(self, reference: str) -> dict[str, Any]:
        answer = self.smart.fhir("GET", reference, self.token)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def new_patient(self, *, started_days_ago: int = 100, anc_days_ago: int = 10) -> str:
        """A patient on clozapine with one normal ANC: weekly monitoring, overdue by 3 days."""
        patient = f"wb-{uuid.uuid4().hex[:12]}"
        start = (today() - timedelta(days=started_days_ago)).isoformat()
        self.put({"resourceType": "Patient", "id": patient, "name": [{"family": "Writeback"}]})
        self.put(
            {
                "resourceType": "MedicationRequest",
                "id": f"{patient}-rx",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                            "code": "2626",
                            "display": "clozapine",
                        }
                    ]
                },
                "subject": {"reference": f"Patient/{patient}"},
                "authoredOn": start,
                "dispenseRequest": {"validityPeriod": {"start": start}},
            }
        )
        self.anc(patient, days_ago=anc_days_ago)
        return patient

    def anc(
        self, patient: str, *, days_ago: int = 0, per_ul: int = 2500, status: str = "final"
    ) -> None:
        """An ANC result collected `days_ago` days before today (the same day's is replaced)."""
        self.put(
            {
                "resourceType": "Observation",
                "id": f"{patient}-anc-{days_ago}",
                "status": status,
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "laboratory",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
                "subject": {"reference": f"Patient/{patient}"},
                "effectiveDateTime": (today() - timedelta(days=days_ago)).isoformat(),
                "valueQuantity": {
                    "value": per_ul,
                    "unit": "/uL",
                    "system": "http://unitsofmeasure.org",
                    "code": "/uL",
                },
            }
        )

    def count(self, resource_type: str, patient: str) -> int:
        """How many resources of a type the EHR holds for the patient."""
        return len(self.search(resource_type, patient=patient))


@pytest.fixture(name="ehr", scope="session")
def ehr_fixture(sandbox_ehr) -> Ehr:
    """A user-level sandbox client that may write any patient's records."""
    smart = SmartClient(sandbox_ehr)
    client_id = smart.register(ADMIN_SCOPES)
    token = smart.ehr_launch(client_id, ADMIN_SCOPES, patient="sbx-weekly-current")
    return Ehr(smart, str(token["access_token"]))


AUTO_SYNC = 'data-auto-submit="true"'  # on the sync form the page's script posts


def launch(app: Flask, smart: SmartClient, patient: str) -> tuple[FlaskClient, Launched]:
    """A test client and its EHR launch of the app for the patient, as a browser shows it
    (the page's own update posted once it loaded, if it asked for one)."""
    client = app.test_client()
    launched = ehr_launch(client, smart, patient)
    assert launched.response.status_code == 200, launched.html[:800]
    return client, Launched(launched.handle, settle(client, launched.handle, launched.response))


def load_chart(client: FlaskClient, handle: str) -> str:
    """GET the chart as a browser does: with its own update POST when it sends one; the HTML."""
    page = client.get("/chart", query_string={"h": handle})
    return str(settle(client, handle, page).get_data(as_text=True))


def settle(client: FlaskClient, handle: str, page: Any) -> Any:
    """The page, or, when its script would post the write-back update, the page after it."""
    if AUTO_SYNC not in page.get_data(as_text=True):
        return page
    form = {"h": handle, "csrf_token": csrf_token(SECRET_KEY, handle)}
    synced = client.post("/writeback/sync", data=form)
    assert synced.status_code == 303, synced.get_data(as_text=True)[:500]
    shown = client.get(synced.headers["Location"])
    assert AUTO_SYNC not in shown.get_data(as_text=True)  # a page after a sync never posts again
    return shown


def post_writeback_only(client: FlaskClient, handle: str, *findings: str) -> Any:
    """The prescriber's click: POST /writeback with the session's handle and form token."""
    form: dict[str, Any] = {"h": handle, "csrf_token": csrf_token(SECRET_KEY, handle)}
    if findings:
        form["finding"] = list(findings)
    return client.post("/writeback", data=form)


def post_writeback(client: FlaskClient, handle: str, *findings: str) -> Any:
    """The click and the chart its 303 leads to (where the outcome is shown)."""
    answer = post_writeback_only(client, handle, *findings)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    assert answer.headers["Location"] == f"/chart?h={handle}"
    return client.get(answer.headers["Location"])


def outcomes(html: str) -> list[dict[str, str]]:
    """The write results on a page: outcome, finding code and resource of each."""
    found = re.findall(
        r'data-testid="writeback-outcome" data-outcome="([^"]*)" data-code="([^"]*)"\s+'
        r'data-resource="([^"]*)"',
        html,
    )
    return [{"outcome": o, "code": c, "resource": r} for o, c, r in found]


def lifecycle_lines(html: str) -> list[str]:
    """The lifecycle notices on a page, as text."""
    found = re.findall(r'data-testid="writeback-lifecycle"[^>]*>([^<]*)<', html, re.S)
    return [" ".join(line.split()) for line in found]


def identifier_search(ehr: Ehr, resource_type: str, patient: str, value: str) -> list[Any]:
    """The patient's resources of a type with the app's identifier, found by the EHR's search."""
    token = f"{DEFAULT_IDENTIFIER_SYSTEM}|{value}"
    return ehr.search(resource_type, patient=patient, identifier=token)
