"""The app's launch sessions against the real sandbox: refreshed id_tokens, short tokens, ends.

The sandbox's token endpoint is switched per launch: a refresh answering with an id_token
without `aud` (the session goes on under the original sign-in, the reason logged with no token
in the log), with one naming another user (the session ends), or 60-second access tokens (not
refreshed at launch; refreshed once near their end for the whole page).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from tests.app_helpers import csrf_for
from tests.integration.app_harness import SCOPES, ehr_launch, make_app

pytestmark = pytest.mark.integration
PATIENT = "sbx-weekly-current"
# What only a page showing the patient's evaluation carries.
PATIENT_DATA = ('data-testid="overall"', 'data-testid="anc"', "The last evaluation shown")


def logged(stderr: str) -> list[dict[str, Any]]:
    """The JSON lines the app logged."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


@pytest.fixture
def app_of(smart, tmp_path):
    """Makes the app for a fresh sandbox client (its faults touch no other test); made in the
    test, so its log handler writes to the test's own capture."""
    made = []

    def make(**registration: Any):
        client_id = smart.register(SCOPES, **registration)
        made.append(make_app(tmp_path, smart, client_id))
        return made[-1], client_id

    yield make
    for app in made:
        app.extensions["smartapp"].close()


def test_refreshed_id_token_without_aud_keeps_the_session_and_logs_why(
    app_of, smart, capsys
) -> None:
    app, client_id = app_of()
    client = app.test_client()
    launched = ehr_launch(client, smart, PATIENT)
    assert launched.response.status_code == 200
    sessions = app.extensions["smartapp"].sessions
    before = sessions.get(launched.handle)
    smart.fault(client_id=client_id, fault="refresh_id_token_no_aud")
    smart.fault(client_id=client_id, fault="token_expired", count=1)  # forces one refresh
    capsys.readouterr()
    again = client.get("/chart", query_string={"h": launched.handle})
    assert again.status_code == 200, again.get_data(as_text=True)[:400]
    assert 'data-testid="overall"' in again.get_data(as_text=True)
    after = sessions.get(launched.handle)
    assert after is not None and after.refresh_version == before.refresh_version + 1
    assert after.fhir_user == before.fhir_user
    assert after.tokens.id_token_claims == before.tokens.id_token_claims
    err = capsys.readouterr().err
    ignored = [line for line in logged(err) if line.get("message") == "refreshed id_token ignored"]
    assert len(ignored) == 1 and "aud" in ignored[0]["reason"]
    assert not any("cause" in line for line in logged(err))  # no session ended
    for secret in (after.tokens.access_token, after.tokens.refresh_token or "", launched.handle):
        assert secret not in err
    assert "eyJ" not in err  # no JWT in the log


def test_refreshed_id_token_naming_another_user_ends_the_session(app_of, smart, capsys) -> None:
    app, client_id = app_of()
    client = app.test_client()
    launched = ehr_launch(client, smart, PATIENT)
    assert launched.response.status_code == 200
    smart.fault(client_id=client_id, fault="refresh_id_token_other_user")
    smart.fault(client_id=client_id, fault="token_expired", count=1)
    capsys.readouterr()
    again = client.get("/chart", query_string={"h": launched.handle})
    page = again.get_data(as_text=True)
    assert again.status_code == 401
    assert "another sign-in" in page
    for hook in PATIENT_DATA:
        assert hook not in page
    causes = [line["cause"] for line in logged(capsys.readouterr().err) if "cause" in line]
    assert causes[0] == "identity_changed"
    assert app.extensions["smartapp"].sessions.ended_cause(launched.handle) == "revoked"


def test_sixty_second_tokens_are_not_refreshed_at_launch_but_near_their_end(app_of, smart) -> None:
    app, client_id = app_of()
    smart.fault(client_id=client_id, fault="sixty_second_tokens")
    launched = ehr_launch(app.test_client(), smart, PATIENT)
    assert launched.response.status_code == 200, launched.html[:400]
    sessions = app.extensions["smartapp"].sessions
    session = sessions.get(launched.handle)
    assert session.refresh_version == 0  # the token the launch got serves its first page
    lifetime = session.tokens.expires_at - session.tokens.issued_at
    assert lifetime == timedelta(seconds=60)
    # 56 seconds on, inside the last tenth of its life: one refresh serves the whole page.
    elapsed = datetime.now(UTC) - session.tokens.issued_at
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=56) - elapsed):
        again = app.test_client().get("/chart", query_string={"h": launched.handle})
        assert again.status_code == 200
        renewed = sessions.get(launched.handle)
    assert renewed.refresh_version == 1
    assert renewed.tokens.expires_at - renewed.tokens.issued_at == timedelta(seconds=60)


def test_a_refresh_the_ehr_refuses_ends_the_session_and_shows_no_data(
    app_of, smart, capsys
) -> None:
    app, client_id = app_of()
    client = app.test_client()
    launched = ehr_launch(client, smart, PATIENT)
    assert launched.response.status_code == 200
    smart.fault(client_id=client_id, fault="token_expired")
    smart.fault(client_id=client_id, fault="refresh_revoked")
    capsys.readouterr()
    again = client.get("/chart", query_string={"h": launched.handle})
    page = again.get_data(as_text=True)
    assert again.status_code == 401 and "Open the app again from the chart" in page
    for hook in PATIENT_DATA:
        assert hook not in page
    causes = [line["cause"] for line in logged(capsys.readouterr().err) if "cause" in line]
    assert causes[0] == "refresh_refused:invalid_grant"
    # The session stays ended: a second look shows nothing either.
    later = client.get("/chart", query_string={"h": launched.handle}).get_data(as_text=True)
    assert 'data-testid="overall"' not in later


def test_sign_out_revokes_the_refresh_token_at_the_ehr(app_of, smart, capsys) -> None:
    app, client_id = app_of()
    client = app.test_client()
    launched = ehr_launch(client, smart, PATIENT)
    assert launched.response.status_code == 200
    tokens = app.extensions["smartapp"].sessions.get(launched.handle).tokens
    assert tokens.refresh_token
    capsys.readouterr()
    form = {"h": launched.handle, "csrf_token": csrf_for(app, launched.handle)}
    signed_out = client.post("/signout", data=form)
    assert signed_out.status_code == 200
    refused = smart.refresh(tokens.refresh_token, client_id)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    # Revoking the refresh token ends the grant's access token too.
    assert smart.fhir("GET", f"Patient/{PATIENT}", tokens.access_token).status_code == 401
    err = capsys.readouterr().err
    assert not [line for line in logged(err) if line.get("message") == "token revocation failed"]
    for secret in (tokens.access_token, tokens.refresh_token, launched.handle):
        assert secret not in err
