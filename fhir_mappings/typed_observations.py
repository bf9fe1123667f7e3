"""A typed Observation (`TypedResource`) read as an ANC or ANC part, exactly as `lab_reading` reads
the same Observation's dict: the code is read from the Structs, the rest by the shared reader."""

from __future__ import annotations

from decimal import Decimal

from clozapine.facts import DataNote
from clozapine.labs import EXACT, MAX_COUNT_PER_UL, LabResult
from fhir_mappings.codes import COUNTING_RESULT_STATUSES, LOINC_LAB_KINDS, LOINC_SYSTEM, LabKind
from fhir_mappings.fhir_json import FhirJson, text
from fhir_mappings.observations import KIND_RANK, PERCENT_KINDS, reading_of_kind, usual_instant
from fhir_mappings.settings import LocalCode, MappingSettings
from fhir_mappings.typed_json import TypedCoding, TypedResource
from fhir_mappings.units import count_factor

# Builds a NamedTuple without its Python-level __new__ (all fields given): one per result.
_new = tuple.__new__
# Units as most results write them (no whitespace), looked up before the general reading.
_USUAL_FACTORS = {unit: count_factor(unit) for unit in ("10*3/uL", "/uL", "10*9/L", "K/uL")}


def typed_lab_reading(
    observation: TypedResource, source: str, settings: MappingSettings
) -> LabResult | DataNote | None:
    """The Observation as an ANC or part, a DataNote when it cannot be dated, else None."""
    code = observation.code
    if code is None or not code.coding:
        return None
    kind = typed_lab_kind(code.coding, settings)
    if kind is None:
        return None
    usual = _usual_reading(kind, observation, source, settings)
    if usual is not None:
        return usual
    return reading_of_kind(kind, _observation_json(observation), source, settings)


def _usual_reading(
    kind: LabKind, observation: TypedResource, source: str, settings: MappingSettings
) -> LabResult | None:
    """The usual final count (a dateTime with offset, a plain exact value in a count unit) read
    in one pass, as `reading_of_kind` reads it; None for anything else, which that reads."""
    status = observation.status
    quantity = observation.valueQuantity
    if type(status) is not str or quantity is None or quantity.comparator is not None:
        return None
    if status not in COUNTING_RESULT_STATUSES and (
        status.strip().lower() not in COUNTING_RESULT_STATUSES
    ):
        return None
    if kind is not LabKind.ANC and kind in PERCENT_KINDS:  # an Enum hashes in Python: ANC first
        return None
    value = quantity.value
    if type(value) is not Decimal or not value.is_finite() or value < 0:
        return None
    instant = usual_instant(observation.effectiveDateTime, settings)
    unit = quantity.code
    factor = _USUAL_FACTORS.get(unit) if type(unit) is str else None
    if factor is None:
        if type(unit) is not str or not (unit := unit.strip()):
            unit = text(quantity.unit)
        factor = count_factor(unit)
    if instant is None or factor is None:
        return None
    per_ul = value if factor.per_ul == 1 else EXACT.multiply(value, factor.per_ul)
    if per_ul > MAX_COUNT_PER_UL:
        return None
    return _new(LabResult, (kind, source, instant[0], instant[1], False, per_ul, "", None, None))


def typed_lab_kind(codings: list[TypedCoding], settings: MappingSettings) -> LabKind | None:
    """`lab_kind` over typed codings: the first kind in LabKind's order that a coding names."""
    local = settings.local_anc_codes
    found: LabKind | None = None
    for coding in codings:
        code_value = coding.code
        if code_value is None or not (code_value := code_value.strip()):
            continue
        kind = LOINC_LAB_KINDS.get(code_value)
        if kind is None and not local:
            continue
        system = coding.system
        if system is not None and system != LOINC_SYSTEM:
            system = system.strip() or None
        if kind is not None and system not in (None, LOINC_SYSTEM):
            kind = None
        if local and LocalCode(system, code_value) in local:
            kind = LabKind.ANC
        if kind is LabKind.ANC:
            return kind  # first in LabKind's order: no later coding changes the reading
        if kind is not None and (found is None or KIND_RANK[kind] < KIND_RANK[found]):
            found = kind
    return found


def _observation_json(observation: TypedResource) -> FhirJson:
    """The elements `reading_of_kind` reads, as the dict it takes (null reads as absent there)."""
    quantity = observation.valueQuantity
    return {
        "status": observation.status,
        "effectiveDateTime": observation.effectiveDateTime,
        "effectivePeriod": observation.effectivePeriod,
        "valueQuantity": quantity.as_json() if quantity is not None else None,
        "dataAbsentReason": observation.dataAbsentReason,
    }
