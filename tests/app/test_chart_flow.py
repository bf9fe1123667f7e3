"""The page's main path without Node: /launch -> /callback -> /chart -> POST /writeback.

On a faked EHR (responses), with time frozen at 23:30 in America/Chicago (already the next day
in UTC), counting per request the patient reads, evaluations, HTTP sessions opened and database
transactions; and no GET, from this app or from another site's <img>, changes anything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
import time_machine
from sqlalchemy import event

import smartapp.ehr.evaluation as launch_evaluation
from fhir_client.messages import RESOURCE_WORDS
from tests.app.fake_ehr import (
    ISS,
    MALFORMED,
    FakeEhr,
    fake_ehr_settings,
    launch,
    served,
    writes,
)
from tests.app_helpers import hidden_inputs

CHICAGO = ZoneInfo("America/Chicago")
# 23:30 on 25 November in Chicago is 05:30 on the 26th in UTC: the app's "today" is the 25th.
LATE_EVENING = datetime(2026, 11, 25, 23, 30, tzinfo=CHICAGO)
# Day 208 of treatment (every two weeks): the ANC of 11-10 made the next one due on 11-24.
ANC_ON = "2026-11-10"
MAX_PAGE_TRANSACTIONS = 5
MAX_WRITE_TRANSACTIONS = 10


class Counts:
    """What one request did: patient reads, evaluations, HTTP sessions, DB transactions."""

    def __init__(self) -> None:
        self.now: Counter[str] = Counter()

    def reset(self) -> Counter[str]:
        done, self.now = self.now, Counter()
        return done


@pytest.fixture(autouse=True)
def _late_evening() -> Iterator[None]:
    with time_machine.travel(LATE_EVENING, tick=False):
        yield


@pytest.fixture
def app_config(tmp_path):
    return fake_ehr_settings(tmp_path)


@pytest.fixture
def ehr() -> Iterator[tuple[FakeEhr, responses.RequestsMock]]:
    fake = FakeEhr(anc_on=ANC_ON)
    with served(fake) as mock:
        yield fake, mock


@pytest.fixture
def counts(app, monkeypatch) -> Iterator[Counts]:
    counted = Counts()
    reads = launch_evaluation.read_patient_bundle  # type: ignore[attr-defined]
    evaluations = launch_evaluation.evaluate  # type: ignore[attr-defined]
    session_init = requests.Session.__init__

    def read(*args, **kwargs):
        counted.now["patient reads"] += 1
        return reads(*args, **kwargs)

    def evaluate(*args, **kwargs):
        counted.now["evaluations"] += 1
        return evaluations(*args, **kwargs)

    def new_session(self, *args, **kwargs):
        counted.now["http sessions"] += 1
        session_init(self, *args, **kwargs)

    monkeypatch.setattr(launch_evaluation, "read_patient_bundle", read)
    monkeypatch.setattr(launch_evaluation, "evaluate", evaluate)
    monkeypatch.setattr(requests.Session, "__init__", new_session)
    engine = app.extensions["smartapp"].database.engine

    def begun(_connection) -> None:
        counted.now["transactions"] += 1

    event.listen(engine, "begin", begun)
    yield counted
    event.remove(engine, "begin", begun)


def post(client, path: str, html: str, handle: str):
    form = hidden_inputs(html)
    return client.post(path, data={"h": handle, "csrf_token": form["csrf_token"]})


def outcomes(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'data-testid="writeback-outcome" data-outcome="([^"]+)" data-code="([^"]+)"', html
    )


def test_flow_launch_chart_writeback_at_23_30_in_chicago(app, client, ehr, counts) -> None:
    _, mock = ehr
    handle = launch(client)
    counts.reset()

    page = client.get("/chart", query_string={"h": handle})
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    done = counts.reset()
    assert (done["patient reads"], done["evaluations"], done["http sessions"]) == (1, 1, 0)
    assert done["transactions"] <= MAX_PAGE_TRANSACTIONS, done
    # As of the 25th where the organisation is, not the 26th of UTC: due 11-24, 1 day overdue.
    assert 'data-testid="as-of">2026-11-25<' in html
    assert 'data-next-due="2026-11-24"' in html
    assert "Draw a CBC with differential today: ANC 1 day overdue" in html
    assert (
        'data-testid="recommendation" data-recommendation="continue">Recommendation: Continue clozapine'
        in html
    )
    assert writes(mock) == []

    written = post(client, "/writeback", html, handle)
    assert written.status_code == 303 and written.location == f"/chart?h={handle}"
    done = counts.reset()
    assert (done["patient reads"], done["evaluations"], done["http sessions"]) == (1, 1, 0)
    assert done["transactions"] <= MAX_WRITE_TRANSACTIONS, done
    assert sorted(writes(mock)) == ["POST /fhir/Flag"] * 3

    shown = client.get(written.location).get_data(as_text=True)
    assert sorted(outcomes(shown)) == [
        ("created", "anc-too-old-to-dispense"),
        ("created", "monitoring-overdue"),
        ("created", "patient-not-enrolled"),
    ]
    assert "Already in the chart: Flag/flag-" in shown
    again = client.get(written.location).get_data(as_text=True)
    assert outcomes(again) == []  # the outcome was shown once; a reload posts nothing
    assert len(writes(mock)) == 3


def test_flow_page_load_reads_and_evaluates_once_within_five_transactions(
    app, client, ehr, counts
) -> None:
    handle = launch(client)
    counts.reset()
    client.get("/chart", query_string={"h": handle})
    first = counts.reset()
    client.get("/chart", query_string={"h": handle})
    second = counts.reset()
    for done in (first, second):
        assert (done["patient reads"], done["evaluations"]) == (1, 1), done
        assert done["transactions"] <= MAX_PAGE_TRANSACTIONS, done
        # The EHR's session was opened by the launch (discovery, token): none after it.
        assert done["http sessions"] == 0, done


def test_flow_no_get_changes_the_ehr_the_ledger_or_the_registry(app, client, ehr, counts) -> None:
    """A cross-site <img> sends the cookie with a GET: every GET route is tried, and only the
    page's own POST (sent by its script after loading) retires what no longer holds."""
    fake, mock = ehr
    handle = launch(client)
    html = client.get("/chart", query_string={"h": handle}).get_data(as_text=True)
    post(client, "/writeback", html, handle)
    services = app.extensions["smartapp"]
    fake.anc_on = "2026-11-25"  # the ANC came in: the Flags of the overdue finding must retire
    ledger_before = services.ledger.for_patient(ISS, "Patient/pt-1")
    registry_before = services.registry.export(ISS)
    audit_before = services.audit.events(ISS, limit=1000)
    writes_before = writes(mock)
    gets = [
        "/chart",
        f"/chart?h={handle}",
        f"/program?h={handle}",
        f"/admin/registry?h={handle}",
        f"/admin/audit?h={handle}",
        f"/ehr-style.css?h={handle}",
        f"/writeback?h={handle}",
        f"/writeback/sync?h={handle}",
        f"/program/enrollment?h={handle}&enrolled_on=2026-11-25",
        f"/admin/registry/prescribers?h={handle}&practitioner=Practitioner/x",
    ]
    for path in gets:
        answer = client.get(
            path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"}
        )
        assert answer.status_code in (200, 403, 405), (path, answer.status_code)
    assert writes(mock) == writes_before
    assert services.ledger.for_patient(ISS, "Patient/pt-1") == ledger_before
    assert services.registry.export(ISS) == registry_before
    assert services.audit.events(ISS, limit=1000) == audit_before

    page = client.get("/chart", query_string={"h": handle}).get_data(as_text=True)
    assert 'data-testid="writeback-sync"' in page and 'data-auto-submit="true"' in page
    synced = post(client, "/writeback/sync", page, handle)
    assert synced.status_code == 303
    retired = [w for w in writes(mock) if w.startswith("PUT ")]
    assert len(retired) == 2  # the overdue and the dispense-window Flags; enrollment still holds
    after = client.get(synced.location).get_data(as_text=True)
    assert after.count('data-testid="writeback-lifecycle"') == 2
    assert 'data-auto-submit="true"' not in after  # shown after a sync: never posts again


