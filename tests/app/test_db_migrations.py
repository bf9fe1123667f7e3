"""Migrations: up and down on SQLite and PostgreSQL, and the models match the migrated schema."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from launch import TokenSet
from smartapp.commands.db import current, downgrade, head, upgrade
from smartapp.db import AuditLog, Base, Database, LaunchSessions, SecretCipher
from smartapp.db.migrations import MigrationRefused
from smartapp.db.registry_store import RegistryStore
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
    "cds_jwt_ids",
    "cds_cards",
    "worklist_runs",
    "worklist_patients",
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
        "SMARTAPP_TOKEN_KEY": SecretCipher.generate_key(),
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
        upgrade(empty_database_url, "0002")
        assert current(empty_database_url) == "0002"
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM launch_sessions")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM pending_launches")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() == 1
        # The sessions table as the app's models know it (the one audit event goes to the EHR).
        upgrade(empty_database_url, issuers=("https://ehr.example.org/fhir",))
        sessions = LaunchSessions(database, cipher)
        tokens = TokenSet("a", "Bearer", NOW + timedelta(hours=1), ("launch",), tenant="t-1")
        handle = sessions.create("https://ehr.example.org/fhir", "c", tokens, now=NOW)
        stored = sessions.get(handle, now=NOW)
        assert stored is not None and stored.tokens == tokens
        downgrade(empty_database_url, "0001")
        assert current(empty_database_url) == "0001"
        upgrade(empty_database_url, "0002")
        assert current(empty_database_url) == "0002"
    finally:
        database.dispose()


ISS_A = "https://ehr-a.example.org/fhir"
ISS_B = "https://ehr-b.example.org/fhir"
# A registry and an audit trail as revision 0002 stored them: no EHR on the registry's rows,
# none on the registry's audit events; the launch event and the ledger already named theirs.
ROWS_0002 = (
    "INSERT INTO prescribers (practitioner_reference, display_name, certified_on, updated_at)"
    " VALUES ('Practitioner/dr-a', 'Dr A', '2025-01-10', :now)",
    "INSERT INTO pharmacies (organization_reference, certified_on, expires_on, updated_at)"
    " VALUES ('Organization/ph-1', '2025-02-01', '2027-01-31', :now)",
    "INSERT INTO patient_enrollments (patient_reference, enrolled_on, prescriber_reference,"
    " status, updated_at) VALUES ('Patient/pt-1', '2025-03-01', 'Practitioner/dr-a', 'active',"
    " :now)",
    "INSERT INTO status_forms (patient_reference, submitted_on, anc_reported_per_ul, updated_at)"
    " VALUES ('Patient/pt-1', '2025-04-01', 1900, :now)",
    "INSERT INTO audit_events (at, actor, action, target)"
    " VALUES (:now, 'cli', 'registry.prescribers.create', 'prescribers:Practitioner/dr-a')",
    f"INSERT INTO audit_events (at, actor, iss, action, target)"
    f" VALUES (:now, 'Practitioner/dr-a', '{ISS_B}', 'launch', 'Patient/pt-1')",
    f"INSERT INTO writeback_ledger (iss, patient, finding_code, period_key, identifier_system,"
    f" identifier_value, resource_type, status, attempts, created_at, updated_at) VALUES"
    f" ('{ISS_B}', 'Patient/pt-1', 'monitoring-overdue', '2026-11-20', 'urn:x', 'v', 'Flag',"
    f" 'written', 1, :now, :now)",
)
REGISTRY_0002 = {
    "prescribers": [{"practitioner": "Practitioner/dr-a", "certified": "2025-01-10",
                     "name": "Dr A"}],
    "pharmacies": [{"organization": "Organization/ph-1", "certified": "2025-02-01",
                    "expires": "2027-01-31"}],
    "patients": [{"patient": "Patient/pt-1", "enrolled": "2025-03-01",
                  "prescriber": "Practitioner/dr-a"}],
    "status_forms": [{"patient": "Patient/pt-1", "submitted": "2025-04-01", "anc_reported": 1900}],
}  # fmt: skip
EMPTY_REGISTRY: dict[str, list[object]] = {
    "prescribers": [],
    "pharmacies": [],
    "patients": [],
    "status_forms": [],
}


def _populated_0002(url: str) -> Database:
    upgrade(url, "0002")
    database = Database(url)
    with database.engine.begin() as connection:
        for statement in ROWS_0002:
            connection.execute(text(statement), {"now": NOW})
    return database


def _snapshot(database: Database) -> dict[str, list[tuple[object, ...]]]:
    with database.engine.connect() as connection:
        return {
            table: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
            for table in ("prescribers", "pharmacies", "patient_enrollments", "status_forms",
                          "audit_events", "writeback_ledger")
        }  # fmt: skip


def test_migration_0003_moves_a_populated_registry_to_the_only_issuer(empty_database_url):
    database = _populated_0002(empty_database_url)
    try:
        upgrade(empty_database_url, "0003", issuers=(ISS_A,))
        assert current(empty_database_url) == "0003"
        store = RegistryStore(database)
        assert store.export(ISS_A) == REGISTRY_0002
        assert store.export(ISS_B) == EMPTY_REGISTRY
        assert [e.action for e in AuditLog(database).events(ISS_A)] == [
            "registry.prescribers.create"
        ]
        assert [e.action for e in AuditLog(database).events(ISS_B)] == ["launch"]
        store.record_enrollment(ISS_B, "Patient/pt-1", date(2025, 3, 1), actor="t")
        assert store.registry_for(ISS_B, "Patient/pt-1").patients[0].prescriber is None
        assert store.registry_for(ISS_A, "Patient/pt-1").patients[0].prescriber == (
            "Practitioner/dr-a"
        )
        with pytest.raises(MigrationRefused, match="2 EHRs"):
            downgrade(empty_database_url, "0002")
        # PostgreSQL rolls the whole downgrade back; SQLite keeps the steps above the refusal.
        assert current(empty_database_url) in {"0003", head()}
    finally:
        database.dispose()


def test_migration_0003_refuses_to_guess_among_several_issuers(empty_database_url):
    database = _populated_0002(empty_database_url)
    try:
        before = _snapshot(database)
        with pytest.raises(MigrationRefused, match=r"lists 2 issuers.*--issuer <iss>"):
            upgrade(empty_database_url, issuers=(ISS_A, ISS_B))
        assert current(empty_database_url) == "0002"
        assert _snapshot(database) == before
        with pytest.raises(MigrationRefused, match="no issuer is configured"):
            upgrade(empty_database_url)
        with pytest.raises(MigrationRefused, match="is not an issuer of"):
            upgrade(empty_database_url, issuers=(ISS_A, ISS_B), issuer="https://x.example/fhir")
        assert _snapshot(database) == before
        upgrade(empty_database_url, issuers=(ISS_A, ISS_B), issuer=ISS_B)
        assert RegistryStore(database).export(ISS_B) == REGISTRY_0002
        assert RegistryStore(database).export(ISS_A) == EMPTY_REGISTRY
        assert len(AuditLog(database).events(ISS_B)) == 2
        downgrade(empty_database_url, "0002")  # one EHR's records: the old schema holds them
        with database.engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM patient_enrollments")).scalar()
        assert (current(empty_database_url), count) == ("0002", 1)
    finally:
        database.dispose()


def test_migration_0003_needs_no_issuer_for_an_empty_registry(empty_database_url):
    upgrade(empty_database_url, "0002")
    upgrade(empty_database_url, "0003", issuers=(ISS_A, ISS_B))
    assert current(empty_database_url) == "0003"


def test_migration_0003_keys_lead_with_the_issuer(database):
    unique = {
        table: [c["column_names"] for c in inspect(database.engine).get_unique_constraints(table)]
        for table in ("prescribers", "pharmacies", "patient_enrollments", "status_forms")
    }
    assert unique == {
        "prescribers": [["iss", "practitioner_reference"]],
        "pharmacies": [["iss", "organization_reference"]],
        "patient_enrollments": [["iss", "patient_reference", "enrolled_on"]],
        "status_forms": [["iss", "patient_reference", "submitted_on"]],
    }


def test_migration_0004_drops_plaintext_evaluations_and_keeps_the_sessions(
    empty_database_url, cipher
):
    upgrade(empty_database_url, "0003")
    database = Database(empty_database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO launch_sessions (handle_sha256, iss, client_id,"
                    " token_set_encrypted, created_at, last_seen_at, expires_at,"
                    " refresh_version, last_evaluation) VALUES ('h', 'iss', 'c', 'x', :now,"
                    " :now, :now, 0, :evaluation)"
                ),
                {"now": NOW, "evaluation": '{"patient": "Patient/pt-1", "overall": "ok"}'},
            )
        upgrade(empty_database_url, "0004")
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM launch_sessions")).all()
        assert len(rows) == 1 and "pt-1" not in repr(rows)
        assert "last_evaluation" not in rows[0]._fields
        assert rows[0]._mapping["last_evaluation_encrypted"] is None
        downgrade(empty_database_url, "0003")
        assert current(empty_database_url) == "0003"
    finally:
        database.dispose()


def test_migration_0007_drops_the_plaintext_worklist_runs_and_back(empty_database_url):
    upgrade(empty_database_url, "0006")
    database = Database(empty_database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO worklist_runs (id, iss, group_id, started_at, finished_at,"
                    " export_time, as_of, policy, patients, counts) VALUES ('r', 'iss', NULL,"
                    " :now, :now, NULL, :day, 'us-label-2025', 1, '{}')"
                ),
                {"now": NOW, "day": NOW.date()},
            )
            connection.execute(
                text(
                    "INSERT INTO worklist_patients (run_id, position, iss, patient, overall,"
                    " name, mrn, phone, prescriber, next_due, days_overdue, data_complete,"
                    " evaluation) VALUES ('r', 0, 'iss', 'Patient/pt-1', 'ok', 'Doe, Jane',"
                    " 'MRN1', '', '', NULL, NULL, :yes, '{}')"
                ),
                {"yes": True},
            )
        upgrade(empty_database_url, "0007")
        columns = {c["name"] for c in inspect(database.engine).get_columns("worklist_patients")}
        assert "phi_encrypted" in columns and not {"name", "mrn", "phone", "evaluation"} & columns
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT * FROM worklist_patients")).all() == []
            assert connection.execute(text("SELECT * FROM worklist_runs")).all() == []
        downgrade(empty_database_url, "0006")
        assert current(empty_database_url) == "0006"
        columns = {c["name"] for c in inspect(database.engine).get_columns("worklist_patients")}
        assert {"name", "mrn", "phone", "evaluation"} <= columns
    finally:
        database.dispose()
