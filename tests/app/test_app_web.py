"""The web app's own guards, with no EHR behind it: issuers, state, sessions, headers, health."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import responses
import time_machine

from smartapp.app import create_app
from smartapp.org_config import ConfigError, load_app_org_config
from smartapp.settings import SettingsError, load_settings
from tests.app_helpers import ISS, app_settings
from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize(
    "query",
    [
        {"iss": "https://evil.example.com/fhir", "launch": "abc"},
        {"iss": "javascript:alert(1)", "launch": "abc"},
        {"iss": "", "launch": "abc"},
        {"iss": ISS},
    ],
)
def test_launch_unknown_or_malformed_issuer_refused_without_redirect(client, query) -> None:
    response = client.get("/launch", query_string=query)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "The app could not be opened" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        {"code": "abc", "state": "never-issued"},
        {"state": "never-issued"},
        {"code": "abc"},
        {"error": "access_denied", "error_description": "<script>x</script>", "state": "s"},
    ],
)
def test_callback_with_unknown_state_or_error_refused(client, query) -> None:
    response = client.get("/callback", query_string=query)
    assert response.status_code in (400, 401, 403)
    assert "Location" not in response.headers
    assert "<script>x</script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize("handle", [None, "short", "x" * 43, "../../etc/passwd"])
def test_chart_without_a_live_session_asks_to_open_again(client, handle) -> None:
    response = client.get("/chart", query_string={"h": handle} if handle else {})
    assert response.status_code == 401
    assert "Open the app again from the chart" in response.get_data(as_text=True)


def test_every_page_carries_the_security_headers(client) -> None:
    response = client.get("/chart")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://ehr.example.org" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Request-Id"]


def test_health_and_readiness(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["database"] == "writable"


def test_readiness_reports_an_unreachable_database(app_config) -> None:
    settings = app_config
    app = create_app(settings)
    app.extensions["smartapp"].database.dispose()
    Path(settings["DATABASE_URL"].removeprefix("sqlite:///")).unlink()
    Path(settings["DATABASE_URL"].removeprefix("sqlite:///")).mkdir()  # a folder: not a database
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503


def test_jwks_publishes_public_keys_only(client) -> None:
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert {key["alg"] for key in keys} >= {"RS384", "ES384"}
    assert all("d" not in key for key in keys)


def test_vendor_assets_are_allow_listed(client) -> None:
    with client.get("/static/vendor/chart.umd.min.js") as served:
        assert served.status_code == 200 and served.mimetype == "text/javascript"
    for path in (
        "/static/vendor/anything.js",
        "/static/vendor/..%2Fpackage.json",
        "/static/package.json",
        "/static/node_modules/chart.js/package.json",
    ):
        with client.get(path) as refused:
            assert refused.status_code == 404, path


def test_oversized_request_refused(client) -> None:
    response = client.post("/callback", data={"x": "y" * 100_000})
    assert response.status_code in (405, 413)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("BASE_URL", "http://app.example.org", "BASE_URL"),
        ("BASE_URL", "https://app.example.org/sub", "BASE_URL"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("TOKEN_KEY", "", "TOKEN_KEY"),
        ("ISSUERS_FILE", "/nonexistent.toml", "ISSUERS_FILE"),
        ("AUTO_WRITEBACK", "maybe", "AUTO_WRITEBACK"),
        ("FHIR_TIMEOUT_S", "-1", "FHIR_TIMEOUT_S"),
        ("SESSION_RETENTION_DAYS", "-1", "SESSION_RETENTION_DAYS must be from 0"),
        ("SESSION_RETENTION_DAYS", "a week", "SESSION_RETENTION_DAYS must be a number"),
    ],
)
def test_bad_setting_stops_start_up_naming_it(app_config, name, value, problem) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings({**app_config, name: value})


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ('[organisation]\nname = "Example Health"\n', "organisation.timezone is not set in"),
        ("", "organisation.timezone is not set in"),
        ('[organisation]\ntimezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ('[organisation]\ntimezone = " "\n', "organisation.timezone must be"),
    ],
)
def test_start_up_refuses_a_settings_file_without_a_time_zone(
    app_config, tmp_path, document, problem
) -> None:
    """EHRs write collection times in UTC: without the zone an evening draw is dated a day late."""
    settings_file = tmp_path / "no-zone.toml"
    settings_file.write_text(document)
    with pytest.raises(ConfigError, match=problem):
        create_app({**app_config, "ORG_CONFIG": str(settings_file)})


def test_start_up_refuses_no_settings_file_naming_the_time_zone(app_config) -> None:
    with pytest.raises(
        ConfigError, match=r"SMARTAPP_ORG_CONFIG is not set.*organisation\.timezone"
    ):
        create_app({**app_config, "ORG_CONFIG": ""})


def test_today_is_the_date_in_the_configured_zone(app) -> None:
    """22:00 in Chicago on the 25th is already the 26th in UTC: the page's date is the 25th."""
    with time_machine.travel(datetime(2026, 11, 26, 4, 0, tzinfo=UTC), tick=False):
        assert app.extensions["smartapp"].today() == date(2026, 11, 25)


def test_the_demo_run_names_a_settings_file_with_the_time_zone() -> None:
    """scripts/run starts the app on the sandbox's settings file, which names the zone."""
    run = (PROJECT_ROOT / "scripts" / "run").read_text()
    (named,) = re.findall(r"^SMARTAPP_ORG_CONFIG=(\S+)$", run, re.M)
    assert load_app_org_config(PROJECT_ROOT / named).timezone == "America/Chicago"


def test_an_issuer_without_frame_ancestors_cannot_frame_the_app(tmp_path) -> None:
    """The README's warning: no `frame_ancestors`, and the EHR's iframe stays empty."""
    issuer = f'[[issuer]]\niss = "{ISS}"\nclient_id = "c"\n'
    app = create_app(app_settings(tmp_path, issuer))
    with responses.RequestsMock():  # discovery gets no answer: the error page is enough
        page = app.test_client().get("/launch", query_string={"iss": ISS, "launch": "x"})
    app.extensions["smartapp"].close()
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
