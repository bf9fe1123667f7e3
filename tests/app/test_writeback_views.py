"""The write-back routes' guards, with no EHR behind them: CSRF, session, the audit trail view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from smartapp.app import create_app
from smartapp.commands.db import upgrade
from smartapp.db import AuditEvent, SessionGrant
from smartapp.web.csrf import csrf_token

ISS = "https://ehr.example.org/fhir"
ADMIN = "Practitioner/admin-1"
SECRET = "s" * 40


@pytest.fixture
def app(tmp_path: Path):
    issuers = tmp_path / "issuers.toml"
    issuers.write_text(
        "[[issuer]]\n"
        f'iss = "{ISS}"\n'
        'client_id = "clozapine-smartapp"\n'
        'auth_method = "none"\n'
        'frame_ancestors = ["https://ehr.example.org"]\n'
    )
    database = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(database)
    application = create_app(
        {
            "BASE_URL": "https://app.example.org",
            "SECRET_KEY": SECRET,
            "TOKEN_KEY": Fernet.generate_key().decode(),
            "ISSUERS_FILE": str(issuers),
            "DATABASE_URL": database,
            "INSTANCE_DIR": str(tmp_path),
            "REGISTRY_ADMINS": f"https://ehr.example.org/fhir/{ADMIN}",
            "LOG_LEVEL": "WARNING",
        }
    )
    yield application
    application.extensions["smartapp"].close()


def open_session(app: Flask, fhir_user: str | None) -> str:
    grant = SessionGrant(
        iss=ISS,
        client_id="clozapine-smartapp",
        access_token="not-used",
        token_expires_at=datetime.now(UTC) + timedelta(hours=1),
        scopes="launch openid fhirUser patient/*.rs",
        patient="pt-1",
        fhir_user=fhir_user,
    )
    handle: str = app.extensions["smartapp"].sessions.create(grant)
    return handle


def test_writeback_post_without_the_form_token_is_refused(app) -> None:
    handle = open_session(app, "Practitioner/dr-a")
    answer = app.test_client().post("/writeback", data={"h": handle, "csrf_token": "forged"})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)


def test_writeback_post_without_a_session_is_refused(app) -> None:
    answer = app.test_client().post("/writeback", data={"csrf_token": csrf_token(SECRET, "x")})
    assert answer.status_code == 401


def test_writeback_get_is_not_a_write(app) -> None:
    assert app.test_client().get("/writeback").status_code == 405


@pytest.mark.parametrize("user", ["Practitioner/dr-a", None])
def test_writeback_audit_view_is_for_administrators_only(app, user) -> None:
    handle = open_session(app, user)
    answer = app.test_client().get("/admin/audit", query_string={"h": handle})
    assert answer.status_code == 403
    assert "Only administrators" in answer.get_data(as_text=True)


def test_writeback_audit_view_lists_writes_newest_first(app) -> None:
    audit = app.extensions["smartapp"].audit
    for action, target in [("writeback-create", "Flag/f1"), ("writeback-retire", "Flag/f1")]:
        audit.record(
            AuditEvent(
                actor="Practitioner/dr-a",
                action=action,
                target=target,
                iss=ISS,
                after={"finding": "monitoring-overdue", "patient": "Patient/pt-1"},
            )
        )
    audit.record(AuditEvent(actor="Practitioner/dr-b", action="launch", target="Patient/pt-2"))
    handle = open_session(app, ADMIN)
    client = app.test_client()
    page = client.get("/admin/audit", query_string={"h": handle})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="audit-event"') == 3
    assert html.index("writeback-retire") < html.index("writeback-create")
    assert (
        "monitoring-overdue" in html
        and "frame-ancestors https://ehr.example.org" in (page.headers["Content-Security-Policy"])
    )
    only_flag = client.get("/admin/audit", query_string={"h": handle, "target": "Flag/f1"})
    assert only_flag.get_data(as_text=True).count('data-testid="audit-event"') == 2
