"""The SMART client's outbound requests: no redirect followed, a busy token endpoint, long codes."""

from __future__ import annotations

from datetime import UTC, timedelta
from email.utils import format_datetime

import pytest

from launch import AuthError, LaunchError, complete_launch, discover, refresh
from launch.tokens import token_set_from_response
from tests.unit.test_launch_fake_ehr import (
    ISS,
    JWKS_URL,
    NOW,
    TOKEN_URL,
    id_token,
    issuer,
    pending_launch,
    smart_config,
    token_json,
)

WELL_KNOWN = f"{ISS}/.well-known/smart-configuration"
ELSEWHERE = "http://attacker.example.net/collect"


def complete(http, code: str = "code-1"):
    pending = pending_launch()
    return complete_launch(
        issuer(),
        smart_config(),
        pending,
        code=code,
        returned_state=pending.state,
        http=http,
        now=NOW,
    )


def launched_tokens():
    return token_set_from_response(token_json(), now=NOW, requested_scopes="launch")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_token_endpoint_redirect_is_refused_and_nothing_is_sent_again(ehr, http, status) -> None:
    redirect = ehr.mock.post(TOKEN_URL, status=status, headers={"Location": ELSEWHERE})
    elsewhere = ehr.mock.post(ELSEWHERE, json=token_json())
    with pytest.raises(AuthError) as caught:
        complete(http)
    assert caught.value.error == "token_endpoint_redirect"
    assert TOKEN_URL in caught.value.message and "redirect" in caught.value.message
    assert len(redirect.calls) == 1 and not elsewhere.calls


def test_refresh_redirect_is_refused_without_resending_the_refresh_token(ehr, http) -> None:
    ehr.mock.post(TOKEN_URL, status=307, headers={"Location": ELSEWHERE})
    elsewhere = ehr.mock.post(ELSEWHERE, json=token_json())
    with pytest.raises(AuthError) as caught:
        refresh(issuer(), smart_config(), launched_tokens(), http=http, now=NOW)
    assert caught.value.error == "token_endpoint_redirect"
    assert TOKEN_URL in caught.value.message
    assert not elsewhere.calls


@pytest.mark.parametrize(
    ("retry_after", "said"),
    [
        ("30", "30 seconds"),
        (format_datetime((NOW + timedelta(minutes=2)).astimezone(UTC), usegmt=True), "120 seconds"),
        (None, "a moment"),
    ],
)
def test_token_endpoint_429_says_busy_with_the_wait(ehr, http, retry_after, said) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    body = {"error": "temporarily_unavailable", "error_description": "Slow down"}
    ehr.mock.post(TOKEN_URL, status=429, json=body, headers=headers)
    with pytest.raises(AuthError) as caught:
        complete(http)
    error = caught.value
    assert error.error == "token_endpoint_busy"
    assert error.retryable and error.status == 503
    assert "busy" in error.message and "try again" in error.message and said in error.message
    assert "refused" not in error.message
    assert error.retry_after_s == (int(said.split()[0]) if retry_after else None)


def test_refresh_429_says_busy_not_refused(ehr, http) -> None:
    ehr.mock.post(TOKEN_URL, status=429, json={"error": "slow_down"}, headers={"Retry-After": "5"})
    with pytest.raises(AuthError) as caught:
        refresh(issuer(), smart_config(), launched_tokens(), http=http, now=NOW)
    assert caught.value.error == "token_endpoint_busy"
    assert "5 seconds" in caught.value.message
    assert caught.value.retry_after_s == 5


@pytest.mark.parametrize("length", [2087, 8192])
def test_long_authorization_codes_are_exchanged(ehr, http, length) -> None:
    token = ehr.serve_token()
    code = ("AbC-_.~9" * 1100)[:length]
    assert complete(http, code=code).access_token
    assert code in token.calls[0].request.body


def test_authorization_code_over_8_kb_is_refused(http) -> None:
    with pytest.raises(LaunchError) as caught:
        complete(http, code="a" * 8193)
    assert caught.value.error == "invalid_callback"


def test_discovery_redirect_is_an_error_naming_the_endpoint_without_fallback(ehr, http) -> None:
    ehr.mock.get(WELL_KNOWN, status=302, headers={"Location": ELSEWHERE})
    metadata = ehr.mock.get(f"{ISS}/metadata", json={"resourceType": "CapabilityStatement"})
    elsewhere = ehr.mock.get(ELSEWHERE, json={})
    with pytest.raises(LaunchError) as caught:
        discover(ISS, http)
    assert caught.value.error == "discovery_failed"
    assert WELL_KNOWN in caught.value.message and "redirect" in caught.value.message
    assert not metadata.calls and not elsewhere.calls


def test_metadata_redirect_is_an_error_naming_the_endpoint(ehr, http) -> None:
    ehr.mock.get(WELL_KNOWN, status=404)
    ehr.mock.get(f"{ISS}/metadata", status=301, headers={"Location": ELSEWHERE})
    elsewhere = ehr.mock.get(ELSEWHERE, json={})
    with pytest.raises(LaunchError) as caught:
        discover(ISS, http)
    assert f"{ISS}/metadata" in caught.value.message and "redirect" in caught.value.message
    assert not elsewhere.calls


def test_jwks_redirect_is_an_error_naming_the_endpoint(ehr, http) -> None:
    ehr.serve_token(token_json(id_token=id_token(nonce=pending_launch().nonce)))
    ehr.mock.get(JWKS_URL, status=307, headers={"Location": ELSEWHERE})
    elsewhere = ehr.mock.get(ELSEWHERE, json={"keys": []})
    with pytest.raises(AuthError) as caught:
        complete(http)
    assert caught.value.error == "invalid_id_token"
    assert JWKS_URL in caught.value.message and "redirect" in caught.value.message
    assert not elsewhere.calls
