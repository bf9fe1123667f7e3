"""Expired sessions and pending launches are deleted, ended sessions only after a day's grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from launch import PendingLaunch, TokenSet
from smartapp.commands.db import upgrade
from smartapp.db import Database, LaunchSessions, PendingLaunches, SecretCipher
from smartapp.db.housekeeping import purge_stale
from smartapp.db.models import LaunchSessionRow

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ISS = "https://ehr.example.org/fhir"
GRANT = TokenSet(access_token="a", token_type="Bearer", expires_at=NOW, scopes=("launch",))


def pending_at(state: str, created_at: datetime) -> PendingLaunch:
    return PendingLaunch(state, "v", "n", ISS, "https://app.example.org/callback", created_at)


def test_purge_keeps_live_and_recently_ended_sessions(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    database = Database(url)
    cipher = SecretCipher(Fernet.generate_key().decode())
    sessions = LaunchSessions(database, cipher)
    pending = PendingLaunches(database, cipher)
    live = sessions.create(ISS, "app", GRANT, now=NOW)
    ended_hours_ago = sessions.create(
        ISS, "app", GRANT, lifetime=timedelta(hours=1), now=NOW - timedelta(hours=3)
    )
    sessions.create(ISS, "app", GRANT, lifetime=timedelta(hours=1), now=NOW - timedelta(days=3))
    pending.save(pending_at("old", NOW - timedelta(hours=1)))
    pending.save(pending_at("new", NOW))
    assert purge_stale(sessions, pending, NOW) == 2
    assert sessions.get(live, now=NOW) is not None
    assert sessions.get(ended_hours_ago, now=NOW) is None  # ended, but kept for its last page
    assert pending.consume("new", now=NOW) is not None
    assert pending.consume("old", now=NOW) is None
    with database.transaction() as session:  # the live one and the one ended hours ago
        assert session.execute(select(func.count()).select_from(LaunchSessionRow)).scalar() == 2
    database.dispose()


def test_purge_keeps_ended_sessions_only_for_the_configured_retention(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    database = Database(url)
    cipher = SecretCipher(Fernet.generate_key().decode())
    sessions = LaunchSessions(database, cipher)
    sessions.create(ISS, "app", GRANT, lifetime=timedelta(hours=1), now=NOW - timedelta(hours=3))
    sessions.create(ISS, "app", GRANT, lifetime=timedelta(hours=1), now=NOW - timedelta(hours=30))
    pending = PendingLaunches(database, cipher)
    assert purge_stale(sessions, pending, NOW, timedelta(days=2)) == 0
    assert purge_stale(sessions, pending, NOW, timedelta(hours=1)) == 2
    database.dispose()