@pytest.mark.parametrize("fault", ["error", "junk", *MALFORMED])
@pytest.mark.parametrize("resource_type", ["MedicationRequest", "Observation", "Condition"])
def test_flow_a_failed_read_changes_nothing_in_the_registry_or_the_ledger(
    app, client, ehr, resource_type, fault
) -> None:
    """Flags are written, the ANC comes in (so they would retire), then the orders, labs or
    conditions search fails or cannot be read whole: the POSTs say so and leave the ledger, the
    registry, the audit trail and the EHR as they were."""
    fake, mock = ehr
    services = app.extensions["smartapp"]
    services.registry.record_enrollment(ISS, "Patient/pt-1", datetime(2026, 5, 1).date(), actor="t")
    handle = launch(client)
    html = client.get("/chart", query_string={"h": handle}).get_data(as_text=True)
    assert post(client, "/writeback", html, handle).status_code == 303
    ledger_before = services.ledger.for_patient(ISS, "Patient/pt-1")
    assert ledger_before and {e.status for e in ledger_before} == {"written"}
    registry_before = services.registry.export(ISS)
    audit_before = services.audit.events(ISS, limit=1000)
    writes_before = writes(mock)
    fake.anc_on = "2026-11-25"
    fake.broken[resource_type] = fault
    for path in ("/writeback/sync", "/writeback"):
        answer = post(client, path, html, handle)
        assert answer.status_code >= 500, (path, answer.status_code)
        text = answer.get_data(as_text=True)
        if fault in ("error", "junk") and resource_type != "Condition":
            assert "The EHR did not answer as expected" in text
        else:
            assert f"{RESOURCE_WORDS[resource_type]} could not be read" in text
            assert 'data-testid="unusable-record"' in text
    assert writes(mock) == writes_before
    assert services.ledger.for_patient(ISS, "Patient/pt-1") == ledger_before
    assert services.registry.export(ISS) == registry_before
    assert services.audit.events(ISS, limit=1000) == audit_before


