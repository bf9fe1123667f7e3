"""The sandbox chart as a CDS Hooks client of the app (under gunicorn): `patient-view` at chart
open, `order-select` and `order-sign` from the order form, suggestions, overrides and feedback,
with prefetch and with `fhirAuthorization` only, and a JWT the service refuses."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest

from smartapp.cds.cards import ACTIONS
from tests.integration.cds_loop import (
    Chart,
    app_for_chart,
    cards_of,
    cds_error,
    configure,
    draft_id_of,
    order_state,
)

pytestmark = pytest.mark.integration

MODES = ("prefetch", "fhir-authorization")
PATIENT_VIEW = "clozapine-anc-patient-view"
ORDER_SELECT = "clozapine-anc-order-select"
ORDER_SIGN = "clozapine-anc-order-sign"


@pytest.fixture(scope="module", params=MODES)
def mode(request, sandbox_ehr, tmp_path_factory):
    """The app running, the chart calling it in this mode."""
    with app_for_chart(sandbox_ehr, tmp_path_factory.mktemp("cds-loop"), request.param):
        yield request.param


@pytest.fixture
def chart(sandbox_ehr, mode):
    yield Chart(sandbox_ehr)


def test_cds_chart_open_shows_the_patient_view_card_beside_the_app(chart) -> None:
    page = chart.open("sbx-weekly-overdue")
    assert cds_error(page) is None
    [card] = cards_of(page)
    assert (card.indicator, card.service) == ("critical", PATIENT_VIEW)
    assert card.summary == ACTIONS["monitoring-overdue"]
    assert "<strong>Clozapine ANC monitoring</strong>" in card.html  # markdown rendered
    assert 'target="app-frame"' in card.html  # the smart link launches the app in the chart
    assert card.reasons()  # a critical card offers override reasons
    assert '<iframe class="app" name="app-frame"' in page


def test_cds_chart_open_shows_no_card_when_the_monitoring_is_current(chart) -> None:
    page = chart.open("sbx-weekly-current")
    assert cds_error(page) is None
    assert [c for c in cards_of(page) if c.indicator == "critical"] == []


def test_cds_order_select_then_sign_accept_the_cbc_and_the_order_is_signed(chart, mode) -> None:
    patient = "sbx-no-anc" if mode == "prefetch" else "sbx-monthly-overdue"
    before = len(chart.engine_search("ServiceRequest", patient))
    page = chart.draft(patient, start=date.today().isoformat())
    draft = draft_id_of(page)
    [picked] = cards_of(page)
    assert (picked.service, picked.indicator) == (ORDER_SELECT, "critical")

    signing = chart.post(f"/chart/{patient}/orders/{draft}/sign")
    assert signing.status_code == 200 and cds_error(signing.text) is None, signing.text[:300]
    sign_card = next(c for c in cards_of(signing.text) if c.service == ORDER_SIGN)
    assert sign_card.indicator == "critical"
    refused = chart.post(f"/chart/{patient}/orders/{draft}/complete")
    assert refused.status_code == 409  # a critical card not yet accepted or overridden

    accepted = chart.post(
        f"/chart/{patient}/cards/{sign_card.uuid}/accept",
        suggestion=sign_card.suggestion("CBC with differential"),
    )
    assert accepted.status_code == 200
    after = chart.engine_search("ServiceRequest", patient)
    assert len(after) == before + 1
    [placed] = [r for r in after if r["status"] == "active"][-1:]
    assert placed["code"]["coding"][0]["code"] == "57021-8"
    assert placed["subject"]["reference"] == f"Patient/{patient}"
    [shown] = [c for c in cards_of(accepted.text) if c.uuid == sign_card.uuid]
    assert shown.outcome == "accepted" and "not delivered" not in shown.html

    signed = chart.post(f"/chart/{patient}/orders/{draft}/complete")
    assert order_state(signed.text) == "signed"
    orders = chart.engine_search("MedicationRequest", patient)
    assert any(o.get("status") == "active" and "dispenseRequest" in o for o in orders)


def test_cds_an_override_needs_a_reason_is_sent_and_silences_patient_view(chart, mode) -> None:
    patient = "sbx-severe" if mode == "prefetch" else "sbx-moderate"
    [card] = [c for c in cards_of(chart.open(patient)) if c.service == PATIENT_VIEW]
    assert card.indicator == "critical"
    without = chart.post(f"/chart/{patient}/cards/{card.uuid}/override", reason="", comment="")
    assert without.status_code == 400
    done = chart.post(
        f"/chart/{patient}/cards/{card.uuid}/override",
        reason=card.reasons()[0],
        comment="discussed with the prescriber",
    )
    assert done.status_code == 200
    [shown] = [c for c in cards_of(done.text) if c.uuid == card.uuid]
    assert shown.outcome == "overridden" and "not delivered" not in shown.html
    # The service kept the override: the next chart open shows no new card for that finding.
    assert [c for c in cards_of(chart.open(patient)) if c.service == PATIENT_VIEW] == []


def test_cds_removing_the_draft_order_is_a_suggestion_at_signing(chart, mode) -> None:
    patient = "sbx-ben-severe" if mode == "prefetch" else "sbx-start-low-baseline"
    start = date.today().isoformat()
    draft = draft_id_of(chart.draft(patient, start=start))
    signing = chart.post(f"/chart/{patient}/orders/{draft}/sign")
    sign_card = next(c for c in cards_of(signing.text) if c.service == ORDER_SIGN)
    removed = chart.post(
        f"/chart/{patient}/cards/{sign_card.uuid}/accept",
        suggestion=sign_card.suggestion("Remove the draft"),
    )
    assert order_state(removed.text) == "removed"
    assert chart.post(f"/chart/{patient}/orders/{draft}/complete").status_code == 409
    assert chart.post(f"/chart/{patient}/orders/{draft}/sign").status_code == 409


def test_cds_a_bad_jwt_shows_what_an_ehr_shows_when_the_service_refuses(
    chart, sandbox_ehr, smart
) -> None:
    smart.session.post(f"{smart.origin}/_sandbox/faults", json={"fault": "cds_bad_jwt"}, timeout=10)
    page = chart.open("sbx-weekly-overdue")
    error = cds_error(page)
    assert error is not None and "refused" in error and "401" in error
    assert "signature" in error
    assert cards_of(page) == []  # never silent: the notice says to check by hand


def test_cds_chart_forms_refuse_a_post_without_the_csrf_token(chart) -> None:
    answer = chart.session.post(
        f"{chart.origin}/chart/sbx-weekly-overdue/orders",
        data={"dose_mg": "100", "start": date.today().isoformat(), "supply_days": "7"},
        timeout=10,
    )
    assert answer.status_code == 403


def test_cds_the_chart_publishes_its_es384_key(chart, sandbox_ehr) -> None:
    jwks = chart.session.get(sandbox_ehr.config.cds_jwks_url, timeout=10).json()
    [key] = jwks["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-384", "ES384")
    assert "d" not in key and key["kid"]


def test_cds_the_control_api_refuses_an_unknown_mode(sandbox_ehr, mode) -> None:
    with pytest.raises(AssertionError):
        configure(sandbox_ehr, mode="both")


def test_cds_a_cards_smart_link_launches_the_app_for_the_patient(chart, sandbox_ehr) -> None:
    patient = "sbx-biweekly-overdue"
    [card] = [c for c in cards_of(chart.open(patient)) if c.service == PATIENT_VIEW]
    answer = chart.post(f"/chart/{patient}/cards/{card.uuid}/links/0", _allow_redirects=False)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert "/launch?" in location and "launch=" in location
    assert f"iss={quote(sandbox_ehr.config.fhir_base, safe='')}" in location
