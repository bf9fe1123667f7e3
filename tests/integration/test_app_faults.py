"""The app against a misbehaving EHR: faults, vendor profiles, refresh and client authentication."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.app_harness import (
    APP_ORIGIN,
    SCOPES,
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
    with sandbox_app(sandbox_ehr, tmp_path_factory.mktemp("faults"), timeout=2) as application:
        yield application


def launched_with_faults(app, smart, *faults, patient=PATIENT, **binding):
    """A launch whose FHIR calls meet these faults (scoped to this launch only)."""
    launch = smart.launch(patient, **binding)
    for fault in faults:
        smart.fault(launch=launch, **fault)
    client = app.test_client()
    started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch})
    assert started.status_code == 302
    return finish(client, smart, started.headers["Location"]), client


def test_rate_limited_reads_are_retried_after_retry_after(app, smart) -> None:
    launched, _ = launched_with_faults(
        app, smart, {"fault": "rate_limit", "count": 2, "retry_after": 1}
    )
    assert launched.response.status_code == 200
    assert launched.attribute("overall", "data-overall")


def test_rate_limited_beyond_the_retry_budget_is_503_with_the_ehrs_wait(app, smart) -> None:
    launched, _ = launched_with_faults(
        app, smart, {"fault": "rate_limit", "count": 200, "retry_after": 120}
    )
    assert launched.response.status_code == 503
    assert launched.response.headers["Retry-After"] == "120"
    assert "busy" in launched.html and "wait 120 seconds" in launched.html


def test_unavailable_ehr_beyond_the_retry_budget_gives_a_clear_page(app, smart) -> None:
    launched, _ = launched_with_faults(app, smart, {"fault": "unavailable", "count": 200})
    assert launched.response.status_code == 502
    assert 'data-testid="error-message"' in launched.html
    assert "Traceback" not in launched.html


def test_slow_ehr_times_out_with_a_clear_page(app, smart) -> None:
    launched, _ = launched_with_faults(app, smart, {"fault": "slow", "delay": 4, "count": 20})
    assert launched.response.status_code == 502
    assert "answer" in launched.html.lower()


def test_expired_token_is_refreshed_and_the_read_retried(app, smart) -> None:
    launched, _ = launched_with_faults(app, smart, {"fault": "token_expired", "count": 1})
    assert launched.response.status_code == 200


def test_expired_token_with_revoked_refresh_asks_to_open_again_and_shows_nothing(
    app, smart
) -> None:
    launch = smart.launch(PATIENT)
    client = app.test_client()
    started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch})
    first = finish(client, smart, started.headers["Location"])
    assert first.response.status_code == 200
    smart.fault(launch=launch, fault="token_expired")
    smart.fault(launch=launch, fault="refresh_revoked")
    again = client.get("/chart", query_string={"h": first.handle})
    page = again.get_data(as_text=True)
    assert again.status_code == 401
    assert "Open the app again from the chart" in page
    assert "The last evaluation shown in this session" not in page
    assert 'data-testid="overall"' not in page


@pytest.mark.parametrize("vendor", ["epic", "oracle"])
def test_vendor_profiles_still_give_the_page(smart, tmp_path, vendor) -> None:
    # An app of its own: the profile comes from the CapabilityStatement, which an app keeps
    # per EHR, and this sandbox plays another vendor on the same FHIR base per launch.
    app = make_app(tmp_path, smart, "clozapine-smartapp")
    launched, _ = launched_with_faults(app, smart, vendor=vendor)
    app.extensions["smartapp"].close()
    assert launched.response.status_code == 200, launched.html[:400]
    assert launched.attribute("next-due", "data-status") in ("current", "due", "overdue")


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_private_key_jwt_client_authenticates_with_the_apps_own_keys(smart, tmp_path, alg) -> None:
    client_id = f"app-jwt-{uuid.uuid4().hex[:8]}"
    app = make_app(tmp_path, smart, client_id, auth_method="private_key_jwt", signing_alg=alg)
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    assert {key["alg"] for key in jwks["keys"]} >= {"RS384", "ES384"}
    smart.control(
        "POST",
        "clients",
        json={
            "client_id": client_id,
            "token_endpoint_auth_method": "private_key_jwt",
            "redirect_uris": [f"{APP_ORIGIN}/callback"],
            "scope": SCOPES.split(),
            "jwks": jwks,
        },
    )
    launched = ehr_launch(app.test_client(), smart, PATIENT)
    assert launched.response.status_code == 200, launched.html[:600]
    app.extensions["smartapp"].close()


def test_wrong_client_secret_is_a_clear_refusal(smart, tmp_path, monkeypatch) -> None:
    client_id = smart.register(SCOPES, method="client_secret_basic", client_secret="right-secret")
    monkeypatch.setenv("SANDBOX_TEST_SECRET", "wrong-secret")
    app = make_app(
        tmp_path,
        smart,
        client_id,
        auth_method="client_secret_basic",
        client_secret_env="SANDBOX_TEST_SECRET",
    )
    client = app.test_client()
    started = client.get(
        "/launch", query_string={"iss": smart.iss, "launch": smart.launch(PATIENT)}
    )
    callback = authorize_at_ehr(smart, started.headers["Location"])
    from urllib.parse import urlsplit

    parts = urlsplit(callback)
    refused = client.get(parts.path, query_string=parts.query)
    assert refused.status_code in (400, 401)
    assert "Set-Cookie" not in refused.headers
    app.extensions["smartapp"].close()
