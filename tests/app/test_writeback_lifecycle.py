"""Retiring what the app wrote once its finding no longer holds; faked EHR, both databases."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import responses

from clozapine.vocabulary import FindingCode
from smartapp.db import AuditLog, WritebackKey
from smartapp.writeback import apply_lifecycle, holding, plan_lifecycle, retire_reason
from tests.app.test_writeback_service import (  # noqa: F401 - a fixture, by name
    BASE,
    SYSTEM,
    fake_fixture,
    make_writer,
)
from tests.app_helpers import ISS
from tests.unit.cases import anc
from tests.unit.test_outbound_identity import NO_ANC, OVERDUE, evaluated, with_finding

WRITE_SCOPES = ["patient/Flag.cru", "patient/Task.cru", "patient/DocumentReference.c"]
# The patient's ANC came in today: the overdue finding of 2026-11-22 no longer holds.
CURRENT = evaluated(ancs=[anc(2500, -10), anc(2500, 0)])


def update_lifecycle(writer, scopes, evaluation, entries):
    """What a POST does: plan the changes (no I/O), then make them."""
    return apply_lifecycle(writer, plan_lifecycle(evaluation, entries, scopes))


def written(writer, resource_type: str = "Flag", code: str = "monitoring-overdue", period=None):
    key = WritebackKey(
        BASE,
        "Patient/pt-1",
        code,
        period or "2026-11-22",
        SYSTEM,
        f"pt-1/{code}/{period or '2026-11-22'}",
        resource_type,
    )
    entry = writer.ledger.claim(key).entry
    writer.ledger.mark_written(entry.id, "r1")
    return writer.ledger.for_patient(BASE, "Patient/pt-1")


def served(fake, resource_type: str, status: str, version: str = "1") -> None:
    resource = {
        "resourceType": resource_type,
        "id": "r1",
        "status": status,
        "meta": {"versionId": version},
        "period": {"start": "2026-11-23"},
    }
    fake.add(responses.GET, f"{BASE}/{resource_type}/r1", json=resource)


@pytest.mark.parametrize(
    ("resource_type", "retired"), [("Flag", "inactive"), ("Task", "completed")]
)
def test_writeback_lifecycle_retires_with_if_match_and_audits(
    database, fake, resource_type, retired
):
    writer = make_writer(database)
    entries = written(writer, resource_type)
    served(fake, resource_type, "active" if resource_type == "Flag" else "requested")
    fake.add(
        responses.PUT,
        f"{BASE}/{resource_type}/r1",
        json={"resourceType": resource_type, "id": "r1"},
    )
    [change] = update_lifecycle(writer, WRITE_SCOPES, CURRENT, entries)
    assert change.done
    assert change.message == (
        f"{resource_type}/r1 for monitoring-overdue set {retired}: the ANC came in (2026-11-25)."
    )
    put = fake.calls[1].request
    assert put.headers["If-Match"] == 'W/"1"'
    body = json.loads(put.body)
    assert body["status"] == retired and "meta" not in body
    [entry] = writer.ledger.for_patient(BASE, "Patient/pt-1")
    assert entry.status == retired
    [event] = AuditLog(database).events(ISS)
    assert (event.action, event.target) == ("writeback-retire", f"{resource_type}/r1")


def test_writeback_lifecycle_leaves_what_still_holds(database, fake) -> None:
    writer = make_writer(database)
    assert update_lifecycle(writer, WRITE_SCOPES, OVERDUE, written(writer)) == []


def test_writeback_lifecycle_already_retired_in_the_ehr_is_only_recorded(database, fake) -> None:
    writer = make_writer(database)
    entries = written(writer)
    served(fake, "Flag", "inactive")
    [change] = update_lifecycle(writer, WRITE_SCOPES, CURRENT, entries)
    assert change.done
    assert writer.ledger.for_patient(BASE, "Patient/pt-1")[0].status == "inactive"
    assert AuditLog(database).events(ISS) == []


def test_writeback_lifecycle_concurrent_retirement_is_not_an_error(database, fake) -> None:
    writer = make_writer(database)
    entries = written(writer)
    served(fake, "Flag", "active")
    fake.add(
        responses.PUT, f"{BASE}/Flag/r1", status=412, json={"resourceType": "OperationOutcome"}
    )
    fake.add(
        responses.GET,
        f"{BASE}/Flag/r1",
        json={"resourceType": "Flag", "id": "r1", "status": "inactive"},
    )
    [change] = update_lifecycle(writer, WRITE_SCOPES, CURRENT, entries)
    assert change.done and AuditLog(database).events(ISS) == []


def test_writeback_lifecycle_gone_from_the_ehr_is_recorded(database, fake) -> None:
    writer = make_writer(database)
    entries = written(writer)
    fake.add(
        responses.GET, f"{BASE}/Flag/r1", status=404, json={"resourceType": "OperationOutcome"}
    )
    [change] = update_lifecycle(writer, WRITE_SCOPES, CURRENT, entries)
    assert change.done
    assert writer.ledger.for_patient(BASE, "Patient/pt-1")[0].status == "inactive"


def test_writeback_lifecycle_without_update_scope_says_so_and_changes_nothing(database, fake):
    writer = make_writer(database)
    [change] = update_lifecycle(writer, ["patient/Flag.c"], CURRENT, written(writer))
    assert not change.done and "may not change Flag records" in change.message
    assert writer.ledger.for_patient(BASE, "Patient/pt-1")[0].status == "written"


def test_writeback_lifecycle_leaves_notes_as_written(database, fake) -> None:
    writer = make_writer(database)
    assert (
        update_lifecycle(writer, WRITE_SCOPES, CURRENT, written(writer, "DocumentReference")) == []
    )


def test_writeback_lifecycle_ehr_error_is_reported_not_raised(database, fake) -> None:
    writer = make_writer(database)
    entries = written(writer)
    fake.add(
        responses.GET, f"{BASE}/Flag/r1", status=403, json={"resourceType": "OperationOutcome"}
    )
    [change] = update_lifecycle(writer, WRITE_SCOPES, CURRENT, entries)
    assert not change.done and "refused access" in change.message
    assert writer.ledger.for_patient(BASE, "Patient/pt-1")[0].status == "written"


@pytest.mark.parametrize(
    ("code", "evaluation", "reason"),
    [
        ("monitoring-overdue", CURRENT, "the ANC came in (2026-11-25)"),
        (
            "monitoring-due",
            with_finding(OVERDUE, FindingCode.RESULT_PENDING),
            "replaced by monitoring-overdue",
        ),
        ("monitoring-overdue", OVERDUE, "superseded by the current monitoring-overdue finding"),
        ("patient-not-enrolled", CURRENT, "the program registry now has the record"),
        ("interrupt-recommended", CURRENT, "the latest ANC no longer calls for interruption"),
        ("monitoring-overdue", replace(NO_ANC, on_clozapine=False), "no longer on clozapine"),
        ("no-anc-on-file", NO_ANC, "superseded by the current no-anc-on-file finding"),
        ("some-code", CURRENT, "the finding no longer holds"),
    ],
)
def test_writeback_lifecycle_reason_in_words(code, evaluation, reason) -> None:
    assert reason in retire_reason(code, evaluation)


def test_writeback_lifecycle_holding_pairs_code_and_period() -> None:
    assert ("monitoring-overdue", "2026-11-22") in holding(OVERDUE)
    assert ("monitoring-overdue", "2026-11-22") not in holding(CURRENT)


def test_writeback_lifecycle_reopens_when_the_finding_holds_again(database, fake) -> None:
    writer = make_writer(database)
    entries = written(writer)
    writer.ledger.mark_status(entries[0].id, "inactive")
    retired = {
        "resourceType": "Flag",
        "id": "r1",
        "status": "inactive",
        "meta": {"versionId": "2"},
        "period": {"start": "2026-11-23", "end": "2026-11-24"},
    }
    fake.add(responses.GET, f"{BASE}/Flag/r1", json=retired)
    fake.add(responses.PUT, f"{BASE}/Flag/r1", json={"resourceType": "Flag", "id": "r1"})
    [change] = update_lifecycle(
        writer, WRITE_SCOPES, OVERDUE, writer.ledger.for_patient(BASE, "Patient/pt-1")
    )
    assert change.message == "Flag/r1 for monitoring-overdue set active: the finding holds again."
    body = json.loads(fake.calls[1].request.body)
    assert body["status"] == "active" and body["period"] == {"start": "2026-11-23"}
    assert writer.ledger.for_patient(BASE, "Patient/pt-1")[0].status == "written"
    assert [e.action for e in AuditLog(database).events(ISS)] == ["writeback-reopen"]
