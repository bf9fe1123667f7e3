"""The audit trail: who did what to which record, written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartapp.db.base import utc_now
from smartapp.db.database import Database
from smartapp.db.models import AuditEventRow


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit row at one EHR (`iss`). `target` is a FHIR reference or a registry record's
    name; `before` and `after` hold references and registry fields only (never tokens, names of
    patients or notes).
    """

    actor: str
    action: str
    target: str
    iss: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request_id: str | None = None
    at: datetime | None = None


def add_audit_event(session: Session, event: AuditEvent) -> None:
    """Add the row to a session, so it commits (or rolls back) with the change it records."""
    session.add(
        AuditEventRow(
            at=event.at or utc_now(),
            actor=event.actor,
            iss=event.iss,
            action=event.action,
            target=event.target,
            before=event.before,
            after=event.after,
            request_id=event.request_id,
        )
    )


class AuditLog:
    """Write standalone events (a view, a write-back) and read the trail back."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, event: AuditEvent) -> None:
        """Write one event in its own transaction."""
        with self._database.transaction() as session:
            add_audit_event(session, event)

    def events(
        self,
        iss: str,
        *,
        target: str | None = None,
        action_prefix: str | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """The latest events at one EHR, newest first, optionally for one target or for the
        actions starting with `action_prefix` (`registry.`)."""
        query = (
            select(AuditEventRow)
            .where(AuditEventRow.iss == iss)
            .order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc())
        )
        if target is not None:
            query = query.where(AuditEventRow.target == target)
        if action_prefix is not None:
            query = query.where(AuditEventRow.action.startswith(action_prefix, autoescape=True))
        with self._database.transaction() as session:
            rows = session.execute(query.limit(limit)).scalars()
            return [
                AuditEvent(
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    iss=row.iss,
                    before=row.before,
                    after=row.after,
                    request_id=row.request_id,
                    at=row.at,
                )
                for row in rows
            ]
