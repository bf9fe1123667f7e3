"""The program screens against the real sandbox EHR: record an enrollment, certify, 403, parity."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet

from sandbox.program_registry import registry_document
from smartapp.app import create_app
from smartapp.commands.db import upgrade
from smartapp.registry.program_panel import PROGRAM_FINDINGS
from tests.integration.app_harness import (
    APP_ORIGIN,
    ORG_CONFIG,
    Launched,
    cli_evaluation,
    ehr_launch,
    issuers_file,
)

pytestmark = pytest.mark.integration

ADMIN = "sbx-dr-ada"
NOT_ADMIN = "sbx-dr-bo"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture
def app(smart, tmp_path):
    """The app on a fresh database (so an empty registry), with one registry administrator."""
    database = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(database)
    application = create_app(
        {
            "BASE_URL": APP_ORIGIN,
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "TOKEN_KEY": Fernet.generate_key().decode(),
            "ISSUERS_FILE": str(issuers_file(tmp_path, smart, "clozapine-smartapp")),
            "ORG_CONFIG": str(ORG_CONFIG),
            "DATABASE_URL": database,
            "INSTANCE_DIR": str(tmp_path),
            "REGISTRY_ADMINS": f"Practitioner/{ADMIN}",
            "LOG_LEVEL": "WARNING",
        }
    )
    yield application
    application.extensions["smartapp"].close()


def _form(launched: Launched) -> dict[str, str]:
    """The page's launch handle and CSRF token, as its forms carry them."""
    fields = dict(HIDDEN.findall(launched.html))
    assert fields["h"] == launched.handle
    return {"h": fields["h"], "csrf_token": fields["csrf_token"]}


def _as_of(launched: Launched) -> str:
    match = re.search(r'data-testid="as-of">([0-9-]{10})<', launched.html)
    assert match
    return match.group(1)


def _prescriber(launched: Launched) -> str:
    match = re.search(
        r"The prescriber \((Practitioner/[^)]+)\) has no certification", launched.html
    )
    assert match, "no prescriber-not-certified finding on the page"
    return match.group(1)


def _reload(client, launched: Launched) -> Launched:
    return Launched(launched.handle, client.get("/chart", query_string={"h": launched.handle}))


