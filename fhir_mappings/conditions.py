"""Whether a Condition documents benign ethnic neutropenia (BEN).

Contract ("Documented BEN"): clinicalStatus active, recurrence or relapse (or absent),
verificationStatus confirmed (or absent), and a code whose text or any coding display contains
"benign ethnic neutropenia" or "Duffy-null", or a coding among the organisation's BEN codes.
Never inferred from race or ethnicity: Patient extensions are not read here at all.
"""

from __future__ import annotations

from fhir_mappings.codes import BEN_CLINICAL_STATUSES, BEN_VERIFICATION_STATUSES, BEN_WORDS
from fhir_mappings.fhir_json import FhirJson, code_text, codings, concept_words, obj
from fhir_mappings.settings import LocalCode, MappingSettings


def documents_ben(condition_json: FhirJson, settings: MappingSettings) -> bool:
    """Whether the Condition documents BEN that is current and not refuted."""
    return (
        _status_allows(condition_json.get("clinicalStatus"), BEN_CLINICAL_STATUSES)
        and _status_allows(condition_json.get("verificationStatus"), BEN_VERIFICATION_STATUSES)
        and _names_ben(condition_json.get("code"), settings)
    )


def _status_allows(status: object, allowed: frozenset[str]) -> bool:
    """An absent status allows; else its code (with no coding, its text) must be allowed."""
    if isinstance(status, str):  # a bare code, as STU3 wrote it
        written = code_text(status)
        return written is None or written in allowed
    concept = obj(status)
    values = [code.lower() for _, code in codings(concept)]
    if not values:
        written = code_text(concept.get("text"))
        values = [written] if written else []
    return not values or any(value in allowed for value in values)


def _names_ben(code: object, settings: MappingSettings) -> bool:
    if any(BEN_WORDS.search(word) for word in concept_words(code)):
        return True
    return any(LocalCode(system, value) in settings.ben_codes for system, value in codings(code))
