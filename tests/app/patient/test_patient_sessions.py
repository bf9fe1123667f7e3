"""A patient's or caregiver's session opens the patient view only: the care team's pages, the
write-back, the program's forms and the registry administration refuse it."""

from __future__ import annotations

import pytest

from tests.app.fake_ehr import ISS, PATIENT
from tests.app.patient.pages import CAREGIVER, fake_ehr, patient_handle
from tests.app_helpers import csrf_for, program_settings

USERS = [f"Patient/{PATIENT}", f"RelatedPerson/{CAREGIVER}"]
PAGES = [
    ("GET", "/chart"),
    ("GET", "/program"),
    ("GET", "/admin/registry"),
    ("GET", "/admin/audit"),
    ("POST", "/writeback"),
    ("POST", "/writeback/sync"),
    ("POST", "/program/enrollment"),
    ("POST", "/program/status-form"),
    ("POST", "/admin/registry/prescribers"),
]


@pytest.fixture
def app_config(tmp_path):
    # The program is in force and the patient is named an administrator: a portal session is
    # refused even so.
    return program_settings(tmp_path, REGISTRY_ADMINS=", ".join(USERS))


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(("method", "path"), PAGES)
def test_portal_session_is_refused_on_care_team_pages(app, client, user, method, path) -> None:
    with fake_ehr() as ehr:
        handle = patient_handle(app, user=user)
        form = {"h": handle, "csrf_token": csrf_for(app, handle), "enrolled_on": "2026-11-01"}
        if method == "GET":
            response = client.get(path, query_string={"h": handle})
        else:
            response = client.post(path, data=form)
        assert response.status_code == 403, response.get_data(as_text=True)[:300]
        assert ehr.flags == {}
    assert app.extensions["smartapp"].registry.export(ISS)["patients"] == []
