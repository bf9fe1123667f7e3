"""The patient view's launch on a faked EHR: what it asks for, where it returns, and that a
sign-in begun for one view never completes in the other."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.app.fake_ehr import AUTHORIZE, ISS, state_of
from tests.app.patient.pages import fake_ehr

PORTAL_SCOPES = "launch launch/patient openid fhirUser patient/*.rs"


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_portal_launch_asks_read_scopes_and_returns_to_the_patient_callback(client) -> None:
    with fake_ehr():
        started = client.get("/patient/launch", query_string={"iss": ISS, "launch": "l-1"})
    assert started.status_code == 302
    assert started.location.startswith(AUTHORIZE)
    query = _query(started.location)
    assert query["scope"] == PORTAL_SCOPES
    assert query["redirect_uri"] == "https://app.example.org/patient/callback"
    assert query["launch"] == "l-1" and query["aud"] == ISS
    assert query["code_challenge_method"] == "S256"


def test_patient_standalone_launch_asks_for_a_patient(client) -> None:
    with fake_ehr():
        started = client.get("/patient/standalone", query_string={"iss": ISS})
    query = _query(started.location)
    assert query["scope"] == "launch/patient openid fhirUser patient/*.rs"
    assert "launch" not in query


def test_portal_callback_opens_the_patient_page_and_writes_nothing(client) -> None:
    with fake_ehr() as ehr:
        started = client.get("/patient/launch", query_string={"iss": ISS, "launch": "l-1"})
        back = client.get(
            "/patient/callback", query_string={"code": "c-1", "state": state_of(started.location)}
        )
        assert back.status_code == 303
        assert back.location.startswith("/patient?h=")
        assert "Secure" in back.headers["Set-Cookie"]
        # The fake EHR's token names no fhirUser: the page is not shown to an unnamed user.
        assert client.get(back.location).status_code == 403
        assert ehr.flags == {}


@pytest.mark.parametrize(
    ("start", "finish"),
    [("/launch", "/patient/callback"), ("/patient/launch", "/callback")],
)
def test_sign_in_begun_for_one_view_is_refused_by_the_other(client, start, finish) -> None:
    with fake_ehr():
        started = client.get(start, query_string={"iss": ISS, "launch": "l-1"})
        back = client.get(finish, query_string={"code": "c-1", "state": state_of(started.location)})
    assert back.status_code == 400
    body = back.get_data(as_text=True)
    if finish == "/patient/callback":
        assert 'data-kind="sign-in"' in body
    else:
        assert "already used, has expired or did not come from this app" in body
    assert "Set-Cookie" not in back.headers


def test_unknown_issuer_is_refused_at_the_portal_launch(client) -> None:
    with fake_ehr():
        started = client.get(
            "/patient/launch", query_string={"iss": "https://evil.example.org/fhir", "launch": "x"}
        )
    assert started.status_code == 400


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/patient", 401, "session"),
        ("/patient/next-test.ics", 401, "session"),
        ("/patient/launch?iss=https://evil.example.org/fhir&launch=x", 400, "sign-in"),
        ("/patient/callback?code=c&state=unknown", 400, "sign-in"),
    ],
)
def test_patient_view_errors_are_in_plain_words_and_the_readers_language(
    client, path, status, kind
) -> None:
    with fake_ehr():
        english = client.get(path)
        spanish = client.get(path, headers={"Accept-Language": "es"})
    assert english.status_code == spanish.status_code == status
    html = english.get_data(as_text=True)
    assert f'data-kind="{kind}"' in html
    assert "If you have a question about your blood tests, call your care team." in html
    assert "chart" not in html.lower().replace("from the chart.", "")
    assert '<html lang="es">' in spanish.get_data(as_text=True)
    assert "llame a su equipo de atención" in spanish.get_data(as_text=True)
