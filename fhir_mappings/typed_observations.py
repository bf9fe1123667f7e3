"""A typed Observation (`TypedResource`) read as an ANC or ANC part, exactly as `lab_reading` reads
the same Observation's dict: the usual result from the Structs, any other by the shared reader."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from clozapine.facts import DataNote
from clozapine.labs import EXACT, MAX_COUNT_PER_UL, LabResult
from fhir_mappings.codes import COUNTING_RESULT_STATUSES, LOINC_LAB_KINDS, LOINC_SYSTEM, LabKind
from fhir_mappings.fhir_json import FhirJson, text
from fhir_mappings.observations import KIND_RANK, PERCENT_KINDS, reading_of_kind
from fhir_mappings.settings import LocalCode, MappingSettings
from fhir_mappings.typed_json import TypedCoding, TypedResource
from fhir_mappings.units import count_factor

# Builds a NamedTuple without its Python-level __new__ (all fields given): one per result.
_new = tuple.__new__
# Units as most results write them (no whitespace), looked up before the general reading.
_USUAL_FACTORS = {unit: count_factor(unit) for unit in ("10*3/uL", "/uL", "10*9/L", "K/uL")}
# Read once here: an Enum member looked up on its class, and a Context's method, cost a lookup
# each time (70-140 ns), which adds up at one per result.
_ANC = LabKind.ANC
_ANC_CODES = frozenset(code for code, kind in LOINC_LAB_KINDS.items() if kind is LabKind.ANC)
_LOINC_OR_NONE = (LOINC_SYSTEM, None)
_MULTIPLY = EXACT.multiply
_ZERO = Decimal(0)
_ONE = Decimal(1)
# An integer written with more than 100 characters is unreadable (`fhir_json.number`).
_INT_READABLE = 10**100


def typed_lab_reading(
    observation: TypedResource, source: str, settings: MappingSettings
) -> LabResult | DataNote | None:
    """The Observation as an ANC or part, a DataNote when it cannot be dated, else None.

    The usual final count (a dateTime with an offset, a plain exact value in a count unit) is
    read here in one pass, as `reading_of_kind` reads it; anything else is read by that. Read
    once per result, so the kind, status, instant and unit readings are written out here.
    """
    code = observation.code
    codings = code.coding if code is not None else None
    if not codings:
        return None
    kind: LabKind | None = None
    for coding in codings:
        # An ANC's LOINC code as written, with the LOINC system or none, makes the result an
        # ANC whatever the other codings say (`typed_lab_kind`: ANC is first in LabKind's order).
        if coding.code in _ANC_CODES and coding.system in _LOINC_OR_NONE:
            kind = _ANC
            break
    else:
        kind = typed_lab_kind(codings, settings)
    if kind is None:
        return None
    status = observation.status
    quantity = observation.valueQuantity
    if (
        quantity is None
        or quantity.comparator is not None
        or type(status) is not str
        or (kind is not _ANC and kind in PERCENT_KINDS)  # an Enum hashes in Python
        or (
            status not in COUNTING_RESULT_STATUSES
            and status.strip().lower() not in COUNTING_RESULT_STATUSES
        )
    ):
        return reading_of_kind(kind, _observation_json(observation), source, settings)
    value = quantity.value
    if type(value) is int and 0 <= value < _INT_READABLE:  # as `number` reads an integer
        value = Decimal(value)
    written = observation.effectiveDateTime
    if (
        type(value) is not Decimal
        or not value.is_finite()
        or value < _ZERO
        or type(written) is not str
        or len(written) < 20
        or written[10] != "T"
    ):
        return reading_of_kind(kind, _observation_json(observation), source, settings)
    try:
        at = datetime.fromisoformat(written)
    except ValueError:
        return reading_of_kind(kind, _observation_json(observation), source, settings)
    if at.tzinfo is None or not 1 < at.year < 9999:
        return reading_of_kind(kind, _observation_json(observation), source, settings)
    zone = settings.timezone
    if zone is not None:
        at = at.astimezone(zone)
    unit = quantity.code
    factor = _USUAL_FACTORS.get(unit) if type(unit) is str else None
    if factor is None:
        if type(unit) is not str or not (unit := unit.strip()):
            unit = text(quantity.unit)
        factor = count_factor(unit)
        if factor is None:
            return reading_of_kind(kind, _observation_json(observation), source, settings)
    per_ul = value if factor.per_ul == _ONE else _MULTIPLY(value, factor.per_ul)
    if per_ul > MAX_COUNT_PER_UL:
        return reading_of_kind(kind, _observation_json(observation), source, settings)
    return _new(LabResult, (kind, source, at.date(), at, False, per_ul, "", None, None))


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
        if kind is _ANC:
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
