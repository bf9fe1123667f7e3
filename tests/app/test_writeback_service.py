"""One write, exactly once: ledger claim, conditional create, audit; faked EHR, both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses

from fhir_client import FhirClient
from fhir_mappings.outbound import Authorship, WritebackTarget, writeback_targets
from smartapp.db import AuditLog, WritebackKey, WritebackLedger
from smartapp.db.base import utc_now
from smartapp.writeback import EhrWriter, OutcomeKind, WriteDecision, write_target
from tests.unit.test_outbound_identity import OVERDUE
from tests.unit.test_outbound_resources import WRITTEN_AT

BASE = "https://ehr.example.org/fhir"
SYSTEM = "urn:test:writeback"
FLAG = WriteDecision("Flag", conditional=True)
AUTHOR = Authorship({"reference": "Practitioner/dr-a"}, WRITTEN_AT)
TARGET: WritebackTarget = writeback_targets(OVERDUE, ("monitoring-overdue",), SYSTEM)[0]


class FakeClock:
    """Time that moves only when the writer sleeps; `on_sleep` runs at each sleep."""

    def __init__(self, on_sleep=None) -> None:
        self.now = 0.0
        self.on_sleep = on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


@pytest.fixture(name="fake")
def fake_fixture():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def make_writer(database, clock: FakeClock | None = None) -> EhrWriter:
    clock = clock or FakeClock()
    return EhrWriter(
        iss=BASE,
        patient="Patient/pt-1",
        actor="Practitioner/dr-a",
        ledger=WritebackLedger(database),
        client=FhirClient(BASE, lambda: "token", max_retries=0),
        request_id="req-1",
        sleep=clock.sleep,
        clock=clock,
    )


def created(fake, status: int = 201, resource_id: str = "f1") -> None:
    fake.add(
        responses.POST,
        f"{BASE}/Flag",
        json={"resourceType": "Flag", "id": resource_id},
        status=status,
    )


def test_writeback_service_creates_once_records_ledger_and_audit(database, fake) -> None:
    created(fake)
    writer = make_writer(database)
    outcome = write_target(writer, FLAG, TARGET, AUTHOR)
    assert (outcome.kind, outcome.reference) == (OutcomeKind.CREATED, "Flag/f1")
    sent = fake.calls[0].request
    assert sent.headers["If-None-Exist"] == TARGET.search
    body = json.loads(sent.body)
    assert body["identifier"] == [TARGET.identifier] and body["status"] == "active"
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert (entry.status, entry.resource_id, entry.key.period_key) == (
        "written",
        "f1",
        "2026-11-22",
    )
    [event] = AuditLog(database).events(BASE)
    assert (event.actor, event.action, event.target, event.iss) == (
        "Practitioner/dr-a",
        "writeback-create",
        "Flag/f1",
        BASE,
    )
    assert event.after is not None and event.after["finding"] == "monitoring-overdue"

    again = write_target(writer, FLAG, TARGET, AUTHOR)  # no second POST: the mock would fail
    assert (again.kind, again.reference) == (OutcomeKind.EXISTING, "Flag/f1")
    assert "already in the chart" in again.message


def test_writeback_service_conditional_match_is_already_in_the_chart(database, fake) -> None:
    created(fake, status=200, resource_id="f0")
    writer = make_writer(database)
    outcome = write_target(writer, FLAG, TARGET, AUTHOR)
    assert (outcome.kind, outcome.reference) == (OutcomeKind.EXISTING, "Flag/f0")
    assert [e.action for e in AuditLog(database).events(BASE)] == ["writeback-found"]


def searched(fake, *flags: dict[str, object]) -> None:
    fake.add(
        responses.GET,
        f"{BASE}/Flag",
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": f} for f in flags],
        },
    )


def test_writeback_service_without_conditional_create_searches_then_creates(database, fake):
    searched(fake)
    created(fake)
    outcome = write_target(make_writer(database), WriteDecision("Flag"), TARGET, AUTHOR)
    assert (outcome.kind, outcome.reference) == (OutcomeKind.CREATED, "Flag/f1")
    search, create = (call.request for call in fake.calls)
    assert search.method == "GET"
    assert search.params["patient"] == "pt-1"
    assert search.params["identifier"] == TARGET.search.split("=", 1)[1]
    assert create.method == "POST" and "If-None-Exist" not in create.headers


def test_writeback_service_without_conditional_create_finds_another_databases_flag(database, fake):
    # Written earlier by another app database: the search finds it, nothing is created.
    searched(
        fake,
        {
            "resourceType": "Flag",
            "id": "other",
            "status": "entered-in-error",
            "identifier": [TARGET.identifier],
        },
        {"resourceType": "Flag", "id": "f7", "status": "active", "identifier": [TARGET.identifier]},
    )
    writer = make_writer(database)
    outcome = write_target(writer, WriteDecision("Flag"), TARGET, AUTHOR)
    assert (outcome.kind, outcome.reference) == (OutcomeKind.EXISTING, "Flag/f7")
    assert [call.request.method for call in fake.calls] == ["GET"]
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert (entry.status, entry.resource_id) == ("written", "f7")
    assert [e.action for e in AuditLog(database).events(BASE)] == ["writeback-found"]


def test_writeback_service_search_failure_writes_nothing_and_may_retry(database, fake):
    fake.add(responses.GET, f"{BASE}/Flag", status=500)
    writer = make_writer(database)
    outcome = write_target(writer, WriteDecision("Flag"), TARGET, AUTHOR)
    assert outcome.kind is OutcomeKind.FAILED
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert entry.status == "failed"


def test_writeback_service_interrupted_write_recovers_once_the_lease_lapses(database, fake):
    # A worker claimed the Flag and died mid-write 50 seconds ago: its Flag reached the EHR.
    writer = make_writer(database)
    key = _key_of_target()
    writer.ledger.claim(key, now=utc_now() - timedelta(seconds=50))
    created(fake, status=200, resource_id="f3")  # If-None-Exist finds the crashed write's Flag
    outcome = write_target(writer, FLAG, TARGET, AUTHOR)
    assert (outcome.kind, outcome.reference) == (OutcomeKind.EXISTING, "Flag/f3")
    [event] = AuditLog(database).events(BASE)
    assert (event.action, event.target) == ("writeback-create", "Flag/f3")
    assert event.after is not None and event.after["confirmed_on_attempt"] == 2


def test_writeback_service_claim_within_its_lease_is_not_taken_over(database) -> None:
    writer = make_writer(database)
    writer.ledger.claim(_key_of_target(), now=utc_now() - timedelta(seconds=20))
    outcome = write_target(writer, FLAG, TARGET, AUTHOR)
    assert outcome.kind is OutcomeKind.IN_PROGRESS


def test_writeback_service_flag_gone_from_the_ehr_is_written_again(database, fake) -> None:
    created(fake, resource_id="f1")
    writer = make_writer(database)
    write_target(writer, FLAG, TARGET, AUTHOR)
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert write_target(writer, FLAG, TARGET, AUTHOR, entry).kind is OutcomeKind.EXISTING
    fake.replace(
        responses.POST, f"{BASE}/Flag", json={"resourceType": "Flag", "id": "f2"}, status=201
    )
    again = write_target(writer, FLAG, TARGET, AUTHOR, entry, gone=True)
    assert (again.kind, again.reference) == (OutcomeKind.CREATED, "Flag/f2")
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert (entry.status, entry.resource_id, entry.attempts) == ("written", "f2", 2)
    assert [e.action for e in AuditLog(database).events(BASE)] == ["writeback-create"] * 2


def _key_of_target() -> WritebackKey:
    return WritebackKey(
        BASE,
        "Patient/pt-1",
        TARGET.finding.code,
        TARGET.period.key,
        SYSTEM,
        TARGET.identifier_value,
        "Flag",
    )


def test_writeback_service_failure_is_recorded_and_retried_later(database, fake) -> None:
    outcome_json = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid"}],
    }
    fake.add(responses.POST, f"{BASE}/Flag", json=outcome_json, status=400)
    writer = make_writer(database)
    failed = write_target(writer, FLAG, TARGET, AUTHOR)
    assert failed.kind is OutcomeKind.FAILED and failed.message.startswith("Not written: The EHR")
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert entry.status == "failed"
    assert [e.action for e in AuditLog(database).events(BASE)] == ["writeback-failed"]

    fake.replace(
        responses.POST, f"{BASE}/Flag", json={"resourceType": "Flag", "id": "f2"}, status=201
    )
    retried = write_target(writer, FLAG, TARGET, AUTHOR)
    assert (retried.kind, retried.reference) == (OutcomeKind.CREATED, "Flag/f2")
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert (entry.status, entry.attempts) == ("written", 2)


def test_writeback_service_answer_without_an_id_is_a_failure(database, fake) -> None:
    fake.add(responses.POST, f"{BASE}/Flag", body=b"", status=201)
    outcome = write_target(make_writer(database), FLAG, TARGET, AUTHOR)
    assert outcome.kind is OutcomeKind.FAILED and "did not say" in outcome.message


def test_writeback_service_cannot_write_claims_nothing(database) -> None:
    writer = make_writer(database)
    decision = WriteDecision(None, passed_over=("the EHR has no Flag resource",))
    outcome = write_target(writer, decision, TARGET, AUTHOR)
    assert outcome.kind is OutcomeKind.CANNOT and "has no Flag" in outcome.message
    assert writer.ledger.for_patient(BASE, "Patient/pt-1") == []


def _claim_first(writer: EhrWriter) -> int:
    key = WritebackKey(
        BASE,
        "Patient/pt-1",
        "monitoring-overdue",
        "2026-11-22",
        SYSTEM,
        TARGET.identifier_value,
        "Flag",
    )
    return writer.ledger.claim(key).entry.id


def test_writeback_service_loser_waits_for_the_winner_and_reports_its_flag(database) -> None:
    ledger = WritebackLedger(database)
    clock = FakeClock()
    writer = make_writer(database, clock)
    entry_id = _claim_first(writer)
    clock.on_sleep = lambda: ledger.mark_written(entry_id, "f9")
    outcome = write_target(writer, FLAG, TARGET, AUTHOR)
    assert (outcome.kind, outcome.reference) == (OutcomeKind.EXISTING, "Flag/f9")


def test_writeback_service_loser_says_in_progress_when_the_winner_is_slow(database) -> None:
    writer = make_writer(database)
    _claim_first(writer)
    outcome = write_target(writer, FLAG, TARGET, AUTHOR)
    assert outcome.kind is OutcomeKind.IN_PROGRESS
    assert "already being written" in outcome.message


def test_writeback_service_loser_reports_the_winner_failing(database) -> None:
    ledger = WritebackLedger(database)
    clock = FakeClock()
    writer = make_writer(database, clock)
    entry_id = _claim_first(writer)
    clock.on_sleep = lambda: ledger.mark_failed(entry_id)
    outcome = write_target(writer, FLAG, TARGET, AUTHOR)
    assert outcome.kind is OutcomeKind.FAILED and "Try again" in outcome.message
