"""Launch sessions in the browser: the state cookie, the idle timeout, sign-out, no data once ended.

On a faked EHR (responses), time frozen at noon in Chicago. The state cookie binds a sign-in
to the browser that started it (a callback carrying another browser's cookie is refused; one
carrying none still works, for embedded browsers that drop cookies); a handle left unused past
the idle timeout, or signed out, shows no patient data; the evaluation kept in the session row
is ciphertext.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from flask import Flask
from sqlalchemy import text

from smartapp.app import create_app
from smartapp.web.session import SESSION_COOKIE
from smartapp.web.state_cookie import STATE_COOKIE
from tests.app.fake_ehr import (
    ISS,
    REVOKE,
    SCOPES,
    TOKEN,
    FakeEhr,
    chart,
    fake_ehr_settings,
    launch,
    served,
    state_of,
)
from tests.app_helpers import csrf_for, hidden_inputs

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
# What only a page showing the patient's evaluation carries.
PATIENT_DATA = ('data-testid="overall"', 'data-testid="anc"', "Pat Example", "2400")


@pytest.fixture(autouse=True)
def _noon() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def app_config(tmp_path):
    return fake_ehr_settings(tmp_path)


@pytest.fixture
def logged_app(tmp_path) -> Iterator[Callable[[], Flask]]:
    """Makes the app logging at INFO; made in the test, so its log handler writes to the
    test's own capture (capsys swaps sys.stderr between a fixture's set-up and the test)."""
    made: list[Flask] = []

    def make() -> Flask:
        settings = fake_ehr_settings(tmp_path, LOG_LEVEL="INFO")
        made.append(create_app(settings))
        return made[-1]

    yield make
    for app in made:
        app.extensions["smartapp"].close()


def logged(stderr: str) -> list[dict[str, Any]]:
    """The JSON lines the app logged."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def causes(stderr: str) -> list[str]:
    """The `cause` of every line logged that names one."""
    return [line["cause"] for line in logged(stderr) if "cause" in line]


@pytest.fixture
def ehr() -> Iterator[FakeEhr]:
    fake = FakeEhr(anc_on="2026-11-24")
    with served(fake):
        yield fake


def start(client) -> str:
    """GET /launch; the authorize URL's state."""
    started = client.get("/launch", query_string={"iss": ISS, "launch": "launch-1"})
    assert started.status_code == 302
    return state_of(started.location)


def callback(client, state: str):
    return client.get("/callback", query_string={"code": "code-1", "state": state})


def assert_no_patient_data(html: str) -> None:
    for hook in PATIENT_DATA:
        assert hook not in html
    assert "The last evaluation shown in this session" not in html


def test_launch_sets_a_short_lived_secure_state_cookie(client, ehr) -> None:
    started = client.get("/launch", query_string={"iss": ISS, "launch": "launch-1"})
    cookie = next(
        c for c in started.headers.getlist("Set-Cookie") if c.startswith(f"{STATE_COOKIE}=")
    )
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "max-age"} <= attributes
    assert "SameSite=None" in cookie and "Max-Age=600" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value and value != state_of(started.location)  # the state alone is not the binding


def test_callback_in_the_browser_that_launched_signs_in(client, ehr) -> None:
    handle = launch(client)
    status, html = chart(client, handle)
    assert status == 200 and 'data-testid="overall"' in html


def test_callback_carrying_another_browsers_state_cookie_is_refused(
    logged_app, ehr, capsys
) -> None:
    app = logged_app()
    attacker, victim = app.test_client(), app.test_client()
    victim_state = start(victim)  # the victim's browser has its own state cookie
    state = start(attacker)  # the attacker's sign-in, its callback URL captured...
    capsys.readouterr()
    refused = callback(victim, state)  # ...and opened in the victim's browser
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "started in another browser" in page
    assert refused.headers.get("Location") is None
    assert not any(SESSION_COOKIE in c for c in refused.headers.getlist("Set-Cookie"))
    assert causes(capsys.readouterr().err) == ["state_cookie_mismatch"]
    assert callback(attacker, state).status_code == 400  # used up: not replayable either
    assert callback(victim, victim_state).status_code == 303


def test_callback_without_any_cookie_still_signs_in(app, ehr) -> None:
    browser = app.test_client()
    state = start(browser)
    embedded = app.test_client()  # an embedded browser that drops every cookie
    back = callback(embedded, state)
    assert back.status_code == 303
    handle = back.location.split("h=", 1)[1]
    status, _ = chart(embedded, handle)
    assert status == 200


