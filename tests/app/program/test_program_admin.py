"""The registry administrator's page: 403 for others, CSRF, input checks, audited changes."""

from __future__ import annotations

import pytest

from tests.app_helpers import (
    ADMIN,
    ISS,
    NOW,
    PRESCRIBER,
    audit_count,
    csrf_for,
    hidden_inputs,
    open_session,
    post_form,
    registry_events,
)

GOOD_PRESCRIBER = {
    "practitioner": "Practitioner/dr-new",
    "name": "Dr New",
    "certified_on": "2026-01-10",
    "expires_on": "2027-01-09",
}
GOOD_PHARMACY = {"organization": "Organization/ph-9", "certified_on": "2026-03-01"}


def test_program_admin_page_lists_records_for_an_admin(app, client) -> None:
    app.extensions["smartapp"].registry.upsert_prescriber(
        ISS, "Practitioner/dr-b", NOW.date(), actor="import", display_name="Dr B"
    )
    handle = open_session(app, ADMIN)
    page = client.get("/admin/registry", query_string={"h": handle})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-reference="Practitioner/dr-b"' in html and "Dr B" in html
    assert "2028-11-23" in html  # valid through: certified + 730 days - 1 (the org renewal)
    assert "registry.prescribers.create" in html  # the recent registry changes
    assert hidden_inputs(html) == {"h": handle, "csrf_token": csrf_for(app, handle)}
    assert "<script" not in html


def test_program_admin_recognises_a_full_fhir_user_url(app, client) -> None:
    handle = open_session(app, f"https://ehr.example.org/fhir/{ADMIN}")
    assert client.get("/admin/registry", query_string={"h": handle}).status_code == 200


@pytest.mark.parametrize("user", [PRESCRIBER, None, "Practitioner/admin-10", "Patient/admin-1"])
def test_program_admin_non_admin_gets_403_on_get_andpost_form(app, client, user) -> None:
    handle = open_session(app, user)
    page = client.get("/admin/registry", query_string={"h": handle})
    assert page.status_code == 403
    # A patient signed in (a portal session) is refused before the administrators are asked.
    said = "for the care team" if user == "Patient/admin-1" else "registry administrators"
    assert said in page.get_data(as_text=True)
    for path, data in (
        ("/admin/registry/prescribers", GOOD_PRESCRIBER),
        ("/admin/registry/pharmacies", GOOD_PHARMACY),
    ):
        assert post_form(client, app, handle, path, data).status_code == 403
    assert app.extensions["smartapp"].registry.export(ISS)["prescribers"] == []
    assert audit_count(app) == 0


def test_program_admin_without_a_session_is_401(client) -> None:
    assert client.get("/admin/registry").status_code == 401
    assert client.post("/admin/registry/prescribers", data=GOOD_PRESCRIBER).status_code == 401


@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_program_admin_post_without_the_csrf_token_is_400_and_changes_nothing(
    app, client, token
) -> None:
    handle = open_session(app, ADMIN)
    before = app.extensions["smartapp"].registry.export(ISS)
    data = {"h": handle, **GOOD_PRESCRIBER}
    if token is not None:
        data["csrf_token"] = token
    answer = client.post("/admin/registry/prescribers", data=data)
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    assert app.extensions["smartapp"].registry.export(ISS) == before
    assert audit_count(app) == 0


def test_program_admin_post_with_another_sessions_token_is_400(app, client) -> None:
    handle, other = open_session(app, ADMIN), open_session(app, ADMIN)
    data = {"h": handle, "csrf_token": csrf_for(app, other), **GOOD_PRESCRIBER}
    assert client.post("/admin/registry/prescribers", data=data).status_code == 400
    assert audit_count(app) == 0


def test_program_admin_adds_then_updates_a_prescriber_with_audit(app, client) -> None:
    handle = open_session(app, ADMIN)
    added = post_form(client, app, handle, "/admin/registry/prescribers", GOOD_PRESCRIBER)
    assert added.status_code == 303
    assert (
        f"h={handle}" in added.headers["Location"] and "done=created" in added.headers["Location"]
    )
    changed = {**GOOD_PRESCRIBER, "expires_on": "2027-06-30"}
    updated = post_form(client, app, handle, "/admin/registry/prescribers", changed)
    assert "done=updated" in updated.headers["Location"]
    page = client.get(updated.headers["Location"]).get_data(as_text=True)
    assert "Practitioner/dr-new: updated." in page
    record = {
        "practitioner": "Practitioner/dr-new",
        "certified": "2026-01-10",
        "expires": "2027-01-09",
        "name": "Dr New",
    }
    assert app.extensions["smartapp"].registry.export(ISS)["prescribers"] == [
        {**record, "expires": "2027-06-30"}
    ]
    events = registry_events(app)
    assert [(e["actor"], e["action"], e["target"]) for e in events] == [
        (ADMIN, "registry.prescribers.create", "prescribers:Practitioner/dr-new"),
        (ADMIN, "registry.prescribers.update", "prescribers:Practitioner/dr-new"),
    ]
    assert events[0]["before"] is None and events[0]["after"] == record
    assert events[1]["before"] == record
    assert events[1]["after"] == {**record, "expires": "2027-06-30"}
    assert all(e["request_id"] for e in events)


