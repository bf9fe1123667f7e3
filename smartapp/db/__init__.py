"""The app's database: models, the `Database` (engine and sessions) and the repositories."""

# Nothing on the `smartapp evaluate` path may import this package: it pulls in SQLAlchemy.

# Importing the models registers every table on Base.metadata (Alembic compares against it).
from smartapp.db import cds_models, models, registry_models, worklist_models
from smartapp.db.audit import AuditEvent, AuditLog, add_audit_event
from smartapp.db.base import Base, utc_now
from smartapp.db.crypto import SecretCipher, SecretKeyError
from smartapp.db.database import Database
from smartapp.db.launches import PendingLaunches
from smartapp.db.ledger import Claim, LedgerEntry, WritebackKey, WritebackLedger
from smartapp.db.sessions import LaunchSession, LaunchSessions, handle_hash
from smartapp.db.signing_keys import SigningKeyStore
from smartapp.db.worklist_runs import StoredPatient, StoredRun, WorklistRuns

__all__ = [
    "AuditEvent",
    "AuditLog",
    "Base",
    "Claim",
    "Database",
    "LaunchSession",
    "LaunchSessions",
    "LedgerEntry",
    "PendingLaunches",
    "SecretCipher",
    "SecretKeyError",
    "SigningKeyStore",
    "StoredPatient",
    "StoredRun",
    "WorklistRuns",
    "WritebackKey",
    "WritebackLedger",
    "add_audit_event",
    "cds_models",
    "handle_hash",
    "models",
    "registry_models",
    "utc_now",
    "worklist_models",
]
