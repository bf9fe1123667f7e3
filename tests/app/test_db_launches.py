"""Pending launches: saved at the redirect, consumed exactly once at the callback, then purged."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from launch import PendingLaunch
from smartapp.db import PendingLaunches, SecretCipher
from smartapp.db.launches import AnotherBrowser
from smartapp.db.models import PendingLaunchRow

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
PENDING = PendingLaunch(
    state="state-abc",
    code_verifier="verifier-xyz",
    nonce="nonce-1",
    iss="https://ehr.example.org/fhir",
    redirect_uri="https://app.example.org/callback",
    created_at=NOW,
    scope="launch openid fhirUser patient/*.rs",
    launch="launch-1",
)


def at(when: datetime, state: str = "state-abc") -> PendingLaunch:
    """PENDING made at another time (and with another state)."""
    return replace(PENDING, created_at=when, state=state)


def test_pending_launch_consumed_once_returns_what_was_saved(database, cipher):
    launches = PendingLaunches(database, cipher)
    launches.save(PENDING)
    assert launches.consume("state-abc", now=NOW + timedelta(minutes=1)) == PENDING
    assert launches.consume("state-abc", now=NOW + timedelta(minutes=1)) is None


def test_pending_launch_two_concurrent_consumers_one_wins(database, cipher):
    launches = PendingLaunches(database, cipher)
    launches.save(PENDING)
    barrier = threading.Barrier(2)

    def consume(_: int) -> PendingLaunch | None:
        barrier.wait()
        return launches.consume("state-abc", now=NOW + timedelta(seconds=5))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(consume, range(2)))
    assert sorted(r is not None for r in results) == [False, True]


@pytest.mark.parametrize(
    ("state", "at"),
    [
        ("state-abc", NOW + timedelta(minutes=10)),  # expired (lifetime 10 minutes)
        ("state-abc", NOW + timedelta(hours=2)),
        ("unknown-state", NOW),
        ("", NOW),
    ],
)
def test_pending_launch_unknown_or_expired_state_is_none(database, cipher, state, at):
    launches = PendingLaunches(database, cipher)
    launches.save(PENDING)
    assert launches.consume(state, now=at) is None


def test_pending_launch_secrets_stay_out_of_its_repr():
    shown = repr(PENDING)
    assert "state-abc" not in shown and "verifier-xyz" not in shown and "nonce-1" not in shown


def test_pending_launch_state_reuse_is_refused(database, cipher):
    launches = PendingLaunches(database, cipher)
    launches.save(PENDING)
    with pytest.raises(IntegrityError):
        launches.save(PENDING)


def test_pending_launch_purge_deletes_only_the_expired(database, cipher):
    launches = PendingLaunches(database, cipher)
    launches.save(PENDING)
    launches.save(at(NOW + timedelta(minutes=30), state="fresh"))
    assert launches.purge(now=NOW + timedelta(minutes=20)) == 1
    assert launches.consume("fresh", now=NOW + timedelta(minutes=31)) is not None


def test_pending_launch_is_not_stored_in_clear(database, cipher):
    PendingLaunches(database, cipher).save(PENDING)
    with database.transaction() as session:
        stored = session.execute(select(PendingLaunchRow.pending_encrypted)).scalar_one()
    assert "verifier-xyz" not in stored and "nonce-1" not in stored and "launch-1" not in stored
    assert "verifier-xyz" in cipher.decrypt(stored)


def test_pending_launch_verifier_no_key_opens_is_none(database, cipher):
    """Saved under a key since removed from the configuration: the user opens the app again."""
    old_key = SecretCipher(SecretCipher.generate_key())
    PendingLaunches(database, old_key).save(PENDING)
    assert PendingLaunches(database, cipher).consume("state-abc", now=NOW) is None


def test_pending_launch_bound_to_a_browser_is_refused_to_another(database, cipher):
    launches = PendingLaunches(database, cipher)
    launches.save(PENDING, browser="browser-a-cookie")
    later = NOW + timedelta(minutes=1)
    with pytest.raises(AnotherBrowser):
        launches.consume("state-abc", browser="browser-b-cookie", now=later)
    # Used up by the refused callback: the state cannot be replayed in any browser.
    assert launches.consume("state-abc", browser="browser-a-cookie", now=later) is None


@pytest.mark.parametrize("sent", ["browser-a-cookie", None])  # None: the cookie was dropped
def test_pending_launch_bound_to_a_browser_is_consumed_by_it_or_without_a_cookie(
    database, cipher, sent
):
    launches = PendingLaunches(database, cipher)
    launches.save(PENDING, browser="browser-a-cookie")
    assert launches.consume("state-abc", browser=sent, now=NOW + timedelta(minutes=1)) == PENDING


def test_pending_launch_keeps_the_browser_cookie_only_hashed(database, cipher):
    PendingLaunches(database, cipher).save(PENDING, browser="browser-a-cookie")
    with database.transaction() as session:
        row = session.execute(select(PendingLaunchRow)).scalar_one()
        stored = repr([getattr(row, c.name) for c in PendingLaunchRow.__table__.columns])
    assert "browser-a-cookie" not in stored
    assert row.browser_sha256 is not None and len(row.browser_sha256) == 64
