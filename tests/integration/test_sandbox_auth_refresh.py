"""Refresh tokens (offline_access, online_access), revocation, introspection."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.smart import APP_CLIENT, SmartClient

pytestmark = pytest.mark.integration


def _introspect(smart: SmartClient, token: str, client_id: str = APP_CLIENT) -> dict[str, Any]:
    response = smart.session.post(
        f"{smart.origin}/auth/introspect", data={"token": token, "client_id": client_id}, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_sandbox_auth_refresh_issues_a_new_working_access_token(smart):
    token = smart.ehr_launch()
    refreshed = smart.refresh(token["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body["access_token"] != token["access_token"]
    assert body["patient"] == token["patient"]
    assert body["refresh_token"] != token["refresh_token"]  # rotated
    assert smart.fhir("GET", f"Patient/{token['patient']}", body["access_token"]).ok
    reused = smart.refresh(token["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_sandbox_auth_online_access_also_gets_a_refresh_token(smart):
    token = smart.ehr_launch(scope="launch online_access patient/*.rs")
    assert smart.refresh(token["refresh_token"]).status_code == 200


def test_sandbox_auth_revoked_refresh_token_is_refused(smart):
    token = smart.ehr_launch()
    revoked = smart.session.post(
        f"{smart.origin}/auth/revoke",
        data={
            "token": token["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": APP_CLIENT,
        },
        timeout=10,
    )
    assert revoked.status_code == 200
    refused = smart.refresh(token["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert (
        smart.fhir("GET", f"Patient/{token['patient']}", token["access_token"]).status_code == 401
    )


def test_sandbox_auth_refresh_token_of_another_client_is_refused(smart):
    token = smart.ehr_launch()
    other = smart.register("launch offline_access patient/*.rs")
    assert smart.refresh(token["refresh_token"], client_id=other).status_code == 400


def test_sandbox_auth_introspection_reports_active_and_inactive_tokens(smart):
    token = smart.ehr_launch()
    active = _introspect(smart, token["access_token"])
    assert active["active"] is True
    assert active["client_id"] == APP_CLIENT
    assert active["patient"] == token["patient"]
    assert active["scope"] == token["scope"]
    assert active["exp"] > active["iat"]
    assert _introspect(smart, token["refresh_token"])["active"] is True
    assert _introspect(smart, "no-such-token") == {"active": False}
    stranger = smart.register("launch patient/*.rs")
    assert _introspect(smart, token["access_token"], client_id=stranger) == {"active": False}
