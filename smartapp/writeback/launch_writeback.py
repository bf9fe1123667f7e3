"""Write-back for one launch session: its settings, the EHR's capabilities, writes, retirements.

It reads the ledger once (`entries`) and the EHR's capabilities from the shared cache, and
confirms what the ledger shows in the chart with one identifier search (`start_chart_check`,
run on the shared executor beside the page's other reads); its writes (`write`, `sync`) are
made only from POST views.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Future
from datetime import UTC, datetime

from clozapine import Evaluation
from fhir_client import FhirError
from fhir_mappings.outbound import (
    DEFAULT_IDENTIFIER_SYSTEM,
    DEFAULT_WRITEBACK_FINDINGS,
    Authorship,
    WritebackTarget,
    app_device,
    current_order_reference,
    practitioner_reference,
    writeback_targets,
)
from smartapp.clock import now_utc
from smartapp.db import LedgerEntry
from smartapp.ehr.access import EhrAccess
from smartapp.ehr.evaluation import LaunchEvaluation
from smartapp.org_config import OrgConfig
from smartapp.services import Services
from smartapp.writeback.capability import WriteDecision, decide, server_capabilities
from smartapp.writeback.confirmation import ChartCheck, check_chart, identity
from smartapp.writeback.lifecycle import LifecycleChange, PlannedChange, apply_lifecycle
from smartapp.writeback.lifecycle import plan_lifecycle as plan_changes
from smartapp.writeback.service import IN_CHART, EhrWriter, WriteOutcome, write_targets


def triggering_codes(org: OrgConfig) -> tuple[str, ...]:
    """The finding codes that trigger write-back: the program's list if it names any."""
    if org.program is not None and org.program.writeback_findings:
        return org.program.writeback_findings
    return DEFAULT_WRITEBACK_FINDINGS


class LaunchWriteback:
    """What one launch may write, has written, and should retire, at its EHR."""

    def __init__(
        self, services: Services, access: EhrAccess, request_id: str | None = None
    ) -> None:
        self._services = services
        self.access = access
        tokens = access.tokens
        self.scopes = list(tokens.scopes)
        self.client = access.client()
        self.writer = EhrWriter(
            iss=access.session.iss,
            patient=f"Patient/{tokens.patient or ''}",
            actor=tokens.fhir_user or "unknown user",
            ledger=services.ledger,
            client=self.client,
            request_id=request_id,
        )
        self.identifier_system = (
            services.org.writeback_identifier_system or DEFAULT_IDENTIFIER_SYSTEM
        )
        self._entries: list[LedgerEntry] | None = None
        self._check: Future[ChartCheck] | None = None

    def targets(self, evaluation: Evaluation) -> tuple[WritebackTarget, ...]:
        """The evaluation's findings that trigger write-back, with their identifiers."""
        codes = triggering_codes(self._services.org)
        return writeback_targets(evaluation, codes, self.identifier_system)

    def decision(self) -> WriteDecision:
        """Which resource to write here (the issuer's order, the EHR's types, the scopes)."""
        try:
            statement = self.client.capabilities()  # shared across requests by the cache
        except FhirError:
            statement = None
        vendor = self.client.vendor
        server = server_capabilities(statement, vendor.absent_types, vendor.display)
        return decide(self.access.issuer.writeback, server, self.scopes)

    def entries(self) -> list[LedgerEntry]:
        """The ledger's entries for this patient at this EHR (read once per request)."""
        if self._entries is None:
            self._entries = self._services.ledger.for_patient(self.writer.iss, self.writer.patient)
        return self._entries

    def start_chart_check(self) -> Future[ChartCheck]:
        """Start confirming against the EHR what the ledger shows in the chart (once)."""
        if self._check is None:
            patient = self.writer.patient.removeprefix("Patient/")
            entries = self.entries()
            self._check = self._services.executor.submit(
                check_chart, self.client, patient, entries, self.scopes
            )
        return self._check

    def chart_check(self) -> ChartCheck:
        """What the EHR holds of what the ledger shows in the chart (started if not yet)."""
        return self.start_chart_check().result()

    def unwritten(self, targets: Collection[WritebackTarget]) -> list[WritebackTarget]:
        """The targets not in the chart: none in the ledger, failed, a claim whose lease lapsed
        (its write was interrupted), or in the ledger but no longer in the EHR."""
        gone = self.chart_check().gone
        ledger = self._services.ledger
        held = {
            identity(e)
            for e in self.entries()
            if (e.status in IN_CHART and identity(e) not in gone)
            or (e.status == "pending" and not ledger.lease_over(e))
        }
        return [t for t in targets if t.identifier_tuple not in held]

    def plan_lifecycle(self, evaluation: Evaluation) -> list[PlannedChange]:
        """The retirements and reopenings the evaluation calls for (nothing is sent)."""
        return plan_changes(evaluation, self.entries(), self.scopes)

    def write(
        self,
        launch: LaunchEvaluation,
        codes: Collection[str] | None = None,
        *,
        automatic: bool = False,
    ) -> list[WriteOutcome]:
        """Write the triggering findings (those named in `codes`, if given) once each."""
        targets = [
            target
            for target in self.targets(launch.evaluation)
            if codes is None or target.finding.code in codes
        ]
        if not targets:
            return []
        authorship = self._authorship(launch, automatic)
        gone = self.chart_check().gone
        return write_targets(
            self.writer, self.decision(), targets, authorship, self.entries(), gone
        )

    def apply_lifecycle(self, evaluation: Evaluation) -> list[LifecycleChange]:
        """Retire the Flags and Tasks whose finding no longer holds (reopen those that hold again)."""
        changes = apply_lifecycle(self.writer, self.plan_lifecycle(evaluation))
        if changes:
            self._entries = None  # their statuses changed: read again if asked
        return changes

    def _authorship(self, launch: LaunchEvaluation, automatic: bool) -> Authorship:
        """The prescriber authors a click's write; the app (a Device) an automatic one."""
        services = self._services
        practitioner = None if automatic else practitioner_reference(self.access.tokens.fhir_user)
        return Authorship(
            author=practitioner or app_device(services.settings.base_url),
            written_at=now_in(services),
            medication_request=current_order_reference(launch.evaluation),
            task_intent=services.org.task_intent,
        )


def now_in(services: Services) -> datetime:
    """Now in the organisation's zone (UTC without one), for `authoredOn` and the like."""
    return now_utc().astimezone(services.org.mapping_settings().timezone or UTC)
