"""The EHR's id_token keys are read once and kept, read again for a rotated key, never kept failed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
import responses
from joserfc import jwt
from joserfc.jwk import ECKey

from launch.discovery import SmartConfiguration
from launch.ehr_key_sets import KEEP_S, REREAD_S, EhrKeySets
from launch.errors import AuthError
from launch.id_token import verified_id_token

JWKS = "https://ehr.example.org/jwks"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(kid: str) -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": kid})


def signed(with_key: ECKey) -> str:
    header = {"alg": "ES384", "kid": with_key.kid}
    claims = {"sub": "dr-a", "iat": int(NOW.timestamp())}
    return jwt.encode(header, claims, with_key, algorithms=["ES384"])


def serve(mock: responses.RequestsMock, *keys: ECKey) -> None:
    body = {"keys": [k.as_dict(private=False) for k in keys]}
    mock.replace(responses.GET, JWKS, json=body) if mock.registered() else mock.get(JWKS, json=body)


@pytest.fixture
def ehr():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock() -> Clock:
    return Clock()


def verify(token: str, key_sets: EhrKeySets) -> str:
    config = SmartConfiguration(
        iss="https://ehr.example.org/fhir",
        authorization_endpoint="https://ehr.example.org/authorize",
        token_endpoint="https://ehr.example.org/token",
        jwks_uri=JWKS,
    )
    verified = verified_id_token(
        token, smart_config=config, http=requests.Session(), key_sets=key_sets
    )
    return str(verified.claims["sub"])


def jwks_reads(mock: responses.RequestsMock) -> int:
    return sum(1 for call in mock.calls if call.request.url == JWKS)


def test_two_sign_ins_read_the_key_set_once(ehr, clock) -> None:
    first = key("k1")
    serve(ehr, first)
    key_sets = EhrKeySets(clock=clock)
    assert verify(signed(first), key_sets) == verify(signed(first), key_sets) == "dr-a"
    assert jwks_reads(ehr) == 1


def test_a_kept_key_set_is_read_again_after_it_expires(ehr, clock) -> None:
    first = key("k1")
    serve(ehr, first)
    key_sets = EhrKeySets(clock=clock)
    verify(signed(first), key_sets)
    clock.now += KEEP_S + 1
    verify(signed(first), key_sets)
    assert jwks_reads(ehr) == 2


def test_a_rotated_key_reads_the_set_again_at_once(ehr, clock) -> None:
    old, new = key("k1"), key("k2")
    serve(ehr, old)
    key_sets = EhrKeySets(clock=clock)
    verify(signed(old), key_sets)
    serve(ehr, old, new)
    clock.now += REREAD_S + 1  # still well inside KEEP_S
    assert verify(signed(new), key_sets) == "dr-a"
    assert jwks_reads(ehr) == 2


def test_bad_tokens_read_the_set_again_at_most_once_per_interval(ehr, clock) -> None:
    served, forged = key("k1"), key("k1")  # same kid, another key: a bad signature
    serve(ehr, served)
    key_sets = EhrKeySets(clock=clock)
    verify(signed(served), key_sets)
    for _ in range(5):
        with pytest.raises(AuthError, match="bad signature"):
            verify(signed(forged), key_sets)
    assert jwks_reads(ehr) == 1  # read at the sign-in; the set was read under REREAD_S ago
    clock.now += REREAD_S + 1
    with pytest.raises(AuthError, match="bad signature"):
        verify(signed(forged), key_sets)
    assert jwks_reads(ehr) == 2


def test_a_failed_read_is_not_kept(ehr, clock) -> None:
    first = key("k1")
    ehr.get(JWKS, status=503)
    key_sets = EhrKeySets(clock=clock)
    with pytest.raises(AuthError, match="could not be read") as refused:
        verify(signed(first), key_sets)
    assert refused.value.retryable
    serve(ehr, first)
    assert verify(signed(first), key_sets) == "dr-a"
    assert jwks_reads(ehr) == 2
