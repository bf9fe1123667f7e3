"""The launch package against the real sandbox EHR: discovery, EHR launch, id_token, refresh."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from launch import (
    DEFAULT_SCOPES,
    AuthError,
    AuthMethod,
    IssuerConfig,
    KeyRing,
    MemoryKeyStorage,
    TokenSet,
    begin_launch,
    complete_launch,
    discover,
    granted,
    refresh,
)
from tests.integration.smart import REDIRECT_URI, SmartClient

pytestmark = pytest.mark.integration

SECRET = "integration-test-secret-not-for-production"


def now() -> datetime:
    return datetime.now(UTC)


def ehr_launch(smart: SmartClient, issuer: IssuerConfig, **credentials) -> TokenSet:
    """Launch from the sandbox chart's launch API, follow the authorize redirect, take the code."""
    http = smart.session
    config = discover(smart.iss, http)
    launch = smart.launch(client_id=issuer.client_id)
    url, pending = begin_launch(
        issuer, config, redirect_uri=REDIRECT_URI, aud=smart.iss, launch=launch, now=now()
    )
    answer = http.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = answer.headers["Location"]
    assert callback.startswith(REDIRECT_URI + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    return complete_launch(
        issuer,
        config,
        pending,
        code=params["code"],
        returned_state=params["state"],
        http=http,
        now=now(),
        **credentials,
    )


def check_launch(smart: SmartClient, issuer: IssuerConfig, token_set: TokenSet) -> None:
    assert token_set.patient == smart.patients[0]
    assert token_set.fhir_user and "/Practitioner/" in token_set.fhir_user
    assert token_set.refresh_token
    assert granted(token_set, "Observation", "s")
    read = smart.fhir("GET", f"Patient/{token_set.patient}", token_set.access_token)
    assert read.status_code == 200 and read.json()["id"] == token_set.patient


def test_launch_sandbox_discovery_reads_the_sandbox_configuration(smart) -> None:
    config = discover(smart.iss, smart.session)
    assert config.issuer == smart.origin
    assert "S256" in config.code_challenge_methods_supported
    assert config.supports("client-confidential-asymmetric")


def test_launch_sandbox_public_client_launches_and_refreshes(smart) -> None:
    client_id = smart.register(DEFAULT_SCOPES)
    issuer = IssuerConfig(iss=smart.iss, client_id=client_id)
    token_set = ehr_launch(smart, issuer)
    check_launch(smart, issuer, token_set)
    config = discover(smart.iss, smart.session)
    renewed = refresh(issuer, config, token_set, http=smart.session, now=now())
    assert renewed.access_token != token_set.access_token
    assert renewed.patient == token_set.patient
    assert smart.fhir("GET", f"Patient/{renewed.patient}", renewed.access_token).ok


def test_launch_sandbox_client_secret_basic(smart) -> None:
    client_id = smart.register(DEFAULT_SCOPES, "client_secret_basic", client_secret=SECRET)
    issuer = IssuerConfig(
        iss=smart.iss,
        client_id=client_id,
        auth_method=AuthMethod.CLIENT_SECRET_BASIC,
        client_secret_env="UNUSED",
    )
    check_launch(smart, issuer, ehr_launch(smart, issuer, client_secret=SECRET))


def test_launch_sandbox_wrong_secret_is_an_auth_error(smart) -> None:
    client_id = smart.register(DEFAULT_SCOPES, "client_secret_post", client_secret=SECRET)
    issuer = IssuerConfig(
        iss=smart.iss,
        client_id=client_id,
        auth_method=AuthMethod.CLIENT_SECRET_POST,
        client_secret_env="UNUSED",
    )
    with pytest.raises(AuthError) as caught:
        ehr_launch(smart, issuer, client_secret="wrong")
    assert caught.value.error == "invalid_client"


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_launch_sandbox_private_key_jwt(smart, alg) -> None:
    ring = KeyRing.load_or_create(MemoryKeyStorage(), now=now())
    client_id = smart.register(DEFAULT_SCOPES, "private_key_jwt", jwks=ring.public_jwks())
    issuer = IssuerConfig(
        iss=smart.iss, client_id=client_id, auth_method=AuthMethod.PRIVATE_KEY_JWT, signing_alg=alg
    )
    token_set = ehr_launch(smart, issuer, key_ring=ring)
    check_launch(smart, issuer, token_set)
    config = discover(smart.iss, smart.session)
    renewed = refresh(issuer, config, token_set, http=smart.session, key_ring=ring, now=now())
    assert renewed.access_token != token_set.access_token
