"""The CDS Hooks service in the app: discovery, the three hooks with prefetch, feedback, and every
JWT that must be refused with 401 (cds-hooks.md "Security")."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask

from smartapp.app import create_app
from smartapp.web.csrf import CSRF_EXEMPT
from tests.app_helpers import ADMIN, ISS, ISSUER_TOML, app_settings, open_session
from tests.cds_client import CdsClient
from tests.cds_requests import clozapine_draft, hook_request
from tests.unit.test_cds_cards import CURRENT, OVERDUE, PATIENT, bundle

BASE = "https://app.example.org"
PV = "clozapine-anc-patient-view"
SELECT = "clozapine-anc-order-select"
SIGN = "clozapine-anc-order-sign"
# 14:00 in Chicago on 2026-11-25, as the other app tests.
NOW = "2026-11-25T20:00:00Z"
CLIENT = CdsClient()


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, str]:
    return app_settings(tmp_path, ISSUER_TOML + CLIENT.toml(), REGISTRY_ADMINS=ADMIN)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=True):
        yield


def url(service: str | None = None, feedback: bool = False) -> str:
    path = "/cds-services" + (f"/{service}" if service else "") + ("/feedback" if feedback else "")
    return path


def call(client, service: str, body: dict[str, Any], cds: CdsClient = CLIENT, **claims: Any):
    return client.post(url(service), json=body, headers=cds.headers(BASE + url(service), **claims))


def test_cds_discovery_lists_three_services_with_the_four_prefetch_keys(client) -> None:
    response = client.get("/cds-services", headers=CLIENT.headers(BASE + "/cds-services"))
    assert response.status_code == 200
    services = {s["id"]: s for s in response.get_json()["services"]}
    assert {s: services[s]["hook"] for s in services} == {
        PV: "patient-view",
        SELECT: "order-select",
        SIGN: "order-sign",
    }
    for service in services.values():
        assert {"patient", "medications", "observations", "conditions"} <= set(service["prefetch"])
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert "http://loinc.org|751-8" in service["prefetch"]["observations"]


def test_cds_patient_view_with_prefetch_gives_the_card(client) -> None:
    response = call(client, PV, hook_request(bundle(*OVERDUE)))
    assert response.status_code == 200
    [card] = response.get_json()["cards"]
    assert card["indicator"] == "critical"
    assert card["links"][0]["url"] == f"{BASE}/launch"


def test_cds_order_select_with_prefetch_evaluates_the_selected_draft(client) -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-12-01")
    response = call(client, SELECT, hook_request(bundle(), "order-select", drafts=[draft]))
    assert response.status_code == 200
    [card] = response.get_json()["cards"]
    assert card["summary"] == "Draw a baseline ANC before starting clozapine"


def test_cds_order_sign_with_prefetch_answers_no_card_for_a_current_patient(client) -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    response = call(client, SIGN, hook_request(bundle(*CURRENT), "order-sign", drafts=[draft]))
    assert (response.status_code, response.get_json()) == (200, {"cards": []})


def test_cds_missing_prefetch_without_authorization_is_412(client) -> None:
    request = hook_request(None, patient_id=PATIENT, prefetch={})
    response = call(client, PV, request)
    assert response.status_code == 412
    assert response.get_json()["error"] == "precondition_failed"


def test_cds_authorization_for_another_fhir_server_is_never_used(client) -> None:
    request = hook_request(
        None,
        patient_id=PATIENT,
        prefetch={},
        fhirServer="https://elsewhere.example.org/fhir",
        fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 300},
    )
    assert call(client, PV, request).status_code == 412


def test_cds_malformed_hook_request_is_400(client) -> None:
    assert call(client, PV, {"hook": "order-sign"}).status_code == 400


def test_cds_unknown_service_is_404(client) -> None:
    assert call(client, "no-such-service", hook_request(bundle())).status_code == 404


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    return ".".join(
        (part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature))
    )


def _hs256(aud: str) -> str:
    from joserfc import jwt
    from joserfc.jwk import OctKey

    claims = json.loads(base64.urlsafe_b64decode(CLIENT.token(aud).split(".")[1] + "=="))
    return jwt.encode({"alg": "HS256", "kid": CLIENT.kid}, claims, OctKey.import_key("k" * 32))


AUD = BASE + url(PV)
BAD_TOKENS = {
    "wrong aud": lambda: CLIENT.token(BASE + url(SIGN)),
    "expired": lambda: CLIENT.token(AUD, exp=1_700_000_000, iat=1_699_999_900),
    "exp over 5 minutes after iat": lambda: CLIENT.token(
        AUD, exp=int(time.time()) + 400, iat=int(time.time())
    ),
    "unknown iss": lambda: CdsClient(iss="https://other.example.org/cds", key=CLIENT.key).token(
        AUD
    ),
    "alg none": lambda: _unsigned(
        {"alg": "none", "kid": CLIENT.kid},
        json.loads(base64.urlsafe_b64decode(CLIENT.token(AUD).split(".")[1] + "==")),
    ),
    "HS256": lambda: _hs256(AUD),
    "unknown kid": lambda: CLIENT.token(AUD, header={"kid": "not-published"}),
    "bad signature": lambda: CLIENT.token(AUD, key=CdsClient().key),
    "no jti": lambda: CLIENT.token(AUD, jti=None),
}


REASONS = {
    "wrong aud": "aud",
    "expired": "expired",
    "exp over 5 minutes after iat": "5 minutes",
    "unknown iss": "iss",
    "alg none": "alg 'none'",
    "HS256": "alg 'HS256'",
    "unknown kid": "kid",
    "bad signature": "signature",
    "no jti": "jti",
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_cds_refuses_each_bad_jwt_with_401_and_evaluates_nothing(client, case: str) -> None:
    token = BAD_TOKENS[case]()
    response = client.post(
        url(PV), json=hook_request(bundle(*OVERDUE)), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401, case
    body = response.get_json()
    assert body["error"] == "unauthorized" and REASONS[case] in body["reason"]
    assert "cards" not in body


def test_cds_refuses_a_replayed_jti_with_401(client) -> None:
    headers = CLIENT.headers(AUD)
    assert client.post(url(PV), json=hook_request(bundle()), headers=headers).status_code == 200
    again = client.post(url(PV), json=hook_request(bundle()), headers=headers)
    assert again.status_code == 401
    assert "replay" in again.get_json()["reason"]


def test_cds_refuses_a_replayed_jti_across_instances(tmp_path: Path, app_config) -> None:
    other = create_app(app_config)  # a second instance on the same database
    try:
        headers = CLIENT.headers(AUD)
        first = Flask.test_client(create_app(app_config))
        assert first.post(url(PV), json=hook_request(bundle()), headers=headers).status_code == 200
        response = other.test_client().post(url(PV), json=hook_request(bundle()), headers=headers)
        assert response.status_code == 401
    finally:
        other.extensions["smartapp"].close()


def test_cds_refuses_a_request_without_a_jwt(client) -> None:
    assert client.post(url(PV), json=hook_request(bundle())).status_code == 401
    assert client.get("/cds-services").status_code == 401


def test_cds_accepts_an_rs384_client(tmp_path: Path) -> None:
    rsa = CdsClient(alg="RS384", kid="rsa-1")
    app = create_app(app_settings(tmp_path, ISSUER_TOML + rsa.toml()))
    try:
        response = call(app.test_client(), PV, hook_request(bundle(*OVERDUE)), cds=rsa)
        assert response.status_code == 200 and len(response.get_json()["cards"]) == 1
    finally:
        app.extensions["smartapp"].close()


def _feedback(client, service: str, items: list[dict[str, Any]]):
    aud = BASE + url(service, feedback=True)
    return client.post(
        url(service, feedback=True), json={"feedback": items}, headers=CLIENT.headers(aud)
    )


def _audit(app: Flask) -> list[Any]:
    return app.extensions["smartapp"].audit.events(ISS, action_prefix="cds.")


def test_cds_feedback_accepted_and_overridden_are_in_the_audit_trail(client, app) -> None:
    [card] = call(client, PV, hook_request(bundle(*OVERDUE))).get_json()["cards"]
    suggestion = card["suggestions"][0]["uuid"]
    accepted = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}],
    }
    assert _feedback(client, PV, [accepted]).status_code == 200
    reason = card["overrideReasons"][1]
    overridden = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": reason, "userComment": "drawn at 9, <b>pending</b>"},
        "outcomeTimestamp": "2026-11-25T19:59:00Z",
    }
    assert _feedback(client, PV, [overridden]).status_code == 200
    events = _audit(app)
    assert [e.action for e in events] == ["cds.feedback.overridden", "cds.feedback.accepted"]
    assert all(e.target == f"Patient/{PATIENT}" and e.actor == "Practitioner/dr-a" for e in events)
    assert events[1].after["suggestions"] == [suggestion]
    assert events[0].after["reason"]["code"] == "anc-drawn-not-filed"
    assert events[0].after["comment"] == "drawn at 9, <b>pending</b>"
    assert events[0].at is not None


def test_cds_feedback_is_shown_on_the_administrators_audit_page(client, app) -> None:
    [card] = call(client, PV, hook_request(bundle(*OVERDUE))).get_json()["cards"]
    item = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {
            "reason": card["overrideReasons"][0],
            "userComment": "<script>x</script>",
        },
    }
    _feedback(client, PV, [item])
    handle = open_session(app, fhir_user=ADMIN)
    page = client.get(f"/admin/audit?h={handle}").get_data(as_text=True)
    assert 'data-action="cds.feedback.overridden"' in page
    assert "benefit-outweighs-risk" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page


def test_cds_override_silences_patient_view_until_a_period_changes(client) -> None:
    [card] = call(client, PV, hook_request(bundle(*OVERDUE))).get_json()["cards"]
    item = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": card["overrideReasons"][0]},
    }
    _feedback(client, PV, [item])
    assert call(client, PV, hook_request(bundle(*OVERDUE))).get_json() == {"cards": []}
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    sign = call(client, SIGN, hook_request(bundle(*OVERDUE), "order-sign", drafts=[draft]))
    assert len(sign.get_json()["cards"]) == 1
    with time_machine.travel("2026-12-02T20:00:00Z", tick=True):  # next due date moved on
        later = call(client, PV, hook_request(bundle(*OVERDUE)))
    assert len(later.get_json()["cards"]) == 1


def test_cds_feedback_on_an_unknown_card_is_recorded_and_answered_200(client, app) -> None:
    item = {"card": "0f2b5c6e-0000-4000-8000-000000000000", "outcome": "overridden"}
    assert _feedback(client, PV, [item]).status_code == 200
    [event] = _audit(app)
    assert event.action == "cds.feedback.unknown-card"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"feedback": []},
        {"feedback": [{"outcome": "accepted"}]},
        {"feedback": [{"card": "x", "outcome": "ignored"}]},
    ],
)
def test_cds_malformed_feedback_is_400(client, body) -> None:
    aud = BASE + url(PV, feedback=True)
    response = client.post(url(PV, feedback=True), json=body, headers=CLIENT.headers(aud))
    assert response.status_code == 400


def test_cds_endpoints_are_the_only_posts_exempt_from_csrf(app) -> None:
    assert set(CSRF_EXEMPT) == {"smartapp.cds.views.hook", "smartapp.cds.views.feedback"}
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint.startswith("cds.")
    }
    assert posts == {"cds.hook", "cds.feedback"}


def test_cds_answers_cors_for_the_ehr_origin_only(client) -> None:
    allowed = client.options(url(PV), headers={"Origin": "https://ehr.example.org"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    other = client.options(url(PV), headers={"Origin": "https://evil.example.org"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cds_answers_are_never_framed(client) -> None:
    response = call(client, PV, hook_request(bundle(*OVERDUE)))
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Type"].startswith("application/json")


def test_cds_takes_a_prefetch_larger_than_a_form_post(client) -> None:
    from datetime import date, timedelta

    from tests.unit.test_cds_cards import anc, order

    start = date(2024, 11, 1)
    history = [anc((start + timedelta(days=3 * d)).isoformat(), "1.9") for d in range(220)]
    body = hook_request(bundle(order("2024-11-01"), *history))
    assert len(json.dumps(body)) > 64 * 1024
    response = call(client, PV, body)
    assert response.status_code == 200
    assert response.get_json()["cards"][0]["summary"].startswith("Draw an ANC now")


FHIR_TOKEN = "fhir-authorization-token-0123456789"


def _authorized(prefetch: dict[str, Any]) -> dict[str, Any]:
    from tests.app.fake_ehr import ISS as FAKE_ISS

    return hook_request(
        None,
        patient_id=PATIENT,
        prefetch=prefetch,
        fhirServer=FAKE_ISS + "/",
        fhirAuthorization={"access_token": FHIR_TOKEN, "token_type": "Bearer", "expires_in": 300},
    )


def test_cds_reads_what_the_prefetch_lacks_with_the_authorization(client) -> None:
    # That the token is in no log line and no table: test_cds_authorization_kept_nowhere.py.
    import responses

    from tests.app.fake_ehr import FakeEhr

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeEhr(anc_on="2026-11-01").install(mock)
        response = call(client, PV, _authorized({"patient": None}))
        sent = [c.request.headers.get("Authorization") for c in mock.calls]
    assert response.status_code == 200
    [card] = response.get_json()["cards"]
    assert card["summary"].startswith("Draw an ANC now")
    assert sent and all(header == f"Bearer {FHIR_TOKEN}" for header in sent if header)
    assert FHIR_TOKEN not in json.dumps(response.get_json())


def test_cds_a_read_the_ehr_cuts_short_gives_one_warning_card(client) -> None:
    import responses

    from tests.app.fake_ehr import FakeEhr

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeEhr(anc_on="2026-11-24", broken={"Observation": "short-of-total"}).install(mock)
        response = call(client, PV, _authorized({}))
    [card] = response.get_json()["cards"]
    assert card["indicator"] == "warning"
    assert "lab results could not be read" in card["summary"]


def test_cds_overriding_a_card_about_unread_data_never_silences_the_next(client, app) -> None:
    import responses

    from tests.app.fake_ehr import FakeEhr

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeEhr(anc_on="2026-11-24", broken={"Observation": "error"}).install(mock)
        [card] = call(client, PV, _authorized({})).get_json()["cards"]
        item = {"card": card["uuid"], "outcome": "overridden"}
        assert _feedback(client, PV, [item]).status_code == 200
        again = call(client, PV, _authorized({})).get_json()["cards"]
    assert len(again) == 1 and again[0]["indicator"] == "warning"
    kept = app.extensions["smartapp.cds"].cards.get(ISS, card["uuid"])
    assert kept is not None and kept.findings == () and kept.overridden_at is None


def _read_paths(mock) -> list[str]:
    """The FHIR resource paths the service read (the CapabilityStatement left aside)."""
    from urllib.parse import urlsplit

    from tests.app.fake_ehr import ISS as FAKE_ISS

    base = urlsplit(FAKE_ISS).path
    paths = [urlsplit(c.request.url).path.removeprefix(base) for c in mock.calls]
    return [path for path in paths if path != "/metadata"]


@pytest.mark.parametrize(
    ("missing", "read"),
    [
        (("observations",), ["/Observation"]),
        (("conditions",), ["/Condition"]),
        (("patient",), ["/Patient/pt-1"]),
        (("medications", "conditions"), ["/Condition", "/MedicationRequest"]),
    ],
)
def test_cds_reads_only_the_prefetch_keys_that_are_missing(client, missing, read) -> None:
    import responses

    from tests.app.fake_ehr import FakeEhr
    from tests.cds_requests import prefetch_of
    from tests.unit.test_cds_cards import anc, order

    prefetch = prefetch_of(bundle(order("2026-06-01"), anc("2026-11-10", "1.8")))
    for key in missing:
        prefetch[key] = None
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeEhr(anc_on="2026-11-01").install(mock)
        response = call(client, PV, _authorized(prefetch))
        paths = _read_paths(mock)
    assert response.status_code == 200
    assert sorted(paths) == read  # one call per missing key, nothing the prefetch gave
    [card] = response.get_json()["cards"]
    assert card["indicator"] in ("critical", "warning")


def test_cds_reads_nothing_when_the_prefetch_is_whole(client) -> None:
    import responses

    from tests.cds_requests import prefetch_of

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = call(client, PV, _authorized(prefetch_of(bundle(*OVERDUE))))
        assert not mock.calls
    assert response.status_code == 200
