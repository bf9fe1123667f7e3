"""The app with the sandbox's organisation program and an admin list; sessions made directly."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select

from smartapp.app import create_app
from smartapp.commands.db import upgrade
from smartapp.db import SessionGrant
from smartapp.db.models import AuditEventRow
from smartapp.web.csrf import csrf_token
from tests.conftest import PROJECT_ROOT

ISS = "https://ehr.example.org/fhir"
ADMIN = "Practitioner/admin-1"
PRESCRIBER = "Practitioner/dr-a"
PATIENT = "Patient/pt-1"
# 14:00 in Chicago (the sandbox organisation's zone) on 2026-11-25; UTC is already the 25th too.
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
ORG_CONFIG = PROJECT_ROOT / "config" / "sandbox-organisation.toml"


def make_app(folder: Path, **overrides: str) -> Flask:
    """The app on a fresh migrated SQLite database, with ADMIN as the one registry admin."""
    issuers = folder / "issuers.toml"
    issuers.write_text(
        "[[issuer]]\n"
        'name = "Example EHR"\n'
        f'iss = "{ISS}"\n'
        'client_id = "clozapine-smartapp"\n'
        'auth_method = "none"\n'
        'frame_ancestors = ["https://ehr.example.org"]\n'
    )
    database = f"sqlite:///{folder / 'app.db'}"
    upgrade(database)
    settings = {
        "BASE_URL": "https://app.example.org",
        "SECRET_KEY": "s" * 40,
        "TOKEN_KEY": Fernet.generate_key().decode(),
        "ISSUERS_FILE": str(issuers),
        "DATABASE_URL": database,
        "INSTANCE_DIR": str(folder),
        "ORG_CONFIG": str(ORG_CONFIG),
        "REGISTRY_ADMINS": f"{ADMIN}, Practitioner/admin-2",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    return create_app(settings)


def open_session(app: Flask, fhir_user: str | None = PRESCRIBER, patient: str = "pt-1") -> str:
    """A launch session stored through the LaunchSessions repository; its handle."""
    grant = SessionGrant(
        iss=ISS,
        client_id="clozapine-smartapp",
        access_token="access-token-not-used",  # no EHR is called
        token_expires_at=NOW + timedelta(hours=1),
        scopes="launch openid fhirUser patient/*.rs",
        patient=patient,
        fhir_user=fhir_user,
    )
    handle: str = app.extensions["smartapp"].sessions.create(grant, now=NOW)
    return handle


def csrf_for(app: Flask, handle: str) -> str:
    """The form token the app's pages carry for this session."""
    return csrf_token(app.extensions["smartapp"].settings.secret_key, handle)


def audit_count(app: Flask) -> int:
    """How many audit events are stored."""
    with app.extensions["smartapp"].database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one())


def registry_events(app: Flask) -> list[dict[str, Any]]:
    """The registry's audit events, oldest first, as plain dicts."""
    with app.extensions["smartapp"].database.transaction() as session:
        rows = session.execute(
            select(AuditEventRow)
            .where(AuditEventRow.action.startswith("registry."))
            .order_by(AuditEventRow.id)
        ).scalars()
        return [
            {
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "before": r.before,
                "after": r.after,
                "request_id": r.request_id,
            }
            for r in rows
        ]


def hidden_inputs(html: str) -> dict[str, str]:
    """The hidden fields of a page's forms (the last value wins for a repeated name)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def post_form(
    client: Any, app: Flask, handle: str, path: str, data: dict[str, str], *, token: bool = True
) -> Any:
    """POST a program form for the session `handle`, with its CSRF token unless told not to."""
    form = {"h": handle, **data}
    if token:
        form["csrf_token"] = csrf_for(app, handle)
    return client.post(path, data=form)
