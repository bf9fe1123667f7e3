"""The app's long-lived parts: one HTTP session per EHR, reused, closed at shutdown; "today"."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from launch import IssuerConfig
from smartapp.services import HttpSessions
from tests.app_helpers import program_settings


@pytest.fixture
def app_config(tmp_path):
    return program_settings(tmp_path)  # the sandbox organisation: America/Chicago


def issuer(iss: str) -> IssuerConfig:
    return IssuerConfig(name="EHR", iss=iss, client_id="app")


def test_http_sessions_one_per_issuer_reused_and_closed() -> None:
    sessions = HttpSessions()
    first = sessions.for_issuer(issuer("https://a.example.org/fhir"))
    assert sessions.for_issuer(issuer("https://a.example.org/fhir")) is first
    other = sessions.for_issuer(issuer("https://b.example.org/fhir"))
    assert other is not first and first.trust_env is False
    closed: list[str] = []
    first.close = lambda: closed.append("a")  # type: ignore[method-assign]
    other.close = lambda: closed.append("b")  # type: ignore[method-assign]
    sessions.close()
    assert sorted(closed) == ["a", "b"]
    assert sessions.for_issuer(issuer("https://a.example.org/fhir")) is not first


def test_services_today_is_the_organisations_date_and_close_releases_everything(app) -> None:
    services = app.extensions["smartapp"]
    # 03:00 UTC on the 26th is still the 25th in Chicago (the sandbox organisation's zone).
    with time_machine.travel(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), tick=False):
        assert services.today() == date(2026, 11, 25)
    services.http_for(issuer("https://ehr.example.org/fhir"))
    services.close()
    assert services.executor._shutdown
