"""The page on a record not read whole or not the launch's patient (faked EHR, no Node).

Orders or lab results that cannot be read whole give no evaluation, only a page naming the data
and what to do, and never the evaluation kept from an earlier view; a problem list that cannot be
read gives the evaluation with a BEN notice, never the all-clear, and no write-back; a Patient
read answering another id stops before any evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine

from fhir_client.messages import RESOURCE_WORDS
from tests.app.fake_ehr import (
    ISS,
    MALFORMED,
    SCOPES,
    TOKEN,
    FakeEhr,
    chart,
    fake_ehr_settings,
    launch,
    served,
    writes,
)

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
# Never on a page that shows no evaluation: the status block and the all-clear words.
EVALUATION_HOOKS = ('data-testid="overall"', 'data-testid="status-label"', 'data-testid="next-due"')
ALL_CLEAR_WORDS = ("Not on clozapine", "Monitoring up to date", "Continue clozapine", "No findings")


@pytest.fixture(autouse=True)
def _noon() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def app_config(tmp_path):
    return fake_ehr_settings(tmp_path)


@pytest.fixture
def ehr() -> Iterator[tuple[FakeEhr, responses.RequestsMock]]:
    fake = FakeEhr(anc_on="2026-11-24")
    with served(fake) as mock:
        yield fake, mock


def assert_no_evaluation(html: str) -> None:
    for hook in EVALUATION_HOOKS:
        assert hook not in html, hook
    for words in ALL_CLEAR_WORDS:
        assert words not in html, words
    assert "The last evaluation shown in this session" not in html


@pytest.mark.parametrize("variant", MALFORMED)
@pytest.mark.parametrize("resource_type", ["MedicationRequest", "Observation"])
def test_chart_orders_or_results_not_read_whole_show_no_evaluation(
    client, ehr, resource_type, variant
) -> None:
    fake, _ = ehr
    handle = launch(client)
    status, html = chart(client, handle)
    assert status == 200 and 'data-testid="overall"' in html  # an evaluation is kept...
    fake.broken[resource_type] = variant
    status, html = chart(client, handle)
    assert status == 502
    words = RESOURCE_WORDS[resource_type]
    title = f"The app cannot evaluate this patient: {words} could not be read completely"
    assert f'<h1 data-testid="error-title">{title}</h1>' in html
    assert "could be the current clozapine order or a low ANC" in html
    assert f'data-resource-types="{resource_type}"' in html
    assert_no_evaluation(html)  # ...and never shown beside the refusal


def test_chart_orders_and_results_not_read_whole_are_both_named(client, ehr) -> None:
    fake, _ = ehr
    fake.broken.update({"MedicationRequest": "null-resource", "Observation": "entry-object"})
    status, html = chart(client, launch(client))
    assert status == 502
    assert "medication orders and lab results could not be read completely" in html
    assert html.count('data-testid="unusable-detail"') == 2
    assert_no_evaluation(html)


@pytest.mark.parametrize("variant", [*MALFORMED, "error"])
def test_chart_problem_list_not_read_shows_the_evaluation_with_ben_unknown(
    app, client, ehr, variant
) -> None:
    fake, mock = ehr
    services = app.extensions["smartapp"]
    services.registry.record_enrollment(ISS, "Patient/pt-1", date(2026, 5, 1), actor="t")
    handle = launch(client)
    status, html = chart(client, handle)
    assert status == 200
    assert 'data-testid="ben-unknown"' not in html
    assert '<p class="status-label" data-testid="status-label">Monitoring up to date</p>' in html

    fake.broken["Condition"] = variant
    status, html = chart(client, handle)
    assert status == 200, html[:400]
    assert 'data-testid="ben-unknown"' in html and "BEN status could not be read" in html
    assert "general thresholds" in html
    assert '<p class="status-label" data-testid="status-label">BEN status unknown</p>' in html
    assert "Monitoring is up to date" not in html and "Continue clozapine" not in html
    assert 'data-overall="ok"' in html  # the evaluation itself is the contract's, unchanged
    assert "Write-back is off for this patient" in html
    assert 'data-testid="writeback-sync"' not in html
    kept = services.sessions.last_evaluation(handle)  # the JSON the engine gave, as it was
    assert kept is not None and kept["overall"] == "ok"
    assert not [key for key in kept if "complete" in key or "ben" in key]
    assert writes(mock) == []


def test_chart_patient_read_answering_another_id_stops_before_evaluation(
    client, ehr, monkeypatch
) -> None:
    fake, _ = ehr
    fake.patient_id = "pt-2"
    import smartapp.ehr.evaluation as launch_evaluation

    evaluated: list[object] = []

    def evaluate(*args, **kwargs):
        evaluated.append(args)
        raise AssertionError("evaluated another patient's record")

    monkeypatch.setattr(launch_evaluation, "evaluate", evaluate)
    status, html = chart(client, launch(client))
    assert status == 502
    assert (
        '<h1 data-testid="error-title">The EHR returned another patient&#39;s record</h1>' in html
    )
    assert 'data-error="wrong_patient"' in html
    assert "pt-2" not in html and "Pat Example" not in html
    assert_no_evaluation(html)
    assert evaluated == []


def _tokens(patient: str, refresh_token: str) -> dict[str, object]:
    return {
        "access_token": f"access-{refresh_token}",
        "token_type": "Bearer",
        "expires_in": 600,
        "scope": SCOPES,
        "patient": patient,
        "refresh_token": refresh_token,
    }


@pytest.mark.parametrize(("renewed_for", "status"), [("pt-1", 200), ("pt-2", 502)])
def test_chart_refresh_naming_another_patient_stops_and_keeps_the_session(
    app, client, ehr, renewed_for, status
) -> None:
    _, mock = ehr
    mock.replace(responses.POST, TOKEN, json=_tokens("pt-1", "refresh-1"))
    handle = launch(client)
    mock.replace(responses.POST, TOKEN, json=_tokens(renewed_for, "refresh-2"))
    with time_machine.travel(
        NOON + timedelta(minutes=15), tick=False
    ):  # token expired, session not idle
        answer, html = chart(client, handle)
    assert answer == status, html[:400]
    kept = app.extensions["smartapp"].sessions.get(handle)
    if status == 502:
        assert "The EHR renewed this session for another patient" in html
        assert_no_evaluation(html)
        assert kept.tokens.patient == "pt-1" and kept.tokens.refresh_token == "refresh-1"
    else:
        assert kept.tokens.refresh_token == "refresh-2"
