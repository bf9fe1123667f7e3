"""Retention: delete the rows kept past their time (`smartapp db purge`, run from a scheduler).

Ended launch sessions (with the evaluation last shown in them, encrypted) go once they ended
(expired, revoked or idle past the idle timeout) longer ago than the session retention, pending
launches once expired, audit events and the CDS cards answered once older than the audit
retention, CDS JWT ids once their JWT expired, stored worklist runs (with their patients) once
older than the worklist retention. The write-back ledger is kept: it is what makes a write happen
exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select

from smartapp.db.cds_models import CdsCardRow, CdsJwtIdRow
from smartapp.db.database import Database
from smartapp.db.models import AuditEventRow, LaunchSessionRow, PendingLaunchRow
from smartapp.db.sessions import DEFAULT_IDLE_TIMEOUT
from smartapp.db.worklist_models import WorklistPatientRow, WorklistRunRow


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows of each kind one purge deleted."""

    sessions: int
    pending_launches: int
    audit_events: int
    cds_cards: int = 0
    cds_jwt_ids: int = 0
    worklist_runs: int = 0


def purge_past_retention(
    database: Database,
    *,
    now: datetime,
    session_retention: timedelta,
    audit_retention: timedelta,
    session_idle: timedelta = DEFAULT_IDLE_TIMEOUT,
    worklist_retention: timedelta | None = None,
) -> Purged:
    """Delete, in one transaction, every row past its retention on `now`; how many went."""
    ended_before = now - session_retention
    sessions = delete(LaunchSessionRow).where(
        or_(
            LaunchSessionRow.expires_at <= ended_before,
            LaunchSessionRow.revoked_at <= ended_before,
            LaunchSessionRow.last_seen_at <= ended_before - session_idle,
        )
    )
    pending = delete(PendingLaunchRow).where(PendingLaunchRow.expires_at <= now)
    audit = delete(AuditEventRow).where(AuditEventRow.at < now - audit_retention)
    cards = delete(CdsCardRow).where(CdsCardRow.issued_at < now - audit_retention)
    jwt_ids = delete(CdsJwtIdRow).where(CdsJwtIdRow.expires_at < now)
    statements = [sessions, pending, audit, cards, jwt_ids]
    if worklist_retention is not None:
        old_runs = select(WorklistRunRow.id).where(
            WorklistRunRow.finished_at < now - worklist_retention
        )
        # The patients first: SQLite honours ON DELETE CASCADE only with its pragma set.
        statements.append(delete(WorklistPatientRow).where(WorklistPatientRow.run_id.in_(old_runs)))
        statements.append(delete(WorklistRunRow).where(WorklistRunRow.id.in_(old_runs)))
    with database.transaction() as session:
        counts = [_count(session.execute(s)) for s in statements]
    runs = counts[6] if worklist_retention is not None else 0
    sessions_n, pending_n, audit_n, cards_n, jwt_ids_n = counts[:5]
    return Purged(
        sessions_n, pending_n, audit_n, cds_cards=cards_n, cds_jwt_ids=jwt_ids_n, worklist_runs=runs
    )


def _count(result: Any) -> int:
    return int(result.rowcount)
