"""One patient's clozapine monitoring data read concurrently from the EHR, as a collection Bundle.

Architecture "Data flow" step 4: Patient; MedicationRequest with its Medication and its requester
(included in the same search where the CapabilityStatement offers `MedicationRequest:medication`
and `MedicationRequest:requester`, else read one by one afterwards); Observation by the ANC, WBC
and differential LOINC codes of evaluation-contract.md ("Reading the Bundle") with
`category=laboratory`; and Condition for documented BEN. Patient, MedicationRequest and
Observation are required: their FhirError is raised, except a search that answered but could not
be read whole (FhirIncompleteRead) or named another patient, which is recorded in `completeness`
with a failed Condition read (smartapp.ehr.completeness says what each means); so is an order
whose unreadable Medication it does not name. Other follow-up reads leave a note instead.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import TypeVar

from fhir_client.client import FhirClient
from fhir_client.errors import FhirBadRequest, FhirError, FhirIncompleteRead, FhirUnavailable
from fhir_client.messages import RESOURCE_WORDS
from fhir_client.references import local_reference
from fhir_mappings.codes import LOINC_LAB_KINDS, LOINC_SYSTEM
from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.medications import orders_clozapine
from fhir_mappings.references import BundleIndex
from fhir_mappings.settings import LocalCode
from smartapp.ehr.completeness import BEN_SOURCE, IncompleteRead, ReadCompleteness

__all__ = ["PatientReads", "lab_code_query", "read_patient_bundle"]

T = TypeVar("T")
LOGGER = logging.getLogger(__name__)
MEDICATION_INCLUDE = "MedicationRequest:medication"
REQUESTER_INCLUDE = "MedicationRequest:requester"
PRESCRIBER_TYPES = frozenset({"PractitionerRole"})
# Follow-up reads (Medications, prescribers) per kind: a chart with more is not a normal chart.
MAX_FOLLOW_UP_READS = 50
# The reads a patient's evaluation is made of, by the resource type each searches or reads.
READ_TYPES = frozenset({"Patient", "MedicationRequest", "Observation", "Condition"})


@dataclass(slots=True)
class PatientReads:
    """What was read for one patient; `bundle()` is the input of patient_facts_from_bundle.

    `read_types` names the reads made (READ_TYPES unless fewer were asked for): what was not
    read is left empty, and must never be taken for an empty record."""

    base_url: str
    patient: FhirJson
    medication_requests: list[FhirJson]
    medications: list[FhirJson]
    observations: list[FhirJson]
    conditions: list[FhirJson]
    prescribers: list[FhirJson] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The searches not read whole: the evaluation, the page and write-back act on it.
    completeness: ReadCompleteness = field(default_factory=ReadCompleteness)
    timings_ms: dict[str, int] = field(default_factory=dict)
    read_types: frozenset[str] = READ_TYPES

    @property
    def ben_status_unknown(self) -> bool:
        """Whether the Conditions could not be read: the page must say BEN status is unknown."""
        return self.completeness.ben_status_unknown

    def bundle(self) -> FhirJson:
        """A FHIR `collection` Bundle of every resource read, each with its absolute fullUrl."""
        resources = [
            self.patient,
            *self.medication_requests,
            *self.medications,
            *self.observations,
            *self.conditions,
            *self.prescribers,
        ]
        entries: dict[str, FhirJson] = {}
        for resource in resources:
            full_url = self._full_url(resource)
            entries.setdefault(full_url, {"fullUrl": full_url, "resource": resource})
        return {"resourceType": "Bundle", "type": "collection", "entry": list(entries.values())}

    def _full_url(self, resource: FhirJson) -> str:
        resource_id = resource.get("id")
        if isinstance(resource_id, str) and resource_id:
            return f"{self.base_url}/{resource['resourceType']}/{resource_id}"
        return f"urn:uuid:{uuid.uuid4()}"


def lab_code_query(local_anc_codes: Iterable[LocalCode] = ()) -> str:
    """The Observation `code` search value: every LOINC code the contract reads (ANC, WBC,
    neutrophil and band %, segmented and band counts), then the organisation's local ANC codes."""
    tokens = [f"{LOINC_SYSTEM}|{code}" for code in LOINC_LAB_KINDS]
    for local in local_anc_codes:
        code = _escape(local.code)
        tokens.append(f"{_escape(local.system)}|{code}" if local.system else code)
    return ",".join(dict.fromkeys(tokens))


