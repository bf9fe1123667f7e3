"""Write-back against the real sandbox EHR: Flag, Task, fallback, no scope, lifecycle, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.app_harness import SCOPES
from tests.integration.writeback_harness import (  # noqa: F401 - fixtures, by name
    READ_ONLY_SCOPES,
    app_for_fixture,
    database_url_fixture,
    ehr_fixture,
    identifier_search,
    launch,
    lifecycle_lines,
    load_chart,
    outcomes,
    post_writeback,
    today,
)

pytestmark = pytest.mark.integration


def overdue_value(patient: str) -> str:
    """The identifier value of the patient's monitoring-overdue finding (ANC 10 days ago)."""
    return f"{patient}/monitoring-overdue/{(today() - timedelta(days=3)).isoformat()}"


def test_writeback_flag_written_once_then_already_in_the_chart(app_for, smart, ehr) -> None:
    app = app_for()
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    assert 'data-testid="writeback-form"' in launched.html
    assert 'data-testid="writeback-button"' in launched.html

    first = post_writeback(client, launched.handle, "monitoring-overdue")
    assert first.status_code == 200
    [written] = outcomes(first.get_data(as_text=True))
    assert written["outcome"] == "created" and written["resource"].startswith("Flag/")
    again = post_writeback(client, launched.handle, "monitoring-overdue")
    [repeat] = outcomes(again.get_data(as_text=True))
    assert repeat == {**written, "outcome": "existing"}
    assert "already in the chart" in again.get_data(as_text=True)

    [flag] = identifier_search(ehr, "Flag", patient, overdue_value(patient))
    assert f"Flag/{flag['id']}" == written["resource"]
    assert flag["status"] == "active"
    assert flag["category"][0]["coding"][0]["code"] == "lab"
    assert flag["code"]["coding"][0]["code"] == "monitoring-overdue"
    assert flag["subject"] == {"reference": f"Patient/{patient}"}
    assert flag["author"]["reference"].startswith("Practitioner/")
    assert flag["period"]["start"] == (today() - timedelta(days=2)).isoformat()


def test_writeback_task_written_when_the_issuer_prefers_task(app_for, smart, ehr) -> None:
    app = app_for(writeback=["Task", "Flag"])
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    assert 'data-resource-type="Task"' in launched.html
    [written] = outcomes(post_writeback(client, launched.handle).get_data(as_text=True))[:1]
    assert written["outcome"] == "created" and written["resource"].startswith("Task/")

    [task] = identifier_search(ehr, "Task", patient, overdue_value(patient))
    due = (today() - timedelta(days=3)).isoformat()
    assert f"Task/{task['id']}" == written["resource"]
    assert (task["status"], task["intent"], task["priority"]) == ("requested", "proposal", "stat")
    assert task["code"]["coding"][0]["code"] == "fulfill"
    assert task["description"] == f"ANC (CBC with differential) due by {due}"
    assert task["for"] == {"reference": f"Patient/{patient}"}
    assert task["requester"]["reference"].startswith("Practitioner/")
    assert task["restriction"]["period"]["end"] == due
    assert task["businessStatus"]["text"] == "overdue by 3 days"
    assert task["reasonReference"] == {"reference": f"MedicationRequest/{patient}-rx"}
    assert ehr.count("Flag", patient) == 0


def test_writeback_all_triggering_findings_by_default(app_for, smart, ehr) -> None:
    app = app_for()
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    page = post_writeback(client, launched.handle).get_data(as_text=True)
    written = {o["code"]: o["outcome"] for o in outcomes(page)}
    assert written == {
        "monitoring-overdue": "created",
        "patient-not-enrolled": "created",
        "anc-too-old-to-dispense": "created",
    }
    flags = ehr.search("Flag", patient=patient)
    categories = {
        f["code"]["coding"][0]["code"]: f["category"][0]["coding"][0]["code"] for f in flags
    }
    assert categories == {
        "monitoring-overdue": "lab",
        "patient-not-enrolled": "admin",
        "anc-too-old-to-dispense": "lab",
    }


def test_writeback_form_cannot_name_a_finding_the_patient_does_not_have(app_for, smart, ehr):
    app = app_for()
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    page = post_writeback(client, launched.handle, "interrupt-recommended")
    assert page.status_code == 200 and outcomes(page.get_data(as_text=True)) == []
    assert ehr.count("Flag", patient) == 0


def test_writeback_oracle_profile_falls_back_to_a_document_reference(app_for, smart, ehr) -> None:
    client_id = smart.register(SCOPES)
    smart.control("PUT", "vendor", json={"vendor": "oracle", "client_id": client_id})
    # The issuers file sets the generic profile, overriding the Oracle Health the EHR's
    # CapabilityStatement names: the statement's own list of resources must still tell.
    app = app_for(client_id, vendor="generic")
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    assert 'data-testid="writeback-fallback"' in launched.html
    # The EHR's own CapabilityStatement left them out.
    assert (
        "the EHR&#39;s CapabilityStatement has no Flag resource;"
        " the EHR&#39;s CapabilityStatement has no Task resource" in launched.html
    )
    assert 'data-resource-type="DocumentReference"' in launched.html

    page = post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    [written] = outcomes(page)
    assert written["resource"].startswith("DocumentReference/")
    [note] = identifier_search(ehr, "DocumentReference", patient, overdue_value(patient))
    assert note["type"]["coding"][0]["code"] == "51851-4"
    assert note["content"][0]["attachment"]["contentType"] == "text/plain"
    assert ehr.count("Flag", patient) == 0 and ehr.count("Task", patient) == 0


