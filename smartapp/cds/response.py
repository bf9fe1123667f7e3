"""The one function behind every hook call (the service and `smartapp cds`): request in, cards out.

cds-hooks.md "The evaluation for each hook". The prefetch is used when it is whole; only what is missing or not whole is read
through `read_missing`, given the resource types of those keys (the service: the app's FHIR
client with `fhirAuthorization`; the command: none, so it is a PrefetchMissing). Draft clozapine orders are evaluated as if active beside the
patient's orders. The evaluation is the engine's, as the page and `smartapp evaluate` make it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from clozapine import Evaluation, PatientFacts, Policy, Registry, evaluate
from fhir_client import FhirError
from fhir_mappings import MappingSettings, patient_facts_from_bundle
from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.medications import orders_clozapine
from fhir_mappings.orders import clozapine_order
from fhir_mappings.references import BundleIndex, contained
from smartapp.cds.cards import CardContext, evaluation_card, finding_keys, unread_card
from smartapp.cds.catalogue import Service
from smartapp.cds.prefetch import KEY_TYPES, KeyData, read_prefetch
from smartapp.ehr.completeness import IncompleteRead, ReadCompleteness, data_words
from smartapp.ehr.patient_reads import PatientReads

# The patient's id and the resource types to read (those of the keys missing or not whole).
ReadMissing = Callable[[str, frozenset[str]], PatientReads]
# Whether patient-view stays silent: an override of the same findings for the same patient.
Silenced = Callable[[str, tuple[str, ...]], bool]
ORDER_HOOKS = frozenset({"order-select", "order-sign"})


class HookRequestError(Exception):
    """A request the service cannot use (400; the command exits 2)."""


class PrefetchMissing(Exception):
    """Data missing or not whole, and no way to read it (412; the command exits 2)."""


@dataclass(frozen=True, slots=True)
class HookSettings:
    """What every request is answered with: settings, date, policy, registry, launch URL."""

    mapping: MappingSettings
    as_of: date
    policy: Policy
    launch_url: str
    registry_for: Callable[[PatientFacts], Registry | None] = lambda _facts: None


@dataclass(frozen=True, slots=True)
class HookAnswer:
    """The CDS response, and what the service keeps of its card (its findings' keys)."""

    response: dict[str, Any]
    patient: str
    evaluation: Evaluation | None = None
    card_findings: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class _Request:
    hook: str
    patient_id: str
    prefetch: object
    drafts: tuple[FhirJson, ...]
    context: dict[str, Any]
    # Each given resource's Bundle fullUrl (by object id): `urn:uuid:` references need it.
    full_urls: dict[int, str]


def answer_hook(
    service: Service,
    request_json: object,
    settings: HookSettings,
    read_missing: ReadMissing | None = None,
    silenced: Silenced | None = None,
) -> HookAnswer:
    """The CDS response to one hook request (see the module docstring)."""
    request = _read_request(service, request_json)
    patient = f"Patient/{request.patient_id}"
    keys = read_prefetch(request.prefetch, request.patient_id)
    wanted = [key for key, data in keys.items() if not data.usable]
    card_context = CardContext(
        service.hook, request.patient_id, settings.launch_url, settings.policy.policy_id
    )
    completeness = ReadCompleteness()
    # The drafts as the request gives them; held to the end, so their copies' ids stay theirs.
    given_drafts = _clozapine_drafts(request, _resources(keys), settings)
    if (
        request.hook in ORDER_HOOKS
        and not given_drafts
        and not _names_unread_medication(request, keys)
    ):
        return HookAnswer({"cards": []}, patient)
    if wanted:
        if read_missing is None:
            raise PrefetchMissing(
                f"prefetch {', '.join(wanted)} missing or not whole, and no fhirAuthorization"
                " to read it"
            )
        try:
            reads = read_missing(request.patient_id, frozenset(KEY_TYPES[k] for k in wanted))
        except FhirError as error:
            read = IncompleteRead.from_error(KEY_TYPES[wanted[0]], error)
            words = data_words(tuple(IncompleteRead(KEY_TYPES[k], (), "") for k in wanted))
            return _cards(patient, unread_card(card_context, words, (read.message,)))
        keys, completeness = _with_reads(keys, wanted, reads)
    if completeness.blocking:
        read_words = data_words(completeness.blocking)
        messages = tuple(read.message for read in completeness.blocking)
        return _cards(patient, unread_card(card_context, read_words, messages))
    resources = _resources(keys)
    # What was read may resolve a Medication a draft names: then the drafts are chosen again.
    drafts = _clozapine_drafts(request, resources, settings) if wanted else given_drafts
    if request.hook in ORDER_HOOKS and not drafts:
        return HookAnswer({"cards": []}, patient)
    facts = _facts(
        patient, _entries([*_without(resources, drafts), *drafts], request), settings.mapping
    )
    evaluation = evaluate(facts, settings.as_of, settings.policy, settings.registry_for(facts))
    notice = completeness.ben_notice()
    draft_ids = tuple(
        f"MedicationRequest/{d['id']}"
        for d in drafts
        if d.get("resourceType") == "MedicationRequest" and isinstance(d.get("id"), str)
    )
    card_context = CardContext(
        service.hook,
        request.patient_id,
        settings.launch_url,
        evaluation.policy,
        draft_ids,
        notice,
    )
    card = evaluation_card(evaluation, card_context)
    found = finding_keys(evaluation)
    if card is None or (service.hook == "patient-view" and silenced and silenced(patient, found)):
        return HookAnswer({"cards": []}, patient, evaluation)
    return HookAnswer({"cards": [card]}, patient, evaluation, found)


def _cards(patient: str, card: dict[str, Any]) -> HookAnswer:
    return HookAnswer({"cards": [card]}, patient)


def _read_request(service: Service, request_json: object) -> _Request:
    if not isinstance(request_json, dict):
        raise HookRequestError("the request is not a JSON object")
    hook = request_json.get("hook")
    if hook != service.hook:
        raise HookRequestError(f"this service answers the {service.hook} hook, not {hook!r}")
    if not isinstance(request_json.get("hookInstance"), str):
        raise HookRequestError("the request has no hookInstance")
    context = request_json.get("context")
    if not isinstance(context, dict):
        raise HookRequestError("the request has no context")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id.strip():
        raise HookRequestError("the context names no patientId")
    drafts: tuple[FhirJson, ...] = ()
    if hook in ORDER_HOOKS:
        drafts = _draft_orders(hook, context)
    prefetch = request_json.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise HookRequestError("prefetch is not a JSON object")
    bundles = [*(prefetch or {}).values(), context.get("draftOrders")]
    return _Request(hook, patient_id.strip(), prefetch, drafts, context, _full_urls(bundles))


def _full_urls(bundles: list[object]) -> dict[int, str]:
    """The fullUrl of every entry of these Bundles, by the id of the entry's resource object."""
    found: dict[int, str] = {}
    for bundle in bundles:
        entries = bundle.get("entry") if isinstance(bundle, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                continue
            if isinstance(entry.get("fullUrl"), str):
                found[id(entry["resource"])] = entry["fullUrl"]
    return found


def _entries(resources: list[FhirJson], request: _Request) -> list[object]:
    """Bundle entries of these resources, each with the fullUrl it was given with."""
    entries: list[object] = []
    for resource in resources:
        full_url = request.full_urls.get(id(resource))
        entries.append(
            {"fullUrl": full_url, "resource": resource} if full_url else {"resource": resource}
        )
    return entries


def _draft_orders(hook: str, context: dict[str, Any]) -> tuple[FhirJson, ...]:
    """The draft MedicationRequests of `context.draftOrders`; for order-select, those named in
    `context.selections` only."""
    bundle = context.get("draftOrders")
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise HookRequestError("context.draftOrders is not a Bundle")
    if entries is not None and not isinstance(entries, list):
        raise HookRequestError("context.draftOrders.entry is not a list")
    resources = [
        e["resource"]
        for e in entries or []
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]
    orders = [r for r in resources if r.get("resourceType") == "MedicationRequest"]
    if hook == "order-select":
        selections = context.get("selections")
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise HookRequestError("context.selections is not a list of references")
        named = {s.split("/_history/")[0] for s in selections}
        orders = [o for o in orders if f"MedicationRequest/{o.get('id')}" in named]
    # Medications the drafts name travel beside them in the same Bundle.
    others = [r for r in resources if r.get("resourceType") != "MedicationRequest"]
    return (*orders, *others)


def _resources(keys: dict[str, KeyData]) -> list[FhirJson]:
    return [resource for data in keys.values() for resource in data.resources]


def _names_unread_medication(request: _Request, keys: dict[str, KeyData]) -> bool:
    """Whether a draft may order clozapine: it names a Medication the request lacks."""
    index = BundleIndex(_entries([*_resources(keys), *request.drafts], request))
    for order in request.drafts:
        reference = order.get("medicationReference")
        if order.get("resourceType") != "MedicationRequest" or not isinstance(reference, dict):
            continue
        written = reference.get("reference")
        if "medicationCodeableConcept" in order:
            continue
        if not isinstance(written, str):
            return True
        if index.resolve(written) is None and contained(order, written) is None:
            return True
    return False


def _clozapine_drafts(
    request: _Request, resources: list[FhirJson], settings: HookSettings
) -> list[FhirJson]:
    """The draft clozapine orders, as if active; a draft with no readable start starts on the
    as-of date. Medications the drafts carry come along."""
    if request.hook not in ORDER_HOOKS:
        return []
    index = BundleIndex(_entries([*resources, *request.drafts], request))
    orders = [r for r in request.drafts if r.get("resourceType") == "MedicationRequest"]
    chosen: list[FhirJson] = []
    for order in orders:
        if not orders_clozapine(order, index):
            continue
        active = copy.deepcopy(order)
        if id(order) in request.full_urls:
            request.full_urls[id(active)] = request.full_urls[id(order)]
        active["status"] = "active"
        if not isinstance(active.get("subject"), dict):
            active["subject"] = {"reference": f"Patient/{request.patient_id}"}
        mapped, _notes = clozapine_order(active, "draft", index, settings.mapping.timezone)
        if mapped is None:
            active["authoredOn"] = settings.as_of.isoformat()
        chosen.append(active)
    if not chosen:
        return []
    medications = [r for r in request.drafts if r.get("resourceType") != "MedicationRequest"]
    return [*chosen, *medications]


def _with_reads(
    keys: dict[str, KeyData], wanted: list[str], reads: PatientReads
) -> tuple[dict[str, KeyData], ReadCompleteness]:
    """The keys with what was read in place of the wanted ones, and which reads were not whole."""
    read_resources: dict[str, tuple[FhirJson, ...]] = {
        "patient": (reads.patient,),
        "medications": (*reads.medication_requests, *reads.medications, *reads.prescribers),
        "observations": tuple(reads.observations),
        "conditions": tuple(reads.conditions),
    }
    completeness = ReadCompleteness()
    for key in wanted:
        keys = {**keys, key: KeyData(read_resources[key])}
        incomplete = reads.completeness.of(KEY_TYPES[key])
        if incomplete is None and KEY_TYPES[key] not in reads.read_types:
            # Left unread is not an empty record: never evaluated as one.
            incomplete = IncompleteRead(
                KEY_TYPES[key], ("not read",), f"The app did not read the {key} it needs."
            )
        if incomplete is not None:
            completeness = completeness.adding(incomplete)
    return keys, completeness


def _without(resources: list[FhirJson], drafts: list[FhirJson]) -> list[FhirJson]:
    """The resources, less those a draft replaces (same type and id)."""
    replaced = {(d.get("resourceType"), d.get("id")) for d in drafts if d.get("id") is not None}
    return [r for r in resources if (r.get("resourceType"), r.get("id")) not in replaced]


def _facts(patient: str, entries: list[object], mapping: MappingSettings) -> PatientFacts:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    found = [f for f in patient_facts_from_bundle(bundle, mapping) if f.patient == patient]
    if not found:  # the Patient key was checked: only a mapping that lost it gets here
        raise HookRequestError("the patient could not be found in the request's data")
    return found[0]
