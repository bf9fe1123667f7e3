"""The EHR front's Flask app with the FHIR engine faked: chart, picker, metadata, control API."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from sandbox.ehr import create_app
from sandbox.ehr.config import SandboxConfig

ENGINE = "http://engine.test/fhir"
ORIGIN = "https://127.0.0.1:9443"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "manifest.json"
    entries = [
        {"id": "p1", "name": "Lee, Ann", "description": HOSTILE, "tags": ["anc-normal"]},
        {"id": "p2", "name": "Kim, Bo", "description": "Second", "tags": []},
    ]
    path.write_text(json.dumps(entries))
    return path


@pytest.fixture
def engine():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{ENGINE}/Practitioner", json=_bundle({"resourceType": "Practitioner", "id": "d1"})
        )
        mock.get(f"{ENGINE}/Encounter", json=_bundle({"resourceType": "Encounter", "id": "e1"}))
        mock.get(
            f"{ENGINE}/Patient/p1",
            json={
                "resourceType": "Patient",
                "id": "p1",
                "name": [{"text": HOSTILE}],
                "gender": "female",
                "birthDate": "1980-02-03",
            },
        )
        mock.get(f"{ENGINE}/Patient/p9", status=404, json={"resourceType": "OperationOutcome"})
        mock.get(
            f"{ENGINE}/metadata",
            json={
                "resourceType": "CapabilityStatement",
                "implementation": {"url": ENGINE},
                "rest": [{"mode": "server", "resource": [{"type": "Flag"}, {"type": "Patient"}]}],
            },
        )
        yield mock


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": resource} for resource in resources],
    }


@pytest.fixture
def client(manifest, engine):
    app = create_app(SandboxConfig(), engine_base=ENGINE, manifest_path=manifest)
    return app.test_client()


def test_app_chart_lists_manifest_patients_escaped(client):
    page = client.get("/chart", base_url=ORIGIN).get_data(as_text=True)
    assert "Lee, Ann" in page and "Kim, Bo" in page
    assert HOSTILE not in page and "&lt;script&gt;" in page


def test_app_chart_embeds_the_app_on_another_site(client, engine):
    page = client.get("/chart/p1", base_url=ORIGIN).get_data(as_text=True)
    assert HOSTILE not in page
    assert (
        'src="https://localhost:8443/launch?iss=https%3A%2F%2F127.0.0.1%3A9443%2Ffhir&amp;launch='
        in page
    )
    assert (
        'sandbox="allow-forms allow-modals allow-popups allow-popups-to-escape-sandbox '
        'allow-same-origin allow-scripts allow-downloads"'
    ) in page
    sent = [call.request for call in engine.calls if "Patient/p1" in call.request.url]
    assert sent[0].headers["X-Forwarded-Base"] == f"{ORIGIN}/fhir"


def test_app_chart_unknown_patient_is_404(client):
    assert client.get("/chart/p9", base_url=ORIGIN).status_code == 404


def test_app_metadata_has_smart_oauth_uris_without_a_token(client):
    response = client.get("/fhir/metadata", base_url=ORIGIN)
    assert response.status_code == 200
    security = response.json["rest"][0]["security"]
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["token"] == f"{ORIGIN}/auth/token"
    assert uris["authorize"] == f"{ORIGIN}/auth/authorize"
    assert response.json["implementation"]["url"] == f"{ORIGIN}/fhir"


def test_app_metadata_follows_the_default_vendor(client):
    client.put("/_sandbox/vendor", json={"vendor": "oracle"}, base_url=ORIGIN)
    resources = client.get("/fhir/metadata", base_url=ORIGIN).json["rest"][0]["resource"]
    assert [r["type"] for r in resources] == ["Patient"]


def test_app_control_api_refuses_non_loopback_callers(client):
    response = client.get(
        "/_sandbox/faults", base_url=ORIGIN, environ_base={"REMOTE_ADDR": "192.0.2.10"}
    )
    assert response.status_code == 403
    assert client.get("/_sandbox/faults", base_url=ORIGIN).json == {"faults": []}


@pytest.mark.parametrize(
    "body",
    [{"fault": "boom"}, {"patient": ""}, {"vendor": "cerner"}],
)
def test_app_control_api_rejects_malformed_requests(client, body):
    path = "/_sandbox/launches" if "patient" in body else "/_sandbox/faults"
    if "vendor" in body:
        response = client.put("/_sandbox/vendor", json=body, base_url=ORIGIN)
    else:
        response = client.post(path, json=body, base_url=ORIGIN)
    assert response.status_code == 400
    assert "detail" in response.json


def test_app_picker_lists_patients_and_resumes_the_authorization(client):
    query = {
        "response_type": "code",
        "client_id": "clozapine-smartapp",
        "redirect_uri": "https://localhost:8443/callback",
        "scope": "launch/patient patient/*.rs",
        "state": "s1",
        "aud": f"{ORIGIN}/fhir",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    page = client.get("/auth/authorize", query_string=query, base_url=ORIGIN)
    assert page.status_code == 200 and 'value="p2"' in page.get_data(as_text=True)
    picked = client.post(
        "/auth/pick",
        data={
            "client_id": "clozapine-smartapp",
            "patient": "p2",
            "request": "&".join(f"{k}={v}" for k, v in query.items() if k != "scope")
            + "&scope=launch/patient+patient/*.rs",
        },
        base_url=ORIGIN,
    )
    assert picked.status_code == 302
    done = client.get(picked.headers["Location"], base_url=ORIGIN)
    assert done.status_code == 302
    assert done.headers["Location"].startswith("https://localhost:8443/callback?code=")
    assert "state=s1" in done.headers["Location"]


def test_app_picker_refuses_unknown_patient(client):
    response = client.post(
        "/auth/pick", data={"client_id": "clozapine-smartapp", "patient": "p9"}, base_url=ORIGIN
    )
    assert response.status_code == 400


def test_app_authorize_accepts_post_and_exchanges_the_code(client):
    launch = client.post("/_sandbox/launches", json={"patient": "p1"}, base_url=ORIGIN).json[
        "launch"
    ]
    verifier = "v" * 43
    form = {
        "response_type": "code",
        "client_id": "clozapine-smartapp",
        "redirect_uri": "https://localhost:8443/callback",
        "scope": "launch patient/*.rs",
        "state": "s2",
        "aud": f"{ORIGIN}/fhir",
        "launch": launch,
        "code_challenge": "7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM",
        "code_challenge_method": "S256",
    }
    authorized = client.post("/auth/authorize", data=form, base_url=ORIGIN)
    assert authorized.status_code == 302, authorized.get_data(as_text=True)
    code = authorized.headers["Location"].split("code=")[1].split("&")[0]
    token = client.post(
        "/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": form["redirect_uri"],
            "client_id": "clozapine-smartapp",
            "code_verifier": verifier,
        },
        base_url=ORIGIN,
    )
    assert token.status_code == 200, token.get_data(as_text=True)
    assert token.json["patient"] == "p1"
    assert token.json["encounter"] == "e1"


@pytest.mark.parametrize("signin", ["patient", "caregiver"])
def test_app_picker_signs_in_the_patient_or_caregiver(client, engine, signin):
    from sandbox.ehr.services import services

    caregiver = {"resourceType": "RelatedPerson", "id": "p2-caregiver"}
    engine.get(f"{ENGINE}/RelatedPerson", json=_bundle(caregiver))
    query = {
        "response_type": "code",
        "client_id": "clozapine-smartapp",
        "redirect_uri": "https://localhost:8443/callback",
        "state": "s2",
        "aud": f"{ORIGIN}/fhir",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    picked = client.post(
        "/auth/pick",
        data={
            "client_id": "clozapine-smartapp",
            "patient": "p2",
            "signin": signin,
            "request": "&".join(f"{k}={v}" for k, v in query.items())
            + "&scope=launch/patient+openid+fhirUser+patient/*.rs",
        },
        base_url=ORIGIN,
    )
    assert picked.status_code == 302
    done = client.get(picked.headers["Location"], base_url=ORIGIN)
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    with client.application.app_context():
        stored = services().store.peek_code(code)
    expected = "Patient/p2" if signin == "patient" else "RelatedPerson/p2-caregiver"
    assert stored is not None and stored.context.user.reference == expected


def test_app_picker_refuses_an_unknown_sign_in(client):
    response = client.post(
        "/auth/pick",
        data={"client_id": "clozapine-smartapp", "patient": "p2", "signin": "admin"},
        base_url=ORIGIN,
    )
    assert response.status_code == 400


def test_portal_lists_patients_to_sign_in_as_patient_or_caregiver(client):
    page = client.get("/portal", base_url=ORIGIN).get_data(as_text=True)
    assert 'href="/portal/p1"' in page and 'href="/portal/p2?as=caregiver"' in page
    assert HOSTILE not in page


@pytest.mark.parametrize(
    ("viewer", "user"), [("patient", "Patient/p1"), ("caregiver", "RelatedPerson/p1-caregiver")]
)
def test_portal_launches_the_patient_view_signed_in_as_the_viewer(client, engine, viewer, user):
    from sandbox.ehr.services import services

    caregiver = {
        "resourceType": "RelatedPerson",
        "id": "p1-caregiver",
        "name": [{"text": "Sam Lee"}],
    }
    engine.get(f"{ENGINE}/RelatedPerson", json=_bundle(caregiver))
    page = client.get(f"/portal/p1?as={viewer}", base_url=ORIGIN).get_data(as_text=True)
    src = re.search(r'<iframe class="app"[^>]*src="([^"]+)"', page)
    assert src and src.group(1).startswith("https://localhost:8443/patient/launch?iss=")
    launch_id = parse_qs(urlsplit(html.unescape(src.group(1))).query)["launch"][0]
    with client.application.app_context():
        launch = services().store.get_launch(launch_id)
    assert launch is not None and launch.patient == "p1" and launch.portal_user == user
    assert HOSTILE not in page


def test_portal_refuses_a_caregiver_view_without_a_caregiver(client, engine):
    engine.get(f"{ENGINE}/RelatedPerson", json=_bundle())
    assert client.get("/portal/p1?as=caregiver", base_url=ORIGIN).status_code == 404
    assert client.get("/portal/p1?as=doctor", base_url=ORIGIN).status_code == 400
    assert client.get("/portal/p9", base_url=ORIGIN).status_code == 404


@pytest.mark.parametrize("user", ["Practitioner/d1", "Patient/", "p1"])
def test_control_refuses_a_portal_user_that_is_not_a_patient_or_caregiver(client, user):
    body = {"patient": "p1", "portal_user": user}
    assert client.post("/_sandbox/launches", json=body, base_url=ORIGIN).status_code == 400
