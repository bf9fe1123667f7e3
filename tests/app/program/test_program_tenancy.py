"""Two allow-listed EHRs with the same ids: registry, administrators and audit stay per EHR.

Each test runs on SQLite and on PostgreSQL (the `database_url` fixture): the issuer leads every
registry key, so the same Patient, Practitioner or Organization id at two EHRs are two records.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from smartapp.app import create_app
from smartapp.settings import SettingsError
from tests.app_helpers import (
    ADMIN,
    CLIENT_ID,
    ISS,
    NOW,
    ORG_CONFIG,
    PATIENT,
    PRESCRIBER,
    app_settings,
    post_form,
    token_set,
)

ISS_B = "https://ehr-b.example.org/fhir"
TWO_ISSUERS = "".join(
    "[[issuer]]\n"
    f'name = "{name}"\n'
    f'iss = "{iss}"\n'
    f'client_id = "{CLIENT_ID}"\n'
    'auth_method = "none"\n'
    f'frame_ancestors = ["{iss.removesuffix("/fhir")}"]\n'
    for name, iss in (("EHR A", ISS), ("EHR B", ISS_B))
)
ENROLLMENT = {"enrolled_on": "2026-11-20", "status": "active", "prescriber": PRESCRIBER}
CERTIFICATION = {"practitioner": PRESCRIBER, "certified_on": "2026-01-10"}


@pytest.fixture
def app_config(tmp_path, database_url):
    return app_settings(
        tmp_path,
        issuer_toml=TWO_ISSUERS,
        ORG_CONFIG=str(ORG_CONFIG),
        REGISTRY_ADMINS=f"{ISS}/{ADMIN}",
        DATABASE_URL=database_url,
    )


def open_at(app: Flask, iss: str, fhir_user: str | None = PRESCRIBER) -> str:
    """A launch session at one EHR, for its patient pt-1 (the same id at both EHRs)."""
    tokens = token_set(patient="pt-1", fhir_user=fhir_user, expires_at=NOW + timedelta(hours=1))
    handle: str = app.extensions["smartapp"].sessions.create(iss, CLIENT_ID, tokens, now=NOW)
    return handle


def test_tenancy_an_enrollment_at_one_ehr_never_counts_at_the_other(app, client) -> None:
    at_a, at_b = open_at(app, ISS), open_at(app, ISS_B)
    assert post_form(client, app, at_a, "/program/enrollment", ENROLLMENT).status_code == 303
    registry = app.extensions["smartapp"].registry
    assert [p["patient"] for p in registry.export(ISS)["patients"]] == [PATIENT]
    assert registry.export(ISS_B)["patients"] == []
    assert registry.registry_for(ISS_B, PATIENT).patients == ()
    page_a = client.get("/program", query_string={"h": at_a}).get_data(as_text=True)
    page_b = client.get("/program", query_string={"h": at_b}).get_data(as_text=True)
    assert "enrolled 2026-11-20 (active)" in page_a
    assert "enrolled 2026-11-20" not in page_b and "not enrolled" in page_b
    # The same date at the other EHR is a record of its own, not a correction of the first.
    corrected = {**ENROLLMENT, "status": "discontinued"}
    assert post_form(client, app, at_b, "/program/enrollment", corrected).status_code == 303
    assert registry.export(ISS)["patients"][0].get("status", "active") == "active"
    assert registry.export(ISS_B)["patients"][0]["status"] == "discontinued"


def test_tenancy_an_administrator_of_one_ehr_is_not_one_at_the_other(app, client) -> None:
    at_a, at_b = open_at(app, ISS, ADMIN), open_at(app, ISS_B, ADMIN)
    full_url_at_b = open_at(app, ISS_B, f"{ISS}/{ADMIN}")  # EHR B naming EHR A's user
    assert client.get("/admin/registry", query_string={"h": at_a}).status_code == 200
    assert client.get("/admin/audit", query_string={"h": at_a}).status_code == 200
    for handle in (at_b, full_url_at_b):
        assert client.get("/admin/registry", query_string={"h": handle}).status_code == 403
        assert client.get("/admin/audit", query_string={"h": handle}).status_code == 403
        refused = post_form(client, app, handle, "/admin/registry/prescribers", CERTIFICATION)
        assert refused.status_code == 403
    registry = app.extensions["smartapp"].registry
    assert registry.export(ISS_B)["prescribers"] == registry.export(ISS)["prescribers"] == []
    saved = post_form(client, app, at_a, "/admin/registry/prescribers", CERTIFICATION)
    assert saved.status_code == 303
    assert [p["practitioner"] for p in registry.export(ISS)["prescribers"]] == [PRESCRIBER]
    assert registry.export(ISS_B)["prescribers"] == []


def test_tenancy_each_ehr_sees_only_its_own_registry_and_audit(app, client) -> None:
    services = app.extensions["smartapp"]
    services.registry.upsert_prescriber(ISS_B, "Practitioner/dr-b-only", NOW.date(), actor="b")
    post_form(client, app, open_at(app, ISS_B), "/program/enrollment", ENROLLMENT)
    admin_a = open_at(app, ISS, ADMIN)
    registry_page = client.get("/admin/registry", query_string={"h": admin_a})
    html = registry_page.get_data(as_text=True)
    assert registry_page.status_code == 200
    assert "dr-b-only" not in html and "registry.prescribers.create" not in html
    audit_page = client.get("/admin/audit", query_string={"h": admin_a}).get_data(as_text=True)
    assert 'data-testid="audit-event"' not in audit_page
    assert "patient_enrollments" not in audit_page
    assert {e.iss for e in services.audit.events(ISS_B)} == {ISS_B}
    assert [e.action for e in services.audit.events(ISS_B)] == [
        "registry.patient_enrollments.create",
        "registry.prescribers.create",
    ]
    assert services.audit.events(ISS) == []


@pytest.mark.parametrize(
    ("admins", "message"),
    [
        (ADMIN, "does not say which EHR"),
        ("https://elsewhere.example.org/fhir/Practitioner/admin-1", "not a user"),
        (f"{ISS}/Practitioner", "not a user"),
    ],
)
def test_tenancy_admins_must_name_their_ehr_when_several_are_configured(
    tmp_path, database_url, admins, message
) -> None:
    settings = app_settings(
        tmp_path, issuer_toml=TWO_ISSUERS, REGISTRY_ADMINS=admins, DATABASE_URL=database_url
    )
    with pytest.raises(SettingsError, match=f"SMARTAPP_REGISTRY_ADMINS: .*{message}"):
        create_app(settings)
