"""A fake EHR for the launch tests (discovery, token and JWKS endpoints on `responses`).

Each test starts from a working EHR and breaks one thing, as cumulus-etl's SMART tests do. The
few tests here check the fake itself, so a failure elsewhere is the package's, not the fake's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import requests
import responses
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from launch import IssuerConfig, KeyRing, MemoryKeyStorage, PendingLaunch, SmartConfiguration
from launch.authorize import begin_launch

ORIGIN = "https://ehr.example.org"
ISS = f"{ORIGIN}/fhir"
AUTHORIZE_URL = f"{ORIGIN}/auth/authorize"
TOKEN_URL = f"{ORIGIN}/auth/token"
JWKS_URL = f"{ORIGIN}/.well-known/jwks.json"
REDIRECT_URI = "https://app.example.org/callback"
CLIENT_ID = "clozapine-app"
SECRET = "s3cret-value-never-shown"
ACCESS_TOKEN = "at-SENSITIVE-access-token-text"
REFRESH_TOKEN = "rt-SENSITIVE-refresh-token-text"
# A non-UTC zone with an odd offset, to catch arithmetic that assumes UTC.
NOW = datetime(2025, 3, 30, 1, 30, tzinfo=ZoneInfo("Asia/Kathmandu"))


@functools.cache
def ehr_key() -> RSAKey:
    """The EHR's id_token signing key (made once per test run)."""
    return RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)


@functools.cache
def other_key() -> RSAKey:
    """A key the EHR does not publish, with the same kid as its real one."""
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"})
    return RSAKey.import_key({**key.as_dict(private=True), "kid": str(ehr_key().kid)})


@functools.cache
def unpublished_key() -> RSAKey:
    """A key with a kid of its own that the EHR does not publish."""
    return RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)


@functools.cache
def shared_key_ring() -> KeyRing:
    """An app key ring for tests that do not rotate it."""
    return KeyRing.load_or_create(MemoryKeyStorage(), now=NOW)


def smart_configuration_json(**overrides: Any) -> dict[str, Any]:
    """A SMART 2.2 configuration document like the sandbox's."""
    document = {
        "issuer": ORIGIN,
        "jwks_uri": JWKS_URL,
        "authorization_endpoint": AUTHORIZE_URL,
        "token_endpoint": TOKEN_URL,
        "revocation_endpoint": f"{ORIGIN}/auth/revoke",
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": ["openid", "fhirUser", "launch", "patient/*.rs"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-ehr", "client-public", "sso-openid-connect", "permission-v2"],
    }
    document.update(overrides)
    return {k: v for k, v in document.items() if v is not None}


def smart_config(**overrides: Any) -> SmartConfiguration:
    """The SmartConfiguration discovery makes of `smart_configuration_json()`."""
    fields = {
        "iss": ISS,
        "authorization_endpoint": AUTHORIZE_URL,
        "token_endpoint": TOKEN_URL,
        "issuer": ORIGIN,
        "jwks_uri": JWKS_URL,
        "code_challenge_methods_supported": ("S256",),
    }
    return SmartConfiguration(**(fields | overrides))


def issuer(**overrides: Any) -> IssuerConfig:
    """An allow-listed public client of the fake EHR."""
    return IssuerConfig(**({"iss": ISS, "client_id": CLIENT_ID} | overrides))


def id_token(
    *, nonce: str | None, key: RSAKey | None = None, now: datetime = NOW, **claims: Any
) -> str:
    """An id_token signed by the EHR (or by `key`), valid for 5 minutes from `now`."""
    issued = int(now.timestamp())
    body = {
        "iss": ORIGIN,
        "sub": "practitioner-1",
        "aud": CLIENT_ID,
        "iat": issued,
        "exp": issued + 300,
        "fhirUser": f"{ISS}/Practitioner/practitioner-1",
        "nonce": nonce,
    } | claims
    signer = key or ehr_key()
    header = {"alg": "RS256", "kid": signer.kid}
    return jwt.encode(header, {k: v for k, v in body.items() if v is not None}, signer)


def token_json(**overrides: Any) -> dict[str, Any]:
    """An EHR launch token response with patient context (no id_token unless given)."""
    body = {
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 570,
        "scope": "launch openid fhirUser offline_access patient/*.rs patient/Flag.cru",
        "refresh_token": REFRESH_TOKEN,
        "patient": "pat-123",
        "encounter": "enc-9",
        "need_patient_banner": False,
        "smart_style_url": f"{ORIGIN}/smart-style.json",
    } | overrides
    return {k: v for k, v in body.items() if v is not None}


def form(call: Any) -> dict[str, str]:
    """The form fields a recorded request sent."""
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


class FakeEhr:
    """The fake EHR's endpoints, registered on one `responses` mock."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock

    def serve_discovery(self, status: int = 200, **overrides: Any) -> None:
        """`{iss}/.well-known/smart-configuration`."""
        body = smart_configuration_json(**overrides)
        self.mock.get(f"{ISS}/.well-known/smart-configuration", json=body, status=status)

    def serve_token(self, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        """The token endpoint; returns the registered response, whose `.calls` record requests."""
        return self.mock.post(TOKEN_URL, json=body or token_json(), status=status)

    def serve_jwks(self, *keys: RSAKey) -> Any:
        """The EHR's JWKS (its real key unless others are given)."""
        published = keys or (ehr_key(),)
        return self.mock.get(JWKS_URL, json={"keys": [k.as_dict() for k in published]})


@contextmanager
def fake_ehr() -> Iterator[FakeEhr]:
    """A FakeEhr whose unexpected requests fail the test (responses raises ConnectionError)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeEhr(mock)


def pending_launch(config: IssuerConfig | None = None) -> PendingLaunch:
    """The PendingLaunch of a fresh EHR launch against the fake EHR."""
    _, pending = begin_launch(
        config or issuer(),
        smart_config(),
        redirect_uri=REDIRECT_URI,
        aud=ISS,
        launch="launch-abc",
        now=NOW - timedelta(seconds=30),
    )
    return pending


def test_fake_id_token_verifies_against_the_fake_jwks() -> None:
    keys = KeySet.import_key_set({"keys": [ehr_key().as_dict()]})
    token = jwt.decode(id_token(nonce="n"), keys, algorithms=["RS256"])
    assert token.claims["aud"] == CLIENT_ID


def test_fake_ehr_serves_what_it_registers() -> None:
    with fake_ehr() as ehr, requests.Session() as http:
        ehr.serve_discovery()
        url = f"{ISS}/.well-known/smart-configuration"
        assert http.get(url, timeout=1).json()["token_endpoint"] == TOKEN_URL
