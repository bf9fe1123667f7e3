"""One launch's evaluation: read the patient from the EHR, map, evaluate with the one engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clozapine import Evaluation, PatientFacts, Policy, evaluate
from fhir_mappings import patient_facts_from_bundle
from smartapp.ehr.access import EhrAccess
from smartapp.ehr.patient_reads import read_patient_bundle
from smartapp.services import Services


@dataclass(frozen=True, slots=True)
class LaunchEvaluation:
    """The evaluation and everything the page shows beside it."""

    evaluation: Evaluation
    facts: PatientFacts
    policy: Policy
    patient: dict[str, Any]
    read_notes: tuple[str, ...]


def evaluate_launch(services: Services, access: EhrAccess) -> LaunchEvaluation:
    """Read, map and evaluate the launch's patient as of today in the organisation's zone."""
    patient_id = access.grant.patient or ""
    reads = read_patient_bundle(
        access.client(),
        patient_id,
        executor=services.executor,
        local_anc_codes=services.org.local_anc_codes,
    )
    settings = services.org.mapping_settings()
    wanted = f"Patient/{patient_id}"
    everyone = patient_facts_from_bundle(reads.bundle(), settings)
    facts = next((f for f in everyone if f.patient == wanted), everyone[0])
    as_of = datetime.now(settings.timezone).date()
    policy = services.policy_on(as_of)
    needs_registry = policy.program is not None or policy.organisation is not None
    registry = services.registry.registry_for_facts(facts) if needs_registry else None
    return LaunchEvaluation(
        evaluation=evaluate(facts, as_of, policy, registry),
        facts=facts,
        policy=policy,
        patient=reads.patient,
        read_notes=tuple(reads.notes),
    )
