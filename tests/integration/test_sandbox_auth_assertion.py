"""private_key_jwt client authentication (RS384 and ES384) over real HTTPS, and its refusals."""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import RSAKey

from tests.integration.smart import (
    Authorization,
    SmartClient,
    client_assertion,
    new_key,
    public_jwks,
)
from tests.jwks_server import JwksServer

pytestmark = pytest.mark.integration

SCOPE = "launch openid fhirUser patient/*.rs"


@pytest.fixture(scope="module", params=["RS384", "ES384"])
def signing_key(request):
    return request.param, new_key(request.param)


@pytest.fixture
def jwt_client(smart, signing_key):
    alg, key = signing_key
    client_id = smart.register(SCOPE, "private_key_jwt", jwks=public_jwks(key))
    return client_id, alg, key


def _authorization(smart: SmartClient, client_id: str) -> Authorization:
    authorization = smart.authorize(client_id, SCOPE, launch=smart.launch(client_id=client_id))
    assert authorization.response.status_code == 302
    return authorization


def _token_url(smart: SmartClient) -> str:
    return f"{smart.origin}/auth/token"


def test_sandbox_auth_assertion_with_inline_jwks_is_accepted(smart, jwt_client):
    client_id, alg, key = jwt_client
    assertion = client_assertion(key, client_id, _token_url(smart), alg=alg)
    response = smart.exchange(_authorization(smart, client_id), client_assertion=assertion)
    assert response.status_code == 200, response.text
    assert response.json()["patient"] == smart.patients[0]


def test_sandbox_auth_assertion_replayed_jti_is_refused(smart, jwt_client):
    client_id, alg, key = jwt_client
    assertion = client_assertion(key, client_id, _token_url(smart), alg=alg)
    assert smart.exchange(_authorization(smart, client_id), client_assertion=assertion).ok
    replay = smart.exchange(_authorization(smart, client_id), client_assertion=assertion)
    assert replay.status_code in (400, 401)
    assert replay.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("expired", {"issued_at": time.time() - 600, "lifetime_s": 240}),
        ("exp-too-far", {"lifetime_s": 900}),
        ("wrong-audience", {"audience": "https://127.0.0.1:1/auth/token"}),
        ("unregistered-key", {"other_key": True}),
    ],
)
def test_sandbox_auth_bad_assertion_is_refused(smart, jwt_client, case, kwargs):
    client_id, alg, key = jwt_client
    kwargs = dict(kwargs)
    audience = kwargs.pop("audience", _token_url(smart))
    if kwargs.pop("other_key", False):
        key = new_key(alg)
    assertion = client_assertion(key, client_id, audience, alg=alg, **kwargs)
    response = smart.exchange(_authorization(smart, client_id), client_assertion=assertion)
    assert response.status_code in (400, 401), case
    assert response.json()["error"] == "invalid_client", case


def test_sandbox_auth_assertion_signed_with_rs256_is_refused(smart):
    key = RSAKey.generate_key(2048)
    key.ensure_kid()
    client_id = smart.register(SCOPE, "private_key_jwt", jwks=public_jwks(key))
    assertion = client_assertion(key, client_id, _token_url(smart), alg="RS256")
    response = smart.exchange(_authorization(smart, client_id), client_assertion=assertion)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_sandbox_auth_secret_cannot_stand_in_for_an_assertion(smart, jwt_client):
    client_id, _alg, _key = jwt_client
    response = smart.exchange(_authorization(smart, client_id))  # public-style, no assertion
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


@pytest.fixture
def jwks_url(signing_key):
    _alg, key = signing_key
    with JwksServer(public_jwks(key)) as server:
        yield server.url


def test_sandbox_auth_assertion_verified_against_jwks_url(smart, signing_key, jwks_url):
    alg, key = signing_key
    client_id = smart.register(SCOPE, "private_key_jwt", jwks_uri=jwks_url)
    assertion = client_assertion(key, client_id, _token_url(smart), alg=alg)
    response = smart.exchange(_authorization(smart, client_id), client_assertion=assertion)
    assert response.status_code == 200, response.text
