"""The CDS Hooks service against the real sandbox EHR: a test CDS client's JWT, no prefetch, and
the patient's record read with `fhirAuthorization` from the sandbox's FHIR server."""

from __future__ import annotations

from typing import Any

import pytest

from smartapp.cds.cards import ACTIONS
from tests.cds_client import CdsClient
from tests.cds_requests import clozapine_draft, hook_request
from tests.integration.app_harness import APP_ORIGIN, cli_evaluation, sandbox_app
from tests.integration.smart import SmartClient

pytestmark = pytest.mark.integration

CDS = CdsClient(iss="https://sandbox.example.org/cds-client")
SCOPE = "launch patient/*.rs"
INDICATORS = {"action-required": "critical", "attention": "warning"}


@pytest.fixture(scope="module")
def app(sandbox_ehr, tmp_path_factory):
    with sandbox_app(
        sandbox_ehr, tmp_path_factory.mktemp("cds"), toml=CDS.toml(SmartClient(sandbox_ehr).iss)
    ) as application:
        yield application


def authorization(smart: SmartClient, patient: str) -> dict[str, Any]:
    """What the EHR sends as fhirAuthorization: a token for the patient's record."""
    client_id = smart.register(SCOPE)
    token = smart.ehr_launch(client_id, SCOPE, patient=patient)
    return {
        "access_token": token["access_token"],
        "token_type": "Bearer",
        "expires_in": token.get("expires_in", 300),
        "scope": token.get("scope", SCOPE),
        "subject": client_id,
        "patient": patient,
    }


def call(app, service: str, body: dict[str, Any]):
    path = f"/cds-services/{service}"
    return app.test_client().post(path, json=body, headers=CDS.headers(APP_ORIGIN + path))


def with_authorization(
    smart: SmartClient, patient: str, hook: str, **kwargs: Any
) -> dict[str, Any]:
    return hook_request(
        None,
        hook,
        patient_id=patient,
        prefetch=kwargs.pop("prefetch", {}),
        fhirServer=smart.iss,
        fhirAuthorization=authorization(smart, patient),
        **kwargs,
    )


@pytest.mark.parametrize("patient", ["sbx-weekly-overdue", "sbx-weekly-current"])
def test_cds_patient_view_reads_the_sandbox_and_answers_as_smartapp_evaluate(
    app, smart, patient, tmp_path
) -> None:
    response = call(
        app, "clozapine-anc-patient-view", with_authorization(smart, patient, "patient-view")
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    registry = app.extensions["smartapp"].registry.export(smart.iss)
    expected = cli_evaluation(smart, patient, registry, tmp_path)
    cards = response.get_json()["cards"]
    if expected["overall"] in INDICATORS:
        [card] = cards
        assert card["indicator"] == INDICATORS[expected["overall"]]
        assert card["summary"] == ACTIONS[expected["findings"][0]["code"]]
        for finding in expected["findings"]:
            assert f"rule {finding['rule']}" in card["detail"]
    else:
        assert cards == []


@pytest.mark.parametrize(
    ("hook", "service"),
    [("order-select", "clozapine-anc-order-select"), ("order-sign", "clozapine-anc-order-sign")],
)
def test_cds_order_hooks_read_the_sandbox_for_a_draft_clozapine_order(
    app, smart, hook, service
) -> None:
    patient = "sbx-weekly-overdue"
    draft = clozapine_draft("draft-cds-1", patient)
    body = with_authorization(smart, patient, hook, drafts=[draft])
    response = call(app, service, body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    [card] = response.get_json()["cards"]
    assert card["indicator"] == "critical"
    assert card["summary"] == ACTIONS["monitoring-overdue"]
    assert (
        card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "57021-8"
    )


def test_cds_prefetch_given_in_part_reads_only_with_the_authorization(app, smart) -> None:
    patient = "sbx-weekly-overdue"
    given = {"patient": {"resourceType": "Patient", "id": patient}, "conditions": None}
    body = with_authorization(smart, patient, "patient-view", prefetch=given)
    response = call(app, "clozapine-anc-patient-view", body)
    assert response.status_code == 200
    assert response.get_json()["cards"][0]["indicator"] == "critical"


def test_cds_a_refused_read_gives_one_warning_card_never_no_card(app, smart) -> None:
    patient = "sbx-weekly-overdue"
    body = with_authorization(smart, patient, "patient-view")
    body["fhirAuthorization"]["access_token"] = "not-a-token-the-sandbox-issued"
    response = call(app, "clozapine-anc-patient-view", body)
    assert response.status_code == 200
    [card] = response.get_json()["cards"]
    assert card["indicator"] == "warning" and "could not be read" in card["summary"]
