"""The authorize redirect and the callback: URL parameters, PKCE, state, code exchange."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey

from launch import (
    AuthError,
    AuthMethod,
    ConfigurationError,
    LaunchError,
    PendingLaunch,
    authorization_error,
    begin_launch,
    complete_launch,
)
from launch.oauth import ASSERTION_LIFETIME
from tests.unit.test_launch_fake_ehr import (
    ACCESS_TOKEN,
    AUTHORIZE_URL,
    CLIENT_ID,
    ISS,
    NOW,
    REDIRECT_URI,
    SECRET,
    TOKEN_URL,
    ehr_key,
    form,
    id_token,
    issuer,
    other_key,
    pending_launch,
    shared_key_ring,
    smart_config,
    token_json,
    unpublished_key,
)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def complete(pending: PendingLaunch, http, **kwargs):
    options = {"code": "code-1", "returned_state": pending.state, "http": http, "now": NOW}
    config = kwargs.pop("issuer", issuer())
    return complete_launch(config, smart_config(), pending, **(options | kwargs))


# -- the authorize redirect --


def test_begin_launch_url_carries_every_parameter() -> None:
    url, pending = begin_launch(
        issuer(), smart_config(), redirect_uri=REDIRECT_URI, aud=ISS + "/", launch="xyz", now=NOW
    )
    assert url.startswith(AUTHORIZE_URL + "?")
    params = query(url)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["scope"] == pending.scope == issuer().scopes
    assert params["state"] == pending.state
    assert params["aud"] == ISS + "/"  # as the EHR sent it
    assert params["launch"] == "xyz"
    assert params["nonce"] == pending.nonce
    assert params["code_challenge_method"] == "S256"
    digest = hashlib.sha256(pending.code_verifier.encode("ascii")).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert (pending.iss, pending.redirect_uri, pending.created_at) == (ISS, REDIRECT_URI, NOW)


def test_begin_launch_makes_fresh_unguessable_values() -> None:
    pendings = [
        begin_launch(issuer(), smart_config(), redirect_uri=REDIRECT_URI, aud=ISS, now=NOW)[1]
        for _ in range(2)
    ]
    assert pendings[0].state != pendings[1].state
    assert pendings[0].code_verifier != pendings[1].code_verifier
    for pending in pendings:
        assert len(pending.state) >= 22  # >= 128 bits of [A-Za-z0-9]
        assert 43 <= len(pending.code_verifier) <= 128


def test_begin_launch_standalone_asks_for_a_patient_picker() -> None:
    url, pending = begin_launch(
        issuer(),
        smart_config(),
        redirect_uri=REDIRECT_URI,
        aud=ISS,
        now=NOW,
        extra_scopes="patient/DocumentReference.c openid",
    )
    scopes = pending.scope.split()
    assert "launch" not in scopes and scopes[0] == "launch/patient"
    assert scopes[-1] == "patient/DocumentReference.c"
    assert scopes.count("openid") == 1
    assert "launch" not in query(url)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"aud": "https://other.example/fhir"}, "invalid_aud"),
        ({"aud": "garbage"}, "invalid_aud"),
        ({"launch": ""}, "invalid_launch"),
        ({"launch": "has space"}, "invalid_launch"),
        ({"launch": "x" * 3000}, "invalid_launch"),
    ],
)
def test_begin_launch_refuses_malformed_parameters(kwargs, error) -> None:
    options = {"redirect_uri": REDIRECT_URI, "aud": ISS, "now": NOW} | kwargs
    with pytest.raises(LaunchError) as caught:
        begin_launch(issuer(), smart_config(), **options)
    assert caught.value.error == error
    assert caught.value.status == 400


def test_begin_launch_refuses_a_configuration_of_another_issuer() -> None:
    with pytest.raises(LaunchError, match="another EHR"):
        begin_launch(
            issuer(),
            smart_config(iss="https://other.example/fhir"),
            redirect_uri=REDIRECT_URI,
            aud=ISS,
            now=NOW,
        )


def test_begin_launch_refuses_an_insecure_redirect_uri() -> None:
    with pytest.raises(ConfigurationError):
        begin_launch(
            issuer(), smart_config(), redirect_uri="http://app.example/cb", aud=ISS, now=NOW
        )


def test_pending_launch_round_trips_and_hides_its_secrets() -> None:
    pending = pending_launch()
    assert PendingLaunch.from_dict(pending.as_dict()) == pending
    text = repr(pending)
    assert pending.state not in text and pending.code_verifier not in text
    assert pending.nonce not in text


# -- the callback --


def test_complete_launch_public_client_exchanges_the_code(ehr, http) -> None:
    token = ehr.serve_token()
    pending = pending_launch()
    token_set = complete(pending, http)
    sent = form(token.calls[0])
    assert sent == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "code_verifier": pending.code_verifier,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
    }
    assert "Authorization" not in token.calls[0].request.headers
    assert token_set.access_token == ACCESS_TOKEN
    assert token_set.patient == "pat-123"
    assert token_set.expires_at == NOW + timedelta(seconds=570)


def test_complete_launch_token_request_has_a_timeout(ehr, http) -> None:
    ehr.serve_token()
    with patch.object(http, "post", wraps=http.post) as post:
        complete(pending_launch(), http)
    assert post.call_args.kwargs["timeout"] is not None


def test_complete_launch_client_secret_basic_sends_a_basic_header(ehr, http) -> None:
    token = ehr.serve_token()
    config = issuer(auth_method=AuthMethod.CLIENT_SECRET_BASIC, client_secret_env="SECRET")
    complete(pending_launch(config), http, issuer=config, client_secret=SECRET)
    request = token.calls[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert "client_secret" not in form(token.calls[0])


def test_complete_launch_client_secret_post_sends_the_secret_in_the_body(ehr, http) -> None:
    token = ehr.serve_token()
    config = issuer(auth_method=AuthMethod.CLIENT_SECRET_POST, client_secret_env="SECRET")
    complete(pending_launch(config), http, issuer=config, client_secret=SECRET)
    sent = form(token.calls[0])
    assert (sent["client_id"], sent["client_secret"]) == (CLIENT_ID, SECRET)
    assert "Authorization" not in token.calls[0].request.headers


def test_complete_launch_secret_method_without_secret_is_a_configuration_error(http) -> None:
    config = issuer(auth_method=AuthMethod.CLIENT_SECRET_BASIC, client_secret_env="SECRET")
    with pytest.raises(ConfigurationError, match="client secret"):
        complete(pending_launch(config), http, issuer=config)


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_complete_launch_private_key_jwt_signs_a_smart_assertion(ehr, http, alg) -> None:
    token = ehr.serve_token()
    ring = shared_key_ring()
    config = issuer(auth_method=AuthMethod.PRIVATE_KEY_JWT, signing_alg=alg)
    for _ in range(2):
        complete(pending_launch(config), http, issuer=config, key_ring=ring)
    assertions = []
    for call in token.calls:
        sent = form(call)
        assert sent["client_assertion_type"] == ASSERTION_TYPE
        assert "client_secret" not in sent and "Authorization" not in call.request.headers
        decoded = jwt.decode(
            sent["client_assertion"],
            KeySet.import_key_set(cast(Any, ring.public_jwks())),
            algorithms=[alg],
        )
        assert decoded.header["alg"] == alg
        assert decoded.header["kid"] == ring.signing_key(alg).kid
        claims = decoded.claims
        assert claims["iss"] == claims["sub"] == CLIENT_ID
        assert claims["aud"] == TOKEN_URL
        assert claims["exp"] <= NOW.timestamp() + 240
        assert claims["exp"] - claims["iat"] == ASSERTION_LIFETIME.total_seconds()
        assertions.append(claims)
    assert assertions[0]["jti"] != assertions[1]["jti"]


def test_complete_launch_private_key_jwt_without_key_ring_is_a_configuration_error(http) -> None:
    config = issuer(auth_method=AuthMethod.PRIVATE_KEY_JWT)
    with pytest.raises(ConfigurationError, match="KeyRing"):
        complete(pending_launch(config), http, issuer=config)


def _altered(state: str) -> str:
    """Return `state` with its last character changed, so it can never match by chance."""
    return state[:-1] + ("y" if state.endswith("x") else "x")


def test_complete_launch_state_mismatch_is_refused_before_any_request(ehr, http) -> None:
    token = ehr.serve_token()
    pending = pending_launch()
    with pytest.raises(LaunchError) as caught:
        complete(pending, http, returned_state=_altered(pending.state))
    assert caught.value.error == "state_mismatch"
    assert token.call_count == 0


@pytest.mark.parametrize(
    ("created_ago", "error"),
    [(timedelta(minutes=11), "state_expired"), (timedelta(minutes=-5), "state_expired")],
)
def test_complete_launch_stale_pending_launch_is_refused(http, created_ago, error) -> None:
    pending = replace(pending_launch(), created_at=NOW - created_ago)
    with pytest.raises(LaunchError) as caught:
        complete(pending, http)
    assert caught.value.error == error


def test_complete_launch_pending_launch_of_another_issuer_is_refused(http) -> None:
    pending = replace(pending_launch(), iss="https://other.example/fhir")
    with pytest.raises(LaunchError, match="another EHR"):
        complete(pending, http)


@pytest.mark.parametrize("code", ["", "with space", "\x00"])
def test_complete_launch_malformed_code_is_refused(http, code) -> None:
    with pytest.raises(LaunchError) as caught:
        complete(pending_launch(), http, code=code)
    assert caught.value.error == "invalid_callback"


@pytest.mark.parametrize(
    ("status", "body", "error", "http_status", "retryable"),
    [
        (400, {"error": "invalid_grant"}, "invalid_grant", 401, False),
        (401, {"error": "invalid_client"}, "invalid_client", 401, False),
        (400, {"error": "<script>"}, "token_refused", 401, False),
        (503, {"error": "temporarily_unavailable"}, "token_endpoint_error", 502, True),
        (200, {"token_type": "Bearer"}, "invalid_token_response", 401, False),
        (200, token_json(token_type="MAC"), "unsupported_token_type", 401, False),
        (200, token_json(patient="../Patient/x"), "invalid_token_response", 401, False),
        (200, token_json(expires_in="soon"), "invalid_token_response", 401, False),
    ],
)
def test_complete_launch_token_endpoint_failures_are_auth_errors(
    ehr, http, status, body, error, http_status, retryable
) -> None:
    ehr.serve_token(body, status=status)
    with pytest.raises(AuthError) as caught:
        complete(pending_launch(), http)
    assert (caught.value.error, caught.value.status) == (error, http_status)
    assert caught.value.retryable is retryable


def test_complete_launch_token_endpoint_timeout_is_retryable(ehr, http) -> None:
    ehr.mock.post(TOKEN_URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(AuthError) as caught:
        complete(pending_launch(), http)
    assert caught.value.retryable and caught.value.error == "token_endpoint_unreachable"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"code": "c", "state": "s"}, None),
        ({"error": "access_denied", "state": "s"}, ("access_denied", 403)),
        ({"error": "server_error"}, ("server_error", 401)),
        ({"error": "<b>x</b>", "error_description": "<img>"}, ("authorization_failed", 401)),
    ],
)
def test_authorization_error_reads_the_callback(params, expected) -> None:
    error = authorization_error(params)
    assert (None if error is None else (error.error, error.status)) == expected
    if error is not None:
        assert "<b>" not in str(error)  # the code is echoed only when it looks like one


def test_authorization_error_quotes_the_ehr_description_shortened() -> None:
    description = "The user\n\tdeclined <patient/*.rs> " + "x" * 500
    error = authorization_error({"error": "access_denied", "error_description": description})
    assert error is not None
    assert 'did not authorize the app: "The user declined <patient/*.rs> xxx' in error.message
    assert len(error.message) < 260 and error.message.endswith('\u2026".')
    assert "\n" not in error.message and "\t" not in error.message


def test_authorization_error_description_never_echoes_the_state() -> None:
    params = {"error": "invalid_request", "error_description": "bad state st-42", "state": "st-42"}
    error = authorization_error(params)
    assert error is not None and error.message.endswith('"bad state [redacted]".')


def test_complete_launch_refusal_quotes_the_description_without_the_code(ehr, http) -> None:
    ehr.serve_token(
        {"error": "invalid_grant", "error_description": "code code-1 was already used"},
        status=400,
    )
    with pytest.raises(AuthError) as caught:
        complete(pending_launch(), http)
    assert caught.value.error == "invalid_grant"
    assert caught.value.message == (
        'The EHR refused the sign-in: "code [redacted] was already used".'
    )


def test_complete_launch_untrusted_certificate_names_the_host_and_the_setting(ehr, http) -> None:
    refused = requests.exceptions.SSLError(
        "certificate verify failed", request=requests.Request("POST", TOKEN_URL).prepare()
    )
    ehr.mock.post(TOKEN_URL, body=refused)
    with pytest.raises(AuthError) as caught:
        complete(pending_launch(), http)
    assert caught.value.error == "tls_untrusted" and caught.value.status == 502
    assert "ehr.example.org" in caught.value.message
    assert "tls_ca_file" in caught.value.message


# -- the id_token --


def test_complete_launch_validates_the_id_token_and_reads_fhir_user(ehr, http) -> None:
    pending = pending_launch()
    ehr.serve_token(token_json(id_token=id_token(nonce=pending.nonce)))
    jwks = ehr.serve_jwks()
    token_set = complete(pending, http)
    assert jwks.call_count == 1
    assert token_set.fhir_user == f"{ISS}/Practitioner/practitioner-1"
    assert token_set.id_token_claims["sub"] == "practitioner-1"


def test_complete_launch_without_id_token_has_no_fhir_user(ehr, http) -> None:
    ehr.serve_token()
    assert complete(pending_launch(), http).fhir_user is None


@pytest.mark.parametrize(
    "breakage",
    [
        "bad_signature",
        "wrong_aud",
        "wrong_iss",
        "expired",
        "issued_in_future",
        "wrong_nonce",
        "no_nonce",
        "unpublished_kid",
        "alg_none",
        "hmac",
    ],
)
def test_complete_launch_refuses_a_bad_id_token(ehr, http, breakage) -> None:
    pending = pending_launch()
    nonce = pending.nonce
    tokens = {
        "bad_signature": lambda: id_token(nonce=nonce, key=other_key()),
        "wrong_aud": lambda: id_token(nonce=nonce, aud="someone-else"),
        "wrong_iss": lambda: id_token(nonce=nonce, iss="https://evil.example"),
        "expired": lambda: id_token(nonce=nonce, now=NOW - timedelta(minutes=10)),
        "issued_in_future": lambda: id_token(nonce=nonce, iat=int(NOW.timestamp()) + 3600),
        "wrong_nonce": lambda: id_token(nonce="other"),
        "no_nonce": lambda: id_token(nonce=None),
        "unpublished_kid": lambda: id_token(nonce=nonce, key=unpublished_key()),
        "alg_none": lambda: _forged(nonce, "none"),
        "hmac": lambda: _forged(nonce, "HS256"),
    }
    ehr.serve_token(token_json(id_token=tokens[breakage]()))
    ehr.serve_jwks()
    with pytest.raises(AuthError) as caught:
        complete(pending, http)
    assert caught.value.error == "invalid_id_token"
    assert ACCESS_TOKEN not in str(caught.value) + repr(caught.value)


def test_complete_launch_id_token_without_jwks_uri_is_refused(ehr, http) -> None:
    pending = pending_launch()
    ehr.serve_token(token_json(id_token=id_token(nonce=pending.nonce)))
    with pytest.raises(AuthError, match="jwks_uri"):
        complete_launch(
            issuer(),
            smart_config(jwks_uri=None),
            pending,
            code="c",
            returned_state=pending.state,
            http=http,
            now=NOW,
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(nonce: str, alg: str) -> str:
    """A well-formed id_token re-signed with `alg` none, or HS256 keyed by the EHR's public key."""
    _, payload, _ = id_token(nonce=nonce).split(".")
    if alg == "none":
        header = json.dumps({"alg": "none", "kid": ehr_key().kid}).encode()
        return f"{_b64(header)}.{payload}."
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    secret = OctKey.import_key(json.dumps(ehr_key().as_dict()).encode())
    return jwt.encode({"alg": alg, "kid": ehr_key().kid}, claims, secret, algorithms=[alg])
