"""Errors say what to do: on the page (escaped) and in the log, with the request id on each line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, request

from fhir_client import FhirUnavailable
from fhir_client.messages import Call, error_from_tls
from launch import AuthError, ConfigurationError
from smartapp.app import create_app
from smartapp.settings import SettingsError, load_settings, load_store_settings
from tests.app.fake_ehr import ISS, ISSUER_TOML, FakeEhr, served, state_of
from tests.app_helpers import ORG_CONFIG, app_settings


def log_lines(stderr: str) -> list[dict[str, Any]]:
    """The JSON lines the app logged."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


@pytest.fixture
def logged_app(tmp_path) -> Iterator[Callable[[], Flask]]:
    """Makes the app logging at DEBUG. The test makes it, so that its log handler writes to
    the test's own capture (capsys swaps sys.stderr between a fixture's set-up and the test)."""
    made: list[Flask] = []

    def make() -> Flask:
        settings = app_settings(
            tmp_path, ISSUER_TOML, ORG_CONFIG=str(ORG_CONFIG), LOG_LEVEL="DEBUG"
        )
        made.append(create_app(settings))
        return made[-1]

    yield make
    for app in made:
        app.extensions["smartapp"].close()


def test_unknown_issuer_is_named_escaped_on_the_page_and_in_the_log(logged_app, capsys) -> None:
    client = logged_app().test_client()
    capsys.readouterr()
    iss = "https://unknown.example.org/fhir/<b>r4"
    response = client.get("/launch", query_string={"iss": iss, "launch": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "https://unknown.example.org/fhir/&lt;b&gt;r4" in page and "<b>r4" not in page
    assert "issuers file" in page
    lines = log_lines(capsys.readouterr().err)
    refused = [line for line in lines if line.get("error") == "unknown_issuer"]
    assert refused and "https://unknown.example.org/fhir/<b>r4" in refused[0]["detail"]


def test_ehr_error_description_is_shown_escaped_shortened_and_logged(logged_app, capsys) -> None:
    client = logged_app().test_client()
    capsys.readouterr()
    description = "<script>alert(1)</script> the user has no access to this patient " + "y" * 400
    response = client.get(
        "/callback", query_string={"error": "access_denied", "error_description": description}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "&lt;script&gt;alert(1)&lt;/script&gt; the user has no access" in page
    assert "<script>alert(1)" not in page and "y" * 300 not in page
    logged = [line for line in log_lines(capsys.readouterr().err) if "detail" in line]
    assert "the user has no access to this patient" in logged[0]["detail"]


def test_every_line_of_a_request_carries_its_request_id(logged_app, capsys) -> None:
    """A launch and a chart page: the FHIR client's lines (logged on the shared thread pool)
    and the request lines all name the request that made them."""
    client = logged_app().test_client()
    with served(FakeEhr(anc_on="2026-11-10")):
        started = client.get("/launch", query_string={"iss": ISS, "launch": "launch-123"})
        back = client.get(
            "/callback", query_string={"code": "code-1", "state": state_of(started.location)}
        )
        capsys.readouterr()
        page = client.get(back.location)
    assert page.status_code == 200
    lines = log_lines(capsys.readouterr().err)
    fhir_lines = [line for line in lines if line["logger"] == "fhir_client"]
    assert len(fhir_lines) >= 3
    assert {line["request_id"] for line in lines} == {page.headers["X-Request-Id"]}


def test_unexpected_error_is_logged_with_its_traceback_but_no_request_value(
    logged_app, capsys
) -> None:
    app: Flask = logged_app()

    @app.get("/boom")
    def boom() -> str:
        raise KeyError(f"patient {request.args['h']}")

    capsys.readouterr()
    response = app.test_client().get("/boom", query_string={"h": "handle-SECRET-1"})
    assert response.status_code == 500
    err = capsys.readouterr().err
    assert "handle-SECRET-1" not in err
    (logged,) = [line for line in log_lines(err) if line["message"] == "unexpected error"]
    assert logged["error"] == "KeyError"
    assert logged["request_id"] == response.headers["X-Request-Id"]
    assert any("in boom: raise KeyError(" in frame for frame in logged["traceback"])


def test_bad_token_key_stops_start_up_naming_it(app_config) -> None:
    with pytest.raises(SettingsError, match="SMARTAPP_TOKEN_KEY is not a Fernet key"):
        load_settings({**app_config, "TOKEN_KEY": "not-a-fernet-key"})
    with pytest.raises(SettingsError, match="SMARTAPP_TOKEN_KEY is not a Fernet key"):
        load_store_settings(environ={"SMARTAPP_TOKEN_KEY": "short"}).required_token_key()


def test_missing_tls_ca_file_stops_start_up_naming_it(tmp_path) -> None:
    issuers = ISSUER_TOML + 'tls_ca_file = "no-such-ca.pem"\n'
    with pytest.raises(ConfigurationError, match=r"'tls_ca_file' names .*no-such-ca\.pem"):
        create_app(app_settings(tmp_path, issuers))


def test_an_ehr_error_logs_its_technical_line_naming_the_untrusted_host(logged_app, capsys):
    app: Flask = logged_app()

    @app.get("/untrusted")
    def untrusted() -> str:
        raise error_from_tls(Call("GET", "Patient"), "https://fhir.example.org/r4/Patient/p-77")

    capsys.readouterr()
    page = app.test_client().get("/untrusted").get_data(as_text=True)
    assert "does not trust the TLS certificate of fhir.example.org" in page
    (logged,) = [line for line in log_lines(capsys.readouterr().err) if "kind" in line]
    assert logged["detail"] == (
        "GET Patient -> TLS certificate of fhir.example.org not trusted (set tls_ca_file)"
    )
    assert "p-77" not in json.dumps(logged)


def busy_app(logged_app: Callable[[], Flask]) -> Flask:
    """The app with routes failing as a busy EHR makes them fail."""
    app = logged_app()

    @app.get("/busy-token/<int:wait>")
    def busy_token(wait: int) -> str:
        raise AuthError(
            "token_endpoint_busy",
            "The EHR is busy and could not complete the sign-in; try again.",
            retryable=True,
            status=503,
            retry_after_s=wait or None,
        )

    @app.get("/busy-fhir/<int:status>/<int:wait>")
    def busy_fhir(status: int, wait: int) -> str:
        raise FhirUnavailable(
            f"GET Patient -> {status}",
            user_message="The EHR is busy (too many requests).",
            status=status,
            retry_after_s=float(wait) if wait else None,
        )

    return app


def test_busy_token_endpoint_page_says_when_to_retry(logged_app) -> None:
    client = busy_app(logged_app).test_client()
    answered = client.get("/busy-token/7")
    assert answered.status_code == 503
    assert answered.headers["Retry-After"] == "7"
    unknown = client.get("/busy-token/0")
    assert unknown.status_code == 503 and "Retry-After" not in unknown.headers


def test_busy_fhir_server_page_is_503_with_the_wait_it_gave(logged_app) -> None:
    client = busy_app(logged_app).test_client()
    answered = client.get("/busy-fhir/429/12")
    assert answered.status_code == 503
    assert answered.headers["Retry-After"] == "12"
    assert "busy" in answered.get_data(as_text=True)
    unknown = client.get("/busy-fhir/429/0")
    assert unknown.status_code == 503 and "Retry-After" not in unknown.headers
    failed = client.get("/busy-fhir/500/0")
    assert failed.status_code == 502 and "Retry-After" not in failed.headers
