"""The coordinator's worklist page and CSV: from the stored run only, for the named users only."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from smartapp.db import StoredPatient, StoredRun
from tests.app_helpers import ISS, ISSUER_TOML, app_settings, open_session

OTHER_ISS = "https://other.example.org/fhir"
COORDINATOR = f"{ISS}/Practitioner/coord-1"
TWO_ISSUERS = ISSUER_TOML + (
    "[[issuer]]\n"
    'name = "Other EHR"\n'
    f'iss = "{OTHER_ISS}"\n'
    'client_id = "other-client"\n'
    'auth_method = "none"\n'
)
AS_OF = date(2026, 11, 25)
CUT = "2.Observation.ndjson:4 names it but could not be read"


@pytest.fixture
def app_config(tmp_path):
    return app_settings(tmp_path, TWO_ISSUERS, WORKLIST_USERS=COORDINATOR)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """The page reads the database only: any HTTP request fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the worklist page made an HTTP request")

    monkeypatch.setattr(requests.Session, "send", refuse)


def evaluation(n: int, overall: str, due: str | None, anc: int | None) -> str:
    return json.dumps(
        {
            "as_of": AS_OF.isoformat(),
            "policy": "us-label-2025",
            "patient": f"Patient/p{n}",
            "overall": overall,
            "recommendation": "continue",
            "anc": None
            if anc is None
            else {
                "value_per_ul": anc,
                "collected": "2026-11-20",
                "category": "mild",
                "derived": False,
                "comparator": None,
            },
            "monitoring": {
                "next_due": due,
                "days_overdue": 3 if overall == "action-required" else 0,
            },
            "findings": [
                {
                    "code": "monitoring-overdue",
                    "severity": "critical",
                    "message": f"ANC overdue for p{n} (1200/uL)",
                    "rule": "MON-OVERDUE",
                    "citation": "Clozapine PI 2025, section 2.3",
                }
            ]
            if overall == "action-required"
            else [],
        }
    )


def patient(
    n: int,
    overall: str = "ok",
    *,
    name: str | None = None,
    prescriber: str = "Alex Prescriber (Practitioner/dr-1)",
    due: date | None = date(2026, 12, 1),
    complete: bool = True,
    phone: str = "",
    problems: tuple[str, ...] = (),
) -> StoredPatient:
    return StoredPatient(
        patient=f"Patient/p{n}",
        overall=overall,
        name=name if name is not None else f"Family{n:03d}, Given",
        mrn=f"MRN{n:05d}",
        phone=phone,
        prescriber=prescriber,
        next_due=due,
        days_overdue=3 if overall == "action-required" else 0,
        data_complete=complete,
        problems=problems,
        evaluation_json=evaluation(
            n, overall, due.isoformat() if due else None, 1200 if due else None
        ),
    )


def store(
    app,
    patients: list[StoredPatient],
    *,
    iss: str = ISS,
    age: timedelta = timedelta(hours=2),
    run_id: str = "run-1",
) -> None:
    finished = datetime.now(UTC) - age
    counts = {"by_status": {}, "unusable_lines": 0, "export_errors": 0}
    app.extensions["smartapp"].worklist_runs.save(
        StoredRun(
            run_id,
            iss,
            "clinic",
            finished - timedelta(minutes=3),
            finished,
            None,
            AS_OF,
            "us-label-2025",
            len(patients),
            counts,
        ),
        patients,
    )


def coordinator_session(app, fhir_user: str | None = COORDINATOR) -> str:
    return open_session(app, fhir_user, patient=None, now=datetime.now(UTC))


def shown(html: str) -> list[str]:
    return re.findall(r'data-testid="row" data-patient="([^"]+)"', html)


def get(client, handle: str, **query: str):
    return client.get("/worklist", query_string={"h": handle, **query})


def test_page_shows_the_run_counts_and_rows_with_findings_and_their_rules(app, client):
    store(
        app,
        [
            patient(0, "action-required", due=None, phone="+1 555 0100"),
            patient(1, "attention"),
            patient(2),
            patient(3, "not-applicable", due=None),
        ],
    )
    response = get(client, coordinator_session(app))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert shown(html) == ["Patient/p0", "Patient/p1", "Patient/p2", "Patient/p3"]
    assert 'data-testid="count-action-required" data-count="1"' in html
    assert 'data-testid="count-ok" data-count="1"' in html
    assert 'data-testid="count-data-incomplete" data-count="0"' in html
    assert 'data-testid="stale"' not in html
    assert '<span data-testid="run-age">2 hours</span>' in html
    assert "MRN00000" in html and 'href="tel:+1 555 0100"' in html
    assert "now (no ANC on file)" in html
    assert "<details>" in html and "Rule MON-OVERDUE · Clozapine PI 2025, section 2.3" in html
    assert "1200/µL" in html


