"""Stored worklist runs: written whole, read per EHR in worklist order, purged by age."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from smartapp.commands.cli import main
from smartapp.db import SecretCipher, SecretKeyError, StoredPatient, StoredRun, WorklistRuns
from smartapp.db.retention import purge_past_retention
from smartapp.db.worklist_models import WorklistPatientRow

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
ISS_A = "https://a.example.org/fhir"
ISS_B = "https://b.example.org/fhir"


def _run(run_id: str, iss: str, finished: datetime, patients: int) -> StoredRun:
    return StoredRun(
        run_id=run_id,
        iss=iss,
        group_id="clinic",
        started_at=finished - timedelta(minutes=5),
        finished_at=finished,
        export_time=finished.isoformat(),
        as_of=finished.date(),
        policy="us-label-2025",
        patients=patients,
        counts={"by_status": {"action-required": 1, "ok": patients - 1}, "incomplete": 1},
    )


def _patient(n: int) -> StoredPatient:
    return StoredPatient(
        patient=f"Patient/p{n}",
        overall="action-required" if n == 0 else "ok",
        name=f"Name {n}",
        mrn=f"MRN{n}",
        phone=f"+1 555 010 {n:04d}" if n % 2 else "",
        prescriber="Dr X (Practitioner/x)",
        next_due=date(2026, 11, 20 + n % 5) if n % 3 else None,
        days_overdue=n % 4 or None,
        data_complete=n != 2,
        evaluation_json=f'{{"patient": "Patient/p{n}", "overall": "ok"}}',
    )


def _patient_rows(database) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(WorklistPatientRow)).scalar())


def test_worklist_runs_latest_run_and_its_patients_in_order_per_issuer(database, cipher):
    runs = WorklistRuns(database, cipher)
    runs.save(_run("r1", ISS_A, NOW - timedelta(days=1), 3), [_patient(n) for n in range(3)])
    runs.save(_run("r2", ISS_A, NOW, 1200), (_patient(n) for n in range(1200)))
    runs.save(_run("r3", ISS_B, NOW + timedelta(hours=1), 1), [_patient(9)])
    latest = runs.latest(ISS_A)
    assert latest == _run("r2", ISS_A, NOW, 1200)
    stored = runs.patients(ISS_A, "r2")
    assert [p.patient for p in stored] == [f"Patient/p{n}" for n in range(1200)]
    assert stored[2] == _patient(2) and stored[2].data_complete is False
    page = runs.patients(ISS_A, "r2", offset=100, limit=50)
    assert [p.patient for p in page] == [f"Patient/p{n}" for n in range(100, 150)]
    assert runs.patients(ISS_B, "r2") == []  # another EHR never reads this run
    assert [r.run_id for r in runs.runs(ISS_A)] == ["r2", "r1"]
    assert runs.latest("https://c.example.org/fhir") is None


def test_worklist_runs_older_than_the_retention_are_purged_with_their_patients(database, cipher):
    runs = WorklistRuns(database, cipher)
    runs.save(_run("old", ISS_A, NOW - timedelta(days=40), 2), [_patient(0), _patient(1)])
    runs.save(_run("new", ISS_A, NOW - timedelta(days=2), 1), [_patient(0)])
    purged = purge_past_retention(
        database,
        now=NOW,
        session_retention=timedelta(days=1),
        audit_retention=timedelta(days=365),
        worklist_retention=timedelta(days=30),
    )
    assert purged.worklist_runs == 1
    assert [r.run_id for r in runs.runs(ISS_A)] == ["new"]
    assert _patient_rows(database) == 1


def test_purge_command_reads_the_worklist_retention(
    database_url, database, cipher, monkeypatch, capsys
):
    runs = WorklistRuns(database, cipher)
    now = datetime.now(UTC)
    runs.save(_run("old", ISS_A, now - timedelta(days=8), 1), [_patient(0)])
    runs.save(_run("new", ISS_A, now - timedelta(days=6), 1), [_patient(0)])
    monkeypatch.setenv("SMARTAPP_WORKLIST_RETENTION_DAYS", "7")
    assert main(["db", "purge", "--database-url", database_url]) == 0
    assert ", 1 worklist runs before " in capsys.readouterr().out
    assert [r.run_id for r in runs.runs(ISS_A)] == ["new"]


def test_worklist_runs_query_filters_sorts_pages_and_counts_on_every_backend(database, cipher):
    from smartapp.db.worklist_runs import PatientQuery

    runs = WorklistRuns(database, cipher)
    runs.save(_run("r1", ISS_A, NOW, 12), [_patient(n) for n in range(12)])
    runs.save(_run("r2", ISS_B, NOW, 1), [_patient(0)])
    every = runs.query(ISS_A, "r1", PatientQuery(), offset=0, limit=5)
    assert every.total == 12 and [p.patient for p in every.patients] == [
        f"Patient/p{n}" for n in range(5)
    ]
    urgent = runs.query(ISS_A, "r1", PatientQuery(status="action-required"), offset=0, limit=None)
    assert [p.patient for p in urgent.patients] == ["Patient/p0"]
    incomplete = runs.query(
        ISS_A, "r1", PatientQuery(status="data-incomplete"), offset=0, limit=None
    )
    assert [p.patient for p in incomplete.patients] == ["Patient/p2"]
    due = runs.query(ISS_A, "r1", PatientQuery(due_by=date(2026, 11, 21)), offset=0, limit=None)
    assert {p.next_due for p in due.patients} <= {None, date(2026, 11, 20), date(2026, 11, 21)}
    assert any(p.next_due is None for p in due.patients)
    by_due = runs.query(ISS_A, "r1", PatientQuery(sort="next_due"), offset=0, limit=None).patients
    undated = [p for p in by_due if p.next_due is None]
    dated = [p.next_due for p in by_due if p.next_due is not None]
    assert by_due[: len(undated)] == undated and dated == sorted(dated)
    by_status = runs.query(
        ISS_A, "r1", PatientQuery(sort="status", descending=True), offset=0, limit=None
    ).patients
    assert by_status[-1].patient == "Patient/p0"
    assert runs.status_counts(ISS_A, "r1") == {
        ("action-required", True): 1,
        ("ok", True): 10,
        ("ok", False): 1,
    }
    assert runs.prescribers(ISS_A, "r1") == ["Dr X (Practitioner/x)"]
    assert runs.query(ISS_B, "r1", PatientQuery(), offset=0, limit=None).total == 0


def test_worklist_patients_keep_no_name_mrn_phone_or_evaluation_in_plain_text(database, cipher):
    runs = WorklistRuns(database, cipher)
    cut = replace(_patient(3), problems=("1.Observation.ndjson:7 names it but could not be read",))
    runs.save(_run("r1", ISS_A, NOW, 2), [_patient(1), cut])
    with database.transaction() as session:
        stored = repr(session.execute(select(WorklistPatientRow)).scalars().all())
        raw = [row.phi_encrypted for row in session.execute(select(WorklistPatientRow)).scalars()]
    assert all(text not in stored + repr(raw) for text in ("Name 1", "MRN3", "555", '"overall"'))
    assert runs.patients(ISS_A, "r1") == [_patient(1), cut]
    other = WorklistRuns(database, SecretCipher(SecretCipher.generate_key()))
    with pytest.raises(SecretKeyError):
        other.patients(ISS_A, "r1")
