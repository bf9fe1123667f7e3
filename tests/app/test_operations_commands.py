"""`smartapp db purge` (retention, on both databases) and `smartapp registration` (the sheet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from launch import PendingLaunch, TokenSet
from smartapp.commands.cli import main
from smartapp.db import AuditEvent, AuditLog, LaunchSessions, PendingLaunches, SecretCipher
from smartapp.db.cds_store import CardStore, IssuedCard, JwtIdLedger
from smartapp.db.models import AuditEventRow, LaunchSessionRow, PendingLaunchRow
from smartapp.db.retention import purge_past_retention

NOW = datetime.now(UTC).replace(microsecond=0)
ISS = "https://ehr.example.org/fhir"
GRANT = TokenSet(access_token="a", token_type="Bearer", expires_at=NOW, scopes=("launch",))


def counts(database) -> tuple[int, int, int]:
    with database.transaction() as session:
        return tuple(
            session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (LaunchSessionRow, PendingLaunchRow, AuditEventRow)
        )


def fill(database) -> None:
    """Sessions ended 2 h and 3 days ago and one live; launches expired and pending; audit
    events 10 days and 400 days old."""
    sessions = LaunchSessions(database, SecretCipher(SecretCipher.generate_key()))
    pending = PendingLaunches(database, SecretCipher(SecretCipher.generate_key()))
    for started, hours in ((NOW - timedelta(hours=3), 1), (NOW - timedelta(days=3), 1), (NOW, 8)):
        sessions.create(ISS, "app", GRANT, lifetime=timedelta(hours=hours), now=started)
    for state, created in (("old", NOW - timedelta(hours=1)), ("new", NOW)):
        pending.save(PendingLaunch(state, "v", "n", ISS, "https://app/callback", created))
    audit = AuditLog(database)
    for days in (10, 400):
        audit.record(AuditEvent("u", "launch", "Patient/p", ISS, at=NOW - timedelta(days=days)))
    cards = CardStore(database)
    for number, days in enumerate((10, 400)):
        at = NOW - timedelta(days=days)
        cards.add(IssuedCard(f"card-{number}", ISS, "s", "Patient/p", None, (), at, None))
    jwt_ids = JwtIdLedger(database)
    for jti, minutes in (("spent", -1), ("live", 4)):
        jwt_ids.use(ISS, jti, NOW + timedelta(minutes=minutes), now=NOW - timedelta(minutes=5))


def test_purge_deletes_only_rows_past_their_retention(database) -> None:
    fill(database)
    assert counts(database) == (3, 2, 2)
    purged = purge_past_retention(
        database, now=NOW, session_retention=timedelta(days=1), audit_retention=timedelta(days=365)
    )
    assert (purged.sessions, purged.pending_launches, purged.audit_events) == (1, 1, 1)
    assert (purged.cds_cards, purged.cds_jwt_ids) == (1, 1)
    assert counts(database) == (2, 1, 1)
    purged = purge_past_retention(
        database, now=NOW, session_retention=timedelta(0), audit_retention=timedelta(days=5)
    )
    assert (purged.sessions, purged.audit_events) == (1, 1)
    assert counts(database) == (1, 1, 0)  # the live session and the pending launch stay


def test_purge_takes_a_session_idle_past_its_retention_before_it_expires(database) -> None:
    sessions = LaunchSessions(database, SecretCipher(SecretCipher.generate_key()))
    sessions.create(ISS, "app", GRANT, now=NOW - timedelta(hours=2))  # 8 hours, idle since
    sessions.create(ISS, "app", GRANT, now=NOW - timedelta(minutes=20))
    purged = purge_past_retention(
        database,
        now=NOW,
        session_retention=timedelta(hours=1),
        audit_retention=timedelta(days=5),
        session_idle=timedelta(minutes=30),
    )
    assert purged.sessions == 1
    assert counts(database) == (1, 0, 0)


@pytest.mark.parametrize(("idle_minutes", "purged"), [("60", 1), ("180", 0)])
def test_purge_command_reads_the_idle_timeout(
    database_url, database, monkeypatch, capsys, idle_minutes, purged
) -> None:
    sessions = LaunchSessions(database, SecretCipher(SecretCipher.generate_key()))
    sessions.create(ISS, "app", GRANT, now=NOW - timedelta(hours=2))  # 8 hours, idle since
    monkeypatch.setenv("SMARTAPP_SESSION_RETENTION_DAYS", "0")
    monkeypatch.setenv("SMARTAPP_SESSION_IDLE_MINUTES", idle_minutes)
    assert main(["db", "purge", "--database-url", database_url]) == 0
    assert capsys.readouterr().out.startswith(f"purged {purged} launch sessions ended before ")
    assert counts(database)[0] == 1 - purged


def test_purge_command_reads_the_retention_settings(database_url, database, monkeypatch, capsys):
    fill(database)
    monkeypatch.setenv("SMARTAPP_SESSION_RETENTION_DAYS", "0.5")
    monkeypatch.setenv("SMARTAPP_AUDIT_RETENTION_DAYS", "30")
    assert main(["db", "purge", "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("purged 1 launch sessions ended before ")
    assert ", 1 expired pending launches, 1 audit events before " in out
    assert ", 1 CDS cards answered before then, 1 expired CDS JWT ids" in out
    assert counts(database) == (2, 1, 1)


def test_purge_command_refuses_a_bad_retention(database_url, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SMARTAPP_AUDIT_RETENTION_DAYS", "forever")
    assert main(["db", "purge", "--database-url", database_url]) == 2
    assert "SMARTAPP_AUDIT_RETENTION_DAYS must be a number of days" in capsys.readouterr().err


ISSUERS = """
[[issuer]]
name = "Example Epic"
iss = "https://fhir.example.org/api/FHIR/R4/"
client_id = "epic-client-1"
auth_method = "private_key_jwt"
signing_alg = "ES384"
frame_ancestors = ["https://ehr.example.org"]
cds_client_iss = "https://ehr.example.org/cds"
cds_jwks_url = "https://ehr.example.org/cds/jwks.json"
backend_client_id = "epic-backend-7"