def test_a_run_older_than_the_maximum_age_is_flagged_stale(app, client):
    store(app, [patient(0)], age=timedelta(hours=27))
    html = get(client, coordinator_session(app)).get_data(as_text=True)
    assert 'data-testid="stale"' in html and "has stopped running" in html


def test_the_maximum_age_is_a_setting(tmp_path):
    from smartapp.app import create_app

    app = create_app(
        app_settings(tmp_path, TWO_ISSUERS, WORKLIST_USERS=COORDINATOR, WORKLIST_MAX_AGE_HOURS="1")
    )
    try:
        store(app, [patient(0)], age=timedelta(hours=2))
        html = get(app.test_client(), coordinator_session(app)).get_data(as_text=True)
        assert 'data-testid="stale"' in html
    finally:
        app.extensions["smartapp"].close()


def test_without_a_run_the_page_says_so_and_shows_no_all_clear(app, client):
    html = get(client, coordinator_session(app)).get_data(as_text=True)
    assert 'data-testid="no-run"' in html and "OK" not in html


def test_incomplete_data_is_never_shown_as_ok_and_says_what_is_missing(app, client):
    store(
        app,
        [
            patient(1, "action-required", complete=False),
            patient(0, complete=False, problems=(CUT,)),
            patient(2),
        ],
    )
    html = get(client, coordinator_session(app)).get_data(as_text=True)
    statuses = re.findall(r'data-testid="status">([^<]+)<', html)
    assert statuses == ["Action required, data incomplete", "Data incomplete", "OK"]
    assert html.count('data-testid="incomplete"') == 2 and "could not be read" in html
    assert f"<li>{CUT}</li>" in html  # what could not be read, by file and line
    assert "<li>2.Observation.ndjson:4 names it but could not be read</li>" in html
    assert 'data-testid="count-ok" data-count="1"' in html
    assert 'data-testid="count-data-incomplete" data-count="2"' in html
    only = get(client, coordinator_session(app), status="data-incomplete").get_data(as_text=True)
    assert shown(only) == ["Patient/p1", "Patient/p0"]


def test_filters_by_status_prescriber_and_due_date(app, client):
    store(
        app,
        [
            patient(0, "action-required", prescriber="Dr A (Practitioner/a)", due=None),
            patient(1, "attention", prescriber="Dr B (Practitioner/b)", due=date(2026, 11, 26)),
            patient(2, prescriber="Dr A (Practitioner/a)", due=date(2026, 12, 9)),
            patient(3, prescriber="", due=date(2026, 11, 30)),
        ],
    )
    handle = coordinator_session(app)
    assert shown(get(client, handle, status="ok").get_data(as_text=True)) == [
        "Patient/p2",
        "Patient/p3",
    ]
    assert shown(
        get(client, handle, prescriber="Dr A (Practitioner/a)").get_data(as_text=True)
    ) == ["Patient/p0", "Patient/p2"]
    assert shown(get(client, handle, prescriber="-").get_data(as_text=True)) == ["Patient/p3"]
    # no due date (no ANC on file) is due now: a due-date filter keeps it
    assert shown(get(client, handle, due_by="2026-11-30").get_data(as_text=True)) == [
        "Patient/p0",
        "Patient/p1",
        "Patient/p3",
    ]
    both = get(client, handle, status="ok", due_by="2026-11-30").get_data(as_text=True)
    assert shown(both) == ["Patient/p3"]
    # an unknown value filters nothing, and the form shows it was not applied
    assert len(shown(get(client, handle, status="bogus").get_data(as_text=True))) == 4


def test_sorts_by_name_due_date_and_status_either_way(app, client):
    store(
        app,
        [
            patient(0, "ok", name="Charlie, C", due=date(2026, 12, 3)),
            patient(1, "action-required", name="Alpha, A", due=None),
            patient(2, "attention", name="Bravo, B", due=date(2026, 12, 1)),
        ],
    )
    handle = coordinator_session(app)
    assert shown(get(client, handle, sort="name").get_data(as_text=True)) == [
        "Patient/p1",
        "Patient/p2",
        "Patient/p0",
    ]
    assert shown(get(client, handle, sort="name", order="desc").get_data(as_text=True)) == [
        "Patient/p0",
        "Patient/p2",
        "Patient/p1",
    ]
    assert shown(get(client, handle, sort="next_due").get_data(as_text=True)) == [
        "Patient/p1",
        "Patient/p2",
        "Patient/p0",
    ]
    assert shown(get(client, handle, sort="status", order="desc").get_data(as_text=True)) == [
        "Patient/p0",
        "Patient/p2",
        "Patient/p1",
    ]


