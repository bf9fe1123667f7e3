"""Migrations: up and down on SQLite and PostgreSQL, and the models match the migrated schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from launch import TokenSet
from smartapp.commands.db import current, downgrade, head, upgrade
from smartapp.db import Base, Database, LaunchSessions
from smartapp.settings import load_settings, load_store_settings

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
TABLES = {
    "pending_launches",
    "launch_sessions",
    "signing_keys",
    "prescribers",
    "pharmacies",
    "patient_enrollments",
    "status_forms",
    "writeback_ledger",
    "audit_events",
}


def _tables(url: str) -> set[str]:
    database = Database(url)
    try:
        return set(inspect(database.engine).get_table_names()) - {"alembic_version"}
    finally:
        database.dispose()


def test_migrations_upgrade_creates_every_table_and_downgrade_removes_them(empty_database_url):
    assert current(empty_database_url) is None
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()
    assert _tables(empty_database_url) == TABLES
    downgrade(empty_database_url, "base")
    assert current(empty_database_url) is None
    assert _tables(empty_database_url) == set()
    upgrade(empty_database_url)
    assert _tables(empty_database_url) == TABLES


def test_migrations_upgrade_twice_is_a_no_op(empty_database_url):
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()


def test_migrations_schema_matches_the_models(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrations_indexes_exist_where_lookups_happen(database):
    inspector = inspect(database.engine)
    assert {i["name"] for i in inspector.get_indexes("launch_sessions")} == {
        "ix_launch_sessions_expires_at"
    }
    assert "ix_writeback_ledger_iss_patient" in {
        i["name"] for i in inspector.get_indexes("writeback_ledger")
    }
    unique = inspector.get_unique_constraints("writeback_ledger")
    assert [c["column_names"] for c in unique] == [["iss", "identifier_system", "identifier_value"]]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, f"sqlite:///{Path('var').resolve()}/smartapp.db"),
        ({"SMARTAPP_INSTANCE_DIR": "/srv/app"}, "sqlite:////srv/app/smartapp.db"),
        ({"SMARTAPP_DATABASE_URL": "postgresql+psycopg://h/db"}, "postgresql+psycopg://h/db"),
        ({"SMARTAPP_DATABASE_URL": "  "}, f"sqlite:///{Path('var').resolve()}/smartapp.db"),
    ],
)
def test_default_database_url_follows_the_environment(environ, expected):
    assert load_store_settings(environ=environ).database_url == expected


def test_commands_and_app_resolve_the_same_database(tmp_path: Path):
    """The CLI and the web app read one settings function: the same file, whatever the folder."""
    issuers = tmp_path / "issuers.toml"
    issuers.write_text('[[issuer]]\niss = "https://ehr.example.org/fhir"\nclient_id = "c"\n')
    environ = {
        "SMARTAPP_BASE_URL": "https://app.example.org",
        "SMARTAPP_SECRET_KEY": "s" * 40,
        "SMARTAPP_TOKEN_KEY": "k",
        "SMARTAPP_ISSUERS_FILE": str(issuers),
        "SMARTAPP_INSTANCE_DIR": "relative-folder",
        "SMARTAPP_DATABASE_URL": " ",
    }
    app = load_settings(environ=environ)
    assert load_store_settings(environ=environ).database_url == app.database_url
    assert app.database_url.endswith("/relative-folder/smartapp.db")
    assert app.database_url.startswith(f"sqlite:///{Path.cwd()}")


def test_migration_0002_upgrades_a_database_in_use_at_0001(empty_database_url, cipher):
    """A v0001 database with sessions, a pending launch, a registry and an audit trail: the
    upgrade keeps the records of lasting value and drops the short-lived launch state (its
    tokens were encrypted field by field), after which sessions work as the app stores them."""
    upgrade(empty_database_url, "0001")
    database = Database(empty_database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO launch_sessions (handle_sha256, iss, client_id,"
                    " access_token_encrypted, scopes, need_patient_banner, created_at,"
                    " last_seen_at, expires_at, refresh_version) VALUES ('h', 'iss', 'c',"
                    " 'x', 'launch', true, :now, :now, :now, 0)"
                ),
                {"now": NOW},
            )
            connection.execute(
                text(
                    "INSERT INTO pending_launches (state, iss, code_verifier, redirect_uri,"
                    " created_at, expires_at) VALUES ('s', 'iss', 'v', 'r', :now, :now)"
                ),
                {"now": NOW},
            )
            connection.execute(
                text(
                    "INSERT INTO audit_events (at, actor, action, target)"
                    " VALUES (:now, 'cli', 'registry.import', 'Patient/p1')"
                ),
                {"now": NOW},
            )
        upgrade(empty_database_url)
        assert current(empty_database_url) == "0002" == head()
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM launch_sessions")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM pending_launches")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() == 1
        sessions = LaunchSessions(database, cipher)
        tokens = TokenSet("a", "Bearer", NOW + timedelta(hours=1), ("launch",), tenant="t-1")
        handle = sessions.create("https://ehr.example.org/fhir", "c", tokens, now=NOW)
        stored = sessions.get(handle, now=NOW)
        assert stored is not None and stored.tokens == tokens
        downgrade(empty_database_url, "0001")
        assert current(empty_database_url) == "0001"
        upgrade(empty_database_url)
        assert current(empty_database_url) == "0002"
    finally:
        database.dispose()
