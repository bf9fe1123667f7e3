"""Migrations: up and down on SQLite and PostgreSQL, and the models match the migrated schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from smartapp.commands.db import current, default_database_url, downgrade, head, upgrade
from smartapp.db import Base, Database

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
        ({}, "sqlite:///var/smartapp.db"),
        ({"SMARTAPP_INSTANCE_DIR": "/srv/app"}, "sqlite:////srv/app/smartapp.db"),
        ({"SMARTAPP_DATABASE_URL": "postgresql+psycopg://h/db"}, "postgresql+psycopg://h/db"),
        ({"SMARTAPP_DATABASE_URL": "  "}, "sqlite:///var/smartapp.db"),
    ],
)
def test_default_database_url_follows_the_environment(environ, expected):
    assert default_database_url(environ) == expected
