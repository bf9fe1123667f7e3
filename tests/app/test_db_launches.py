"""Pending launches: saved at the redirect, consumed exactly once at the callback, then purged."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from smartapp.db import PendingLaunch, PendingLaunches

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
PENDING = PendingLaunch(
    state="state-abc",
    iss="https://ehr.example.org/fhir",
    code_verifier="verifier-xyz",
    redirect_uri="https://app.example.org/callback",
    nonce="nonce-1",
    launch="launch-1",
    scope="launch openid fhirUser patient/*.rs",
)


def test_pending_launch_consumed_once_returns_what_was_saved(database):
    launches = PendingLaunches(database)
    launches.save(PENDING, now=NOW)
    assert launches.consume("state-abc", now=NOW + timedelta(minutes=1)) == replace(
        PENDING, created_at=NOW
    )
    assert launches.consume("state-abc", now=NOW + timedelta(minutes=1)) is None


def test_pending_launch_two_concurrent_consumers_one_wins(database):
    launches = PendingLaunches(database)
    launches.save(PENDING, now=NOW)
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
def test_pending_launch_unknown_or_expired_state_is_none(database, state, at):
    launches = PendingLaunches(database)
    launches.save(PENDING, now=NOW)
    assert launches.consume(state, now=at) is None


def test_pending_launch_secrets_stay_out_of_its_repr():
    shown = repr(PENDING)
    assert "state-abc" not in shown and "verifier-xyz" not in shown and "nonce-1" not in shown


def test_pending_launch_state_reuse_is_refused(database):
    launches = PendingLaunches(database)
    launches.save(PENDING, now=NOW)
    with pytest.raises(IntegrityError):
        launches.save(PENDING, now=NOW)


def test_pending_launch_purge_deletes_only_the_expired(database):
    launches = PendingLaunches(database)
    launches.save(PENDING, now=NOW)
    launches.save(PendingLaunch("fresh", "iss", "v", "r"), now=NOW + timedelta(minutes=30))
    assert launches.purge(now=NOW + timedelta(minutes=20)) == 1
    assert launches.consume("fresh", now=NOW + timedelta(minutes=31)) is not None