def test_program_enrollment_recorded_on_the_page_clears_patient_not_enrolled(app, smart) -> None:
    client = app.test_client()
    launched = ehr_launch(client, smart, "sbx-weekly-current", practitioner=ADMIN)
    assert "patient-not-enrolled" in launched.finding_codes()
    assert 'data-program-code="patient-not-enrolled"' in launched.html
    as_of = _as_of(launched)
    answer = client.post(
        "/program/enrollment",
        data={**_form(launched), "enrolled_on": as_of, "status": "active"},
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/chart?h={launched.handle}"
    page = _reload(client, launched)
    assert page.response.status_code == 200
    assert "patient-not-enrolled" not in page.finding_codes()
    assert f"enrolled {as_of} (active)" in page.html
    [event] = app.extensions["smartapp"].audit.events(
        smart.iss, target=f"patient_enrollments:Patient/sbx-weekly-current@{as_of}"
    )
    assert event.actor == f"Practitioner/{ADMIN}" and event.before is None


def test_program_latest_enrollment_decides_and_the_panel_says_when_and_why(app, smart) -> None:
    client = app.test_client()
    launched = ehr_launch(client, smart, "sbx-weekly-current", practitioner=ADMIN)
    as_of = date.fromisoformat(_as_of(launched))
    enrolled_on, stopped_on = as_of - timedelta(days=60), as_of - timedelta(days=3)
    for on, status in ((enrolled_on, "active"), (stopped_on, "discontinued")):
        answer = client.post(
            "/program/enrollment",
            data={**_form(launched), "enrolled_on": on.isoformat(), "status": status},
        )
        assert answer.status_code == 303
    page = _reload(client, launched)
    assert "patient-not-enrolled" in page.finding_codes()  # the later record decides
    lapse = re.search(
        r'data-testid="enrollment-lapse" data-since="([0-9-]{10})"\s+data-reason="([a-z-]+)"',
        page.html,
    )
    assert lapse and lapse.groups() == (stopped_on.isoformat(), "discontinued")
    assert f"supersedes the active enrollment of {enrolled_on}" in page.html
    records = client.get("/program", query_string={"h": launched.handle}).get_data(as_text=True)
    decides = re.search(r'<tr data-testid="deciding-enrollment"><td>([0-9-]{10})<', records)
    assert decides and decides.group(1) == stopped_on.isoformat()
    answer = client.post(
        "/program/enrollment",
        data={**_form(launched), "enrolled_on": as_of.isoformat(), "status": "active"},
    )
    assert answer.status_code == 303
    again = _reload(client, launched)
    assert "patient-not-enrolled" not in again.finding_codes()
    assert 'data-testid="enrollment-lapse"' not in again.html
    assert f"enrolled {as_of} (active)" in again.html


def test_program_admin_certification_clears_the_prescribers_patients_findings(app, smart) -> None:
    client = app.test_client()
    first = ehr_launch(client, smart, "sbx-weekly-current", practitioner=ADMIN)
    second = ehr_launch(client, smart, "sbx-biweekly-current", practitioner=ADMIN)
    prescriber = _prescriber(first)
    assert _prescriber(second) == prescriber  # both orders name the same prescriber
    admin_page = client.get("/admin/registry", query_string={"h": first.handle})
    assert admin_page.status_code == 200
    saved = client.post(
        "/admin/registry/prescribers",
        data={**_form(first), "practitioner": prescriber, "certified_on": _as_of(first)},
    )
    assert saved.status_code == 303 and "done=created" in saved.headers["Location"]
    for launched in (first, second):
        codes = _reload(client, launched).finding_codes()
        assert "prescriber-not-certified" not in codes
        assert "patient-not-enrolled" in codes  # only the certification changed


def test_program_admin_page_refuses_a_non_admin_with_403(app, smart) -> None:
    client = app.test_client()
    launched = ehr_launch(client, smart, "sbx-weekly-current", practitioner=NOT_ADMIN)
    assert launched.response.status_code == 200
    assert "/admin/registry" not in launched.html
    page = client.get("/admin/registry", query_string={"h": launched.handle})
    assert page.status_code == 403
    for path, reference in (
        ("/admin/registry/prescribers", {"practitioner": f"Practitioner/{NOT_ADMIN}"}),
        ("/admin/registry/pharmacies", {"organization": "Organization/sbx-pharmacy-main"}),
    ):
        data = {**_form(launched), **reference, "certified_on": _as_of(launched)}
        assert client.post(path, data=data).status_code == 403
    assert app.extensions["smartapp"].registry.export(smart.iss) == {
        "prescribers": [],
        "pharmacies": [],
        "patients": [],
        "status_forms": [],
    }


@pytest.mark.parametrize(
    "patient",
    ["sbx-weekly-current", "sbx-weekly-overdue", "sbx-monthly-current", "sbx-moderate"],
)
def test_program_registry_in_the_database_matches_the_same_file_given_to_the_cli(
    app, smart, patient, tmp_path
) -> None:
    manifest = json.loads(smart.sandbox.manifest_path.read_text())
    document = registry_document(manifest, date.fromisoformat(manifest["as_of"]))
    app.extensions["smartapp"].registry.import_json(smart.iss, document, actor="test import")
    launched = ehr_launch(app.test_client(), smart, patient)
    expected = cli_evaluation(smart, patient, document, tmp_path)
    assert launched.finding_codes() == [f["code"] for f in expected["findings"]]
    assert launched.attribute("overall", "data-overall") == expected["overall"]
    shown = re.findall(r'data-program-code="([^"]+)"', launched.html)
    assert shown == [c for c in launched.finding_codes() if c in PROGRAM_FINDINGS]
    if "enrollment-expired" in shown:  # the deadline beside the finding
        assert re.search(r'data-testid="deadline">expired on [0-9-]{10}: re-enroll', launched.html)
