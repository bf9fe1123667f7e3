"""Launch sessions: tokens encrypted at rest, a hashed handle, expiry, revocation, one refresh."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from launch import TokenSet
from smartapp.db import LaunchSessions, SecretCipher, SecretKeyError, handle_hash

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
ISS = "https://ehr.example.org/fhir"
CLIENT = "smartapp"
ACCESS = "eyJhbGciOiJSUzI1NiJ9.access-token-value.signature"
REFRESH = "refresh-token-value-0123456789"
# Everything a launch can return, including the context the app does not use yet.
GRANT = TokenSet(
    access_token=ACCESS,
    token_type="Bearer",
    expires_at=NOW + timedelta(hours=1),
    scopes=("launch", "openid", "fhirUser", "patient/Observation.rs"),
    refresh_token=REFRESH,
    patient="pt-1",
    encounter="enc-1",
    need_patient_banner=True,
    smart_style_url="https://ehr.example.org/style.json",
    fhir_user="Practitioner/dr-a",
    id_token_claims={"sub": "dr-a", "fhirUser": "Practitioner/dr-a"},
    intent="reconcile-medications",
    tenant="hospital-a",
    fhir_context=({"reference": "Encounter/enc-1", "role": "launch"},),
    extras={"vendor_specific": {"unit": "5 West"}},
)


def create(sessions: LaunchSessions, now: datetime = NOW) -> str:
    return sessions.create(ISS, CLIENT, GRANT, now=now)


def _raw_rows(database) -> list[str]:
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM launch_sessions")).all()
    return [repr(tuple(row)) for row in rows]


def test_session_tokens_round_trip_and_are_not_stored_in_clear(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = create(sessions)
    session = sessions.get(handle, now=NOW + timedelta(minutes=5))
    assert session is not None and session.tokens == GRANT  # nothing the EHR sent is dropped
    assert (session.iss, session.client_id) == (ISS, CLIENT)
    assert session.refresh_version == 0 and session.created_at == NOW
    stored = "".join(_raw_rows(database))
    assert ACCESS not in stored and REFRESH not in stored and "access-token-value" not in stored
    assert "pt-1" not in stored and "hospital-a" not in stored and "dr-a" not in stored


def test_session_handle_is_stored_only_as_its_hash(database, cipher):
    handle = create(LaunchSessions(database, cipher))
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
    handle = create(sessions)
    assert sessions.get(handle_of(handle), now=at) is None


def test_session_revoked_is_gone_and_purged(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = create(sessions)
    kept = create(sessions)
    assert sessions.revoke(handle, now=NOW)
    assert sessions.get(handle, now=NOW) is None
    assert not sessions.store_notice(handle, {"kind": "write"}, now=NOW)
    assert sessions.purge(now=NOW) == 1
    assert sessions.get(kept, now=NOW) is not None


def test_session_evaluation_is_kept_and_the_notice_cleared_once_shown(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = create(sessions)
    assert sessions.store_notice(handle, {"kind": "write", "outcomes": []}, now=NOW)
    stored = sessions.get(handle, now=NOW)
    assert stored is not None and stored.notice == {"kind": "write", "outcomes": []}
    later = NOW + timedelta(minutes=3)
    assert sessions.record_evaluation(handle, {"overall": "ok"}, notice_shown=True, now=later)
    session = sessions.get(handle, now=later)
    assert session is not None and session.notice is None
    assert session.last_seen_at == later
    assert session.last_evaluation == {"overall": "ok"}
    assert sessions.last_evaluation(handle, now=later) == {"overall": "ok"}


def test_session_refresh_stores_new_tokens_only_at_the_expected_version(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = create(sessions)
    refreshed = replace(GRANT, access_token="new-access", refresh_token=None, scopes=("openid",))
    assert sessions.store_refreshed_tokens(handle, 0, refreshed, now=NOW)
    assert not sessions.store_refreshed_tokens(handle, 0, refreshed, now=NOW)
    session = sessions.get(handle, now=NOW)
    assert session is not None and session.refresh_version == 1
    assert (session.tokens.access_token, session.tokens.refresh_token) == ("new-access", None)
    assert session.patient == "pt-1" and session.tokens.scopes == ("openid",)


def test_session_concurrent_refreshes_one_wins(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = create(sessions)
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
    assert session is not None and session.tokens.access_token == f"access-{won.index(True)}"


def test_session_another_key_cannot_read_the_tokens(database, cipher):
    handle = create(LaunchSessions(database, cipher))
    stranger = LaunchSessions(database, SecretCipher(SecretCipher.generate_key()))
    with pytest.raises(SecretKeyError):
        stranger.get(handle, now=NOW)


def test_session_rotated_key_still_reads_old_sessions(database):
    old_key, new_key = SecretCipher.generate_key(), SecretCipher.generate_key()
    handle = create(LaunchSessions(database, SecretCipher(old_key)))
    session = LaunchSessions(database, SecretCipher([new_key, old_key])).get(handle, now=NOW)
    assert session is not None and session.tokens.access_token == ACCESS


@pytest.mark.parametrize("key", ["", "not-a-key", b"short", []])
def test_cipher_refuses_a_bad_key(key):
    with pytest.raises(SecretKeyError):
        SecretCipher(key)


def test_session_evaluation_is_encrypted_at_rest(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = create(sessions)
    shown = {"patient": "Patient/pt-1", "overall": "attention", "anc": {"value_per_ul": 1620}}
    assert sessions.record_evaluation(handle, shown, now=NOW)
    stored = "".join(_raw_rows(database))
    assert "pt-1" not in stored and "attention" not in stored and "1620" not in stored
    assert sessions.last_evaluation(handle, now=NOW) == shown
    stranger = LaunchSessions(database, SecretCipher(SecretCipher.generate_key()))
    with pytest.raises(SecretKeyError):
        stranger.last_evaluation(handle, now=NOW)


def test_session_ends_after_the_idle_timeout_and_use_keeps_it_alive(database, cipher):
    sessions = LaunchSessions(database, cipher, idle_timeout=timedelta(minutes=30))
    handle, idle = create(sessions), create(sessions)
    assert sessions.get(handle, now=NOW + timedelta(minutes=29), touch=True) is not None
    later = NOW + timedelta(minutes=50)
    assert sessions.get(idle, now=later) is None
    assert sessions.ended_cause(idle, now=later) == "idle_timeout"
    assert sessions.last_evaluation(idle, now=later) is None
    assert not sessions.record_evaluation(idle, {"overall": "ok"}, now=later)
    session = sessions.get(handle, now=later)
    assert session is not None and session.last_seen_at == NOW + timedelta(minutes=29)
    assert sessions.get(handle, now=NOW + timedelta(minutes=59, seconds=1)) is None


def test_session_ended_cause_names_why(database, cipher):
    sessions = LaunchSessions(database, cipher)
    live, revoked = create(sessions), create(sessions)
    expired = create(sessions, now=NOW - timedelta(hours=8))
    assert sessions.revoke(revoked, now=NOW)
    assert sessions.ended_cause(live, now=NOW) is None
    assert sessions.ended_cause(revoked, now=NOW) == "revoked"
    assert sessions.ended_cause(expired, now=NOW) == "expired"
    assert sessions.ended_cause("x" * 43, now=NOW) == "unknown_handle"


def test_session_revoked_keeps_no_evaluation(database, cipher):
    sessions = LaunchSessions(database, cipher)
    handle = create(sessions)
    assert sessions.record_evaluation(handle, {"overall": "ok"}, now=NOW)
    assert sessions.revoke(handle, now=NOW)
    with database.engine.connect() as connection:
        kept = connection.execute(
            text("SELECT last_evaluation_encrypted FROM launch_sessions")
        ).scalar_one()
    assert kept is None


def test_session_purge_takes_idle_sessions_too(database, cipher):
    sessions = LaunchSessions(database, cipher, idle_timeout=timedelta(minutes=30))
    create(sessions)
    kept = create(sessions, now=NOW + timedelta(minutes=20))
    assert sessions.purge(now=NOW + timedelta(minutes=31)) == 1
    assert sessions.get(kept, now=NOW + timedelta(minutes=31)) is not None
