"""Write one finding to the EHR exactly once: claim it in the ledger, create it, audit it.

Each write costs two database transactions: the claim, then the result with its audit event.

Exactly once, in three layers: the identifier derived from patient + finding + period; the
ledger's unique (iss, identifier) row, claimed before the write, so of several identical requests
(a double click, a retry, two clinicians) one writes and the others report its resource; and
`If-None-Exist: identifier=system|value` where the EHR's CapabilityStatement declares
conditional create, else a search by that identifier just before the create, so even a lost
ledger row (or a second app database) cannot make a second resource.

A claim is a lease (smartapp.db.ledger): a write interrupted by a crash is taken up by the next
request once the lease lapses. When a later attempt finds the resource an earlier one created
but never recorded, the audit trail records its creation all the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fhir_client import FhirClient, FhirError
from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.outbound import Authorship, WritebackTarget, resource_from_target
from smartapp.db import AuditEvent, LedgerEntry, WritebackKey, WritebackLedger
from smartapp.writeback.capability import WriteDecision
from smartapp.writeback.validation import validate_outbound

LOGGER = logging.getLogger("smartapp.writeback")
# How long a request that lost the claim waits for the winner's write to finish.
WAIT_FOR_WINNER_S = 10.0
POLL_S = 0.1
IN_CHART = frozenset({"written", "inactive", "completed"})


class OutcomeKind(StrEnum):
    """What a write request came to."""

    CREATED = "created"
    EXISTING = "existing"
    IN_PROGRESS = "in-progress"
    CANNOT = "cannot"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """One finding's write: what happened, the resource, and a sentence for the page."""

    code: str
    kind: OutcomeKind
    message: str
    resource_type: str | None = None
    resource_id: str | None = None

    @property
    def reference(self) -> str | None:
        """`Type/id` of the resource in the chart, if there is one."""
        if self.resource_type and self.resource_id:
            return f"{self.resource_type}/{self.resource_id}"
        return None


@dataclass(frozen=True, slots=True)
class EhrWriter:
    """One launch's write context: the EHR and its client, the ledger, the audit trail, the user."""

    iss: str
    patient: str
    actor: str
    ledger: WritebackLedger
    client: FhirClient
    request_id: str | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def event(self, action: str, target: str, after: dict[str, Any]) -> AuditEvent:
        """An audit event for this user at this EHR (references and codes only, no PHI)."""
        return AuditEvent(
            actor=self.actor,
            action=action,
            target=target,
            after=after,
            iss=self.iss,
            request_id=self.request_id,
        )


def write_targets(
    writer: EhrWriter,
    decision: WriteDecision,
    targets: Iterable[WritebackTarget],
    authorship: Authorship,
    entries: Iterable[LedgerEntry] = (),
    gone: frozenset[tuple[str, str]] = frozenset(),
) -> list[WriteOutcome]:
    """Write each target (or say for each why it cannot be written). `entries` are the ledger
    rows already read for the patient: a target they show in the chart is reported as it is,
    with no claim (the claim would find the same row), unless its identifier is in `gone` (the
    EHR was asked and no longer holds it)."""
    known = {(e.key.identifier_system, e.key.identifier_value): e for e in entries}
    return [
        write_target(
            writer,
            decision,
            target,
            authorship,
            known.get(target.identifier_tuple),
            gone=target.identifier_tuple in gone,
        )
        for target in targets
    ]


def write_target(
    writer: EhrWriter,
    decision: WriteDecision,
    target: WritebackTarget,
    authorship: Authorship,
    known: LedgerEntry | None = None,
    *,
    gone: bool = False,
) -> WriteOutcome:
    """Claim the target in the ledger; the winner creates it, the others report its resource.
    `gone` says the EHR no longer holds the resource `known` records (deleted there): it is
    claimed again and written anew."""
    code = target.finding.code
    if decision.resource_type is None:
        return WriteOutcome(code, OutcomeKind.CANNOT, f"Nothing written: {decision.explanation}")
    if known is not None and known.status in IN_CHART and known.resource_id and not gone:
        return _already(code, known.key.resource_type, known.resource_id)
    resource = validate_outbound(resource_from_target(decision.resource_type, target, authorship))
    if known is not None and known.status in IN_CHART and known.resource_id:
        claim = writer.ledger.reclaim(known, decision.resource_type)
    else:
        claim = writer.ledger.claim(_key(writer, target, decision.resource_type))
    if not claim.write:
        return _winner_outcome(writer, target, claim.entry)
    try:
        status, body = _create(writer.client, decision, target, resource)
    except FhirError as error:
        facts = _facts(target, claim.entry, error.status)
        writer.ledger.mark_failed(
            claim.entry.id, audit=writer.event("writeback-failed", target.patient, facts)
        )
        _log(code, decision.resource_type, "failed")
        return WriteOutcome(code, OutcomeKind.FAILED, f"Not written: {error.user_message}")
    except Exception:
        writer.ledger.mark_failed(claim.entry.id)  # let a later request try again
        raise
    return _written(writer, target, claim.entry, decision.resource_type, status, body)


