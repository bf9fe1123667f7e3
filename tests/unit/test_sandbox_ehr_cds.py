"""The sandbox chart as a CDS Hooks client, the service faked: JWTs, prefetch, card rendering."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import responses
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from sandbox.ehr import create_app
from sandbox.ehr.card_text import card_html
from sandbox.ehr.cds_actions import ActionRefused, override_feedback
from sandbox.ehr.cds_board import ShownCard
from sandbox.ehr.cds_signer import CdsSigner
from sandbox.ehr.config import SandboxConfig
from sandbox.ehr.services import EXTENSION_KEY

ENGINE = "http://engine.test/fhir"
ORIGIN = "https://127.0.0.1:9443"
SERVICES = "https://cds.test/cds-services"
HOSTILE = '<script>alert("x")</script>'
TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&code=26499-4",
}
CARD: dict[str, Any] = {
    "uuid": "card-1",
    "summary": f"Order an ANC {HOSTILE}",
    "indicator": "critical",
    "detail": f"**Overdue** {HOSTILE} [bad](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "source": {"label": "Clozapine ANC monitoring"},
    "links": [
        {"label": "Open the app", "url": "https://app.test/launch", "type": "smart"},
        {"label": "Evil", "url": "javascript:alert(1)", "type": "absolute"},
    ],
    "suggestions": [{"label": "Order a CBC with differential", "uuid": "s-1", "actions": []}],
    "overrideReasons": [{"system": "urn:x", "code": "aware", "display": "Aware"}],
}


def test_cds_signer_token_follows_cds_hooks_trust_rules() -> None:
    signer = CdsSigner.generate("https://ehr.test/cds-client")
    aud = f"{SERVICES}/clozapine-anc-order-sign"
    keys = KeySet.import_key_set(signer.public_jwks())  # type: ignore[arg-type]
    token = jwt.decode(signer.token(aud, now=1_000_000), keys, algorithms=["ES384"])
    assert token.header["kid"] == signer.kid and token.header["alg"] == "ES384"
    claims = token.claims
    assert (claims["iss"], claims["aud"]) == ("https://ehr.test/cds-client", aud)
    assert 0 < claims["exp"] - claims["iat"] <= 300 and claims["iat"] == 1_000_000
    assert claims["jti"] != jwt.decode(signer.token(aud), keys, algorithms=["ES384"]).claims["jti"]
    assert "d" not in signer.public_jwks()["keys"][0]
    with pytest.raises(BadSignatureError):
        jwt.decode(signer.token(aud, forged=True), keys, algorithms=["ES384"])


def test_cds_card_detail_is_markdown_without_raw_html_or_script_links() -> None:
    rendered = str(card_html(CARD["detail"]))
    assert "<strong>Overdue</strong>" in rendered
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "<img" not in rendered and "&lt;img" in rendered
    assert "href=" not in rendered  # the javascript: link stays text
    assert str(card_html(None)) == ""


def test_cds_override_needs_one_of_the_cards_reasons_or_a_comment() -> None:
    shown = ShownCard(CARD, "svc", "p1")
    with pytest.raises(ActionRefused):
        override_feedback(shown, "", "a comment is not a reason")
    item = override_feedback(shown, "aware", " seen ")
    assert item["overrideReason"] == {"reason": CARD["overrideReasons"][0], "userComment": "seen"}
    plain = ShownCard({"uuid": "w", "indicator": "warning"}, "svc", "p1")
    with pytest.raises(ActionRefused):
        override_feedback(plain, "", "  ")
    assert override_feedback(plain, "", "checked")["outcome"] == "overridden"


@pytest.fixture
def service():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            f"{ENGINE}/Practitioner", json=_bundle({"resourceType": "Practitioner", "id": "d1"})
        )
        mock.get(f"{ENGINE}/Encounter", json=_bundle())
        mock.get(f"{ENGINE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
        mock.get(
            f"{ENGINE}/Observation",
            json=_bundle({"resourceType": "Observation", "id": "o1"}),
        )
        services = [
            {"id": "pv", "hook": "patient-view", "prefetch": TEMPLATES},
            {"id": "os", "hook": "order-sign", "prefetch": TEMPLATES},
        ]
        mock.get(SERVICES, json={"services": services})
        mock.post(f"{SERVICES}/pv", json={"cards": [CARD]})
        yield mock


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    entries = [{"resource": resource} for resource in resources]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def _app(mode: str) -> Any:
    config = SandboxConfig(cds_services_url=SERVICES, cds_mode=mode)
    return create_app(config, engine_base=ENGINE)


def _hook_call(mock: responses.RequestsMock) -> tuple[dict[str, Any], dict[str, str]]:
    [call] = [c for c in mock.calls if c.request.url == f"{SERVICES}/pv"]
    return json.loads(call.request.body or b""), dict(call.request.headers)


def test_cds_chart_sends_the_prefetch_its_templates_ask_for(service) -> None:
    page = _app("prefetch").test_client().get("/chart/p1", base_url=ORIGIN).get_data(as_text=True)
    body, headers = _hook_call(service)
    assert body["hook"] == "patient-view" and "fhirAuthorization" not in body
    assert body["context"] == {"userId": "Practitioner/d1", "patientId": "p1"}
    assert body["prefetch"]["patient"] == {"resourceType": "Patient", "id": "p1"}
    assert body["prefetch"]["observations"]["entry"][0]["resource"]["id"] == "o1"
    searched = [c.request.url for c in service.calls if "/Observation" in c.request.url]
    assert "patient=p1" in searched[0] and "code=26499-4" in searched[0]
    assert headers["Authorization"].startswith("Bearer ey")
    assert 'data-indicator="critical"' in page


def test_cds_chart_can_send_a_fhir_authorization_only(service) -> None:
    app = _app("fhir-authorization")
    app.test_client().get("/chart/p1", base_url=ORIGIN)
    body, _ = _hook_call(service)
    assert "prefetch" not in body
    authorization = body["fhirAuthorization"]
    assert body["fhirServer"] == f"{ORIGIN}/fhir" and authorization["patient"] == "p1"
    token = app.extensions[EXTENSION_KEY].store.by_access_token(authorization["access_token"])
    assert token is not None and token.context.patient == "p1" and "write" not in token.scope
    assert all(scope.endswith(".rs") for scope in token.scope.split())


def test_cds_chart_shows_cards_escaped_with_their_actions(service) -> None:
    page = _app("prefetch").test_client().get("/chart/p1", base_url=ORIGIN).get_data(as_text=True)
    assert HOSTILE not in page and "<img" not in page
    assert 'href="javascript' not in page and "Evil" not in page
    assert re.search(r'action="/chart/p1/cards/card-1/links/0" target="app-frame"', page)
    assert 'name="suggestion" value="s-1"' in page
    assert '<option value="aware">Aware</option>' in page
    assert re.search(r'name="csrf_token" value="[^"]{20,}"', page)


def test_cds_chart_says_decision_support_is_unavailable_when_refused(service) -> None:
    service.replace(
        responses.POST,
        f"{SERVICES}/pv",
        status=401,
        json={"reason": "the JWT's signature does not verify"},
    )
    page = _app("prefetch").test_client().get("/chart/p1", base_url=ORIGIN).get_data(as_text=True)
    assert "Clinical decision support unavailable." in page
    assert "refused the EHR&#39;s credentials (401)" in page and "does not verify" in page
