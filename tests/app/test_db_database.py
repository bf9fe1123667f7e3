"""The Database: SQLite pragmas, folders, and timestamps that come back aware and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from smartapp.db import AuditEvent, AuditLog, Database
from smartapp.db.models import AuditEventRow
from tests.app_helpers import ISS

CHICAGO_WINTER = timezone(timedelta(hours=-6))


def test_database_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


def test_database_sqlite_makes_the_instance_folder(tmp_path):
    folder = tmp_path / "instance" / "nested"
    database = Database(f"sqlite:///{folder / 'smartapp.db'}")
    assert folder.is_dir()
    database.dispose()


def test_database_display_url_hides_the_password():
    database = Database("postgresql+psycopg://app:s3cret@db.example.org/smartapp")
    assert "s3cret" not in database.display_url and "s3cret" not in repr(database)
    database.dispose()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_database_postgresql_urls_use_psycopg_3(scheme):
    database = Database(f"{scheme}://app@db.example.org/smartapp")
    assert database.url.drivername == "postgresql+psycopg"
    database.dispose()


def test_database_timestamps_come_back_aware_in_utc(database):
    written = datetime(2026, 1, 15, 9, 30, tzinfo=CHICAGO_WINTER)
    AuditLog(database).record(
        AuditEvent(actor="a", action="view", target="Patient/1", iss=ISS, at=written)
    )
    [event] = AuditLog(database).events(ISS)
    assert event.at == written
    assert event.at is not None and event.at.utcoffset() == timedelta(0)
    assert event.at.hour == 15


def test_database_refuses_naive_timestamps(database):
    with pytest.raises(StatementError, match="naive datetime"):
        AuditLog(database).record(
            AuditEvent(
                actor="a", action="view", target="Patient/1", iss=ISS, at=datetime(2026, 1, 15)
            )
        )


def test_database_transaction_rolls_back_on_error(database):
    with pytest.raises(RuntimeError), database.transaction() as session:
        session.add(AuditEventRow(at=datetime.now(UTC), actor="a", iss=ISS, action="x", target="t"))
        session.flush()
        raise RuntimeError("boom")
    with database.transaction() as session:
        assert session.execute(select(AuditEventRow)).first() is None