def _create(
    client: FhirClient, decision: WriteDecision, target: WritebackTarget, resource: FhirJson
) -> tuple[int, FhirJson]:
    """Create the resource once: conditionally where the EHR declares it, else after a search
    by the identifier (200 with what the search found, as a conditional create answers). A
    sign-in that may not search leaves the ledger as the only guard."""
    if decision.conditional:
        return client.create(resource, if_none_exist=target.search)
    if not decision.searchable:
        return client.create(resource)
    found = find_written(client, str(resource["resourceType"]), target)
    if found is not None:
        return 200, found
    return client.create(resource)


def find_written(
    client: FhirClient, resource_type: str, target: WritebackTarget
) -> FhirJson | None:
    """The resource of this type the EHR holds with the target's identifier, if any (one not
    entered in error)."""
    params = {
        "patient": target.patient.removeprefix("Patient/"),
        "identifier": search_token(target.identifier_tuple),
    }
    for found in client.search(resource_type, params):
        if found.get("resourceType") == resource_type and carries(found, target.identifier_tuple):
            return found
    return None


def search_token(identifier: tuple[str, str]) -> str:
    """`system|value` for a token search, escaped (R4 search.html#escaping)."""
    return "|".join(_escape(part) for part in identifier)


def _escape(value: str) -> str:
    for char in ("\\", ",", "$", "|"):
        value = value.replace(char, f"\\{char}")
    return value


def carries(resource: FhirJson, identifier: tuple[str, str]) -> bool:
    """Whether the resource has this (system, value) identifier and is not entered in error."""
    if resource.get("status") == "entered-in-error":
        return False
    return any(
        isinstance(item, dict) and (item.get("system"), item.get("value")) == identifier
        for item in resource.get("identifier") or []
    )


def _written(
    writer: EhrWriter,
    target: WritebackTarget,
    entry: LedgerEntry,
    resource_type: str,
    status: int,
    body: dict[str, Any],
) -> WriteOutcome:
    code = target.finding.code
    resource_id = body.get("id")
    if not isinstance(resource_id, str) or not resource_id:
        writer.ledger.mark_failed(entry.id)
        return WriteOutcome(
            code, OutcomeKind.FAILED, "Not written: the EHR did not say which record it made."
        )
    created = status == 201
    reference = f"{resource_type}/{resource_id}"
    facts = _facts(target, entry, status)
    if created:
        action = "writeback-create"
    elif entry.attempts > 1:
        # An earlier attempt (interrupted, or failed without hearing the EHR's answer) created
        # it without recording it: this attempt confirms the creation, and the trail says so.
        action = "writeback-create"
        facts["confirmed_on_attempt"] = entry.attempts
    else:
        action = "writeback-found"
    audit = writer.event(action, reference, facts)
    writer.ledger.mark_written(entry.id, resource_id, audit=audit)
    _log(code, resource_type, action)
    if created:
        message = f"{reference} written to the chart for {code}."
        return WriteOutcome(code, OutcomeKind.CREATED, message, resource_type, resource_id)
    return _already(code, resource_type, resource_id)


def _winner_outcome(writer: EhrWriter, target: WritebackTarget, entry: LedgerEntry) -> WriteOutcome:
    """Another request holds the claim: report its resource, waiting briefly while it writes."""
    code = target.finding.code
    deadline = writer.clock() + WAIT_FOR_WINNER_S
    latest: LedgerEntry | None = entry
    while latest is not None and latest.status == "pending" and writer.clock() < deadline:
        writer.sleep(POLL_S)
        latest = writer.ledger.find(writer.iss, target.identifier_system, target.identifier_value)
    if latest is not None and latest.status in IN_CHART and latest.resource_id:
        return _already(code, latest.key.resource_type, latest.resource_id)
    if latest is not None and latest.status == "failed":
        message = f"Not written: another attempt to write {code} just failed. Try again."
        return WriteOutcome(code, OutcomeKind.FAILED, message)
    message = f"{code} is already being written by another request; reload the page in a moment."
    return WriteOutcome(code, OutcomeKind.IN_PROGRESS, message)


def _already(code: str, resource_type: str, resource_id: str) -> WriteOutcome:
    message = f"{resource_type}/{resource_id} for {code} is already in the chart; nothing new was written."
    return WriteOutcome(code, OutcomeKind.EXISTING, message, resource_type, resource_id)


def _key(writer: EhrWriter, target: WritebackTarget, resource_type: str) -> WritebackKey:
    return WritebackKey(
        iss=writer.iss,
        patient=target.patient,
        finding_code=target.finding.code,
        period_key=target.period.key,
        identifier_system=target.identifier_system,
        identifier_value=target.identifier_value,
        resource_type=resource_type,
    )


def _facts(target: WritebackTarget, entry: LedgerEntry, status: int | None) -> dict[str, Any]:
    return {
        "finding": target.finding.code,
        "patient": target.patient,
        "period": target.period.key,
        "identifier": target.identifier_value,
        "ledger_entry": entry.id,
        "http_status": status,
    }


def _log(code: str, resource_type: str, what: str) -> None:
    # Codes and types only: never the patient, the identifier or the message.
    LOGGER.info(
        "writeback", extra={"fields": {"finding": code, "resource": resource_type, "what": what}}
    )
