"""Write-back for one launch session: its settings, the EHR's capabilities, writes, retirements."""

from __future__ import annotations

from collections.abc import Collection
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
from smartapp.db import LedgerEntry
from smartapp.ehr.access import EhrAccess
from smartapp.ehr.evaluation import LaunchEvaluation
from smartapp.org_config import OrgConfig
from smartapp.services import Services
from smartapp.writeback.capability import (
    CapabilityCache,
    ServerCapabilities,
    WriteDecision,
    decide,
    server_capabilities,
)
from smartapp.writeback.lifecycle import LifecycleChange, update_lifecycle
from smartapp.writeback.service import EhrWriter, WriteOutcome, write_targets


def triggering_codes(org: OrgConfig) -> tuple[str, ...]:
    """The finding codes that trigger write-back: the program's list if it names any."""
    if org.program is not None and org.program.writeback_findings:
        return org.program.writeback_findings
    return DEFAULT_WRITEBACK_FINDINGS


class LaunchWriteback:
    """What one launch may write, has written, and should retire, at its EHR."""

    def __init__(
        self,
        services: Services,
        access: EhrAccess,
        cache: CapabilityCache,
        request_id: str | None = None,
    ) -> None:
        self._services = services
        self.access = access
        self._cache = cache
        grant = access.grant
        self.scopes = grant.scopes.split()
        self.client = access.client()
        self.writer = EhrWriter(
            iss=grant.iss,
            patient=f"Patient/{grant.patient or ''}",
            actor=grant.fhir_user or "unknown user",
            ledger=services.ledger,
            audit=services.audit,
            client=self.client,
            request_id=request_id,
        )
        self.identifier_system = (
            services.org.writeback_identifier_system or DEFAULT_IDENTIFIER_SYSTEM
        )

    def targets(self, evaluation: Evaluation) -> tuple[WritebackTarget, ...]:
        """The evaluation's findings that trigger write-back, with their identifiers."""
        codes = triggering_codes(self._services.org)
        return writeback_targets(evaluation, codes, self.identifier_system)

    def decision(self) -> WriteDecision:
        """Which resource to write here (the issuer's order, the EHR's types, the scopes)."""
        grant = self.access.grant
        server = self._cache.get((grant.iss, grant.client_id), self._capabilities)
        return decide(self.access.issuer.writeback, server, self.scopes)

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
        return write_targets(
            self.writer, self.decision(), targets, self._authorship(launch, automatic)
        )

    def entries(self) -> list[LedgerEntry]:
        """The ledger's entries for this patient at this EHR."""
        return self._services.ledger.for_patient(self.writer.iss, self.writer.patient)

    def lifecycle(
        self, evaluation: Evaluation, entries: list[LedgerEntry] | None = None
    ) -> list[LifecycleChange]:
        """Retire the Flags and Tasks whose finding no longer holds (reopen those that hold again)."""
        found = self.entries() if entries is None else entries
        return update_lifecycle(self.writer, self.scopes, evaluation, found)

    def _authorship(self, launch: LaunchEvaluation, automatic: bool) -> Authorship:
        """The prescriber authors a click's write; the app (a Device) an automatic one."""
        services = self._services
        practitioner = None if automatic else practitioner_reference(self.access.grant.fhir_user)
        zone = services.org.mapping_settings().timezone or UTC
        return Authorship(
            author=practitioner or app_device(services.settings.base_url),
            written_at=datetime.now(zone),
            medication_request=current_order_reference(
                launch.facts, launch.evaluation.as_of, launch.policy.treatment_gap_days
            ),
            task_intent=services.org.task_intent,
        )

    def _capabilities(self) -> ServerCapabilities:
        try:
            capability = self.client.capabilities()
        except FhirError:
            capability = None
        return server_capabilities(capability, self.client.vendor.absent_types)
