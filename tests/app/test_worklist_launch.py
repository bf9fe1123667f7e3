"""Reaching the worklist: a sign-in without a patient, allowed only for the named coordinators."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from smartapp.clock import now_utc
from smartapp.web import launch_views
from tests.app.fake_ehr import AUTHORIZE, ISS, state_of
from tests.app.patient.pages import fake_ehr
from tests.app_helpers import app_settings, token_set

COORDINATOR = f"{ISS}/Practitioner/coord-1"
PRESCRIBER = f"{ISS}/Practitioner/dr-a"


@pytest.fixture
def app_config(tmp_path):
    return app_settings(tmp_path, WORKLIST_USERS=COORDINATOR)


@pytest.fixture
def signs_in(monkeypatch):
    """The EHR's token answer names `user` and no patient (the code exchange itself is the
    launch client's, tested there)."""
    chosen: dict[str, str | None] = {}

    def exchange(*args, **kwargs):
        return token_set(
            patient=None,
            fhir_user=chosen["user"],
            scopes="launch openid fhirUser",
            expires_at=now_utc() + timedelta(hours=1),
        )

    monkeypatch.setattr(launch_views, "complete_launch", exchange)

    def choose(user: str | None) -> None:
        chosen["user"] = user

    return choose


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _finish(client, start: str, finish: str, **query: str):
    started = client.get(start, query_string={"iss": ISS, **query})
    assert started.status_code == 302 and started.location.startswith(AUTHORIZE)
    return client.get(finish, query_string={"code": "c-1", "state": state_of(started.location)})


def test_worklist_standalone_asks_only_who_signed_in_and_returns_to_its_callback(client):
    with fake_ehr():
        started = client.get("/worklist/standalone", query_string={"iss": ISS})
    query = _query(started.location)
    assert query["scope"] == "openid fhirUser"
    assert query["redirect_uri"] == "https://app.example.org/worklist/callback"
    assert "launch" not in query


def test_a_coordinator_signed_in_without_a_patient_opens_the_worklist(client, signs_in):
    signs_in(COORDINATOR)
    with fake_ehr():
        back = _finish(client, "/worklist/standalone", "/worklist/callback")
        page = client.get(back.location)
    assert back.status_code == 303 and back.location.startswith("/worklist?h=")
    assert page.status_code == 200 and 'data-testid="no-run"' in page.get_data(as_text=True)


def test_an_ehr_launch_without_a_patient_opens_the_worklist_for_a_coordinator(client, signs_in):
    signs_in(COORDINATOR)
    with fake_ehr():
        back = _finish(client, "/launch", "/callback", launch="l-1")
        # the session has no patient: the chart refuses it instead of reading anyone's record
        chart = client.get(back.location.replace("/worklist", "/chart"))
    assert back.status_code == 303 and back.location.startswith("/worklist?h=")
    assert chart.status_code >= 400 and chart.status_code != 500


@pytest.mark.parametrize(
    "user", [PRESCRIBER, None, "https://other.example.org/Practitioner/coord-1"]
)
@pytest.mark.parametrize(
    ("start", "finish"),
    [("/launch", "/callback"), ("/worklist/standalone", "/worklist/callback")],
)
def test_a_sign_in_without_a_patient_is_refused_to_anyone_else(
    client, signs_in, user, start, finish
):
    signs_in(user)
    with fake_ehr():
        back = _finish(client, start, finish, launch="l-1")
    assert back.status_code in (400, 401, 403)
    assert "did not say which patient" in back.get_data(as_text=True)
    assert "Set-Cookie" not in back.headers or "smartapp_session" not in back.headers["Set-Cookie"]


def test_the_patient_portal_never_signs_in_without_a_patient(client, signs_in):
    signs_in(COORDINATOR)
    with fake_ehr():
        back = _finish(client, "/patient/launch", "/patient/callback", launch="l-1")
    assert back.status_code in (400, 401, 403)
