"""The app against the sandbox EHR sending what imperfect EHRs send: searchsets that cannot be
read whole (an entry that is a string or a number among them), paging cut short against `total`,
a next page that fails at every try, a Patient read answering another id.

Each fault is the sandbox's (sandbox/ehr/faults.py, answers.py), switched on for one launch or
one client; the page must say what could not be read, never show an evaluation made without the
orders or the results, never the all-clear without BEN status, and write nothing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from fhir_client.messages import RESOURCE_WORDS
from sandbox.ehr.faults import Variant
from smartapp.web.csrf import csrf_token
from tests.integration.app_harness import SCOPES, Launched, finish, sandbox_app
from tests.integration.writeback_harness import (  # noqa: F401 - fixtures, by name
    SECRET_KEY,
    app_for_fixture,
    database_url_fixture,
    ehr_fixture,
    launch,
    post_writeback,
)

pytestmark = pytest.mark.integration
SEVERE = "sbx-severe"  # ANC 900 two days ago, then 420 yesterday
BEN_SEVERE = "sbx-ben-severe"  # documented Duffy-null associated neutrophil count, ANC 380
VARIANTS = [variant.value for variant in Variant]
REQUIRED = ["MedicationRequest", "Observation"]
STATUS_HOOKS = ('data-testid="overall"', 'data-testid="status-label"', 'data-testid="next-due"')
ALL_CLEAR = ("Not on clozapine", "Monitoring up to date", "Continue clozapine", "No findings")


@pytest.fixture(scope="module")
def app(sandbox_ehr, tmp_path_factory):
    with sandbox_app(sandbox_ehr, tmp_path_factory.mktemp("incomplete")) as application:
        yield application


def chart_with(app, smart, *faults: dict[str, Any], patient: str = SEVERE) -> Launched:
    """The chart of a launch whose FHIR calls meet these faults (this launch's only)."""
    launch_id = smart.launch(patient)
    for fault in faults:
        smart.fault(launch=launch_id, **fault)
    client = app.test_client()
    started = client.get("/launch", query_string={"iss": smart.iss, "launch": launch_id})
    assert started.status_code == 302
    return finish(client, smart, started.headers["Location"])


def malformed(resource_type: str, variant: str) -> dict[str, Any]:
    return {"fault": "malformed_searchset", "resource_type": resource_type, "variant": variant}


def assert_refused_without_evaluation(
    launched: Launched, resource_type: str, named: str = "could not be read completely ("
) -> None:
    html = launched.html
    assert launched.response.status_code == 502, html[:600]
    words = RESOURCE_WORDS[resource_type]
    assert f"The app cannot evaluate this patient: {words} could not be read completely" in html
    assert f'data-resource-types="{resource_type}"' in html
    assert named in html  # the EHR's own problem, named
    for hook in STATUS_HOOKS:
        assert hook not in html, hook
    for words in ALL_CLEAR:
        assert words not in html, words
    assert "Traceback" not in html


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("resource_type", REQUIRED)
def test_incomplete_orders_or_results_name_the_data_and_show_no_evaluation(
    app, smart, resource_type, variant
) -> None:
    launched = chart_with(app, smart, malformed(resource_type, variant))
    assert_refused_without_evaluation(launched, resource_type)


@pytest.mark.parametrize("resource_type", REQUIRED)
def test_paging_cut_short_against_total_names_the_data_and_shows_no_evaluation(
    app, smart, resource_type
) -> None:
    fault = {"fault": "paging_cut_short", "resource_type": resource_type}
    launched = chart_with(app, smart, fault)
    assert_refused_without_evaluation(launched, resource_type)
    assert "results the EHR counted were read" in launched.html


NEXT_PAGE_STATUSES = [500, 404]


def next_link_fails(resource_type: str, status: int) -> dict[str, Any]:
    return {"fault": "next_link_fails", "resource_type": resource_type, "status": status}


@pytest.mark.parametrize("variant", ["entry_string", "entry_number"])
@pytest.mark.parametrize("resource_type", REQUIRED)
def test_an_entry_that_is_not_an_object_is_named_on_the_page(
    app, smart, resource_type, variant
) -> None:
    launched = chart_with(app, smart, malformed(resource_type, variant))
    assert_refused_without_evaluation(launched, resource_type)
    assert "is not an object" in launched.html


@pytest.mark.parametrize("status", NEXT_PAGE_STATUSES)
@pytest.mark.parametrize("resource_type", REQUIRED)
def test_a_next_page_that_fails_names_the_data_and_shows_no_evaluation(
    app, smart, resource_type, status
) -> None:
    launched = chart_with(app, smart, next_link_fails(resource_type, status))
    cut = f"Only part of {RESOURCE_WORDS[resource_type]} was read (page 2 failed)"
    assert_refused_without_evaluation(launched, resource_type, named=cut)
    details = re.findall(r'<li data-testid="unusable-detail">(.*?)</li>', launched.html, re.S)
    assert len(details) == 1 and cut in details[0], details


def test_the_same_patient_without_faults_is_evaluated(app, smart) -> None:
    launched = chart_with(app, smart)
    assert launched.response.status_code == 200
    assert launched.attribute("overall", "data-overall") == "action-required"
    assert launched.attribute("recommendation", "data-recommendation") == "interrupt"


@pytest.mark.parametrize(
    "fault",
    [malformed("Condition", v) for v in VARIANTS]
    + [{"fault": "paging_cut_short", "resource_type": "Condition"}]
    + [next_link_fails("Condition", status) for status in NEXT_PAGE_STATUSES],
    ids=[*VARIANTS, "paging_cut_short", *(f"next_page_{s}" for s in NEXT_PAGE_STATUSES)],
)
def test_incomplete_conditions_show_the_evaluation_on_general_thresholds(app, smart, fault) -> None:
    documented = chart_with(app, smart, patient=BEN_SEVERE)
    assert 'data-testid="ben-unknown"' not in documented.html
    assert "· ben population" in documented.html

    launched = chart_with(app, smart, fault, patient=BEN_SEVERE)
    html = launched.html
    assert launched.response.status_code == 200, html[:600]
    assert 'data-testid="ben-unknown"' in html
    assert "BEN status could not be read" in html and "general thresholds" in html
    assert "· general population" in html
    assert launched.attribute("overall", "data-overall") == "action-required"
    assert "Monitoring up to date" not in html and "Continue clozapine" not in html
    assert "Recommendation on the general thresholds (BEN status unknown)" in html
    assert "Write-back is off for this patient" in html


@pytest.mark.parametrize("answer_id", ["sbx-mild", None])
def test_patient_read_answering_another_id_stops_before_any_evaluation(
    app, smart, answer_id
) -> None:
    fault = {"fault": "patient_other_id", **({"answer_id": answer_id} if answer_id else {})}
    launched = chart_with(app, smart, fault)
    html = launched.html
    assert launched.response.status_code == 502, html[:600]
    assert "The EHR returned another patient&#39;s record" in html
    assert 'data-error="wrong_patient"' in html
    assert "Synthson" not in html and "Fixture" not in html  # neither patient's name
    for hook in STATUS_HOOKS:
        assert hook not in html, hook


@pytest.mark.parametrize("resource_type", [*REQUIRED, "Condition"])
def test_incomplete_read_writes_retires_and_records_nothing(
    app_for, smart, ehr, resource_type
) -> None:
    """Flags are written, the ANC comes in (so they would retire), then a search cannot be read
    whole: both POSTs refuse, and the EHR, the ledger, the registry and the audit trail stay."""
    client_id = smart.register(SCOPES)
    app = app_for(client_id)
    services = app.extensions["smartapp"]
    patient = ehr.new_patient()
    reference = f"Patient/{patient}"
    services.registry.record_enrollment(smart.iss, reference, date(2026, 1, 5), actor="test")
    client, launched = launch(app, smart, patient)
    written = post_writeback(client, launched.handle, "monitoring-overdue")
    assert written.status_code == 200
    flags_before = ehr.search("Flag", patient=patient)
    assert [flag["status"] for flag in flags_before] == ["active"]
    ledger_before = services.ledger.for_patient(smart.iss, reference)
    registry_before = services.registry.export(smart.iss)
    audit_before = services.audit.events(smart.iss, limit=1000)
    ehr.anc(patient, days_ago=0)

    smart.fault(client_id=client_id, **malformed(resource_type, "missing_resource_type"))
    try:
        form = {"h": launched.handle, "csrf_token": csrf_token(SECRET_KEY, launched.handle)}
        for path in ("/writeback/sync", "/writeback"):
            answer = client.post(path, data=form)
            text = answer.get_data(as_text=True)
            assert answer.status_code == 502, (path, text[:400])
            assert f"{RESOURCE_WORDS[resource_type]} could not be read completely" in text
    finally:
        smart.control("DELETE", f"faults?client_id={client_id}")
    assert ehr.search("Flag", patient=patient) == flags_before
    assert services.ledger.for_patient(smart.iss, reference) == ledger_before
    assert services.registry.export(smart.iss) == registry_before
    assert services.audit.events(smart.iss, limit=1000) == audit_before