def test_two_launches_in_one_browser_both_sign_in(client, ehr) -> None:
    first, second = start(client), start(client)
    assert callback(client, second).status_code == 303
    assert callback(client, first).status_code == 303


def test_a_handle_unused_past_the_idle_timeout_shows_no_patient_data(logged_app, ehr, capsys):
    client = logged_app().test_client()
    handle = launch(client)
    assert chart(client, handle)[0] == 200
    with time_machine.travel(NOON + timedelta(minutes=20), tick=False):
        assert chart(client, handle)[0] == 200  # in use: the idle time starts again
    capsys.readouterr()
    with time_machine.travel(NOON + timedelta(minutes=51), tick=False):
        status, html = chart(client, handle)
    assert status == 401
    assert "Open the app again from the chart" in html
    assert_no_patient_data(html)
    err = capsys.readouterr().err
    assert causes(err) == ["idle_timeout"] and handle not in err


def test_the_idle_timeout_is_a_setting(tmp_path, ehr) -> None:
    settings = fake_ehr_settings(tmp_path)
    app = create_app({**settings, "SESSION_IDLE_MINUTES": "5"})
    try:
        client = app.test_client()
        handle = launch(client)
        with time_machine.travel(NOON + timedelta(minutes=6), tick=False):
            assert chart(client, handle)[0] == 401
    finally:
        app.extensions["smartapp"].close()


@pytest.mark.parametrize("value", ["0", "481", "soon"])
def test_a_bad_idle_timeout_stops_start_up_naming_it(tmp_path, value) -> None:
    from smartapp.settings import SettingsError

    settings = fake_ehr_settings(tmp_path)
    with pytest.raises(SettingsError, match="SMARTAPP_SESSION_IDLE_MINUTES"):
        create_app({**settings, "SESSION_IDLE_MINUTES": value})


def test_sign_out_ends_the_session_and_its_handle_shows_nothing(logged_app, ehr, capsys):
    app = logged_app()
    client = app.test_client()
    handle = launch(client)
    status, html = chart(client, handle)
    assert status == 200 and 'data-testid="signout"' in html
    form = re.search(r'<form method="post" action="([^"]+)" data-testid="signout-form">', html)
    assert form and form.group(1) == "/signout"
    assert hidden_inputs(html)["csrf_token"] == csrf_for(app, handle)
    capsys.readouterr()
    signed_out = client.post("/signout", data={"h": handle, "csrf_token": csrf_for(app, handle)})
    page = signed_out.get_data(as_text=True)
    assert signed_out.status_code == 200 and "You have signed out" in page
    cleared = [c for c in signed_out.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE)]
    assert cleared and ("Max-Age=0" in cleared[0] or "Expires=Thu, 01 Jan 1970" in cleared[0])
    for again in (chart(client, handle), chart(app.test_client(), handle)):
        assert again[0] == 401
        assert_no_patient_data(again[1])
    err = capsys.readouterr().err
    assert causes(err) == ["signed_out", "revoked", "revoked"] and handle not in err


@pytest.fixture
def revoking_ehr(request) -> Iterator[tuple[FakeEhr, responses.RequestsMock]]:
    """A FakeEhr whose SMART configuration advertises a revocation endpoint answering
    `request.param` (None: advertises none)."""
    fake = FakeEhr(anc_on="2026-11-24", revocation=request.param)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake, mock


def revocations(mock: responses.RequestsMock) -> list[dict[str, list[str]]]:
    """The form of every revocation request the EHR received."""
    return [parse_qs(str(c.request.body)) for c in mock.calls if c.request.url == REVOKE]


def sign_out(app: Flask, client: Any, handle: str) -> Any:
    return client.post("/signout", data={"h": handle, "csrf_token": csrf_for(app, handle)})


@pytest.mark.parametrize("revoking_ehr", [None], indirect=True)
def test_sign_out_without_a_revocation_endpoint_revokes_nothing_at_the_ehr(app, revoking_ehr):
    _, mock = revoking_ehr
    client = app.test_client()
    handle = launch(client)
    calls = len(mock.calls)
    assert sign_out(app, client, handle).status_code == 200
    assert len(mock.calls) == calls  # the EHR was not called at all


@pytest.mark.parametrize("revoking_ehr", [200], indirect=True)
def test_sign_out_revokes_the_sessions_token_at_the_ehr(logged_app, revoking_ehr, capsys):
    _, mock = revoking_ehr
    app = logged_app()
    client = app.test_client()
    handle = launch(client)
    capsys.readouterr()
    assert sign_out(app, client, handle).status_code == 200
    # The fake EHR gives no refresh token, so the access token is the one revoked.
    (sent,) = revocations(mock)
    assert sent["token"] == ["fake-access-token"] and sent["token_type_hint"] == ["access_token"]
    err = capsys.readouterr().err
    assert "fake-access-token" not in err and handle not in err
    assert [line["message"] for line in logged(err) if "revoked_at_ehr" in line] == [
        "session ended"
    ]


