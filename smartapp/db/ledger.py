"""The write-back ledger: one row per identifier written to an EHR, claimed before the write.

A claim is a lease: a pending row not finished within `LEASE` (its worker died mid-write) may
be taken over by the next request, which then finds or creates the resource at the EHR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from smartapp.db.audit import AuditEvent, add_audit_event
from smartapp.db.base import utc_now
from smartapp.db.database import Database
from smartapp.db.models import LEDGER_STATUSES, WritebackEntryRow

# Statuses of an entry whose resource the EHR accepted.
IN_CHART_STATUSES = ("written", "inactive", "completed")
# How long a claim is held: longer than one write takes (the FHIR timeout, 10 s by default, and
# a retry), short enough that a write interrupted by a crash is taken up again within a minute.
LEASE = timedelta(seconds=45)


@dataclass(frozen=True, slots=True)
class WritebackKey:
    """What identifies one write: the EHR, and the identifier put on the Flag or Task."""

    iss: str
    patient: str
    finding_code: str
    period_key: str
    identifier_system: str
    identifier_value: str
    resource_type: str


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A ledger row as callers see it."""

    id: int
    key: WritebackKey
    resource_id: str | None
    status: str
    attempts: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of `claim`: `write` is True for exactly one of several identical claims."""

    entry: LedgerEntry
    write: bool


class WritebackLedger:
    """Claim a write before sending it, then record how it went."""

    def __init__(self, database: Database, *, lease: timedelta = LEASE) -> None:
        self._database = database
        self.lease = lease

    def lease_over(self, entry: LedgerEntry, *, now: datetime | None = None) -> bool:
        """True for a pending entry whose claim lapsed: the write it stood for was interrupted."""
        return entry.status == "pending" and entry.updated_at <= (now or utc_now()) - self.lease

    def claim(self, key: WritebackKey, *, now: datetime | None = None) -> Claim:
        """Insert a pending row; if the identifier is already there, take it over only when it
        failed or its lease lapsed. Concurrent identical claims collide on the unique
        constraint, so one of them writes and the others see its row.
        """
        now = now or utc_now()
        try:
            with self._database.transaction() as session:
                row = _new_row(key, now)
                session.add(row)
                session.flush()
                return Claim(_entry(row), write=True)
        except IntegrityError:
            return self._retake(key, now)

    def reclaim(
        self, entry: LedgerEntry, resource_type: str, *, now: datetime | None = None
    ) -> Claim:
        """Claim again an entry the ledger shows in the chart but the EHR no longer holds (the
        resource was deleted there), so it is written again; one of several such claims wins."""
        now = now or utc_now()
        retake = (
            update(WritebackEntryRow)
            .where(
                WritebackEntryRow.id == entry.id,
                WritebackEntryRow.status.in_(IN_CHART_STATUSES),
                WritebackEntryRow.resource_id == entry.resource_id,
            )
            .values(
                status="pending",
                resource_id=None,
                resource_type=resource_type,
                attempts=WritebackEntryRow.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        with self._database.transaction() as session:
            taken = session.execute(retake).rowcount == 1  # type: ignore[attr-defined]
        key = entry.key
        found = self.find(key.iss, key.identifier_system, key.identifier_value)
        return Claim(found or entry, write=taken and found is not None)

    def mark_written(
        self,
        entry_id: int,
        resource_id: str,
        *,
        audit: AuditEvent | None = None,
        now: datetime | None = None,
    ) -> None:
        """The EHR accepted the resource (created, or found by If-None-Exist); `audit` is
        recorded in the same transaction."""
        self._set(entry_id, now, audit, status="written", resource_id=resource_id)

    def mark_failed(
        self, entry_id: int, *, audit: AuditEvent | None = None, now: datetime | None = None
    ) -> None:
        """The write failed; a later claim may retry it."""
        self._set(entry_id, now, audit, status="failed")

    def mark_status(
        self,
        entry_id: int,
        status: str,
        *,
        audit: AuditEvent | None = None,
        now: datetime | None = None,
    ) -> None:
        """Record a later state of the written resource (`inactive` Flag, `completed` Task)."""
        if status not in LEDGER_STATUSES:
            raise ValueError(f"ledger status {status!r} (use {', '.join(LEDGER_STATUSES)})")
        self._set(entry_id, now, audit, status=status)

    def find(self, iss: str, identifier_system: str, identifier_value: str) -> LedgerEntry | None:
        """The entry for one identifier at one EHR, if any."""
        with self._database.transaction() as session:
            row = session.execute(
                select(WritebackEntryRow).where(
                    WritebackEntryRow.iss == iss,
                    WritebackEntryRow.identifier_system == identifier_system,
                    WritebackEntryRow.identifier_value == identifier_value,
                )
            ).scalar_one_or_none()
            return None if row is None else _entry(row)

    def for_patient(self, iss: str, patient: str) -> list[LedgerEntry]:
        """Everything written for a patient at one EHR, oldest first (to retire stale Flags)."""
        with self._database.transaction() as session:
            rows = session.execute(
                select(WritebackEntryRow)
                .where(WritebackEntryRow.iss == iss, WritebackEntryRow.patient == patient)
                .order_by(WritebackEntryRow.id)
            ).scalars()
            return [_entry(row) for row in rows]

    def _retake(self, key: WritebackKey, now: datetime) -> Claim:
        retake = (
            update(WritebackEntryRow)
            .where(
                WritebackEntryRow.iss == key.iss,
                WritebackEntryRow.identifier_system == key.identifier_system,
                WritebackEntryRow.identifier_value == key.identifier_value,
                or_(
                    WritebackEntryRow.status == "failed",
                    (WritebackEntryRow.status == "pending")
                    & (WritebackEntryRow.updated_at <= now - self.lease),
                ),
            )
            .values(status="pending", attempts=WritebackEntryRow.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        with self._database.transaction() as session:
            taken = session.execute(retake).rowcount == 1  # type: ignore[attr-defined]
        entry = self.find(key.iss, key.identifier_system, key.identifier_value)
        if entry is None:  # deleted between the two statements: claim afresh
            return self.claim(key, now=now)
        return Claim(entry, write=taken)

    def _set(
        self, entry_id: int, now: datetime | None, audit: AuditEvent | None, **values: str
    ) -> None:
        with self._database.transaction() as session:
            session.execute(
                update(WritebackEntryRow)
                .where(WritebackEntryRow.id == entry_id)
                .values(updated_at=now or utc_now(), **values)
                .execution_options(synchronize_session=False)
            )
            if audit is not None:
                add_audit_event(session, audit)


def _new_row(key: WritebackKey, now: datetime) -> WritebackEntryRow:
    return WritebackEntryRow(
        iss=key.iss,
        patient=key.patient,
        finding_code=key.finding_code,
        period_key=key.period_key,
        identifier_system=key.identifier_system,
        identifier_value=key.identifier_value,
        resource_type=key.resource_type,
        resource_id=None,
        status="pending",
        attempts=1,
        created_at=now,
        updated_at=now,
    )


def _entry(row: WritebackEntryRow) -> LedgerEntry:
    key = WritebackKey(
        iss=row.iss,
        patient=row.patient,
        finding_code=row.finding_code,
        period_key=row.period_key,
        identifier_system=row.identifier_system,
        identifier_value=row.identifier_value,
        resource_type=row.resource_type,
    )
    return LedgerEntry(
        id=row.id,
        key=key,
        resource_id=row.resource_id,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
