"""The stored worklist runs: write a run whole, read an EHR's latest run and its patients.

A patient's name, MRN, phone and evaluation are stored as one ciphertext (the app's token key);
ordering by name therefore reads and decrypts the matching rows' names (10,000 in a fraction of
a second) and then reads only the page's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, case, func, insert, or_, select

from smartapp.db.crypto import SecretCipher
from smartapp.db.database import Database
from smartapp.db.worklist_models import WorklistPatientRow, WorklistRunRow

# Rows inserted per statement: a population of 10,000 goes in ten statements.
BATCH = 1000
# The overall statuses, most urgent first (the worklist's order, population.md).
STATUS_ORDER = ("action-required", "attention", "ok", "not-applicable")
SORTS = ("urgency", "status", "name", "prescriber", "next_due")


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
    """One patient of a run: the evaluation JSON and the cells beside it; `problems` says what
    of its records could not be read (file and line) when `data_complete` is false."""

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
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """Which of a run's patients a page shows, and in which order.

    `status` is an overall status, or `data-incomplete` for the patients whose records could
    not all be read; `due_by` keeps the patients due on or before that day and those with no
    due date at all (no ANC on file: due now). Every sort ends in worklist order.
    """

    status: str | None = None
    prescriber: str | None = None
    due_by: date | None = None
    sort: str = "urgency"
    descending: bool = False


@dataclass(frozen=True, slots=True)
class PatientPage:
    """One page of a run's patients and how many match the query in all."""

    total: int
    patients: list[StoredPatient]


class WorklistRuns:
    """Runs of every EHR; each read names the EHR (`iss`) and sees only its runs."""

    def __init__(self, database: Database, cipher: SecretCipher) -> None:
        self._database = database
        self._cipher = cipher

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
            rows = (_row(run, n, p, self._cipher) for n, p in enumerate(patients))
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
            return [_patient(row, self._cipher) for row in session.execute(query).scalars()]

    def query(
        self, iss: str, run_id: str, query: PatientQuery, *, offset: int, limit: int | None
    ) -> PatientPage:
        """The patients matching `query`, in its order; a page of them with offset and limit."""
        where = _where(iss, run_id, query)
        if query.sort == "name":
            return self._by_name(where, query.descending, offset, limit)
        count = select(func.count()).select_from(WorklistPatientRow).where(*where)
        rows = (
            select(WorklistPatientRow)
            .where(*where)
            .order_by(*_order(query))
            .offset(offset)
            .limit(limit)
        )
        with self._database.transaction() as session:
            total = int(session.execute(count).scalar_one())
            found = [_patient(row, self._cipher) for row in session.execute(rows).scalars()]
            return PatientPage(total, found)

    def _by_name(
        self,
        where: list[ColumnElement[bool]],
        descending: bool,
        offset: int,
        limit: int | None,
    ) -> PatientPage:
        """Ordered by the decrypted names (then worklist order), the page's rows read after."""
        table = WorklistPatientRow
        keys = select(table.position, table.phi_encrypted).where(*where)
        with self._database.transaction() as session:
            named = [
                (_phi(encrypted, self._cipher)["name"], position)
                for position, encrypted in session.execute(keys).all()
            ]
            named.sort(reverse=descending)
            chosen = [
                position
                for _, position in named[offset : None if limit is None else offset + limit]
            ]
            rows = session.execute(select(table).where(*where, table.position.in_(chosen)))
            by_position = {row.position: row for row in rows.scalars()}
            found = [_patient(by_position[p], self._cipher) for p in chosen]
            return PatientPage(len(named), found)

    def status_counts(self, iss: str, run_id: str) -> dict[tuple[str, bool], int]:
        """How many of the run's patients have each (overall status, data complete) pair."""
        table = WorklistPatientRow
        query = (
            select(table.overall, table.data_complete, func.count())
            .where(table.iss == iss, table.run_id == run_id)
            .group_by(table.overall, table.data_complete)
        )
        with self._database.transaction() as session:
            return {(str(o), bool(c)): int(n) for o, c, n in session.execute(query).all()}

    def prescribers(self, iss: str, run_id: str) -> list[str]:
        """The prescribers the run's patients name, sorted ("" when an order names none)."""
        query = (
            select(WorklistPatientRow.prescriber)
            .where(WorklistPatientRow.iss == iss, WorklistPatientRow.run_id == run_id)
            .distinct()
            .order_by(WorklistPatientRow.prescriber)
        )
        with self._database.transaction() as session:
            return [str(p) for p in session.execute(query).scalars()]


def _where(iss: str, run_id: str, query: PatientQuery) -> list[ColumnElement[bool]]:
    table = WorklistPatientRow
    where: list[ColumnElement[bool]] = [table.iss == iss, table.run_id == run_id]
    if query.status == "data-incomplete":
        where.append(table.data_complete.is_(False))
    elif query.status is not None:
        where.append(table.overall == query.status)
    if query.prescriber is not None:
        where.append(table.prescriber == query.prescriber)
    if query.due_by is not None:
        where.append(or_(table.next_due.is_(None), table.next_due <= query.due_by))
    return where


def _order(query: PatientQuery) -> list[Any]:
    table = WorklistPatientRow
    rank = case(
        {status: n for n, status in enumerate(STATUS_ORDER)},
        value=table.overall,
        else_=len(STATUS_ORDER),
    )
    # No due date (no ANC on file) is the most urgent: it sorts before every date.
    undated = case((table.next_due.is_(None), 0), else_=1)
    keys: dict[str, list[Any]] = {
        "urgency": [],
        "status": [rank],
        "prescriber": [table.prescriber],
        "next_due": [undated, table.next_due],
    }
    chosen = keys[query.sort] if query.sort in keys else []
    position = table.position
    if query.descending:
        return [key.desc() for key in chosen] + [position.desc()]
    return [*chosen, position]


def _row(
    run: StoredRun, position: int, patient: StoredPatient, cipher: SecretCipher
) -> dict[str, Any]:
    phi = {
        "name": patient.name,
        "mrn": patient.mrn,
        "phone": patient.phone,
        "evaluation": patient.evaluation_json,
        "problems": list(patient.problems),
    }
    return {
        "run_id": run.run_id,
        "position": position,
        "iss": run.iss,
        "patient": patient.patient,
        "overall": patient.overall,
        "prescriber": patient.prescriber,
        "next_due": patient.next_due,
        "days_overdue": patient.days_overdue,
        "data_complete": patient.data_complete,
        "phi_encrypted": cipher.encrypt(json.dumps(phi, ensure_ascii=False)),
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


def _phi(encrypted: str, cipher: SecretCipher) -> dict[str, Any]:
    opened: dict[str, Any] = json.loads(cipher.decrypt(encrypted))
    return opened


def _patient(row: WorklistPatientRow, cipher: SecretCipher) -> StoredPatient:
    phi = _phi(row.phi_encrypted, cipher)
    return StoredPatient(
        patient=row.patient,
        overall=row.overall,
        name=phi["name"],
        mrn=phi["mrn"],
        phone=phi["phone"],
        prescriber=row.prescriber,
        next_due=row.next_due,
        days_overdue=row.days_overdue,
        data_complete=row.data_complete,
        evaluation_json=phi["evaluation"],
        problems=tuple(str(p) for p in phi.get("problems") or ()),
    )
