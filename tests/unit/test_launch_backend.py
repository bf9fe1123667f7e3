"""SMART Backend Services tokens: the client_credentials request and its signed assertion."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from launch import AuthError, AuthMethod, ConfigurationError, KeyRing, MemoryKeyStorage
from launch.backend import DEFAULT_LIFETIME, backend_token
from launch.issuers import DEFAULT_BACKEND_SCOPES
from tests.unit.test_launch_fake_ehr import (
    NOW,
    TOKEN_URL,
    form,
    issuer,
    shared_key_ring,
    smart_config,
)

BACKEND = "clozapine-app-backend"


def _claims(call, ring: KeyRing):
    """The form sent, and the assertion's header and claims (verified with the app's JWKS)."""
    sent = form(call)
    keys = KeySet.import_key_set(ring.public_jwks())  # type: ignore[arg-type]
    token = jwt.decode(sent["client_assertion"], keys, algorithms=["RS384", "ES384"])
    return sent, token.header, token.claims


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_backend_token_sends_client_credentials_with_a_signed_assertion(ehr, http, alg) -> None:
    token = ehr.serve_token(
        {"access_token": "sys-token", "token_type": "Bearer", "expires_in": 300}
    )
    ring = KeyRing.load_or_create(MemoryKeyStorage(), now=NOW)
    config = issuer(
        auth_method=AuthMethod.PRIVATE_KEY_JWT, signing_alg=alg, backend_client_id=BACKEND
    )
    got = backend_token(config, smart_config(), http=http, now=NOW, key_ring=ring)
    sent, header, claims = _claims(token.calls[0], ring)
    assert sent["grant_type"] == "client_credentials"
    assert sent["scope"] == DEFAULT_BACKEND_SCOPES
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert header["alg"] == alg and header["kid"] == ring.signing_key(alg).kid
    assert claims["iss"] == claims["sub"] == BACKEND
    assert claims["aud"] == TOKEN_URL
    assert 0 < claims["exp"] - int(NOW.timestamp()) <= 300  # SMART: at most five minutes
    assert len(claims["jti"]) >= 32
    assert got.access_token == "sys-token" and got.expires_at == NOW + timedelta(seconds=300)
    assert "sys-token" not in repr(got)


def test_backend_token_uses_a_fresh_jti_each_time(ehr, http) -> None:
    token = ehr.serve_token({"access_token": "a", "token_type": "Bearer"})
    ring = shared_key_ring()
    config = issuer(backend_client_id=BACKEND)  # a public launch client: the backend signs anyway
    first = backend_token(config, smart_config(), http=http, now=NOW, key_ring=ring)
    backend_token(config, smart_config(), http=http, now=NOW, key_ring=ring)
    jtis = {_claims(call, ring)[2]["jti"] for call in token.calls}
    assert len(jtis) == 2
    assert first.expires_at == NOW + DEFAULT_LIFETIME  # no expires_in: assume it is short


def test_backend_token_v1_issuer_asks_for_v1_system_scopes() -> None:
    config = issuer(backend_client_id=BACKEND, scope_version="v1")
    assert config.backend_scopes.split()[0] == "system/Patient.read"
    assert all(scope.startswith("system/") for scope in config.backend_scopes.split())


def test_backend_scopes_must_be_system_scopes() -> None:
    with pytest.raises(ConfigurationError, match="backend_scopes"):
        issuer(backend_client_id=BACKEND, backend_scopes="patient/*.rs")


def test_backend_token_refused_is_an_auth_error_without_token_text(ehr, http) -> None:
    ehr.serve_token({"error": "invalid_client", "error_description": "unknown kid"}, status=401)
    config = issuer(backend_client_id=BACKEND)
    with pytest.raises(AuthError, match='Backend Services token request: "unknown kid"'):
        backend_token(config, smart_config(), http=http, now=NOW, key_ring=shared_key_ring())


def test_backend_token_needs_a_backend_client() -> None:
    with pytest.raises(ConfigurationError, match="backend_client_id"):
        backend_token(
            issuer(), smart_config(), http=requests.Session(), now=NOW, key_ring=shared_key_ring()
        )
