"""Token revocation at sign-out (RFC 7009): which token, how the client authenticates, failures."""

from __future__ import annotations

import base64

import pytest

from launch import AuthError, AuthMethod
from launch.revocation import revoke
from launch.tokens import token_set_from_response
from tests.unit.test_launch_fake_ehr import (
    ACCESS_TOKEN,
    CLIENT_ID,
    NOW,
    ORIGIN,
    REFRESH_TOKEN,
    SECRET,
    form,
    issuer,
    smart_config,
    token_json,
)

REVOKE_URL = f"{ORIGIN}/auth/revoke"
ELSEWHERE = "https://attacker.example.net/collect"


def tokens(**overrides):
    return token_set_from_response(token_json(**overrides), now=NOW, requested_scopes="launch")


def test_the_refresh_token_is_revoked_with_its_hint(ehr, http) -> None:
    endpoint = ehr.mock.post(REVOKE_URL, status=200)
    config = smart_config(revocation_endpoint=REVOKE_URL)
    assert revoke(issuer(), config, tokens(), http=http, now=NOW) is True
    (call,) = endpoint.calls
    sent = form(call)
    assert sent["token"] == REFRESH_TOKEN and sent["token_type_hint"] == "refresh_token"
    assert sent["client_id"] == CLIENT_ID  # a public client names itself


def test_without_a_refresh_token_the_access_token_is_revoked(ehr, http) -> None:
    endpoint = ehr.mock.post(REVOKE_URL, status=200)
    config = smart_config(revocation_endpoint=REVOKE_URL)
    assert revoke(issuer(), config, tokens(refresh_token=None), http=http, now=NOW)
    sent = form(endpoint.calls[0])
    assert sent["token"] == ACCESS_TOKEN and sent["token_type_hint"] == "access_token"


def test_a_confidential_client_authenticates_as_at_the_token_endpoint(ehr, http) -> None:
    endpoint = ehr.mock.post(REVOKE_URL, status=200)
    config = smart_config(revocation_endpoint=REVOKE_URL)
    confidential = issuer(
        auth_method=AuthMethod.CLIENT_SECRET_BASIC, client_secret_env="EHR_CLIENT_SECRET"
    )
    revoke(confidential, config, tokens(), http=http, now=NOW, client_secret=SECRET)
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert endpoint.calls[0].request.headers["Authorization"] == f"Basic {basic}"


def test_no_revocation_endpoint_means_nothing_is_sent(ehr, http) -> None:
    assert revoke(issuer(), smart_config(), tokens(), http=http, now=NOW) is False
    assert not ehr.mock.calls


def test_a_redirect_is_refused_and_the_token_not_sent_again(ehr, http) -> None:
    ehr.mock.post(REVOKE_URL, status=307, headers={"Location": ELSEWHERE})
    elsewhere = ehr.mock.post(ELSEWHERE, status=200)
    config = smart_config(revocation_endpoint=REVOKE_URL)
    with pytest.raises(AuthError) as caught:
        revoke(issuer(), config, tokens(), http=http, now=NOW)
    assert caught.value.error == "revocation_redirect"
    assert not elsewhere.calls


@pytest.mark.parametrize(("status", "retryable"), [(400, False), (503, True)])
def test_a_refused_revocation_is_an_error_without_the_token(ehr, http, status, retryable) -> None:
    ehr.mock.post(REVOKE_URL, status=status, json={"error": "invalid_client"})
    config = smart_config(revocation_endpoint=REVOKE_URL)
    with pytest.raises(AuthError) as caught:
        revoke(issuer(), config, tokens(), http=http, now=NOW)
    assert caught.value.error == "revocation_failed"
    assert caught.value.retryable is retryable
    assert REFRESH_TOKEN not in str(caught.value)


def test_an_unreachable_endpoint_is_an_error(ehr, http) -> None:
    config = smart_config(revocation_endpoint=REVOKE_URL)  # nothing registered: connection fails
    with pytest.raises(AuthError) as caught:
        revoke(issuer(), config, tokens(), http=http, now=NOW)
    assert caught.value.error == "revocation_unreachable"
