"""EHR and standalone launches over real HTTPS, and every refusal of a bad authorization."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.integration.smart import APP_CLIENT, REDIRECT_URI, Pkce

pytestmark = pytest.mark.integration

SECRET_CLIENT = "clozapine-smartapp-confidential"
SECRET = "sandbox-demo-secret-clozapine-smartapp-not-for-production"


def test_sandbox_auth_ehr_launch_gives_context_tokens_and_id_token(smart):
    patient = smart.patients[1]
    launch = smart.launch(patient, client_id=APP_CLIENT, need_patient_banner=True)
    authorization = smart.authorize(
        scope="launch openid fhirUser offline_access patient/*.rs", launch=launch
    )
    assert authorization.response.status_code == 302
    assert authorization.response.headers["Location"].startswith(REDIRECT_URI + "?")
    assert authorization.redirect["state"] == authorization.state
    response = smart.exchange(authorization)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 570
    assert token["patient"] == patient
    assert token["need_patient_banner"] is True
    assert token["refresh_token"]
    assert set(token["scope"].split()) == {
        "launch",
        "openid",
        "fhirUser",
        "offline_access",
        "patient/*.rs",
    }
    read = smart.fhir("GET", f"Patient/{patient}", token["access_token"])
    assert read.status_code == 200 and read.json()["id"] == patient


def test_sandbox_auth_id_token_verifies_against_the_published_jwks(smart):
    token = smart.ehr_launch()
    discovery = smart.session.get(f"{smart.iss}/.well-known/smart-configuration").json()
    keys = KeySet.import_key_set(smart.session.get(discovery["jwks_uri"]).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    claims = id_token.claims
    assert claims["iss"] == discovery["issuer"]
    assert claims["aud"] == [APP_CLIENT]
    assert claims["exp"] > time.time()
    assert claims["fhirUser"].startswith(f"{smart.iss}/Practitioner/")
    practitioner = claims["fhirUser"].removeprefix(f"{smart.iss}/")
    assert smart.fhir("GET", practitioner, token["access_token"]).status_code in (200, 403)


def test_sandbox_auth_standalone_launch_goes_through_the_patient_picker(smart):
    chosen = smart.patients[2]
    authorization = smart.authorize(scope="launch/patient openid fhirUser patient/*.rs")
    page = authorization.response
    assert page.status_code == 200
    assert f'value="{chosen}"' in page.text
    original = page.text.split('name="request" value="', 1)[1].split('"', 1)[0]
    picked = smart.session.post(
        f"{smart.origin}/auth/pick",
        data={
            "client_id": APP_CLIENT,
            "patient": chosen,
            "request": original.replace("&amp;", "&"),
        },
        allow_redirects=False,
    )
    assert picked.status_code == 302
    resumed = smart.session.get(picked.headers["Location"], allow_redirects=False)
    assert resumed.status_code == 302
    authorization = type(authorization)(
        resumed, authorization.pkce, authorization.state, APP_CLIENT
    )
    assert authorization.redirect["state"] == authorization.state
    token = smart.exchange(authorization).json()
    assert token["patient"] == chosen
    assert "need_patient_banner" not in token
    assert "refresh_token" not in token  # neither offline_access nor online_access asked


def test_sandbox_auth_confidential_client_authenticates_with_its_secret(smart):
    launch = smart.launch(client_id=SECRET_CLIENT)
    authorization = smart.authorize(SECRET_CLIENT, launch=launch)
    response = smart.exchange(authorization, auth=(SECRET_CLIENT, SECRET))
    assert response.status_code == 200, response.text


def test_sandbox_auth_wrong_client_secret_is_refused(smart):
    launch = smart.launch(client_id=SECRET_CLIENT)
    authorization = smart.authorize(SECRET_CLIENT, launch=launch)
    response = smart.exchange(authorization, auth=(SECRET_CLIENT, "wrong-secret"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_sandbox_auth_wrong_code_verifier_is_refused(smart):
    authorization = smart.authorize(launch=smart.launch())
    response = smart.exchange(authorization, verifier=Pkce.new().verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_sandbox_auth_code_is_single_use(smart):
    authorization = smart.authorize(launch=smart.launch())
    assert smart.exchange(authorization).status_code == 200
    again = smart.exchange(authorization)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"aud": "https://127.0.0.1:1/fhir"}, "invalid_request"),
        ({"aud": None}, "invalid_request"),
        ({"launch": "not-a-launch"}, "invalid_request"),
        ({"scope": "nothing-we-know"}, "invalid_scope"),
    ],
    ids=["no-challenge", "no-method", "plain", "wrong-aud", "no-aud", "bad-launch", "bad-scope"],
)
def test_sandbox_auth_bad_authorization_request_redirects_with_error(smart, overrides, error):
    overrides.setdefault("launch", smart.launch())
    authorization = smart.authorize(**overrides)
    assert authorization.response.status_code == 302, authorization.response.text
    assert authorization.redirect["error"] == error
    assert authorization.redirect["state"] == authorization.state
    assert "code" not in authorization.redirect


@pytest.mark.parametrize(
    "overrides",
    [{"redirect_uri": "https://evil.example/callback"}, {"client_id": "no-such-client"}],
    ids=["unregistered-redirect", "unknown-client"],
)
def test_sandbox_auth_untrusted_redirect_is_never_followed(smart, overrides):
    authorization = smart.authorize(launch=smart.launch(), **overrides)
    assert authorization.response.status_code == 400
    assert "Location" not in authorization.response.headers


def test_sandbox_auth_launch_bound_to_another_client_is_refused(smart):
    launch = smart.launch(client_id=SECRET_CLIENT)
    authorization = smart.authorize(APP_CLIENT, launch=launch)
    assert authorization.redirect["error"] == "invalid_request"
