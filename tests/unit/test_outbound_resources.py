"""The outbound builders: Flag, Task, DocumentReference and Communication, valid FHIR R4B."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.task import Task
from pydantic import BaseModel

from clozapine import PatientFacts, evaluate, policy_in_force
from clozapine.vocabulary import FindingCode
from fhir_mappings.outbound import (
    DEFAULT_WRITEBACK_FINDINGS,
    Authorship,
    WritebackTarget,
    app_device,
    current_order_reference,
    practitioner_reference,
    reopened_resource,
    resource_from_target,
    retired_resource,
    writeback_targets,
)
from tests.unit.cases import AS_OF, anc, day, order
from tests.unit.test_outbound_identity import INTERRUPT, NO_ANC, OVERDUE, with_finding

SYSTEM = "urn:test:writeback"
MODELS: dict[str, type[BaseModel]] = {
    "Flag": Flag,
    "Task": Task,
    "DocumentReference": DocumentReference,
    "Communication": Communication,
}
WRITTEN_AT = datetime(2026, 11, 25, 9, 30, tzinfo=timezone(timedelta(hours=-6)))
BY_PRESCRIBER = Authorship(
    author={"reference": "Practitioner/dr-a"},
    written_at=WRITTEN_AT,
    medication_request="MedicationRequest/rx-1",
)


def target(evaluation=OVERDUE, code: str = "monitoring-overdue") -> WritebackTarget:
    targets = writeback_targets(with_finding(evaluation, FindingCode(code)), (code,), SYSTEM)
    return targets[0]


ALL_TARGETS = [
    target(),
    target(code="monitoring-due"),
    target(NO_ANC, "no-anc-on-file"),
    target(INTERRUPT, "interrupt-recommended"),
    target(code="patient-not-enrolled"),
    target(code="psf-overdue"),
    target(code="anc-too-old-to-dispense"),
]


@pytest.mark.parametrize("resource_type", sorted(MODELS))
@pytest.mark.parametrize("item", ALL_TARGETS, ids=lambda t: t.finding.code)
def test_outbound_resource_validates_with_fhir_resources_r4b(resource_type, item) -> None:
    for authorship in (BY_PRESCRIBER, Authorship(app_device("https://app.example"), WRITTEN_AT)):
        built = resource_from_target(resource_type, item, authorship)
        MODELS[resource_type].model_validate(built)
        assert built["identifier"] == [item.identifier]


def test_outbound_flag_shape() -> None:
    flag = resource_from_target("Flag", target(), BY_PRESCRIBER)
    assert flag["status"] == "active"
    assert flag["category"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/flag-category",
        "code": "lab",
        "display": "Lab",
    }
    assert flag["code"]["coding"][0]["code"] == "monitoring-overdue"
    assert flag["code"]["text"] == OVERDUE.findings[0].message
    assert flag["subject"] == {"reference": "Patient/pt-1"}
    assert flag["period"] == {"start": day(-2).isoformat()}
    assert flag["author"] == {"reference": "Practitioner/dr-a"}


@pytest.mark.parametrize(
    ("code", "category"),
    [("monitoring-due", "lab"), ("patient-not-enrolled", "admin"), ("psf-overdue", "admin")],
)
def test_outbound_flag_category_lab_or_admin(code, category) -> None:
    flag = resource_from_target("Flag", target(code=code), BY_PRESCRIBER)
    assert flag["category"][0]["coding"][0]["code"] == category


def test_outbound_task_shape() -> None:
    task = resource_from_target("Task", target(), BY_PRESCRIBER)
    assert (task["status"], task["intent"], task["priority"]) == ("requested", "proposal", "stat")
    assert task["code"]["coding"] == [
        {"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}
    ]
    assert task["description"] == f"ANC (CBC with differential) due by {day(-3).isoformat()}"
    assert task["for"] == {"reference": "Patient/pt-1"}
    assert task["requester"] == {"reference": "Practitioner/dr-a"}
    assert task["restriction"] == {"period": {"end": day(-3).isoformat()}}
    assert task["businessStatus"] == {"text": "overdue by 3 days"}
    assert task["reasonReference"] == {"reference": "MedicationRequest/rx-1"}
    assert task["authoredOn"] == "2026-11-25T09:30:00-06:00"


@pytest.mark.parametrize(
    ("code", "priority", "description"),
    [
        ("monitoring-due", "urgent", "ANC (CBC with differential) due by 2026-11-22"),
        ("patient-not-enrolled", "routine", "Enroll patient in the clozapine program"),
        ("enrollment-expired", "routine", "Re-enroll patient in the clozapine program"),
        ("anc-too-old-to-dispense", "urgent", "ANC (CBC with differential) needed before"),
    ],
)
def test_outbound_task_priority_and_text_by_finding(code, priority, description) -> None:
    task = resource_from_target("Task", target(code=code), BY_PRESCRIBER)
    assert task["priority"] == priority
    assert task["description"].startswith(description)


def test_outbound_task_intent_from_the_organisation() -> None:
    order_intent = Authorship(BY_PRESCRIBER.author, WRITTEN_AT, task_intent="order")
    assert resource_from_target("Task", target(), order_intent)["intent"] == "order"
    with pytest.raises(ValueError, match="intent"):
        resource_from_target("Task", target(), Authorship({}, WRITTEN_AT, task_intent="plan"))


def test_outbound_document_reference_is_an_administrative_note() -> None:
    note = resource_from_target("DocumentReference", target(), BY_PRESCRIBER)
    assert note["type"]["coding"][0]["code"] == "51851-4"
    assert (note["status"], note["docStatus"]) == ("current", "final")
    attachment = note["content"][0]["attachment"]
    text = base64.b64decode(attachment["data"]).decode("utf-8")
    assert attachment["contentType"] == "text/plain"
    assert OVERDUE.findings[0].message in text and "ANC due by 2026-11-22" in text
    assert note["context"] == {"related": [{"reference": "MedicationRequest/rx-1"}]}


def test_outbound_communication_carries_the_note_text() -> None:
    message = resource_from_target("Communication", target(), BY_PRESCRIBER)
    assert message["status"] == "completed" and message["priority"] == "stat"
    assert OVERDUE.findings[0].message in message["payload"][0]["contentString"]


def test_outbound_unknown_resource_type_is_refused() -> None:
    with pytest.raises(ValueError, match="Observation"):
        resource_from_target("Observation", target(), BY_PRESCRIBER)


def test_outbound_retired_flag_is_inactive_with_period_end_and_no_meta() -> None:
    flag = {**resource_from_target("Flag", target(), BY_PRESCRIBER), "id": "f1"}
    flag["meta"] = {"versionId": "3", "project": "vendor-specific"}
    retired = retired_resource(flag, on=AS_OF, at=WRITTEN_AT, reason="The ANC came in")
    assert retired["status"] == "inactive" and "meta" not in retired
    assert retired["period"] == {"start": day(-2).isoformat(), "end": AS_OF.isoformat()}
    Flag.model_validate(retired)


def test_outbound_retired_flag_never_ends_before_it_starts() -> None:
    flag = resource_from_target("Flag", target(), BY_PRESCRIBER)
    retired = retired_resource(flag, on=day(-5), at=WRITTEN_AT, reason="x")
    assert retired["period"]["end"] == day(-2).isoformat()


def test_outbound_retired_task_is_completed_with_the_reason() -> None:
    task = resource_from_target("Task", target(), BY_PRESCRIBER)
    retired = retired_resource(task, on=AS_OF, at=WRITTEN_AT, reason="The ANC came in")
    assert retired["status"] == "completed"
    assert retired["businessStatus"] == {"text": "The ANC came in"}
    Task.model_validate(retired)
    with pytest.raises(ValueError, match="DocumentReference"):
        retired_resource({"resourceType": "DocumentReference"}, on=AS_OF, at=WRITTEN_AT, reason="")


@pytest.mark.parametrize(
    ("fhir_user", "expected"),
    [
        ("https://ehr.example/fhir/Practitioner/dr-a", {"reference": "Practitioner/dr-a"}),
        ("PractitionerRole/pr-1", {"reference": "PractitionerRole/pr-1"}),
        ("https://ehr.example/fhir/Patient/pt-1", None),
        (None, None),
    ],
)
def test_outbound_author_is_the_launching_practitioner(fhir_user, expected) -> None:
    assert practitioner_reference(fhir_user) == expected


def test_outbound_app_device_is_a_logical_reference() -> None:
    device = app_device("https://app.example")
    assert device["type"] == "Device" and device["identifier"]["value"] == "https://app.example"


def test_outbound_reason_reference_is_the_current_clozapine_order() -> None:
    facts = PatientFacts.create(
        "Patient/pt-1",
        orders=[
            order(-400, -200, source="MedicationRequest/old"),
            order(-100, source="MedicationRequest/current"),
            order(5, source="MedicationRequest/planned"),
        ],
        ancs=[anc(2500, -10)],
    )
    policy = policy_in_force(AS_OF)
    evaluation = evaluate(facts, AS_OF, policy)
    assert current_order_reference(evaluation) == "MedicationRequest/current"
    assert evaluation.standing is not None and evaluation.standing.order is not None
    assert evaluation.standing.order.source == "MedicationRequest/current"
    unnamed = PatientFacts.create("Patient/pt-1", orders=[order(-100, source="urn:uuid:1")])
    assert current_order_reference(evaluate(unnamed, AS_OF, policy)) is None
    not_on_clozapine = evaluate(PatientFacts.create("Patient/pt-1"), AS_OF, policy)
    assert current_order_reference(not_on_clozapine) is None
    assert current_order_reference(replace(evaluation, standing=None)) is None


def test_outbound_default_findings_are_those_that_need_someone_to_act() -> None:
    assert set(DEFAULT_WRITEBACK_FINDINGS) == {
        "monitoring-overdue",
        "monitoring-due",
        "no-anc-on-file",
        "interrupt-recommended",
        "patient-not-enrolled",
        "prescriber-not-certified",
        "pharmacy-not-certified",
        "enrollment-anc-stale",
        "psf-overdue",
        "enrollment-expired",
        "certification-expired",
        "anc-too-old-to-dispense",
    }


def test_outbound_reopened_flag_and_task_are_open_again() -> None:
    flag = resource_from_target("Flag", target(), BY_PRESCRIBER)
    retired = retired_resource(flag, on=AS_OF, at=WRITTEN_AT, reason="x")
    reopened = reopened_resource({**retired, "meta": {"versionId": "2"}}, reason="Holds again")
    assert reopened["status"] == "active" and reopened["period"] == flag["period"]
    assert "meta" not in reopened
    task = resource_from_target("Task", target(), BY_PRESCRIBER)
    again = reopened_resource(
        retired_resource(task, on=AS_OF, at=WRITTEN_AT, reason="x"), reason="Holds again"
    )
    assert again["status"] == "requested" and again["businessStatus"] == {"text": "Holds again"}
    Task.model_validate(again)
    with pytest.raises(ValueError, match="Communication"):
        reopened_resource({"resourceType": "Communication"}, reason="")