def test_program_admin_saving_the_same_values_is_unchanged_and_not_audited(app, client) -> None:
    handle = open_session(app, ADMIN)
    post_form(client, app, handle, "/admin/registry/pharmacies", GOOD_PHARMACY)
    again = post_form(client, app, handle, "/admin/registry/pharmacies", GOOD_PHARMACY)
    assert "done=unchanged" in again.headers["Location"]
    assert [e["action"] for e in registry_events(app)] == ["registry.pharmacies.create"]


@pytest.mark.parametrize(
    ("path", "change", "message"),
    [
        ("/admin/registry/prescribers", {"practitioner": ""}, "Practitioner/id"),
        ("/admin/registry/prescribers", {"practitioner": "dr-a"}, "Practitioner/id"),
        ("/admin/registry/prescribers", {"practitioner": "Patient/pt-1"}, "Practitioner/id"),
        ("/admin/registry/prescribers", {"practitioner": "Practitioner/a b"}, "Practitioner/id"),
        ("/admin/registry/prescribers", {"practitioner": "Practitioner/" + "a" * 65}, "/id"),
        ("/admin/registry/prescribers", {"certified_on": ""}, "YYYY-MM-DD"),
        ("/admin/registry/prescribers", {"certified_on": "10/01/2026"}, "YYYY-MM-DD"),
        ("/admin/registry/prescribers", {"certified_on": "2026-02-30"}, "not a calendar date"),
        ("/admin/registry/prescribers", {"certified_on": "2026-11-26"}, "in the future"),
        ("/admin/registry/prescribers", {"certified_on": "1999-12-31"}, "before 2000-01-01"),
        ("/admin/registry/prescribers", {"expires_on": "2025-12-31"}, "is before the record"),
        ("/admin/registry/prescribers", {"expires_on": "2050-01-01"}, "20 years"),
        ("/admin/registry/prescribers", {"name": "x" * 201}, "200 characters"),
        ("/admin/registry/prescribers", {"name": "bad\x00name"}, "printable"),
        ("/admin/registry/pharmacies", {"organization": "Practitioner/x"}, "Organization/id"),
        ("/admin/registry/pharmacies", {"certified_on": "2026-1-1"}, "YYYY-MM-DD"),
    ],
)
def test_program_admin_bad_input_shows_the_form_again_with_400(
    app, client, path, change, message
) -> None:
    handle = open_session(app, ADMIN)
    good = GOOD_PRESCRIBER if path.endswith("prescribers") else GOOD_PHARMACY
    answer = post_form(client, app, handle, path, {**good, **change})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in html and 'data-testid="form-error"' in html
    assert "Traceback" not in html
    assert audit_count(app) == 0
    assert app.extensions["smartapp"].registry.export(ISS)["prescribers"] == []


def test_program_admin_escapes_what_it_echoes_and_stores(app, client) -> None:
    handle = open_session(app, ADMIN)
    script = "<script>alert(1)</script>"
    refused = post_form(
        client,
        app,
        handle,
        "/admin/registry/prescribers",
        {**GOOD_PRESCRIBER, "practitioner": script},
    )
    assert refused.status_code == 400 and script not in refused.get_data(as_text=True)
    post_form(
        client, app, handle, "/admin/registry/prescribers", {**GOOD_PRESCRIBER, "name": script}
    )
    page = client.get("/admin/registry", query_string={"h": handle}).get_data(as_text=True)
    assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_program_admin_edit_link_prefills_the_form(app, client) -> None:
    handle = open_session(app, ADMIN)
    post_form(client, app, handle, "/admin/registry/prescribers", GOOD_PRESCRIBER)
    page = client.get(
        "/admin/registry", query_string={"h": handle, "edit": "Practitioner/dr-new"}
    ).get_data(as_text=True)
    assert (
        'name="practitioner" required title="Practitioner/id"\n             value="Practitioner/dr-new"'
        in page
    )
    assert 'value="2027-01-09"' in page


def test_program_admin_ignores_an_unchecked_outcome_in_the_query(app, client) -> None:
    handle = open_session(app, ADMIN)
    page = client.get(
        "/admin/registry", query_string={"h": handle, "done": "pwned", "ref": "Practitioner/x"}
    ).get_data(as_text=True)
    assert "pwned" not in page
