"""Whether a MedicationRequest orders clozapine: by RxNorm code, else by name.

Contract ("Clozapine therapy"): the medication is a CodeableConcept, a contained Medication or a
Medication referenced in the Bundle; it is clozapine when a coding has an RxNorm code from
clozapine-monitoring.md 4.4 (system RxNorm, or no system), or else when its text or a coding
display names clozapine, Clozaril, FazaClo or Versacloz.
"""

from __future__ import annotations

from fhir_mappings.codes import CLOZAPINE_NAMES, RXNORM_CLOZAPINE_CODES, RXNORM_SYSTEM
from fhir_mappings.fhir_json import FhirJson, codings, concept_words, obj, objs, reference, text
from fhir_mappings.references import BundleIndex, contained


def orders_clozapine(request_json: FhirJson, index: BundleIndex) -> bool:
    """Whether the MedicationRequest's medication is clozapine."""
    concepts = _medication_concepts(request_json, index)
    return any(_has_clozapine_code(concept) for concept in concepts) or any(
        CLOZAPINE_NAMES.search(word) for concept in concepts for word in concept_words(concept)
    )


def _medication_concepts(request_json: FhirJson, index: BundleIndex) -> list[object]:
    """The CodeableConcepts that say what is ordered."""
    if "medicationCodeableConcept" in request_json:
        return [request_json["medicationCodeableConcept"]]
    medication_reference = obj(request_json.get("medicationReference"))
    reference_text = reference(medication_reference)
    medication = _medication(request_json, reference_text, index) if reference_text else None
    if medication is None:
        # The Medication is not in the Bundle: the reference's display is all that names it.
        return [{"text": text(medication_reference.get("display"))}]
    ingredients = objs(medication.get("ingredient"))
    return [medication.get("code"), *(item.get("itemCodeableConcept") for item in ingredients)]


def _medication(request_json: FhirJson, reference_text: str, index: BundleIndex) -> FhirJson | None:
    local = contained(request_json, reference_text)
    if local is not None:
        return local if local.get("resourceType", "Medication") == "Medication" else None
    found = index.resolve(reference_text)
    return found.resource if found is not None and found.resource_type == "Medication" else None


def _has_clozapine_code(concept: object) -> bool:
    return any(
        system in (None, RXNORM_SYSTEM) and code in RXNORM_CLOZAPINE_CODES
        for system, code in codings(concept)
    )
