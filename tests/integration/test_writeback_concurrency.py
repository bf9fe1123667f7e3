"""Exactly once under concurrency: 50 identical clicks, two clinicians, a lost ledger row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import delete

from smartapp.db.models import WritebackEntryRow
from tests.integration.writeback_harness import (  # noqa: F401 - fixtures, by name
    app_for_fixture,
    database_url_fixture,
    ehr_fixture,
    identifier_search,
    launch,
    load_chart,
    outcomes,
    post_writeback,
    post_writeback_only,
    today,
)

pytestmark = pytest.mark.integration
REQUESTS = 50


def overdue_value(patient: str) -> str:
    return f"{patient}/monitoring-overdue/{(today() - timedelta(days=3)).isoformat()}"


def _concurrently(count: int, request) -> list[str]:
    """Run `request(i)` in `count` threads released at once; each returns its page."""
    barrier = threading.Barrier(count)

    def one(index: int) -> str:
        barrier.wait()
        return request(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_fifty_concurrent_identical_writes_leave_exactly_one_flag(app_for, smart, ehr) -> None:
    app = app_for()
    patient = ehr.new_patient()
    _, launched = launch(app, smart, patient)

    def click(_: int) -> str:
        answer = post_writeback_only(app.test_client(), launched.handle, "monitoring-overdue")
        assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
        return str(answer.headers["Location"])

    # One session, fifty clicks: each answers 303 to the chart, which shows the last outcome.
    assert set(_concurrently(REQUESTS, click)) == {f"/chart?h={launched.handle}"}
    shown = outcomes(load_chart(app.test_client(), launched.handle))
    assert [o["outcome"] for o in shown] in (["created"], ["existing"], ["in-progress"]), shown
    [flag] = identifier_search(ehr, "Flag", patient, overdue_value(patient))
    assert {o["resource"] for o in shown if o["outcome"] != "in-progress"} <= {f"Flag/{flag['id']}"}
    assert ehr.count("Flag", patient) == 1
    services = app.extensions["smartapp"]
    [entry] = services.ledger.for_patient(smart.iss, f"Patient/{patient}")
    assert (entry.status, entry.attempts) == ("written", 1)
    creates = [
        e for e in services.audit.events(smart.iss, limit=500) if e.action == "writeback-create"
    ]
    assert len(creates) == 1


def test_two_clinicians_writing_at_once_leave_one_flag(app_for, smart, ehr) -> None:
    app = app_for()
    patient = ehr.new_patient()
    sessions = [launch(app, smart, patient) for _ in range(2)]

    def click(index: int) -> str:
        client, launched = sessions[index]
        return str(post_writeback(client, launched.handle).get_data(as_text=True))

    pages = _concurrently(2, click)
    created = [o for page in pages for o in outcomes(page) if o["outcome"] == "created"]
    assert len(created) == 3  # one per triggering finding, whoever wrote it
    assert ehr.count("Flag", patient) == 3


def test_a_lost_ledger_row_cannot_duplicate_thanks_to_if_none_exist(app_for, smart, ehr) -> None:
    app = app_for()
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    [first] = outcomes(
        post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    )
    with app.extensions["smartapp"].database.transaction() as session:
        session.execute(delete(WritebackEntryRow))
    [second] = outcomes(
        post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    )
    assert second == {**first, "outcome": "existing"}
    assert len(identifier_search(ehr, "Flag", patient, overdue_value(patient))) == 1
    actions = [e.action for e in app.extensions["smartapp"].audit.events(smart.iss)]
    assert "writeback-found" in actions