def test_pages_of_fifty_server_side_with_links_keeping_the_filters(app, client):
    store(app, [patient(n) for n in range(120)])
    handle = coordinator_session(app)
    first = get(client, handle, sort="name").get_data(as_text=True)
    assert shown(first) == [f"Patient/p{n}" for n in range(50)]
    assert "Patients 1 to 50 of 120" in first and "Page 1 of 3" in first
    link = re.search(r'rel="next" href="([^"]+)"', first)
    assert link and "sort=name" in link.group(1) and "page=2" in link.group(1)
    third = client.get(link.group(1).replace("&amp;", "&").replace("page=2", "page=3"))
    assert shown(third.get_data(as_text=True)) == [f"Patient/p{n}" for n in range(100, 120)]


def test_fhir_text_is_escaped(app, client):
    store(app, [patient(0, name='<script>alert("x")</script>', prescriber="<b>Dr</b>")])
    html = get(client, coordinator_session(app)).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>Dr</b>" not in html


def test_csv_holds_every_filtered_patient_without_formulas_and_changes_nothing(app, client):
    store(
        app,
        [patient(n, "action-required" if n % 2 else "ok", phone="+15550100") for n in range(1205)]
        + [patient(2000, name='=HYPERLINK("x")', phone="")],
    )
    handle = coordinator_session(app)
    response = client.get(
        "/worklist/worklist.csv", query_string={"h": handle, "status": "action-required"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][-2:] == ["data_complete", "phone"] and rows[0][0] == "patient"
    assert len(rows) == 1 + 602 and {r[4] for r in rows[1:]} == {"action-required"}
    assert rows[1][-1] == "'+15550100"
    every = list(
        csv.reader(
            io.StringIO(
                client.get("/worklist/worklist.csv", query_string={"h": handle}).get_data(
                    as_text=True
                )
            )
        )
    )
    assert len(every) == 1 + 1206
    assert ['\'=HYPERLINK("x")'] == [r[1] for r in every if r[0] == "Patient/p2000"]
    assert app.extensions["smartapp"].worklist_runs.latest(ISS).patients == 1206


def test_csv_export_is_in_the_audit_trail_without_patient_data(app, client):
    store(app, [patient(n, "action-required" if n % 2 else "ok") for n in range(5)])
    handle = coordinator_session(app)
    audit = app.extensions["smartapp"].audit
    assert audit.events(ISS, action_prefix="worklist-export") == []
    query = {"h": handle, "status": "action-required", "due_by": "2026-12-01"}
    assert client.get("/worklist/worklist.csv", query_string=query).status_code == 200
    [event] = audit.events(ISS, action_prefix="worklist-export")
    run = app.extensions["smartapp"].worklist_runs.latest(ISS)
    assert event.actor == COORDINATOR
    assert event.target == f"worklist run {run.run_id}"
    assert event.after == {
        "rows": 2,
        "status": "action-required",
        "due_by": "2026-12-01",
        "prescriber_filtered": False,
    }
    assert client.get("/worklist", query_string={"h": handle}).status_code == 200
    assert len(audit.events(ISS, action_prefix="worklist-export")) == 1  # the page is no export


@pytest.mark.parametrize(
    "fhir_user",
    [
        f"{ISS}/Practitioner/dr-a",  # a prescriber the organisation did not name
        f"{OTHER_ISS}/Practitioner/coord-1",  # the same id, at another EHR
        "Patient/p1",
        None,
    ],
)
def test_refused_to_users_not_named_at_the_launch_ehr(app, client, fhir_user):
    store(app, [patient(0)])
    handle = coordinator_session(app, fhir_user)
    for path in ("/worklist", "/worklist/worklist.csv"):
        response = client.get(path, query_string={"h": handle})
        assert response.status_code == 403
        assert "Patient/p0" not in response.get_data(as_text=True)


def test_refused_without_a_session(app, client):
    assert client.get("/worklist").status_code == 401
    assert client.get("/worklist/worklist.csv").status_code == 401


def test_a_coordinator_sees_only_the_runs_of_the_ehr_they_signed_in_to(tmp_path):
    from smartapp.app import create_app

    other = f"{OTHER_ISS}/Practitioner/coord-9"
    app = create_app(app_settings(tmp_path, TWO_ISSUERS, WORKLIST_USERS=f"{COORDINATOR},{other}"))
    try:
        store(app, [patient(0)], run_id="mine")
        store(app, [patient(7)], iss=OTHER_ISS, run_id="theirs", age=timedelta(minutes=5))
        html = get(app.test_client(), coordinator_session(app)).get_data(as_text=True)
        assert shown(html) == ["Patient/p0"] and 'data-run="mine"' in html
    finally:
        app.extensions["smartapp"].close()
