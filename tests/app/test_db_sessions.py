"""Launch sessions: tokens encrypted at rest, a hashed handle, expiry, revocation, one refresh."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from smartapp.db import LaunchSessions, SecretCipher, SecretKeyError, SessionGrant, handle_hash

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
ACCESS = "eyJhbGciOiJSUzI1NiJ9.access-token-value.signature"
REFRESH = "refresh-token-value-0123456789"
GRANT = SessionGrant(
    iss="https://ehr.example.org/fhir",
    client_id="smartapp",
    access_token=ACCESS,
    refresh_token=REFRESH,
    token_expires_at=NOW + timedelta(hours=1),
    scopes="launch openid fhirUser patient/Observation.rs",
    patient="pt-1",
    encounter="enc-1",
    fhir_user="Practitioner/dr-a",
    need_patient_banner=True,
    smart_style_url="https://ehr.example.org/style.json",
)


def _raw_rows(database) -> list[str]:
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM launch_sessions")).all()
    return [repr(tuple(row)) for row in rows]


def test_session_tokens_round_trip_and_are_not_stored_in_clear(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = sessions.create(GRANT, now=NOW)
    session = sessions.get(handle, now=NOW + timedelta(minutes=5))
    assert session is not None and session.grant == GRANT
    assert session.refresh_version == 0 and session.created_at == NOW
    stored = "".join(_raw_rows(database))
    assert ACCESS not in stored and REFRESH not in stored and "access-token-value" not in stored


def test_session_handle_is_stored_only_as_its_hash(database, cipher):
    handle = LaunchSessions(database, cipher).create(GRANT, now=NOW)
    assert len(handle) >= 43
    stored = "".join(_raw_rows(database))
    assert handle not in stored and handle_hash(handle) in stored


@pytest.mark.parametrize(
    ("handle_of", "at"),
    [
        (lambda h: h, NOW + timedelta(hours=8)),  # expired (lifetime 8 hours)
        (lambda h: h + "x", NOW),  # unknown
        (lambda h: "", NOW),
    ],
)
def test_session_unknown_or_expired_is_none(database, cipher, handle_of, at):
    sessions = LaunchSessions(database, cipher)
    handle = sessions.create(GRANT, now=NOW)
    assert sessions.get(handle_of(handle), now=at) is None


def test_session_revoked_is_gone_and_purged(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = sessions.create(GRANT, now=NOW)
    kept = sessions.create(GRANT, now=NOW)
    assert sessions.revoke(handle, now=NOW)
    assert sessions.get(handle, now=NOW) is None
    assert not sessions.touch(handle, now=NOW)
    assert sessions.purge(now=NOW) == 1
    assert sessions.get(kept, now=NOW) is not None


def test_session_touch_and_evaluation_are_kept(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = sessions.create(GRANT, now=NOW)
    assert sessions.touch(handle, now=NOW + timedelta(minutes=3))
    assert sessions.record_evaluation(handle, {"overall": "ok", "findings": []}, now=NOW)
    session = sessions.get(handle, now=NOW)
    assert session is not None
    assert session.last_seen_at == NOW + timedelta(minutes=3)
    assert session.last_evaluation == {"overall": "ok", "findings": []}


def test_session_refresh_stores_new_tokens_only_at_the_expected_version(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = sessions.create(GRANT, now=NOW)
    refreshed = replace(GRANT, access_token="new-access", refresh_token=None, scopes="openid")
    assert sessions.store_refreshed_tokens(handle, 0, refreshed, now=NOW)
    assert not sessions.store_refreshed_tokens(handle, 0, refreshed, now=NOW)
    session = sessions.get(handle, now=NOW)
    assert session is not None and session.refresh_version == 1
    assert (session.grant.access_token, session.grant.refresh_token) == ("new-access", None)
    assert session.grant.patient == "pt-1" and session.grant.scopes == "openid"


def test_session_concurrent_refreshes_one_wins(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = sessions.create(GRANT, now=NOW)
    barrier = threading.Barrier(6)

    def refresh(n: int) -> bool:
        barrier.wait()
        return sessions.store_refreshed_tokens(
            handle, 0, replace(GRANT, access_token=f"access-{n}"), now=NOW
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        won = list(pool.map(refresh, range(6)))
    assert won.count(True) == 1
    session = sessions.get(handle, now=NOW)
    assert session is not None and session.grant.access_token == f"access-{won.index(True)}"


def test_session_another_key_cannot_read_the_tokens(database, cipher):
    handle = LaunchSessions(database, cipher).create(GRANT, now=NOW)
    stranger = LaunchSessions(database, SecretCipher(SecretCipher.generate_key()))
    with pytest.raises(SecretKeyError):
        stranger.get(handle, now=NOW)


def test_session_rotated_key_still_reads_old_sessions(database):
    old_key, new_key = SecretCipher.generate_key(), SecretCipher.generate_key()
    handle = LaunchSessions(database, SecretCipher(old_key)).create(GRANT, now=NOW)
    session = LaunchSessions(database, SecretCipher([new_key, old_key])).get(handle, now=NOW)
    assert session is not None and session.grant.access_token == ACCESS


@pytest.mark.parametrize("key", ["", "not-a-key", b"short", []])
def test_cipher_refuses_a_bad_key(key):
    with pytest.raises(SecretKeyError):
        SecretCipher(key)
