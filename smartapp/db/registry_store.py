"""The program registry in the database, per EHR: JSON import/export, the engine's view, edits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from clozapine import PatientFacts, Registry
from clozapine.registry import normalise_reference
from smartapp.db.audit import AuditEvent, add_audit_event
from smartapp.db.base import utc_now
from smartapp.db.database import Database
from smartapp.db.registry_models import (
    PatientEnrollmentRow,
    PharmacyRow,
    PrescriberRow,
    StatusFormRow,
)
from smartapp.db.registry_records import (
    EnrollmentRecord,
    PharmacyRecord,
    PrescriberRecord,
    RegistryRecord,
    RegistryRecords,
    StatusFormRecord,
    records_from_json,
)

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """How many records an import created, changed, and found already as written."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class _Change:
    iss: str
    actor: str
    request_id: str | None
    now: datetime


class RegistryStore:
    """The registry behind the app, kept per EHR: every read and write names the issuer (`iss`)
    whose references it holds, so a record of one EHR never counts at another. Every change
    writes an audit event at that EHR in its transaction.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def import_json(
        self, iss: str, document: Any, *, actor: str, request_id: str | None = None
    ) -> ImportSummary:
        """Merge a registry document (the contract's shape plus extras) in one transaction.

        Records are matched on their key (practitioner; organization; patient and date) and
        created or updated; records absent from the document are kept. RegistryFormatError for
        a malformed document, before anything is written.
        """
        records = records_from_json(document)
        change = _Change(iss, actor, request_id, utc_now())
        outcomes: dict[Outcome, int] = {"created": 0, "updated": 0, "unchanged": 0}
        with self._database.transaction() as session:
            for record in records.all():
                outcomes[_upsert(session, record, change)] += 1
        return ImportSummary(**outcomes)

    def export(self, iss: str) -> dict[str, list[dict[str, Any]]]:
        """Every record of one EHR, in the order first stored, in the shape `import_json` reads."""
        with self._database.transaction() as session:
            return RegistryRecords(
                prescribers=tuple(_all(session, iss, PrescriberRecord)),
                pharmacies=tuple(_all(session, iss, PharmacyRecord)),
                patients=tuple(_all(session, iss, EnrollmentRecord)),
                status_forms=tuple(_all(session, iss, StatusFormRecord)),
            ).to_json()

    def registry_for(
        self,
        iss: str,
        patient_reference: str,
        prescriber_reference: str | None = None,
        pharmacy_reference: str | None = None,
    ) -> Registry:
        """The records the engine reads for one patient whose current order names this
        prescriber and pharmacy: the engine gives the same result as with the whole registry.
        """
        return self._registry_for(
            iss,
            patient_reference,
            [] if prescriber_reference is None else [prescriber_reference],
            [] if pharmacy_reference is None else [pharmacy_reference],
        )

    def registry_for_facts(
        self, iss: str, facts: PatientFacts, also_prescribers: Iterable[str | None] = ()
    ) -> Registry:
        """`registry_for` the patient and every prescriber and pharmacy on their orders, plus
        `also_prescribers` (the signed-in user, whose certification the page shows), in one read.
        """
        prescribers = [o.prescriber for o in facts.orders if o.prescriber is not None]
        return self._registry_for(
            iss,
            facts.patient,
            [*prescribers, *(p for p in also_prescribers if p is not None)],
            [o.pharmacy for o in facts.orders if o.pharmacy is not None],
        )

    def upsert_prescriber(
        self,
        iss: str,
        practitioner_reference: str,
        certified_on: date,
        *,
        actor: str,
        expires_on: date | None = None,
        display_name: str | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Create or update a prescriber's certification; returns created/updated/unchanged."""
        reference = normalise_reference(practitioner_reference)
        record = PrescriberRecord(reference, certified_on, expires_on, display_name)
        return self._save(iss, record, actor, request_id)

    def upsert_pharmacy(
        self,
        iss: str,
        organization_reference: str,
        certified_on: date,
        *,
        actor: str,
        expires_on: date | None = None,
        name: str | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Create or update a pharmacy's certification; returns created/updated/unchanged."""
        reference = normalise_reference(organization_reference)
        return self._save(
            iss, PharmacyRecord(reference, certified_on, expires_on, name), actor, request_id
        )

    def record_enrollment(
        self,
        iss: str,
        patient_reference: str,
        enrolled_on: date,
        *,
        actor: str,
        prescriber_reference: str | None = None,
        status: str = "active",
        expires_on: date | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Record (or correct) the patient's enrollment on a date; returns the outcome."""
        prescriber = (
            None if prescriber_reference is None else normalise_reference(prescriber_reference)
        )
        record = EnrollmentRecord(
            normalise_reference(patient_reference), enrolled_on, prescriber, status, expires_on
        )
        return self._save(iss, record, actor, request_id)

    def record_status_form(
        self,
        iss: str,
        patient_reference: str,
        submitted_on: date,
        *,
        actor: str,
        anc_reported_per_ul: int | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Record (or correct) a status form submitted on a date; returns the outcome."""
        record = StatusFormRecord(
            normalise_reference(patient_reference), submitted_on, anc_reported_per_ul
        )
        return self._save(iss, record, actor, request_id)

    def _save(
        self, iss: str, record: RegistryRecord, actor: str, request_id: str | None
    ) -> Outcome:
        # One validation path for the admin page and the import: the record read as JSON.
        records_from_json(_alone(record))
        with self._database.transaction() as session:
            return _upsert(session, record, _Change(iss, actor, request_id, utc_now()))

    def _registry_for(
        self, iss: str, patient: str, prescribers: Iterable[str], pharmacies: Iterable[str]
    ) -> Registry:
        patient = normalise_reference(patient)
        practitioners = sorted({normalise_reference(r) for r in prescribers})
        organizations = sorted({normalise_reference(r) for r in pharmacies})
        with self._database.transaction() as session:
            records = RegistryRecords(
                prescribers=tuple(
                    _all(
                        session,
                        iss,
                        PrescriberRecord,
                        PrescriberRow.practitioner_reference.in_(practitioners),
                    )
                ),
                pharmacies=tuple(
                    _all(
                        session,
                        iss,
                        PharmacyRecord,
                        PharmacyRow.organization_reference.in_(organizations),
                    )
                ),
                patients=tuple(
                    _all(
                        session,
                        iss,
                        EnrollmentRecord,
                        PatientEnrollmentRow.patient_reference == patient,
                    )
                ),
                status_forms=tuple(
                    _all(session, iss, StatusFormRecord, StatusFormRow.patient_reference == patient)
                ),
            )
        return Registry(
            prescribers=tuple(r.for_engine() for r in records.prescribers),
            pharmacies=tuple(r.for_engine() for r in records.pharmacies),
            patients=tuple(r.for_engine() for r in records.patients),
            status_forms=tuple(r.for_engine() for r in records.status_forms),
        )


def _alone(record: RegistryRecord) -> dict[str, list[dict[str, Any]]]:
    return {record.LIST: [record.to_json()]}


def _all(session: Session, iss: str, record_type: Any, *where: Any) -> list[Any]:
    """One EHR's records of one type, in the order first stored (an export keeps the import's
    order)."""
    table = record_type.TABLE
    query = select(table).where(table.iss == iss, *where).order_by(table.id)
    rows = session.execute(query).scalars()
    return [record_type.from_row(row) for row in rows]


def _upsert(session: Session, record: RegistryRecord, change: _Change) -> Outcome:
    """Create or update the record's row, with an audit event; 'created', 'updated', 'unchanged'."""
    table = type(record).TABLE
    row = session.execute(
        select(table).filter_by(iss=change.iss, **record.key())
    ).scalar_one_or_none()
    before = None if row is None else type(record).from_row(row).to_json()
    after = record.to_json()
    if before == after:
        return "unchanged"
    values = {**record.columns(), "iss": change.iss, "updated_at": change.now}
    if row is None:
        session.add(table(**values))
    else:
        for column, value in values.items():
            setattr(row, column, value)
    add_audit_event(
        session,
        AuditEvent(
            actor=change.actor,
            action=f"registry.{table.__tablename__}.{'create' if row is None else 'update'}",
            target=record.target(),
            iss=change.iss,
            before=before,
            after=after,
            request_id=change.request_id,
            at=change.now,
        ),
    )
    return "created" if row is None else "updated"