def read_patient_bundle(
    client: FhirClient,
    patient_id: str,
    *,
    executor: Executor,
    local_anc_codes: Iterable[LocalCode] = (),
    clock: Callable[[], float] = time.perf_counter,
    only: AbstractSet[str] = READ_TYPES,
) -> PatientReads:
    """Read everything the evaluation needs, the independent reads in parallel on `executor`;
    with `only`, just those of READ_TYPES (a CDS request's prefetch holds the rest)."""
    unknown = set(only) - READ_TYPES
    if unknown:
        raise ValueError(f"no such patient read: {sorted(unknown)}")
    reader = _Reader(client, patient_id, executor, clock, frozenset(only))
    return reader.read(lab_code_query(local_anc_codes))


def _skipped(nothing: T) -> Future[T]:
    """The result of a read not asked for: nothing, at once."""
    future: Future[T] = Future()
    future.set_result(nothing)
    return future


@dataclass(slots=True)
class _Reader:
    client: FhirClient
    patient_id: str
    executor: Executor
    clock: Callable[[], float]
    only: frozenset[str] = READ_TYPES
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, int] = field(default_factory=dict)
    completeness: ReadCompleteness = field(default_factory=ReadCompleteness)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, code_query: str) -> PatientReads:
        started = self.clock()
        by_patient = {"patient": self.patient_id}
        labs = {**by_patient, "code": code_query, "category": "laboratory"}
        no_patient: FhirJson = {}
        no_orders: tuple[list[FhirJson], list[FhirJson], list[FhirJson]] = ([], [], [])
        no_labs: list[FhirJson] = []
        no_conditions: list[FhirJson] = []
        patient = self._wanted(no_patient, "Patient", self.client.read, "Patient", self.patient_id)
        orders = self._wanted(no_orders, "MedicationRequest", self._orders)
        observations = self._wanted(no_labs, "Observation", self.client.search, "Observation", labs)
        conditions = self._wanted(
            no_conditions, "Condition", self.client.search, "Condition", by_patient
        )
        try:
            orders_json, medications, roles = self._required(
                orders, "MedicationRequest", ([], [], [])
            )
            medications += self._medications(orders_json, medications)
            prescribers = self._prescribers(orders_json, medications, roles)
            reads = PatientReads(
                self.client.base_url,
                patient.result(),
                self._owned("MedicationRequest", orders_json),
                medications,
                self._owned("Observation", self._required(observations, "Observation", [])),
                conditions=[],
                prescribers=prescribers,
            )
        except FhirError:
            for future in (patient, observations, conditions):
                future.cancel()  # a required read failed: what has not started is not wanted
            raise
        reads.conditions = self._owned(BEN_SOURCE, self._optional_conditions(conditions))
        self.timings_ms["total"] = round((self.clock() - started) * 1000)
        reads.notes, reads.timings_ms = list(self.notes), dict(self.timings_ms)
        reads.completeness = self.completeness
        reads.read_types = self.only
        return reads

    def _wanted(
        self, nothing: T, name: str, function: Callable[..., T], *args: object
    ) -> Future[T]:
        """The read `name` submitted when it is asked for; else nothing, and no call made."""
        return self._submit(name, function, *args) if name in self.only else _skipped(nothing)

    def _owned(self, resource_type: str, resources: list[FhirJson]) -> list[FhirJson]:
        """The resources, when each is this patient's; a search for this patient that answered
        with another patient's records is not trusted to be whole (and gives nothing)."""
        others = sum(1 for r in resources if not self._is_patients(r))
        if not others:
            return resources
        LOGGER.warning("another patient's records", extra={"fields": {"type": resource_type}})
        words = RESOURCE_WORDS.get(resource_type, resource_type)
        self._incomplete(
            IncompleteRead(
                resource_type,
                (f"{others} of {len(resources)} results name another patient",),
                f"The EHR's answer for {words} included records of another patient, so the app "
                "cannot trust it to be this patient's whole record.",
            )
        )
        return []

    def _is_patients(self, resource: FhirJson) -> bool:
        """Whether a resource's subject (or `patient`) is this patient, or names no one."""
        for field_name in ("subject", "patient"):
            value = resource.get(field_name)
            written = value.get("reference") if isinstance(value, dict) else None
            if isinstance(written, str) and written:
                target = local_reference(written, self.client.base_url)
                return target == ("Patient", self.patient_id)
        return True

    def _required(self, future: Future[T], resource_type: str, nothing: T) -> T:
        """A required read's result; an incomplete search is recorded and read as nothing (the
        evaluation then refuses to run), any other failure is raised."""
        try:
            return future.result()
        except FhirIncompleteRead as error:
            LOGGER.warning("incomplete read", extra={"fields": {"resource_type": resource_type}})
            self._incomplete(IncompleteRead.from_error(resource_type, error))
            return nothing

    def _orders(self) -> tuple[list[FhirJson], list[FhirJson], list[FhirJson]]:
        """The patient's MedicationRequests, and the Medications and PractitionerRoles the search
        included (only what the EHR's CapabilityStatement says it can include is asked for)."""
        offered = self.client.search_includes("MedicationRequest")
        includes = [i for i in (MEDICATION_INCLUDE, REQUESTER_INCLUDE) if offered & {i, "*"}]
        params: dict[str, str | list[str]] = {"patient": self.patient_id}
        if includes:
            params["_include"] = includes
        try:
            found = self.client.search("MedicationRequest", params)
        except FhirBadRequest:
            if not includes:
                raise
            # Advertised but refused: the orders alone, their references then read one by one.
            LOGGER.warning("search include refused", extra={"fields": {"includes": includes}})
            found = self.client.search("MedicationRequest", {"patient": self.patient_id})

        def of_type(resource_type: str) -> list[FhirJson]:
            return [r for r in found if r.get("resourceType") == resource_type]

        return of_type("MedicationRequest"), of_type("Medication"), of_type("PractitionerRole")

    def _medications(self, orders_json: list[FhirJson], included: list[FhirJson]) -> list[FhirJson]:
        """The referenced Medications the search did not include, read one by one. An order
        whose Medication could not be read and whose reference names nothing (no `display`) is
        an order the app cannot identify: the orders were not read whole."""
        references = (r.get("medicationReference") for r in orders_json)
        wanted = self._references(references, {"Medication"}, _names(included))
        found = self._read_optional(
            wanted,
            "Medication",
            "a referenced Medication could not be read ({reason}): its order is recognised by "
            "the order's own text only",
        )
        have = _names(included) | _names(found)
        if any(self._unnamed_reference(order, have) for order in orders_json):
            self._incomplete(
                IncompleteRead(
                    "MedicationRequest",
                    ("a referenced Medication could not be read",),
                    "The EHR's medication orders could not be read completely: the medication "
                    "an order refers to could not be read and the order does not name it, so the "
                    "app cannot tell whether it is clozapine.",
                )
            )
        return found

    def _unnamed_reference(self, order: FhirJson, have: AbstractSet[str]) -> bool:
        """Whether the order refers to a Medication not read, with no `display` naming it."""
        value = order.get("medicationReference")
        if not isinstance(value, dict) or "medicationCodeableConcept" in order:
            return False
        target = local_reference(value.get("reference"), self.client.base_url)
        display = value.get("display")
        named = isinstance(display, str) and bool(display.strip())
        if target is None or target[0] != "Medication" or named:
            return False
        return f"Medication/{target[1]}" not in have

    def _prescribers(
        self, orders_json: list[FhirJson], medications: list[FhirJson], included: list[FhirJson]
    ) -> list[FhirJson]:
        """The PractitionerRoles that requested clozapine orders (the role names its practitioner).

        Roles the order search included are used as they are; the rest are read one by one. A
        Practitioner requester needs no read: the registry is keyed by its reference.
        """
        index = BundleIndex([{"resource": r} for r in [*orders_json, *medications]])
        clozapine = [r for r in orders_json if orders_clozapine(r, index)]
        targets = self._references((r.get("requester") for r in clozapine), PRESCRIBER_TYPES)
        wanted = {f"{kind}/{id_}": (kind, id_) for kind, id_ in targets}
        found = {f"PractitionerRole/{role.get('id')}": role for role in included}
        have = [found[name] for name in wanted if name in found]
        missing = [target for name, target in wanted.items() if name not in found]
        note = "the ordering prescriber ({type}) could not be read ({reason})"
        return have + self._read_optional(missing, "Prescriber", note)

    def _references(
        self,
        values: Iterable[object],
        types: AbstractSet[str],
        have: AbstractSet[str] = frozenset(),
    ) -> list[tuple[str, str]]:
        """The distinct local (type, id) targets of these references not yet read."""
        wanted: dict[str, tuple[str, str]] = {}
        for value in values:
            reference = value.get("reference") if isinstance(value, dict) else None
            target = local_reference(reference, self.client.base_url)
            if target is not None and target[0] in types:
                name = f"{target[0]}/{target[1]}"
                if name not in have:
                    wanted.setdefault(name, target)
        if len(wanted) > MAX_FOLLOW_UP_READS:
            self._note(
                f"only the first {MAX_FOLLOW_UP_READS} of {len(wanted)} references were read"
            )
        return list(wanted.values())[:MAX_FOLLOW_UP_READS]

    def _read_optional(
        self, targets: list[tuple[str, str]], timing: str, note: str
    ) -> list[FhirJson]:
        futures = [(target, self._submit(timing, self.client.read, *target)) for target in targets]
        found: list[FhirJson] = []
        for (resource_type, _), future in futures:
            try:
                found.append(future.result())
            except FhirError as error:
                self._note(note.format(type=resource_type, reason=_reason(error)))
        return found

    def _optional_conditions(self, conditions: Future[list[FhirJson]]) -> list[FhirJson]:
        """The Conditions; none, with BEN status recorded as unknown, when they could not be
        read whole."""
        try:
            return conditions.result()
        except FhirError as error:
            self._incomplete(IncompleteRead.from_error(BEN_SOURCE, error))
            self._note(
                f"conditions could not be read ({_reason(error)}): documented BEN cannot be checked"
            )
            return []

    def _incomplete(self, read: IncompleteRead) -> None:
        with self._lock:
            self.completeness = self.completeness.adding(read)

    def _note(self, text: str) -> None:
        with self._lock:
            sentence = f"{text[0].upper()}{text[1:]}."
            if sentence not in self.notes:
                self.notes.append(sentence)

    def _submit(self, name: str, function: Callable[..., T], *args: object) -> Future[T]:
        def timed() -> T:
            started = self.clock()
            try:
                return function(*args)
            finally:
                elapsed = round((self.clock() - started) * 1000)
                with self._lock:
                    self.timings_ms[name] = max(self.timings_ms.get(name, 0), elapsed)

        return self.executor.submit(timed)


def _names(resources: Iterable[FhirJson]) -> set[str]:
    """`Type/id` of each resource."""
    return {f"{r.get('resourceType')}/{r.get('id')}" for r in resources}


def _reason(error: FhirError) -> str:
    if error.status is not None:
        return str(error.status)
    if isinstance(error, FhirUnavailable):
        return "no answer"
    if isinstance(error, FhirIncompleteRead):
        return "not read completely"
    return "refused"


def _escape(value: str) -> str:
    """FHIR search escaping (R4 search.html#escaping) of `\\`, `,`, `$` and `|` in a value."""
    for char in ("\\", ",", "$", "|"):
        value = value.replace(char, f"\\{char}")
    return value
