"""Recording the launch's patient's enrollment and status forms: checks, CSRF, audit, redirect."""

from __future__ import annotations

import pytest

from tests.app_helpers import (
    ISS,
    PATIENT,
    PRESCRIBER,
    audit_count,
    csrf_for,
    hidden_inputs,
    open_session,
    post_form,
    registry_events,
)

ENROLLMENT = {"enrolled_on": "2026-11-20", "status": "active", "prescriber": PRESCRIBER}
STATUS_FORM = {"submitted_on": "2026-11-24", "anc_reported": "1800"}


def _registry(app):
    return app.extensions["smartapp"].registry.export(ISS)


def test_program_page_shows_no_enrollment_and_the_forms(app, client) -> None:
    handle = open_session(app)
    page = client.get("/program", query_string={"h": handle})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "not enrolled" in html and f"none on record for {PRESCRIBER}" in html
    assert 'data-testid="enrollment-form"' in html and 'data-testid="status-form-form"' in html
    assert hidden_inputs(html) == {"h": handle, "csrf_token": csrf_for(app, handle)}
    assert f'value="{PRESCRIBER}"' in html  # the enrolling prescriber defaults to the user
    assert "Registry administration" not in html  # not an admin
    assert "frame-ancestors https://ehr.example.org" in page.headers["Content-Security-Policy"]


def test_program_enrollment_is_recorded_audited_and_redirects_to_the_chart(app, client) -> None:
    handle = open_session(app)
    answer = post_form(client, app, handle, "/program/enrollment", ENROLLMENT)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/chart?h={handle}"
    record = {"patient": PATIENT, "enrolled": "2026-11-20", "prescriber": PRESCRIBER}
    assert _registry(app)["patients"] == [record]
    [event] = registry_events(app)
    assert event["actor"] == PRESCRIBER
    assert event["action"] == "registry.patient_enrollments.create"
    assert event["target"] == f"patient_enrollments:{PATIENT}@2026-11-20"
    assert event["before"] is None and event["after"] == record
    page = client.get("/program", query_string={"h": handle}).get_data(as_text=True)
    assert "enrolled 2026-11-20 (active)" in page
    assert "renew by 2027-11-19" in page  # 365-day renewal in the organisation's program


def test_program_enrollment_correction_is_audited_before_and_after(app, client) -> None:
    handle = open_session(app)
    post_form(client, app, handle, "/program/enrollment", ENROLLMENT)
    corrected = {**ENROLLMENT, "status": "interrupted", "expires_on": "2027-05-20"}
    post_form(client, app, handle, "/program/enrollment", corrected)
    events = registry_events(app)
    assert [e["action"] for e in events][-1] == "registry.patient_enrollments.update"
    assert "status" not in events[-1]["before"]  # active is the default, left out
    assert events[-1]["after"]["status"] == "interrupted"
    assert events[-1]["after"]["expires"] == "2027-05-20"


def test_program_status_form_is_recorded_for_the_sessions_patient_only(app, client) -> None:
    handle = open_session(app)
    answer = post_form(
        client, app, handle, "/program/status-form", {**STATUS_FORM, "patient": "Patient/other"}
    )
    assert answer.status_code == 303 and answer.headers["Location"] == f"/chart?h={handle}"
    assert _registry(app)["status_forms"] == [
        {"patient": PATIENT, "submitted": "2026-11-24", "anc_reported": 1800}
    ]
    [event] = registry_events(app)
    assert event["action"] == "registry.status_forms.create" and event["actor"] == PRESCRIBER


@pytest.mark.parametrize(
    ("path", "data"), [("/program/enrollment", ENROLLMENT), ("/program/status-form", STATUS_FORM)]
)
@pytest.mark.parametrize("token", [None, "", "f" * 64])
def test_program_post_without_the_csrf_token_is_400_and_changes_nothing(
    app, client, path, data, token
) -> None:
    handle = open_session(app)
    before = _registry(app)
    form = {"h": handle, **data}
    if token is not None:
        form["csrf_token"] = token
    answer = client.post(path, data=form)
    assert answer.status_code == 400
    assert "CSRF check failed" in answer.get_data(as_text=True)
    assert _registry(app) == before
    assert audit_count(app) == 0


def test_program_post_without_a_session_is_401(client) -> None:
    assert client.post("/program/enrollment", data=ENROLLMENT).status_code == 401
    assert client.get("/program").status_code == 401


def test_program_post_when_the_ehr_named_no_user_is_403(app, client) -> None:
    handle = open_session(app, fhir_user=None)
    answer = post_form(client, app, handle, "/program/enrollment", ENROLLMENT)
    assert answer.status_code == 403
    assert _registry(app)["patients"] == [] and audit_count(app) == 0


@pytest.mark.parametrize(
    ("path", "change", "message"),
    [
        ("/program/enrollment", {"enrolled_on": ""}, "YYYY-MM-DD"),
        ("/program/enrollment", {"enrolled_on": "yesterday"}, "YYYY-MM-DD"),
        ("/program/enrollment", {"enrolled_on": "2026-11-31"}, "not a calendar date"),
        ("/program/enrollment", {"enrolled_on": "2026-11-26"}, "in the future"),
        ("/program/enrollment", {"enrolled_on": "\uff12\uff10\uff12\uff16-11-20"}, "YYYY-MM-DD"),
        ("/program/enrollment", {"status": "enrolled"}, "active, interrupted, discontinued"),
        ("/program/enrollment", {"prescriber": "dr-a"}, "Practitioner/id"),
        ("/program/enrollment", {"prescriber": "Organization/ph-1"}, "Practitioner/id"),
        ("/program/enrollment", {"expires_on": "2026-11-19"}, "is before the record"),
        ("/program/status-form", {"submitted_on": "2027-01-01"}, "in the future"),
        ("/program/status-form", {"anc_reported": "-5"}, "whole number"),
        ("/program/status-form", {"anc_reported": "1.5e3"}, "whole number"),
        ("/program/status-form", {"anc_reported": "100001"}, "whole number"),
        ("/program/status-form", {"anc_reported": "\uff11\uff18\uff10\uff10"}, "whole number"),
    ],
)
def test_program_bad_input_shows_the_form_again_with_400(
    app, client, path, change, message
) -> None:
    handle = open_session(app)
    good = ENROLLMENT if path.endswith("enrollment") else STATUS_FORM
    answer = post_form(client, app, handle, path, {**good, **change})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in html and 'data-testid="form-error"' in html
    assert hidden_inputs(html) == {"h": handle, "csrf_token": csrf_for(app, handle)}
    assert "Traceback" not in html
    assert audit_count(app) == 0
    assert _registry(app)["patients"] == [] and _registry(app)["status_forms"] == []


def test_program_refused_value_is_echoed_escaped(app, client) -> None:
    handle = open_session(app)
    script = '"><script>alert(1)</script>'
    answer = post_form(
        client, app, handle, "/program/enrollment", {**ENROLLMENT, "prescriber": script}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_program_page_links_the_admin_page_for_an_admin(app, client) -> None:
    handle = open_session(app, "Practitioner/admin-1")
    html = client.get("/program", query_string={"h": handle}).get_data(as_text=True)
    assert f"/admin/registry?h={handle}" in html
