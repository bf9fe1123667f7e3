"""Helpers for tests of the app in-process: its settings, sessions made directly, forms, audit.

The `app` and `client` fixtures (tests/conftest.py) build the app from `app_settings`; a test
folder changes what it is configured with by overriding the `app_config` fixture.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select

from launch import TokenSet
from smartapp.app import create_app
from smartapp.commands.db import upgrade
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
# The least settings file the app starts with: the organisation's time zone, no program.
ZONE_ONLY = '[organisation]\nname = "Example Health"\ntimezone = "America/Chicago"\n'


SECRET_KEY = "s" * 40
CLIENT_ID = "clozapine-smartapp"
ISSUER_TOML = (
    "[[issuer]]\n"
    'name = "Example EHR"\n'
    f'iss = "{ISS}"\n'
    f'client_id = "{CLIENT_ID}"\n'
    'auth_method = "none"\n'
    'frame_ancestors = ["https://ehr.example.org"]\n'
)


def zone_only_config(folder: Path) -> Path:
    """An organisation settings file in `folder` that names only the time zone."""
    path = folder / "organisation.toml"
    path.write_text(ZONE_ONLY)
    return path


def app_settings(folder: Path, issuer_toml: str = ISSUER_TOML, **overrides: str) -> dict[str, str]:
    """Settings of an app on a fresh migrated SQLite database in `folder`, with one issuer and
    the organisation's time zone (no program)."""
    issuers = folder / "issuers.toml"
    issuers.write_text(issuer_toml)
    database = f"sqlite:///{folder / 'app.db'}"
    upgrade(database)
    return {
        "BASE_URL": "https://app.example.org",
        "SECRET_KEY": SECRET_KEY,
        "TOKEN_KEY": Fernet.generate_key().decode(),
        "ISSUERS_FILE": str(issuers),
        "DATABASE_URL": database,
        "INSTANCE_DIR": str(folder),
        "LOG_LEVEL": "WARNING",
        "ORG_CONFIG": str(zone_only_config(folder)),
        **overrides,
    }


def program_settings(folder: Path, **overrides: str) -> dict[str, str]:
    """`app_settings` with the sandbox's organisation program and ADMIN as a registry admin."""
    program = {"ORG_CONFIG": str(ORG_CONFIG), "REGISTRY_ADMINS": f"{ADMIN}, Practitioner/admin-2"}
    return app_settings(folder, **{**program, **overrides})


def make_app(folder: Path, **overrides: str) -> Flask:
    """The app of `program_settings` (for tests that make several apps)."""
    return create_app(program_settings(folder, **overrides))


def token_set(
    *,
    patient: str | None = "pt-1",
    fhir_user: str | None = PRESCRIBER,
    scopes: str = "launch openid fhirUser patient/*.rs",
    expires_at: datetime | None = None,
    access_token: str = "access-token-not-used",  # no EHR is called
    **context: Any,
) -> TokenSet:
    """What a launch returns, as the launch client would build it."""
    return TokenSet(
        access_token=access_token,
        token_type="Bearer",  # the OAuth token type, not a secret
        expires_at=expires_at or NOW + timedelta(hours=1),
        scopes=tuple(scopes.split()),
        patient=patient,
        fhir_user=fhir_user,
        **context,
    )


def open_session(
    app: Flask,
    fhir_user: str | None = PRESCRIBER,
    patient: str | None = "pt-1",
    *,
    now: datetime | None = NOW,
    **tokens: Any,
) -> str:
    """A launch session stored through the LaunchSessions repository; its handle."""
    stored = token_set(
        patient=patient, fhir_user=fhir_user, expires_at=(now or NOW) + timedelta(hours=1), **tokens
    )
    handle: str = app.extensions["smartapp"].sessions.create(ISS, CLIENT_ID, stored, now=now)
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
