"""The stored worklist runs: write a run whole, read an EHR's latest run and its patients."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import insert, select

from smartapp.db.database import Database
from smartapp.db.worklist_models import WorklistPatientRow, WorklistRunRow

# Rows inserted per statement: a population of 10,000 goes in ten statements.
BATCH = 1000


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One run as stored: which EHR and Group, when, as of which date and policy, its counts."""

    run_id: str
    iss: str
    group_id: str | None
    started_at: datetime
    finished_at: datetime
    export_time: str | None
    as_of: date
    policy: str
    patients: int
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredPatient:
    """One patient of a run: the evaluation JSON and the cells beside it."""

    patient: str
    overall: str
    name: str
    mrn: str
    phone: str
    prescriber: str
    next_due: date | None
    days_overdue: int | None
    data_complete: bool
    evaluation_json: str


class WorklistRuns:
    """Runs of every EHR; each read names the EHR (`iss`) and sees only its runs."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def save(self, run: StoredRun, patients: Iterable[StoredPatient]) -> None:
        """Store the run and its patients (in the order given) in one transaction."""
        with self._database.transaction() as session:
            session.add(
                WorklistRunRow(
                    id=run.run_id,
                    iss=run.iss,
                    group_id=run.group_id,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    export_time=run.export_time,
                    as_of=run.as_of,
                    policy=run.policy,
                    patients=run.patients,
                    counts=run.counts,
                )
            )
            session.flush()
            rows = (_row(run, n, p) for n, p in enumerate(patients))
            while batch := list(islice(rows, BATCH)):
                session.execute(insert(WorklistPatientRow), batch)

    def latest(self, iss: str) -> StoredRun | None:
        """The EHR's most recent run, or None."""
        query = (
            select(WorklistRunRow)
            .where(WorklistRunRow.iss == iss)
            .order_by(WorklistRunRow.finished_at.desc())
            .limit(1)
        )
        with self._database.transaction() as session:
            row = session.execute(query).scalar_one_or_none()
            return None if row is None else _run(row)

    def runs(self, iss: str) -> list[StoredRun]:
        """The EHR's runs, newest first."""
        query = (
            select(WorklistRunRow)
            .where(WorklistRunRow.iss == iss)
            .order_by(WorklistRunRow.finished_at.desc())
        )
        with self._database.transaction() as session:
            return [_run(row) for row in session.execute(query).scalars()]

    def patients(
        self, iss: str, run_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[StoredPatient]:
        """The run's patients in worklist order (a page of them with offset and limit)."""
        query = (
            select(WorklistPatientRow)
            .where(WorklistPatientRow.iss == iss, WorklistPatientRow.run_id == run_id)
            .order_by(WorklistPatientRow.position)
            .offset(offset)
            .limit(limit)
        )
        with self._database.transaction() as session:
            return [_patient(row) for row in session.execute(query).scalars()]


def _row(run: StoredRun, position: int, patient: StoredPatient) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "position": position,
        "iss": run.iss,
        "patient": patient.patient,
        "overall": patient.overall,
        "name": patient.name,
        "mrn": patient.mrn,
        "phone": patient.phone,
        "prescriber": patient.prescriber,
        "next_due": patient.next_due,
        "days_overdue": patient.days_overdue,
        "data_complete": patient.data_complete,
        "evaluation": patient.evaluation_json,
    }


def _run(row: WorklistRunRow) -> StoredRun:
    return StoredRun(
        run_id=row.id,
        iss=row.iss,
        group_id=row.group_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        export_time=row.export_time,
        as_of=row.as_of,
        policy=row.policy,
        patients=row.patients,
        counts=dict(row.counts),
    )


def _patient(row: WorklistPatientRow) -> StoredPatient:
    return StoredPatient(
        patient=row.patient,
        overall=row.overall,
        name=row.name,
        mrn=row.mrn,
        phone=row.phone,
        prescriber=row.prescriber,
        next_due=row.next_due,
        days_overdue=row.days_overdue,
        data_complete=row.data_complete,
        evaluation_json=row.evaluation,
    )
