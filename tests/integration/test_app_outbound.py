"""The app against an EHR whose token endpoint redirects or is busy, and one that is Epic."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from tests.integration.app_harness import (
    authorize_at_ehr,
    ehr_launch,
    finish,
    make_app,
    sandbox_app,
)

pytestmark = pytest.mark.integration
PATIENT = "sbx-weekly-current"


@pytest.fixture(scope="module")
def app(sandbox_ehr, tmp_path_factory):
    with sandbox_app(sandbox_ehr, tmp_path_factory.mktemp("outbound")) as application:
        yield application


def callback_with_token_faults(app, smart, *faults):
    """The app's answer to a callback whose code exchange meets these token endpoint faults."""
    launch = smart.launch(PATIENT)
    for fault in faults:
        smart.fault(launch=launch, **fault)
    client = app.test_client()
    started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch})
    assert started.status_code == 302
    callback = urlsplit(authorize_at_ehr(smart, started.headers["Location"]))
    return client.get(callback.path, query_string=callback.query)


def message(response) -> str:
    found = re.search(r'data-testid="error-message">(.*?)</p>', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:600]
    return html.unescape(found.group(1))


def test_redirecting_token_endpoint_is_refused_naming_it(app, smart) -> None:
    answer = callback_with_token_faults(app, smart, {"fault": "token_redirect", "count": 1})
    assert answer.status_code == 502
    said = message(answer)
    assert f"{smart.origin}/auth/token" in said and "redirect" in said
    assert "Set-Cookie" not in answer.headers


def test_busy_token_endpoint_says_try_again_with_the_wait(app, smart) -> None:
    busy = {"fault": "rate_limit", "on": "token", "retry_after": 7, "count": 1}
    answer = callback_with_token_faults(app, smart, busy)
    assert answer.status_code == 503
    said = message(answer)
    assert "busy" in said and "try again in 7 seconds" in said
    assert answer.headers["Retry-After"] == "7"
    assert "refused" not in said


def test_epic_is_detected_from_the_capability_statement_and_gets_its_header(
    smart, tmp_path
) -> None:
    # The issuers file names no vendor; the sandbox plays Epic for this launch, whose FHIR API
    # refuses requests without Epic-Client-ID. An app of its own: it keeps each EHR's
    # CapabilityStatement, and the sandbox plays another vendor on the same base per launch.
    app = make_app(tmp_path, smart, "clozapine-smartapp")
    launched = ehr_launch(app.test_client(), smart, PATIENT, vendor="epic")
    app.extensions["smartapp"].close()
    assert launched.response.status_code == 200, launched.html[:600]
    assert launched.attribute("next-due", "data-status") in ("current", "due", "overdue")


def test_busy_token_endpoint_at_renewal_says_try_again_and_keeps_the_session(app, smart) -> None:
    launch = smart.launch(PATIENT)
    client = app.test_client()
    started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch})
    first = finish(client, smart, started.headers["Location"])
    assert first.response.status_code == 200
    smart.fault(launch=launch, fault="token_expired", count=1)
    smart.fault(launch=launch, fault="rate_limit", on="token", retry_after=9, count=1)
    busy = client.get("/chart", query_string={"h": first.handle})
    assert busy.status_code == 503
    said = message(busy)
    assert "busy" in said and "try again in 9 seconds" in said
    assert busy.headers["Retry-After"] == "9"
    again = client.get("/chart", query_string={"h": first.handle})
    assert again.status_code == 200  # the session stood: the next try renews it
