"""The write-back ledger: one row per identifier, one writer among concurrent identical claims."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from smartapp.db import WritebackKey, WritebackLedger
from smartapp.db.models import WritebackEntryRow

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
KEY = WritebackKey(
    iss="https://ehr.example.org/fhir",
    patient="Patient/pt-1",
    finding_code="monitoring-overdue",
    period_key="2026-11-20",
    identifier_system="https://smartapp.example.org/finding",
    identifier_value="pt-1|monitoring-overdue|2026-11-20",
    resource_type="Flag",
)


def _count(database) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(WritebackEntryRow)).scalar())


def test_ledger_twenty_concurrent_identical_claims_leave_one_row_and_one_writer(database):
    ledger = WritebackLedger(database)
    barrier = threading.Barrier(20)

    def claim(_: int):
        barrier.wait()
        return ledger.claim(KEY, now=NOW)

    with ThreadPoolExecutor(max_workers=20) as pool:
        claims = list(pool.map(claim, range(20)))
    assert _count(database) == 1
    assert [c.write for c in claims].count(True) == 1
    assert {c.entry.id for c in claims} == {claims[0].entry.id}


def test_ledger_written_entry_is_not_written_again(database):
    ledger = WritebackLedger(database)
    first = ledger.claim(KEY, now=NOW)
    ledger.mark_written(first.entry.id, "flag-123", now=NOW)
    again = ledger.claim(KEY, now=NOW + timedelta(hours=1))
    assert not again.write
    assert (again.entry.status, again.entry.resource_id) == ("written", "flag-123")


def test_ledger_failed_entry_is_retried_once_with_attempts_counted(database):
    ledger = WritebackLedger(database)
    first = ledger.claim(KEY, now=NOW)
    ledger.mark_failed(first.entry.id, now=NOW)
    retry = ledger.claim(KEY, now=NOW + timedelta(seconds=1))
    other = ledger.claim(KEY, now=NOW + timedelta(seconds=2))
    assert retry.write and not other.write
    assert (retry.entry.status, retry.entry.attempts) == ("pending", 2)


def test_ledger_a_lapsed_lease_is_taken_over_within_a_minute(database):
    ledger = WritebackLedger(database)
    first = ledger.claim(KEY, now=NOW).entry
    assert not ledger.claim(KEY, now=NOW + timedelta(seconds=30)).write
    assert not ledger.lease_over(first, now=NOW + timedelta(seconds=30))
    assert ledger.lease_over(first, now=NOW + timedelta(seconds=59))
    taken = ledger.claim(KEY, now=NOW + timedelta(seconds=59))
    assert taken.write and taken.entry.attempts == 2
    assert not ledger.claim(KEY, now=NOW + timedelta(seconds=60)).write  # a new lease


def test_ledger_a_written_entry_is_reclaimed_once_when_the_ehr_lost_it(database):
    ledger = WritebackLedger(database)
    entry = ledger.claim(KEY, now=NOW).entry
    ledger.mark_written(entry.id, "flag-1", now=NOW)
    [written] = ledger.for_patient(KEY.iss, KEY.patient)
    first = ledger.reclaim(written, "Flag", now=NOW + timedelta(days=1))
    second = ledger.reclaim(written, "Flag", now=NOW + timedelta(days=1))
    assert first.write and not second.write
    assert (first.entry.status, first.entry.resource_id, first.entry.attempts) == (
        "pending",
        None,
        2,
    )


def test_ledger_same_identifier_at_another_ehr_is_another_row(database):
    ledger = WritebackLedger(database)
    assert ledger.claim(KEY, now=NOW).write
    assert ledger.claim(replace(KEY, iss="https://other.example.org/fhir"), now=NOW).write
    assert _count(database) == 2


def test_ledger_statuses_and_patient_history(database):
    ledger = WritebackLedger(database)
    first = ledger.claim(KEY, now=NOW)
    second = ledger.claim(replace(KEY, identifier_value="v2", resource_type="Task"), now=NOW)
    ledger.mark_status(first.entry.id, "inactive", now=NOW + timedelta(days=1))
    ledger.mark_status(second.entry.id, "completed", now=NOW + timedelta(days=1))
    history = ledger.for_patient(KEY.iss, KEY.patient)
    assert [(e.key.resource_type, e.status) for e in history] == [
        ("Flag", "inactive"),
        ("Task", "completed"),
    ]
    assert history[0].updated_at == NOW + timedelta(days=1) and history[0].created_at == NOW
    assert ledger.find(KEY.iss, KEY.identifier_system, "missing") is None


def test_ledger_refuses_an_unknown_status(database):
    ledger = WritebackLedger(database)
    entry = ledger.claim(KEY, now=NOW).entry
    with pytest.raises(ValueError, match="ledger status"):
        ledger.mark_status(entry.id, "done")
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(text("UPDATE writeback_ledger SET status = 'done'"))
