"""The write-back routes' guards, with no EHR behind them: CSRF, session, the audit trail view."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from smartapp.db import AuditEvent
from smartapp.web.csrf import csrf_token
from tests.app_helpers import ADMIN, ISS, app_settings
from tests.app_helpers import SECRET_KEY as SECRET
from tests.app_helpers import open_session as open_app_session


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, str]:
    return app_settings(tmp_path, REGISTRY_ADMINS=f"https://ehr.example.org/fhir/{ADMIN}")


def open_session(app: Flask, fhir_user: str | None) -> str:
    return open_app_session(app, fhir_user, now=None)


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
    audit.record(
        AuditEvent(actor="Practitioner/dr-b", action="launch", target="Patient/pt-2", iss=ISS)
    )
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
