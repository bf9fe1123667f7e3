"""One launch's evaluation: read the patient from the EHR, map, evaluate with the one engine.

Nothing is evaluated for another patient than the launch's (patient_identity.py), nor from orders
or lab results that were not read whole (completeness.py): both raise before the engine runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clozapine import Evaluation, PatientFacts, Policy, Registry, evaluate
from clozapine.registry import normalise_reference
from fhir_mappings import patient_facts_from_bundle
from smartapp.ehr.access import EhrAccess
from smartapp.ehr.completeness import COMPLETE, ReadCompleteness
from smartapp.ehr.patient_identity import check_patient, launch_patient
from smartapp.ehr.patient_reads import read_patient_bundle
from smartapp.errors import WrongPatient
from smartapp.services import Services


@dataclass(frozen=True, slots=True)
class LaunchEvaluation:
    """The evaluation and everything the page, its panels and the write-back use beside it.

    `registry` is what the program rules read (None when no program applies); it also holds the
    signed-in prescriber's own certification, so the program panel needs no second read.
    `completeness` says which reads were not whole (here: at most the problem list, since
    incomplete orders or results stop the evaluation); the page and write-back act on it.
    """

    evaluation: Evaluation
    facts: PatientFacts
    policy: Policy
    patient: dict[str, Any]
    read_notes: tuple[str, ...]
    registry: Registry | None
    completeness: ReadCompleteness = COMPLETE


def user_prescriber(fhir_user: str | None) -> str | None:
    """The signed-in user as a Practitioner reference, if the EHR named one."""
    user = normalise_reference(fhir_user) if fhir_user else None
    return user if user and user.startswith("Practitioner/") else None


def evaluate_launch(services: Services, access: EhrAccess) -> LaunchEvaluation:
    """Read, map and evaluate the launch's patient as of today in the organisation's zone.

    WrongPatient when the EHR's Patient is not the launch's; IncompleteRecord when the orders or
    lab results were not read whole."""
    patient_id = launch_patient(access.tokens.patient)
    reads = read_patient_bundle(
        access.client(),
        patient_id,
        executor=services.executor,
        local_anc_codes=services.org.local_anc_codes,
    )
    check_patient(reads.patient, patient_id, access.tokens.patient)
    if not reads.completeness.can_evaluate:
        raise reads.completeness.refusal()
    settings = services.org.mapping_settings()
    wanted = f"Patient/{patient_id}"
    everyone = patient_facts_from_bundle(reads.bundle(), settings)
    facts = next((f for f in everyone if f.patient == wanted), None)
    if facts is None:  # the Patient was checked: only a mapping that lost it gets here
        raise WrongPatient(
            "The app could not find the launch's patient in what the EHR returned",
            "Nothing is shown or written for this patient. Open the app again from the chart.",
        )
    as_of = services.today()
    policy = services.policy_on(as_of)
    registry = None
    if policy.reads_registry:
        user = user_prescriber(access.tokens.fhir_user)
        registry = services.registry.registry_for_facts(
            access.issuer.iss, facts, also_prescribers=(user,)
        )
    return LaunchEvaluation(
        evaluation=evaluate(facts, as_of, policy, registry),
        facts=facts,
        policy=policy,
        patient=reads.patient,
        read_notes=tuple(reads.notes),
        registry=registry,
        completeness=reads.completeness,
    )