def rows(html: str) -> dict[str, str]:
    """Each write-back row's finding code and status."""
    return dict(
        re.findall(r'data-testid="writeback-row" data-code="([^"]+)" data-status="([^"]+)"', html)
    )


def test_flow_in_the_chart_is_confirmed_by_the_ehr_and_a_deleted_flag_is_written_again(
    app, client, ehr
) -> None:
    fake, mock = ehr
    handle = launch(client)
    html = client.get("/chart", query_string={"h": handle}).get_data(as_text=True)
    written = post(client, "/writeback", html, handle)
    shown = client.get(written.location).get_data(as_text=True)
    assert set(rows(shown).values()) == {"written"}

    # Someone deletes the monitoring-overdue Flag in the EHR.
    [overdue] = [
        i for i, f in fake.flags.items() if f["code"]["coding"][0]["code"] == "monitoring-overdue"
    ]
    del fake.flags[overdue]
    searches = len([c for c in mock.calls if re.search(r"/Flag\?", c.request.url)])
    page = client.get("/chart", query_string={"h": handle}).get_data(as_text=True)
    assert len([c for c in mock.calls if re.search(r"/Flag\?", c.request.url)]) == searches + 1
    assert rows(page)["monitoring-overdue"] == "missing"
    assert f"Flag/{overdue} is no longer in the EHR" in page
    assert rows(page)["patient-not-enrolled"] == "written"

    again = post(client, "/writeback", page, handle)
    after = client.get(again.location).get_data(as_text=True)
    assert ("created", "monitoring-overdue") in outcomes(after)
    assert set(rows(after).values()) == {"written"}
    assert len(fake.flags) == 3


def test_flow_an_ehr_that_cannot_confirm_never_shows_in_the_chart(app, client, ehr) -> None:
    _, mock = ehr
    handle = launch(client)
    html = client.get("/chart", query_string={"h": handle}).get_data(as_text=True)
    post(client, "/writeback", html, handle)
    mock.replace(responses.GET, re.compile(rf"{ISS}/Flag(\?.*)?$"), status=404)
    page = client.get("/chart", query_string={"h": handle}).get_data(as_text=True)
    assert set(rows(page).values()) == {"unconfirmed"}
    assert "Already in the chart" not in page
    assert "could not confirm it is still there" in page
