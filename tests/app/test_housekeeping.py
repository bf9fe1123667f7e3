"""Expired sessions and pending launches are deleted, ended sessions only after a day's grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from smartapp.commands.db import upgrade
from smartapp.db import (
    Database,
    LaunchSessions,
    PendingLaunch,
    PendingLaunches,
    SecretCipher,
    SessionGrant,
)
from smartapp.db.housekeeping import purge_stale
from smartapp.db.models import LaunchSessionRow

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GRANT = SessionGrant(
    iss="https://ehr.example.org/fhir", client_id="app", access_token="a", scopes="launch"
)


def test_purge_keeps_live_and_recently_ended_sessions(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    database = Database(url)
    cipher = SecretCipher(Fernet.generate_key().decode())
    sessions = LaunchSessions(database, cipher)
    pending = PendingLaunches(database, cipher)
    live = sessions.create(GRANT, now=NOW)
    ended_hours_ago = sessions.create(
        GRANT, lifetime=timedelta(hours=1), now=NOW - timedelta(hours=3)
    )
    sessions.create(GRANT, lifetime=timedelta(hours=1), now=NOW - timedelta(days=3))
    pending.save(
        PendingLaunch(state="old", iss=GRANT.iss, code_verifier="v", redirect_uri="r"),
        now=NOW - timedelta(hours=1),
    )
    pending.save(
        PendingLaunch(state="new", iss=GRANT.iss, code_verifier="v", redirect_uri="r"), now=NOW
    )
    assert purge_stale(sessions, pending, NOW) == 2
    assert sessions.get(live, now=NOW) is not None
    assert sessions.get(ended_hours_ago, now=NOW) is None  # ended, but kept for its last page
    assert pending.consume("new", now=NOW) is not None
    assert pending.consume("old", now=NOW) is None
    with database.transaction() as session:  # the live one and the one ended hours ago
        assert session.execute(select(func.count()).select_from(LaunchSessionRow)).scalar() == 2
    database.dispose()