def test_writeback_fallback_names_the_vendor_profile_that_removed_flag_and_task(
    app_for, smart, ehr
) -> None:
    app = app_for(vendor="oracle")
    patient = ehr.new_patient()
    _, launched = launch(app, smart, patient)
    assert 'data-testid="writeback-fallback"' in launched.html
    assert (
        "Oracle Health&#39;s FHIR API has no Flag resource (the app&#39;s Oracle Health profile);"
        " Oracle Health&#39;s FHIR API has no Task resource" in launched.html
    )
    assert 'data-resource-type="DocumentReference"' in launched.html


def test_writeback_read_only_token_is_told_why_and_nothing_is_written(app_for, smart, ehr):
    app = app_for(scopes=READ_ONLY_SCOPES)
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    assert 'data-testid="writeback-form"' not in launched.html
    assert 'data-testid="writeback-unavailable"' in launched.html
    assert "did not grant permission to create Flag" in launched.html

    page = post_writeback(client, launched.handle).get_data(as_text=True)
    assert {o["outcome"] for o in outcomes(page)} == {"cannot"}
    assert "cannot write to this EHR&#39;s chart" in page
    for resource_type in ("Flag", "Task", "DocumentReference", "Communication"):
        assert ehr.count(resource_type, patient) == 0
    services = app.extensions["smartapp"]
    assert services.ledger.for_patient(smart.iss, f"Patient/{patient}") == []
    assert not [e for e in services.audit.events(smart.iss) if e.action.startswith("writeback")]


@pytest.mark.parametrize(("preferred", "retired"), [("Flag", "inactive"), ("Task", "completed")])
def test_writeback_lifecycle_retires_when_the_anc_comes_in(
    app_for, smart, ehr, preferred, retired
) -> None:
    app = app_for(writeback=[preferred])
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    page = post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    reference = outcomes(page)[0]["resource"]

    ehr.anc(patient, days_ago=0)
    reloaded = load_chart(client, launched.handle)
    assert lifecycle_lines(reloaded) == [
        f"{reference} for monitoring-overdue set {retired}: the ANC came in ({today().isoformat()})."
    ]
    resource = ehr.read(reference)
    assert resource["status"] == retired
    if preferred == "Flag":
        assert resource["period"]["end"] == today().isoformat()
    services = app.extensions["smartapp"]
    [entry] = services.ledger.for_patient(smart.iss, f"Patient/{patient}")
    assert entry.status == retired
    assert [e.action for e in services.audit.events(smart.iss, target=reference)] == [
        "writeback-retire",
        "writeback-create",
    ]
    again = load_chart(client, launched.handle)
    assert lifecycle_lines(again) == []


def test_writeback_lifecycle_reopens_the_flag_when_the_anc_was_entered_in_error(
    app_for, smart, ehr
) -> None:
    app = app_for()
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    page = post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    reference = outcomes(page)[0]["resource"]
    ehr.anc(patient, days_ago=0)
    load_chart(client, launched.handle)
    assert ehr.read(reference)["status"] == "inactive"

    ehr.anc(patient, days_ago=0, status="entered-in-error")
    again = post_writeback(client, launched.handle, "monitoring-overdue").get_data(as_text=True)
    assert lifecycle_lines(again) == [
        f"{reference} for monitoring-overdue set active: the finding holds again."
    ]
    assert outcomes(again) == [
        {"outcome": "existing", "code": "monitoring-overdue", "resource": reference}
    ]
    assert ehr.read(reference)["status"] == "active"
    assert len(identifier_search(ehr, "Flag", patient, overdue_value(patient))) == 1


def test_writeback_lifecycle_retires_the_enrollment_flag_once_enrolled(app_for, smart, ehr):
    app = app_for()
    patient = ehr.new_patient()
    client, launched = launch(app, smart, patient)
    page = post_writeback(client, launched.handle, "patient-not-enrolled").get_data(as_text=True)
    reference = outcomes(page)[0]["resource"]
    app.extensions["smartapp"].registry.record_enrollment(
        smart.iss, f"Patient/{patient}", today(), actor="Practitioner/test-admin"
    )
    reloaded = load_chart(client, launched.handle)
    assert lifecycle_lines(reloaded) == [
        f"{reference} for patient-not-enrolled set inactive:"
        " the program registry now has the record."
    ]
    assert ehr.read(reference)["status"] == "inactive"


def test_writeback_automatic_at_launch_when_the_organisation_switches_it_on(
    app_for, smart, ehr
) -> None:
    app = app_for(settings={"AUTO_WRITEBACK": "true"})
    patient = ehr.new_patient()
    _, launched = launch(app, smart, patient)
    assert "Written automatically when the app opened" in launched.html
    assert {o["outcome"] for o in outcomes(launched.html)} == {"created"}
    [flag] = identifier_search(ehr, "Flag", patient, overdue_value(patient))
    assert flag["author"]["type"] == "Device"
    _, relaunched = launch(app, smart, patient)
    assert outcomes(relaunched.html) == []
    assert ehr.count("Flag", patient) == 3
