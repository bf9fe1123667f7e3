"""Each card rule of cds-hooks.md, one test per rule, through the function the service calls."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clozapine import FindingCode, policy_in_force
from fhir_client import FhirUnavailable
from fhir_mappings import MappingSettings
from fhir_mappings.orders import clozapine_order
from smartapp.cds.cards import ACTIONS, OVERRIDE_SYSTEM, SUMMARY_MAX, TOPIC_SYSTEM
from smartapp.cds.catalogue import BY_HOOK
from smartapp.cds.response import HookAnswer, HookSettings, PrefetchMissing, answer_hook
from smartapp.ehr.completeness import IncompleteRead, ReadCompleteness
from smartapp.ehr.patient_reads import PatientReads
from tests.cds_requests import clozapine_draft, hook_request, prefetch_of, searchset

AS_OF = date(2026, 11, 25)
PATIENT = "pt-1"
SETTINGS = HookSettings(
    MappingSettings(), AS_OF, policy_in_force(AS_OF), "https://app.example.org/launch"
)


def anc(
    day: str, thousands: str, *, status: str = "final", oid: str | None = None
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid or f"anc-{day}",
        "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": day,
        "valueQuantity": {"value": float(thousands), "unit": "10*3/uL"},
    }


def order(start: str, oid: str = "mr-1") -> dict[str, Any]:
    active = clozapine_draft(oid, PATIENT, start)
    active["status"] = "active"
    return active


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": PATIENT}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, *resources)],
    }


def answer(request: dict[str, Any], **kwargs: Any) -> HookAnswer:
    return answer_hook(BY_HOOK[request["hook"]], request, SETTINGS, **kwargs)


def cards(request: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    return answer(request, **kwargs).response["cards"]


def codes(request: dict[str, Any]) -> set[str]:
    evaluation = answer(request).evaluation
    assert evaluation is not None
    return {finding.code for finding in evaluation.findings}


def one_card(
    *resources: dict[str, Any], hook: str = "patient-view", **kwargs: Any
) -> dict[str, Any]:
    found = cards(hook_request(bundle(*resources), hook, **kwargs))
    assert len(found) == 1
    return found[0]


# On treatment since 2026-06-01 (177 days on 2026-11-25: weekly).
CURRENT = (order("2026-06-01"), anc("2026-11-20", "1.8"))
OVERDUE = (order("2026-06-01"), anc("2026-11-10", "1.8"))
DUE = (order("2026-06-01"), anc("2026-11-18", "1.8"))
LOW = (order("2026-06-01"), anc("2026-11-17", "1.8"), anc("2026-11-24", "0.8"))


def test_cds_card_ok_gives_no_card() -> None:
    assert cards(hook_request(bundle(*CURRENT))) == []


def test_cds_card_not_applicable_gives_no_card() -> None:
    assert cards(hook_request(bundle(anc("2026-11-20", "0.3")))) == []


def test_cds_card_action_required_is_one_critical_card() -> None:
    assert one_card(*OVERDUE)["indicator"] == "critical"


def test_cds_card_attention_is_one_warning_card() -> None:
    assert one_card(*DUE)["indicator"] == "warning"


def test_cds_card_summary_names_what_to_do_for_the_first_finding() -> None:
    card = one_card(*OVERDUE)
    assert card["summary"] == "Draw an ANC now: clozapine ANC monitoring is overdue"
    assert len(one_card(*LOW)["summary"]) <= SUMMARY_MAX
    assert one_card(*LOW)["summary"].startswith("Interrupt clozapine")


def test_cds_card_detail_lists_findings_rules_citations_latest_anc_and_next_due() -> None:
    detail = one_card(*OVERDUE)["detail"]
    assert "rule MON-OVERDUE" in detail
    assert "Clozaril prescribing information (6/2025), section 2.3, Table 1" in detail
    assert "rule LABEL-REMS-ELIMINATED" in detail
    assert "Latest ANC: 1800/uL on 2026-11-10 (normal)." in detail
    assert "Next ANC due: 2026-11-17." in detail


def test_cds_card_detail_escapes_text_from_fhir_for_markdown() -> None:
    unreadable = anc("2026-11-24T09:00:00Z", "1.2")
    unreadable["valueQuantity"]["unit"] = "K/uL*[x](javascript:y)<b>\n# big"
    detail = one_card(*CURRENT, unreadable)["detail"]
    assert r"K/uL\*\[x\](javascript:y)\<b\>" in detail
    assert "[x](" not in detail and "<b>" not in detail and "\n# " not in detail


def test_cds_card_source_names_the_app_and_policy_with_a_topic_of_the_apps_system() -> None:
    source = one_card(*OVERDUE)["source"]
    assert "Clozapine monitoring app" in source["label"] and "us-label-2025" in source["label"]
    assert source["topic"]["system"] == TOPIC_SYSTEM


def test_cds_card_links_one_smart_link_to_the_apps_launch() -> None:
    assert one_card(*OVERDUE)["links"] == [
        {
            "label": "Open the clozapine monitoring app",
            "url": "https://app.example.org/launch",
            "type": "smart",
        }
    ]


@pytest.mark.parametrize(
    ("resources", "code"),
    [
        (OVERDUE, "monitoring-overdue"),
        (DUE, "monitoring-due"),
        ((order("2026-06-01"),), "no-anc-on-file"),
        ((order("2026-11-26"),), "baseline-missing"),
        (
            (order("2026-06-01"), anc("2026-11-17", "1.8"), anc("2026-11-24", "1.2")),
            "low-anc-unconfirmed",
        ),
    ],
)
def test_cds_card_blood_draw_findings_suggest_a_cbc_with_differential(resources, code) -> None:
    assert code in codes(hook_request(bundle(*resources)))
    card = one_card(*resources)
    assert card["selectionBehavior"] == "at-most-one"
    [suggestion] = card["suggestions"]
    [action] = suggestion["actions"]
    assert action["type"] == "create"
    resource = action["resource"]
    assert resource["resourceType"] == "ServiceRequest" and resource["status"] == "draft"
    assert resource["code"]["coding"][0]["code"] == "57021-8"
    assert resource["code"]["text"] == "CBC with differential"
    assert resource["subject"] == {"reference": f"Patient/{PATIENT}"}


def test_cds_card_without_a_blood_draw_finding_suggests_nothing() -> None:
    pending = anc("2026-11-24T09:00:00Z", "1.2", status="preliminary")
    assert "suggestions" not in one_card(*CURRENT, pending)


def test_cds_card_order_sign_with_interrupt_suggests_removing_the_draft_not_by_default() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    card = one_card(*LOW, hook="order-sign", drafts=[draft])
    removal = [s for s in card.get("suggestions", []) if s["actions"][0]["type"] == "delete"]
    assert removal[0]["isRecommended"] is False
    assert removal[0]["actions"][0]["resourceId"] == ["MedicationRequest/draft-1"]


def test_cds_card_order_sign_with_do_not_start_suggests_removing_the_draft() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-12-01")
    request = hook_request(bundle(anc("2026-11-20", "1.2")), "order-sign", drafts=[draft])
    evaluation = answer(request).evaluation
    assert evaluation is not None and evaluation.recommendation.value == "do-not-start"
    assert "interrupt-recommended" not in codes(request)
    [card] = cards(request)
    # The low baseline is also unconfirmed, so the CBC comes first.
    assert [s["actions"][0]["type"] for s in card["suggestions"]] == ["create", "delete"]
    assert card["suggestions"][1]["isRecommended"] is False


def test_cds_card_order_select_never_suggests_removing_the_draft() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    card = one_card(*LOW, hook="order-select", drafts=[draft])
    assert all(s["actions"][0]["type"] != "delete" for s in card.get("suggestions", []))


def test_cds_card_critical_cards_carry_the_override_reasons() -> None:
    reasons = one_card(*OVERDUE)["overrideReasons"]
    assert {r["system"] for r in reasons} == {OVERRIDE_SYSTEM}
    assert {r["display"] for r in reasons} >= {
        "Benefit outweighs risk, prescriber's judgement",
        "ANC drawn, result not yet filed",
        "ANC on file at another organisation",
        "Patient declined the draw",
    }
    assert "overrideReasons" not in one_card(*DUE)


def test_cds_card_patient_view_is_not_repeated_after_an_override_of_the_same_findings() -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []

    def silenced(patient: str, findings: tuple[str, ...]) -> bool:
        seen.append((patient, findings))
        return findings == ("monitoring-overdue/2026-11-17", "rems-eliminated/2026-11-25")

    request = hook_request(bundle(*OVERDUE))
    assert cards(request, silenced=silenced) == []
    assert seen[0][0] == f"Patient/{PATIENT}"
    # A later due date is another period: the card comes back.
    later = hook_request(bundle(order("2026-06-01"), anc("2026-11-12", "1.8")))
    assert len(cards(later, silenced=silenced)) == 1


def test_cds_card_order_hooks_always_answer_after_an_override() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    request = hook_request(bundle(*OVERDUE), "order-sign", drafts=[draft])
    assert len(cards(request, silenced=lambda _p, _f: True)) == 1


def test_cds_card_order_hooks_without_a_clozapine_draft_give_no_card() -> None:
    other = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    other["medicationCodeableConcept"] = {"text": "olanzapine 10 mg"}
    assert cards(hook_request(bundle(*OVERDUE), "order-sign", drafts=[other])) == []


def test_cds_card_order_select_evaluates_only_the_selected_drafts() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-12-01")
    request = hook_request(
        bundle(), "order-select", drafts=[draft], selections=["MedicationRequest/other"]
    )
    assert cards(request) == []
    request = hook_request(bundle(), "order-select", drafts=[draft])
    assert "baseline-missing" in codes(request)


def test_cds_card_a_draft_starting_a_new_episode_is_a_planned_start() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-12-01")
    request = hook_request(bundle(anc("2026-11-20", "1.8")), "order-sign", drafts=[draft])
    evaluation = answer(request).evaluation
    assert evaluation is not None and evaluation.treatment is not None
    assert evaluation.treatment.episode_start == date(2026, 12, 1)
    assert evaluation.treatment.days_on_treatment == -6
    assert evaluation.recommendation.value == "continue"
    assert cards(request) == []  # a good baseline: nothing to say


def test_cds_card_a_draft_with_no_readable_start_starts_on_the_as_of_date() -> None:
    draft = clozapine_draft("draft-1", PATIENT)
    request = hook_request(bundle(), "order-sign", drafts=[draft])
    evaluation = answer(request).evaluation
    assert evaluation is not None and evaluation.treatment is not None
    assert evaluation.treatment.episode_start == AS_OF
    assert "baseline-missing" in codes(request)
    assert cards(request)[0]["indicator"] == "critical"


def test_cds_card_a_draft_inside_the_current_episode_continues_it() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    request = hook_request(bundle(*CURRENT), "order-sign", drafts=[draft])
    evaluation = answer(request).evaluation
    assert evaluation is not None and evaluation.treatment is not None
    assert evaluation.treatment.episode_start == date(2026, 6, 1)
    assert "baseline-missing" not in codes(request)
    assert cards(request) == []


def _reads(**overrides: Any) -> PatientReads:
    fields: dict[str, Any] = {
        "base_url": "https://ehr.example.org/fhir",
        "patient": {"resourceType": "Patient", "id": PATIENT},
        "medication_requests": [order("2026-06-01")],
        "medications": [],
        "observations": [anc("2026-11-10", "1.8")],
        "conditions": [],
    }
    return PatientReads(**{**fields, **overrides})


def test_cds_card_missing_prefetch_without_authorization_is_a_precondition_failure() -> None:
    request = hook_request(None, patient_id=PATIENT, prefetch={"patient": None})
    with pytest.raises(PrefetchMissing, match="patient"):
        cards(request)


@pytest.mark.parametrize(
    "gap",
    [None, {"resourceType": "OperationOutcome", "issue": []}],
)
def test_cds_card_prefetch_null_or_operation_outcome_is_read_with_the_authorization(gap) -> None:
    prefetch = prefetch_of(bundle(*OVERDUE))
    prefetch["observations"] = gap
    asked: list[tuple[str, frozenset[str]]] = []

    def read(patient_id: str, types: frozenset[str]) -> PatientReads:
        asked.append((patient_id, types))
        return _reads()

    [card] = cards(hook_request(None, patient_id=PATIENT, prefetch=prefetch), read_missing=read)
    assert asked == [(PATIENT, frozenset({"Observation"}))] and card["indicator"] == "critical"


def test_cds_card_a_key_the_reader_left_unread_is_never_read_as_empty() -> None:
    prefetch = prefetch_of(bundle(*CURRENT))
    prefetch["conditions"] = None
    unread = _reads(conditions=[], read_types=frozenset({"Observation"}))
    request = hook_request(None, patient_id=PATIENT, prefetch=prefetch)
    [card] = cards(request, read_missing=lambda _id, _types: unread)
    assert card["indicator"] == "warning" and "BEN status could not be read" in card["detail"]


def test_cds_card_prefetch_cut_short_by_paging_is_read_again() -> None:
    prefetch = prefetch_of(bundle(*CURRENT))
    prefetch["observations"] = searchset(
        [anc("2026-11-20", "1.8")],
        link=[{"relation": "next", "url": "https://ehr.example.org/fhir/Observation?page=2"}],
    )
    read_missing = lambda _id, _types: _reads()  # noqa: E731
    [card] = cards(
        hook_request(None, patient_id=PATIENT, prefetch=prefetch), read_missing=read_missing
    )
    assert card["summary"].startswith("Draw an ANC now")


def test_cds_card_a_read_that_stays_incomplete_gives_one_warning_card() -> None:
    prefetch = prefetch_of(bundle(*CURRENT))
    prefetch["observations"] = None
    incomplete = IncompleteRead(
        "Observation", ("entry 2 has no resource",), "Lab results were cut short."
    )
    reads = _reads(observations=[], completeness=ReadCompleteness((incomplete,)))
    [card] = cards(
        hook_request(None, patient_id=PATIENT, prefetch=prefetch),
        read_missing=lambda _id, _types: reads,
    )
    assert card["indicator"] == "warning"
    assert "lab results could not be read" in card["summary"]
    assert "suggestions" not in card


def test_cds_card_a_read_that_fails_gives_one_warning_card_never_an_all_clear() -> None:
    prefetch = prefetch_of(bundle(*CURRENT))
    prefetch["medications"] = None

    def read(_patient_id: str, _types: frozenset[str]) -> PatientReads:
        raise FhirUnavailable(
            "GET MedicationRequest: no answer", user_message="The EHR did not answer."
        )

    [card] = cards(hook_request(None, patient_id=PATIENT, prefetch=prefetch), read_missing=read)
    assert card["indicator"] == "warning" and "medication orders" in card["summary"]


def test_cds_card_problem_list_not_read_never_gives_the_all_clear() -> None:
    prefetch = prefetch_of(bundle(*CURRENT))
    prefetch["conditions"] = None
    incomplete = IncompleteRead("Condition", ("the EHR answered 500",), "Problems unreadable.")
    reads = _reads(completeness=ReadCompleteness((incomplete,)))
    [card] = cards(
        hook_request(None, patient_id=PATIENT, prefetch=prefetch),
        read_missing=lambda _id, _types: reads,
    )
    assert card["indicator"] == "warning" and "BEN status could not be read" in card["detail"]


def test_cds_card_summary_has_an_action_for_every_finding_but_the_informational() -> None:
    info = {FindingCode.REMS_ELIMINATED, FindingCode.ENROLLMENT_UNKNOWN}
    assert set(FindingCode) - info <= set(ACTIONS)
    assert all(len(action) <= SUMMARY_MAX for action in ACTIONS.values())


def test_cds_card_order_hooks_without_a_clozapine_draft_need_no_prefetch() -> None:
    other = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    other["medicationCodeableConcept"] = {"text": "olanzapine 10 mg"}
    request = hook_request(None, "order-sign", patient_id=PATIENT, prefetch={}, drafts=[other])
    assert cards(request) == []


def test_cds_card_a_draft_naming_a_medication_the_request_lacks_is_read_first() -> None:
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    del draft["medicationCodeableConcept"]
    draft["medicationReference"] = {"reference": "Medication/med-9"}
    request = hook_request(None, "order-sign", patient_id=PATIENT, prefetch={}, drafts=[draft])
    with pytest.raises(PrefetchMissing):
        cards(request)


def test_cds_card_not_on_clozapine_gives_no_card_even_without_the_problem_list() -> None:
    prefetch = prefetch_of(bundle(anc("2026-11-20", "0.3")))
    prefetch["conditions"] = None
    incomplete = IncompleteRead("Condition", ("the EHR answered 500",), "Problems unreadable.")
    reads = _reads(medication_requests=[], completeness=ReadCompleteness((incomplete,)))
    request = hook_request(None, patient_id=PATIENT, prefetch=prefetch)
    assert cards(request, read_missing=lambda _id, _types: reads) == []


def test_cds_order_sign_with_a_whole_prefetch_maps_each_draft_once(monkeypatch) -> None:
    """Whether a draft orders clozapine is settled once: the drafts are not mapped again for
    the evaluation when nothing had to be read."""
    mapped: list[str] = []

    def counted(order_json: dict[str, Any], *args: Any) -> Any:
        mapped.append(order_json["id"])
        return clozapine_order(order_json, *args)

    monkeypatch.setattr("smartapp.cds.response.clozapine_order", counted)
    draft = clozapine_draft("draft-1", PATIENT, "2026-11-25")
    assert one_card(*OVERDUE, hook="order-sign", drafts=[draft])["indicator"] == "critical"
    assert mapped == ["draft-1"]