@pytest.mark.parametrize("revoking_ehr", [400, 503], indirect=True)
def test_a_failed_revocation_never_blocks_sign_out(logged_app, revoking_ehr, capsys):
    _, mock = revoking_ehr
    app = logged_app()
    client = app.test_client()
    handle = launch(client)
    capsys.readouterr()
    signed_out = sign_out(app, client, handle)
    assert signed_out.status_code == 200
    assert "You have signed out" in signed_out.get_data(as_text=True)
    assert len(revocations(mock)) == 1
    assert chart(client, handle)[0] == 401  # ended in the app all the same
    err = capsys.readouterr().err
    (failed,) = [line for line in logged(err) if line["message"] == "token revocation failed"]
    assert failed["error"] == "revocation_failed"
    assert "fake-access-token" not in err and handle not in err


def test_sign_out_needs_the_sessions_form_token(app, client, ehr) -> None:
    handle = launch(client)
    for form in ({"h": handle}, {"h": handle, "csrf_token": "0" * 64}):
        refused = client.post("/signout", data=form)
        assert refused.status_code == 400
    assert chart(client, handle)[0] == 200  # still signed in
    assert client.get("/signout").status_code == 405  # no GET ends anything


def test_a_session_that_cannot_be_renewed_ends_with_no_data(logged_app, ehr, capsys):
    app = logged_app()
    client = app.test_client()
    handle = launch(client)
    assert chart(client, handle)[0] == 200
    with time_machine.travel(NOON + timedelta(minutes=20), tick=False):
        assert chart(client, handle)[0] == 200
    # An hour after the launch the token has expired and the fake EHR issued no refresh token.
    with time_machine.travel(NOON + timedelta(minutes=40), tick=False):
        assert chart(client, handle)[0] == 200
    capsys.readouterr()
    with time_machine.travel(NOON + timedelta(minutes=61), tick=False):
        status, html = chart(client, handle)
    assert status == 401
    assert_no_patient_data(html)
    ended = causes(capsys.readouterr().err)
    assert ended[0] == "no_refresh_token" and set(ended[1:]) <= {"no_refresh_token", "revoked"}
    assert app.extensions["smartapp"].sessions.ended_cause(handle) == "revoked"


def test_a_renewal_the_ehr_cannot_answer_leaves_the_session_live(logged_app, capsys) -> None:
    fake = FakeEhr(anc_on="2026-11-24")
    with served(fake) as mock:
        granted = {"access_token": "a-1", "token_type": "Bearer", "expires_in": 600}
        grant = {**granted, "scope": SCOPES, "patient": "pt-1", "refresh_token": "r-1"}
        mock.replace(responses.POST, TOKEN, json=grant)
        app = logged_app()
        client = app.test_client()
        handle = launch(client)
        mock.replace(responses.POST, TOKEN, status=503, json={"error": "temporarily_unavailable"})
        capsys.readouterr()
        later = NOON + timedelta(minutes=10)  # the token has expired; the session is not idle
        with time_machine.travel(later, tick=False):
            status, html = chart(client, handle)
            assert app.extensions["smartapp"].sessions.get(handle) is not None
        assert status == 502 and "failed the session renewal" in html
        assert_no_patient_data(html)
        assert causes(capsys.readouterr().err)[0].startswith("refresh_unavailable:")
        mock.replace(responses.POST, TOKEN, json={**grant, "access_token": "a-2"})
        with time_machine.travel(later + timedelta(minutes=1), tick=False):
            assert chart(client, handle)[0] == 200  # the EHR answers again: the session goes on


def test_the_evaluation_kept_in_the_session_row_is_ciphertext(app, client, ehr) -> None:
    handle = launch(client)
    status, html = chart(client, handle)
    assert status == 200 and "2400" in html
    with app.extensions["smartapp"].database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM launch_sessions")).all()
    stored = repr(rows)
    assert len(rows) == 1 and "last_evaluation_encrypted" in rows[0]._fields
    for plain in ("pt-1", "2400", "2026-11-24", "us-label-2025", "overall"):
        assert plain not in stored
    kept = app.extensions["smartapp"].sessions.last_evaluation(handle)
    assert kept is not None and kept["patient"] == "Patient/pt-1"