[[issuer]]
name = "Clinic EHR"
iss = "https://clinic.example.org/fhir"
client_id = "clinic-app"
scopes = "launch openid fhirUser patient/*.rs"
"""


@pytest.fixture
def registration_env(tmp_path: Path, monkeypatch) -> None:
    issuers = tmp_path / "issuers.toml"
    issuers.write_text(ISSUERS)
    monkeypatch.setenv("SMARTAPP_BASE_URL", "https://clozapine.example.org/")
    monkeypatch.setenv("SMARTAPP_ISSUERS_FILE", str(issuers))


def test_registration_sheet_of_a_private_key_jwt_issuer(registration_env, capsys) -> None:
    assert main(["registration", "--issuer", "Example Epic"]) == 0
    sheet = capsys.readouterr().out
    for line in (
        "  FHIR base URL (iss): https://fhir.example.org/api/FHIR/R4\n",
        "  app public base URL (SMARTAPP_BASE_URL): https://clozapine.example.org\n",
        "  client_id: epic-client-1\n",
        "  launch URL (EHR launch): https://clozapine.example.org/launch\n",
        "  redirect URI: https://clozapine.example.org/callback\n",
        "  scopes (EHR launch): launch openid fhirUser offline_access patient/Patient.rs",
        "  scopes (standalone launch): launch/patient openid fhirUser offline_access",
        "  standalone launch URL: https://clozapine.example.org/standalone"
        "?iss=https://fhir.example.org/api/FHIR/R4\n",
        "  session renewal: refresh tokens (offline_access)\n",
        "  token endpoint authentication: private_key_jwt\n",
        "  JWKS URL: https://clozapine.example.org/.well-known/jwks.json\n",
        "  signing algorithm: ES384\n",
        "  EHR origins allowed to frame the app: https://ehr.example.org\n",
        "CDS Hooks\n  discovery URL: https://clozapine.example.org/cds-services\n",
        "  services: clozapine-anc-patient-view (patient-view), clozapine-anc-order-select"
        " (order-select), clozapine-anc-order-sign (order-sign)\n",
        "  CDS client iss (JWT iss): https://ehr.example.org/cds\n",
        "  CDS client JWKS: https://ehr.example.org/cds/jwks.json\n",
        "  JWT algorithms accepted: ES384, RS384",
        "  fhirServer with fhirAuthorization: https://fhir.example.org/api/FHIR/R4\n",
    ):
        assert line in sheet


def test_registration_sheet_names_the_patient_portal_launch(registration_env, capsys) -> None:
    assert main(["registration", "--issuer", "Example Epic"]) == 0
    portal = capsys.readouterr().out.split("Patient portal", 1)[1].split("Client authentication")[0]
    for line in (
        "  launch URL (portal launch): https://clozapine.example.org/patient/launch\n",
        "  redirect URI: https://clozapine.example.org/patient/callback\n",
        "  scopes (portal launch): launch launch/patient openid fhirUser patient/*.rs\n",
        "  standalone launch URL: https://clozapine.example.org/patient/standalone"
        "?iss=https://fhir.example.org/api/FHIR/R4\n",
        "  scopes (standalone launch): launch/patient openid fhirUser patient/*.rs\n",
    ):
        assert line in portal


def test_registration_sheet_has_the_backend_services_client(registration_env, capsys) -> None:
    assert main(["registration", "--issuer", "Example Epic"]) == 0
    backend = capsys.readouterr().out.split("SMART Backend Services")[1]
    for line in (
        "  client_id: epic-backend-7\n",
        "  grant type: client_credentials",
        "  token endpoint authentication: private_key_jwt\n",
        "  JWKS URL: https://clozapine.example.org/.well-known/jwks.json\n",
        "  signing algorithm: ES384\n",
        "  scopes: system/Patient.rs system/MedicationRequest.rs system/Medication.rs",
        "  Bulk Data export: Group/[id]/$export",
    ):
        assert line in backend


def test_registration_sheet_of_a_public_client_says_what_it_lacks(registration_env, capsys):
    assert main(["registration", "--issuer", "https://clinic.example.org/fhir/"]) == 0
    sheet = capsys.readouterr().out
    assert "  scopes (EHR launch): launch openid fhirUser patient/*.rs\n" in sheet
    authentication = next(part for part in sheet.split("\n\n") if "client type" in part)
    assert "JWKS URL" not in authentication  # only the Backend Services client signs
    assert "  client type: public (PKCE S256, no secret)\n" in sheet
    assert (
        "  client_id: not registered yet: register a client with these values, then set"
        " backend_client_id\n" in sheet
    )
    assert "session renewal: none: the scopes ask for neither offline_access" in sheet
    assert "allowed to frame the app: none: the EHR cannot frame it" in sheet
    assert "  CDS client: none configured: set cds_client_iss" in sheet


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["registration"], "say which issuer (--issuer NAME): 'Example Epic', 'Clinic EHR'"),
        (["registration", "--issuer", "Nope"], "no issuer 'Nope' in SMARTAPP_ISSUERS_FILE"),
    ],
)
def test_registration_needs_a_known_issuer(registration_env, capsys, args, problem) -> None:
    assert main(args) == 2
    assert problem in capsys.readouterr().err


def test_registration_needs_the_public_base_url(registration_env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SMARTAPP_BASE_URL", "http://clozapine.example.org")
    assert main(["registration", "--issuer", "Example Epic"]) == 2
    assert "SMARTAPP_BASE_URL must be the app's https origin" in capsys.readouterr().err


def test_registration_sheet_names_the_worklist_sign_in(registration_env, capsys) -> None:
    assert main(["registration", "--issuer", "Example Epic"]) == 0
    part = capsys.readouterr().out.split("Worklist", 1)[1].split("Client authentication")[0]
    for line in (
        "  redirect URI: https://clozapine.example.org/worklist/callback\n",
        "  standalone launch URL: https://clozapine.example.org/worklist/standalone"
        "?iss=https://fhir.example.org/api/FHIR/R4\n",
        "  scopes (standalone launch): openid fhirUser\n",
    ):
        assert line in part
