"""The scheduled run's write-back: each patient's Flag or Task, with the chart page's identifiers.

The targets, identifiers, resources and ledger are the chart's (`writeback_targets`,
`write_targets`), so a finding already written from the chart is reported as it is, never
written twice, and a finding the run wrote is shown in the chart as written. A patient whose
records could not all be read gets nothing written, as on the chart page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from clozapine import Evaluation
from fhir_client import FhirClient, FhirError
from fhir_mappings.outbound import (
    DEFAULT_IDENTIFIER_SYSTEM,
    Authorship,
    WritebackTarget,
    app_device,
    current_order_reference,
    writeback_targets,
)
from smartapp.db import WritebackLedger
from smartapp.org_config import OrgConfig
from smartapp.writeback.capability import WriteDecision, decide, server_capabilities
from smartapp.writeback.launch_writeback import triggering_codes
from smartapp.writeback.service import EhrWriter, write_targets


@dataclass(frozen=True, slots=True)
class PatientTargets:
    """One patient's findings to write, and the clozapine order they are about."""

    patient: str
    targets: tuple[WritebackTarget, ...]
    medication_request: str | None


@dataclass
class PopulationTargets:
    """Collects, patient by patient as the run evaluates them, what the write-back will write."""

    codes: tuple[str, ...]
    identifier_system: str
    patients: list[PatientTargets] = field(default_factory=list)
    skipped_incomplete: int = 0

    @classmethod
    def for_org(cls, org: OrgConfig) -> PopulationTargets:
        """The organisation's triggering findings and identifier system (the chart's)."""
        return cls(
            triggering_codes(org), org.writeback_identifier_system or DEFAULT_IDENTIFIER_SYSTEM
        )

    def observe(self, patient: str, evaluation: Evaluation, complete: bool) -> None:
        """Keep the patient's targets (none for a patient whose data was not whole)."""
        targets = writeback_targets(evaluation, self.codes, self.identifier_system)
        if not targets:
            return
        if not complete:
            self.skipped_incomplete += 1
            return
        self.patients.append(PatientTargets(patient, targets, current_order_reference(evaluation)))


@dataclass(frozen=True, slots=True)
class PopulationWriteback:
    """What the write-back did: outcomes counted by kind, and why nothing could be written."""

    outcomes: Counter[str]
    skipped_incomplete: int
    cannot: str | None = None

    def summary(self) -> str:
        """One line for the run's output."""
        if self.cannot is not None:
            return f"write-back: nothing written ({self.cannot})"
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.outcomes.items())) or "none"
        skipped = (
            f"; {self.skipped_incomplete} patients with incomplete data not written"
            if self.skipped_incomplete
            else ""
        )
        return f"write-back: {kinds}{skipped}"


def write_population(
    found: PopulationTargets,
    *,
    iss: str,
    actor: str,
    preferred: Sequence[str],
    scopes: Sequence[str],
    client: FhirClient,
    ledger: WritebackLedger,
    base_url: str,
    task_intent: str,
    now: Callable[[], datetime],
) -> PopulationWriteback:
    """Write every kept patient's targets once (the ledger and the EHR's identifiers decide)."""
    decision = _decision(client, preferred, scopes)
    if not decision.can_write:
        return PopulationWriteback(Counter(), found.skipped_incomplete, decision.explanation)
    outcomes: Counter[str] = Counter()
    for kept in found.patients:
        writer = EhrWriter(iss=iss, patient=kept.patient, actor=actor, ledger=ledger, client=client)
        authorship = Authorship(
            author=app_device(base_url),
            written_at=now(),
            medication_request=kept.medication_request,
            task_intent=task_intent,
        )
        entries = ledger.for_patient(iss, kept.patient)
        for outcome in write_targets(writer, decision, kept.targets, authorship, entries):
            outcomes[outcome.kind.value] += 1
    return PopulationWriteback(outcomes, found.skipped_incomplete)


def _decision(client: FhirClient, preferred: Sequence[str], scopes: Sequence[str]) -> WriteDecision:
    try:
        statement = client.capabilities()
    except FhirError:
        statement = None
    vendor = client.vendor
    return decide(
        preferred, server_capabilities(statement, vendor.absent_types, vendor.display), scopes
    )
