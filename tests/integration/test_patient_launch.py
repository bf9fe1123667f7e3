"""The patient's and caregiver's view launched from the sandbox portal, over real SMART and FHIR."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.app_harness import (
    APP_ORIGIN,
    authorize_at_ehr,
    cli_evaluation,
    make_app,
    sandbox_app,
)

pytestmark = pytest.mark.integration

CURRENT = "sbx-weekly-current"
OTHER = "sbx-moderate"
NO_RECENT = "We could not find a recent blood test result: call your care team."


@pytest.fixture(scope="module")
def app(sandbox_ehr, tmp_path_factory):
    with sandbox_app(sandbox_ehr, tmp_path_factory.mktemp("app")) as application:
        yield application


def portal_launch(client, smart, patient: str, user: str):
    """Portal -> /patient/launch -> EHR authorize -> /patient/callback; the authorize URL's query,
    the handle and the page."""
    launch = smart.launch(patient, portal_user=user)
    started = client.get("/patient/launch", query_string={"iss": smart.iss, "launch": launch})
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    asked = parse_qs(urlsplit(started.headers["Location"]).query)
    callback = urlsplit(authorize_at_ehr(smart, started.headers["Location"]))
    assert (
        f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{APP_ORIGIN}/patient/callback"
    )
    returned = client.get(callback.path, query_string=callback.query)
    assert returned.status_code == 303, returned.get_data(as_text=True)[:800]
    handle = parse_qs(urlsplit(returned.headers["Location"]).query)["h"][0]
    return asked, handle, client.get("/patient", query_string={"h": handle})


def test_portal_launch_patient_reads_only_and_sees_the_evaluation(app, smart, tmp_path) -> None:
    asked, _, page = portal_launch(app.test_client(), smart, CURRENT, f"Patient/{CURRENT}")
    scopes = asked["scope"][0].split()
    assert {"launch", "launch/patient", "openid", "fhirUser", "patient/*.rs"} <= set(scopes)
    assert not [s for s in scopes if re.search(r"\.[a-z]*[cud][a-z]*$|\.write$|offline", s)]
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:600]
    registry = app.extensions["smartapp"].registry.export(smart.iss)
    expected = cli_evaluation(smart, CURRENT, registry, tmp_path)
    due = re.search(r'data-testid="next-test"[^>]*data-next-due="([^"]+)"', html, re.S)
    assert due and due.group(1) == expected["monitoring"]["next_due"]
    assert 'data-viewer="patient"' in html
    assert NO_RECENT not in html


def test_portal_launch_caregiver_sees_whose_record_it_is(app, smart) -> None:
    _, _, page = portal_launch(
        app.test_client(), smart, CURRENT, f"RelatedPerson/{CURRENT}-caregiver"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:600]
    assert 'data-viewer="caregiver"' in html
    assert re.search(r"You are looking at the record of [^<]+, as their caregiver\.", html)


def test_portal_launch_caregiver_of_another_patient_is_refused(app, smart) -> None:
    _, _, page = portal_launch(
        app.test_client(), smart, CURRENT, f"RelatedPerson/{OTHER}-caregiver"
    )
    assert page.status_code == 403
    assert 'data-testid="next-test"' not in page.get_data(as_text=True)


def test_portal_launch_token_is_refused_for_another_patient(app, smart) -> None:
    _, handle, page = portal_launch(app.test_client(), smart, CURRENT, f"Patient/{CURRENT}")
    assert page.status_code == 200
    token = app.extensions["smartapp"].sessions.get(handle).tokens.access_token
    own = smart.fhir("GET", f"Observation?patient={CURRENT}", token)
    assert own.status_code == 200
    for path in (
        f"Patient/{OTHER}",
        f"Observation?patient={OTHER}",
        f"RelatedPerson/{OTHER}-caregiver",
    ):
        assert smart.fhir("GET", path, token).status_code == 403, path
    flag = {
        "resourceType": "Flag",
        "status": "active",
        "subject": {"reference": f"Patient/{CURRENT}"},
        "code": {"text": "x"},
    }
    assert smart.fhir("POST", "Flag", token, json=flag).status_code == 403


def test_portal_launch_patient_session_cannot_open_the_chart(app, smart) -> None:
    client = app.test_client()
    _, handle, _ = portal_launch(client, smart, CURRENT, f"Patient/{CURRENT}")
    assert client.get("/chart", query_string={"h": handle}).status_code == 403


def test_portal_launch_without_results_says_call_your_care_team(app, smart) -> None:
    _, _, page = portal_launch(app.test_client(), smart, "sbx-no-anc", "Patient/sbx-no-anc")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:600]
    assert NO_RECENT in html


def test_portal_launch_v1_issuer_asks_v1_read_scopes(smart, tmp_path) -> None:
    application = make_app(tmp_path, smart, "clozapine-smartapp", scope_version="v1")
    try:
        launch = smart.launch(CURRENT, portal_user=f"Patient/{CURRENT}")
        started = application.test_client().get(
            "/patient/launch", query_string={"iss": smart.iss, "launch": launch}
        )
        scopes = parse_qs(urlsplit(started.headers["Location"]).query)["scope"][0].split()
        assert "patient/*.read" in scopes and "patient/*.rs" not in scopes
    finally:
        application.extensions["smartapp"].close()


@pytest.mark.parametrize("signin", ["patient", "caregiver"])
def test_standalone_launch_signs_in_through_the_ehr_picker(app, smart, signin) -> None:
    client = app.test_client()
    started = client.get("/patient/standalone", query_string={"iss": smart.iss})
    assert started.status_code == 302
    picker = smart.session.get(started.headers["Location"], allow_redirects=False, timeout=10)
    assert picker.status_code == 200, picker.text[:300]
    original = re.search(r'name="request" value="([^"]*)"', picker.text)
    assert original
    picked = smart.session.post(
        f"{smart.origin}/auth/pick",
        data={
            "client_id": "clozapine-smartapp",
            "patient": CURRENT,
            "signin": signin,
            "request": html.unescape(original.group(1)),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert picked.status_code == 302, picked.text[:300]
    callback = urlsplit(authorize_at_ehr(smart, picked.headers["Location"]))
    assert callback.path == "/patient/callback"
    returned = client.get(callback.path, query_string=callback.query)
    assert returned.status_code == 303
    page = client.get(returned.headers["Location"])
    assert page.status_code == 200
    assert f'data-viewer="{signin}"' in page.get_data(as_text=True)


def test_standalone_launch_as_the_clinician_is_refused(app, smart) -> None:
    client = app.test_client()
    started = client.get("/patient/standalone", query_string={"iss": smart.iss})
    picker = smart.session.get(started.headers["Location"], allow_redirects=False, timeout=10)
    original = re.search(r'name="request" value="([^"]*)"', picker.text)
    assert original
    picked = smart.session.post(
        f"{smart.origin}/auth/pick",
        data={
            "client_id": "clozapine-smartapp",
            "patient": CURRENT,
            "request": html.unescape(original.group(1)),
        },
        allow_redirects=False,
        timeout=10,
    )
    callback = urlsplit(authorize_at_ehr(smart, picked.headers["Location"]))
    returned = client.get(callback.path, query_string=callback.query)
    page = client.get(returned.headers["Location"])
    assert page.status_code == 403
    assert "Care team members open the app from the chart." in page.get_data(as_text=True)
