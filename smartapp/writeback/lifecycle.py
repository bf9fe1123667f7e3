"""Keep what the app wrote in step with its finding: retire it when the finding no longer holds.

A ledger entry holds while the current evaluation has a finding with the same code and period
(the identifier's parts). When it no longer does (the ANC came in, the patient was enrolled, a
new due date superseded it), the resource is read, set `inactive` (Flag, with period.end) or
`completed` (Task), and written back with If-Match on its version, so two page loads at once
change it once. Should the same finding hold again (a result entered in error), the resource
is reopened rather than written twice. The plan is made without I/O (`plan_lifecycle`, which
the page shows); the changes are made only on a POST (`apply_lifecycle`). Notes and messages (DocumentReference, Communication)
are records of their day and stay as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from clozapine import Evaluation
from clozapine.vocabulary import FindingCode, MonitoringStatus
from fhir_client import FhirError, FhirNotFound
from fhir_mappings.fhir_json import FhirJson
from fhir_mappings.outbound import (
    ENROLLMENT_FINDINGS,
    LAB_FINDINGS,
    OPEN_STATUS,
    RETIRED_STATUS,
    finding_period,
    reopened_resource,
    retired_resource,
)
from smartapp.clock import now_utc
from smartapp.db import LedgerEntry
from smartapp.writeback.capability import may_update
from smartapp.writeback.service import EhrWriter

PRECONDITION_FAILED = 412


@dataclass(frozen=True, slots=True)
class LifecycleChange:
    """One earlier write whose finding changed state, and what became of it."""

    reference: str
    code: str
    done: bool
    message: str


@dataclass(frozen=True, slots=True)
class LifecycleStep:
    """One direction of the lifecycle: the EHR status it sets, how, and what it records."""

    statuses: dict[str, str]
    change: Callable[[FhirJson], FhirJson]
    action: str
    reason: str


def holding(evaluation: Evaluation) -> set[tuple[str, str]]:
    """(finding code, period) of every finding that holds now."""
    return {(f.code, finding_period(evaluation, f.code).key) for f in evaluation.findings}


def retire_reason(code: str, evaluation: Evaluation) -> str:
    """Why a finding of this code no longer holds, in the prescriber's words."""
    codes = {finding.code for finding in evaluation.findings}
    if not evaluation.on_clozapine:
        return "the patient is no longer on clozapine"
    if code in codes:
        return f"superseded by the current {code} finding"
    if code in (*LAB_FINDINGS, FindingCode.ANC_TOO_OLD_TO_DISPENSE):
        if evaluation.anc is not None and evaluation.monitoring.status is MonitoringStatus.CURRENT:
            return f"the ANC came in ({evaluation.anc.collected.isoformat()})"
        if FindingCode.MONITORING_OVERDUE in codes:
            return "replaced by monitoring-overdue"
    if code in ENROLLMENT_FINDINGS:
        return "the program registry now has the record"
    if code == FindingCode.INTERRUPT_RECOMMENDED:
        return "the latest ANC no longer calls for interruption"
    return "the finding no longer holds"


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """A written resource whose finding changed state, and the step that brings it in line.

    `allowed` is False when the sign-in may not update the type: the page then says what to do
    by hand, and nothing is sent to the EHR.
    """

    entry: LedgerEntry
    step: LifecycleStep
    allowed: bool

    @property
    def reference(self) -> str:
        """`Type/id` of the resource in the chart."""
        return f"{self.entry.key.resource_type}/{self.entry.resource_id}"

    def by_hand(self) -> LifecycleChange:
        """What the prescriber reads when the app may not make the change itself."""
        kind, code = self.entry.key.resource_type, self.entry.key.finding_code
        status = self.step.statuses[kind]
        message = (
            f"{self.reference} for {code}: {self.step.reason}, but the sign-in may not change"
            f" {kind} records: mark it {status} in the EHR."
        )
        return LifecycleChange(self.reference, code, False, message)


def plan_lifecycle(
    evaluation: Evaluation, entries: list[LedgerEntry], scopes: list[str]
) -> list[PlannedChange]:
    """The written Flags and Tasks whose finding no longer holds (to retire) or holds again
    (to reopen); computed without any I/O, so a GET can show it and a POST can do it."""
    holds = holding(evaluation)
    planned = []
    for entry in entries:
        if entry.key.resource_type not in RETIRED_STATUS or not entry.resource_id:
            continue
        step = _step(entry, (entry.key.finding_code, entry.key.period_key) in holds, evaluation)
        if step is not None:
            allowed = may_update(scopes, entry.key.resource_type)
            planned.append(PlannedChange(entry, step, allowed))
    return planned


def apply_lifecycle(writer: EhrWriter, planned: list[PlannedChange]) -> list[LifecycleChange]:
    """Make the planned changes at the EHR (those the sign-in allows) and record them."""
    return [_apply(writer, change) if change.allowed else change.by_hand() for change in planned]


def _step(entry: LedgerEntry, held: bool, evaluation: Evaluation) -> LifecycleStep | None:
    if entry.status == "written" and not held:
        reason = retire_reason(entry.key.finding_code, evaluation)
        retire = partial(
            retired_resource, on=evaluation.as_of, at=now_utc(), reason=reason.capitalize()
        )
        return LifecycleStep(RETIRED_STATUS, retire, "writeback-retire", reason)
    if entry.status == RETIRED_STATUS[entry.key.resource_type] and held:
        reason = "the finding holds again"
        reopen = partial(reopened_resource, reason=reason.capitalize())
        return LifecycleStep(OPEN_STATUS, reopen, "writeback-reopen", reason)
    return None


def _apply(writer: EhrWriter, change: PlannedChange) -> LifecycleChange:
    entry, step = change.entry, change.step
    kind, code, reference = entry.key.resource_type, entry.key.finding_code, change.reference
    status = step.statuses[kind]
    try:
        changed = _update(writer, entry, step)
    except FhirError as error:
        message = f"{reference} for {code}: {step.reason}, but {error.user_message}"
        return LifecycleChange(reference, code, False, message)
    after = {"finding": code, "patient": entry.key.patient, "status": status}
    audit = writer.event(step.action, reference, {**after, "reason": step.reason})
    if status == OPEN_STATUS[kind]:
        writer.ledger.mark_written(
            entry.id, entry.resource_id or "", audit=audit if changed else None
        )
    else:
        writer.ledger.mark_status(entry.id, status, audit=audit if changed else None)
    return LifecycleChange(
        reference, code, True, f"{reference} for {code} set {status}: {step.reason}."
    )


def _update(writer: EhrWriter, entry: LedgerEntry, step: LifecycleStep) -> bool:
    """Change the resource at the EHR; False when it already had the status (or is gone)."""
    kind, resource_id = entry.key.resource_type, entry.resource_id or ""
    wanted = step.statuses[kind]
    try:
        current = writer.client.read(kind, resource_id)
    except FhirNotFound:
        return False
    if current.get("status") == wanted:
        return False
    try:
        writer.client.update(step.change(current), if_match=_version(current))
    except FhirError as error:
        if error.status != PRECONDITION_FAILED:
            raise
        # Changed since it was read: by another request doing the same, or by someone in the EHR.
        if writer.client.read(kind, resource_id).get("status") == wanted:
            return False
        raise
    return True


def _version(resource: dict[str, Any]) -> str | None:
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return version if isinstance(version, str) and version else None
