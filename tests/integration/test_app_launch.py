"""The app as a prescriber meets it: EHR launch to page against the real sandbox EHR."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.integration.app_harness import (
    APP_ORIGIN,
    authorize_at_ehr,
    cli_evaluation,
    ehr_launch,
    sandbox_app,
)

pytestmark = pytest.mark.integration

PATIENTS = [
    "sbx-weekly-current",
    "sbx-weekly-overdue",
    "sbx-moderate",
    "sbx-ben-severe",
    "sbx-derived-anc",
    "sbx-start-tomorrow",
    "sbx-no-anc",
    "sbx-preliminary-masked",
]


@pytest.fixture(scope="module")
def app(sandbox_ehr, tmp_path_factory):
    with sandbox_app(sandbox_ehr, tmp_path_factory.mktemp("app")) as application:
        yield application


@pytest.mark.parametrize("patient", PATIENTS)
def test_ehr_launch_page_matches_smartapp_evaluate(app, smart, patient, tmp_path) -> None:
    registry = app.extensions["smartapp"].registry.export(smart.iss)
    launched = ehr_launch(app.test_client(), smart, patient)
    assert launched.response.status_code == 200, launched.html[:600]
    expected = cli_evaluation(smart, patient, registry, tmp_path)
    assert launched.attribute("overall", "data-overall") == expected["overall"]
    assert launched.attribute("next-due", "data-next-due") == (
        expected["monitoring"]["next_due"] or ""
    )
    assert launched.attribute("next-due", "data-status") == expected["monitoring"]["status"]
    assert launched.finding_codes() == [f["code"] for f in expected["findings"]]
    assert expected["policy"] in launched.html


def test_page_security_headers_and_cookie(app, smart) -> None:
    client = app.test_client()
    launch = smart.launch("sbx-weekly-current")
    started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch})
    callback = urlsplit(authorize_at_ehr(smart, started.headers["Location"]))
    returned = client.get(callback.path, query_string=callback.query)
    cookie = returned.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=None" in cookie
    page = client.get(returned.headers["Location"])
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {smart.origin}" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "X-Frame-Options" not in page.headers
    assert "<script>" not in page.get_data(as_text=True).split("</footer>")[0]


def test_banner_escapes_a_script_in_the_patient_name(app, smart) -> None:
    launched = ehr_launch(app.test_client(), smart, "sbx-xss-name", need_patient_banner=True)
    assert "<script>alert(1)</script>" not in launched.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in launched.html


@pytest.mark.parametrize("banner", [True, False])
def test_banner_shown_unless_the_ehr_shows_its_own(app, smart, banner) -> None:
    launched = ehr_launch(
        app.test_client(), smart, "sbx-weekly-current", need_patient_banner=banner
    )
    assert ('data-testid="patient-name"' in launched.html) is banner
    # The sandbox's Patient carries one usual MR identifier: the banner shows it as the MRN.
    assert bool(re.search(r'data-mrn="true">MRN [^<]+<', launched.html)) is banner
    assert 'data-testid="overall"' in launched.html


def test_standalone_launch_with_the_patient_picker(app, smart) -> None:
    client = app.test_client()
    started = client.get("/standalone", query_string={"iss": smart.iss})
    assert started.status_code == 302
    picker = smart.session.get(started.headers["Location"], allow_redirects=False, timeout=10)
    assert picker.status_code == 200 and "sbx-weekly-current" in picker.text
    action = re.search(r'<form[^>]*action="([^"]+)"', picker.text)
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', picker.text)
    assert action is not None
    answer = smart.session.post(
        urljoin(started.headers["Location"], html.unescape(action.group(1))),
        data={**{k: html.unescape(v) for k, v in hidden}, "patient": "sbx-weekly-current"},
        allow_redirects=False,
        timeout=10,
    )
    location = answer.headers["Location"]
    while not location.startswith(APP_ORIGIN):  # the EHR may pass through its authorize again
        answer = smart.session.get(location, allow_redirects=False, timeout=10)
        location = answer.headers["Location"]
    callback = urlsplit(location)
    returned = client.get(callback.path, query_string=callback.query)
    handle = parse_qs(urlsplit(returned.headers["Location"]).query)["h"][0]
    page = client.get("/chart", query_string={"h": handle})
    assert page.status_code == 200
    assert 'data-testid="overall"' in page.get_data(as_text=True)


def test_no_request_parameter_can_redirect_elsewhere(app, smart) -> None:
    client = app.test_client()
    launch = smart.launch("sbx-weekly-current")
    started = client.get(
        "/launch",
        query_string={
            "iss": smart.iss,
            "launch": launch,
            "redirect_uri": "https://evil.example/steal",
            "next": "https://evil.example",
        },
    )
    location = urlsplit(started.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == smart.origin
    sent = parse_qs(location.query)
    assert sent["redirect_uri"] == [f"{APP_ORIGIN}/callback"]
    assert sent["aud"] == [smart.iss] and sent["code_challenge_method"] == ["S256"]
    callback = urlsplit(authorize_at_ehr(smart, started.headers["Location"]))
    returned = client.get(callback.path, query_string=callback.query + "&next=https://evil.example")
    assert returned.headers["Location"].startswith("/chart?h=")


def test_a_used_authorization_answer_cannot_be_replayed(app, smart) -> None:
    client = app.test_client()
    started = client.get(
        "/launch", query_string={"iss": smart.iss, "launch": smart.launch("sbx-mild")}
    )
    callback = urlsplit(authorize_at_ehr(smart, started.headers["Location"]))
    assert client.get(callback.path, query_string=callback.query).status_code == 303
    replay = client.get(callback.path, query_string=callback.query)
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)


def test_logs_carry_request_ids_but_no_tokens_or_patient_data(app, smart) -> None:
    import io
    import logging

    from smartapp.web.request_log import LOGGERS, JsonFormatter

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in LOGGERS]  # the app's and the FHIR client's
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        launched = ehr_launch(app.test_client(), smart, "sbx-xss-name", need_patient_banner=True)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    session = app.extensions["smartapp"].sessions.get(launched.handle)
    text = buffer.getvalue()
    assert '"request_id"' in text and '"path": "/chart"' in text
    assert "fhir GET Observation status=200" in text  # the FHIR client's lines are kept too
    for secret in (
        session.tokens.access_token,
        session.tokens.refresh_token,
        launched.handle,
        "sbx-xss-name",
        "Sandbox-Escape",
    ):
        assert secret and secret not in text


def test_the_ehrs_style_is_applied_when_it_sends_one(app, smart) -> None:
    client = app.test_client()
    style_url = f"{smart.origin}/smart-style.json"
    launched = ehr_launch(client, smart, "sbx-weekly-current", smart_style_url=style_url)
    assert f"/ehr-style.css?h={launched.handle}" in launched.html
    css = client.get("/ehr-style.css", query_string={"h": launched.handle})
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert ":root {" in css.get_data(as_text=True)
    plain = ehr_launch(client, smart, "sbx-weekly-current")
    assert "/ehr-style.css" not in plain.html
