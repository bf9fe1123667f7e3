"""HSTS on every answer, CSRF tokens of any text, pending launches purged at /launch, the JWKS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from launch import PendingLaunch
from smartapp.db.models import PendingLaunchRow
from tests.app.fake_ehr import FakeEhr, served
from tests.app_helpers import ISS, open_session


def pending_rows(app) -> int:
    with app.extensions["smartapp"].database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(PendingLaunchRow)).scalar())


@pytest.mark.parametrize("path", ["/healthz", "/.well-known/jwks.json", "/chart", "/nowhere"])
def test_every_answer_carries_hsts(client, path) -> None:
    answer = client.get(path)
    hsts = answer.headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31536000


@pytest.mark.parametrize("token", ["é" * 64, "\u2603", "токен"])
def test_non_ascii_csrf_token_is_a_400_not_a_500(app, token) -> None:
    handle = open_session(app, "Practitioner/dr-a", now=None)
    answer = app.test_client().post("/writeback", data={"h": handle, "csrf_token": token})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)


def test_non_ascii_csrf_header_is_a_400_not_a_500(app) -> None:
    handle = open_session(app, "Practitioner/dr-a", now=None)
    answer = app.test_client().post(
        "/writeback", data={"h": handle}, headers={"X-CSRF-Token": "é".encode().decode("latin-1")}
    )
    assert answer.status_code == 400


def test_expired_pending_launches_are_purged_at_launch(app) -> None:
    pending = app.extensions["smartapp"].pending
    old = datetime.now(UTC) - timedelta(hours=2)
    for number in range(3):
        pending.save(PendingLaunch(f"abandoned-{number}", "v", "n", ISS, "https://x/cb", old))
    assert pending_rows(app) == 3
    with served(FakeEhr(anc_on="2026-11-10")):
        started = app.test_client().get("/launch", query_string={"iss": ISS, "launch": "l-1"})
    assert started.status_code == 302
    assert pending_rows(app) == 1  # the launch just begun


def test_jwks_is_served_from_a_cache_without_reading_the_keys_each_time(app, monkeypatch) -> None:
    keys = app.extensions["smartapp"].keys
    reloads: list[int] = []
    original = keys.reload

    def counted() -> None:
        reloads.append(1)
        original()

    monkeypatch.setattr(keys, "reload", counted)
    client = app.test_client()
    answers = [client.get("/.well-known/jwks.json") for _ in range(20)]
    assert all(a.status_code == 200 for a in answers)
    assert len({a.get_data() for a in answers}) == 1
    assert len(reloads) <= 1
    assert "max-age=" in answers[0].headers["Cache-Control"]
    assert "public" in answers[0].headers["Cache-Control"]
