"""One laboratory Observation read as an ANC or ANC part: kind, status, instant, value and bound.

Contract ("ANC", "Units" and the rulings): the code says what is measured (LOINC, with system
http://loinc.org or none, or a configured local ANC code); `final`, `amended`, `corrected` count,
`preliminary` is pending, other statuses are ignored, all ignoring case; the collection instant is
`effectiveDateTime`, else `effectivePeriod.start`. Values are exact decimals (a decimal written
as a string included); a comparator makes the value a bound. A counting result whose unit is not
accepted, whose value is missing, unreadable or negative, or whose count reads above
100,000/uL is kept with the problem, for `unit-error`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from clozapine.facts import DataNote
from clozapine.labs import (
    EXACT,
    HUNDRED,
    MAX_COUNT_PER_UL,
    Comparator,
    LabResult,
    decimal_shown,
    read_value,
)
from fhir_mappings.codes import (
    COUNTING_RESULT_STATUSES,
    LOINC_LAB_KINDS,
    LOINC_SYSTEM,
    PENDING_RESULT_STATUS,
    LabKind,
)
from fhir_mappings.dates import UnreadableDate, collection_instant, read_date_time
from fhir_mappings.fhir_json import FhirJson, codings, number, obj, shown, text
from fhir_mappings.settings import LocalCode, MappingSettings
from fhir_mappings.units import count_factor, is_percent, written_unit

LabReading = LabResult  # the name this module used before the engine took the type over
PERCENT_KINDS = frozenset(kind for kind in LabKind if kind.is_percent)
# Builds a NamedTuple without its Python-level __new__ (all fields given): one per result.
_new = tuple.__new__
KIND_RANK = {kind: rank for rank, kind in enumerate(LabKind)}
_COMPARATORS = {comparator.value: comparator for comparator in Comparator}
NO_VALUE = "no value"


def lab_kind(code: object, settings: MappingSettings) -> LabKind | None:
    """What an Observation code measures: a LOINC ANC code or part, or a local ANC code.

    A result coded as more than one kind is read as the first in LabKind's order (ANC first).
    Read once per result, so the lenient readers (`objs`, `text`) are written out here.
    """
    if not isinstance(code, dict):
        return None
    coding_list = code.get("coding")
    if isinstance(coding_list, dict):
        coding_list = [coding_list]
    elif not isinstance(coding_list, list):
        return None
    local = settings.local_anc_codes
    found: LabKind | None = None
    for coding in coding_list:
        if not isinstance(coding, dict):
            continue
        code_value = coding.get("code")
        if not isinstance(code_value, str) or not (code_value := code_value.strip()):
            continue
        kind = LOINC_LAB_KINDS.get(code_value)
        # The system is read only for a code worth it: one Bundle holds hundreds of codings.
        if kind is None and not local:
            continue
        system = text(coding.get("system"))
        if kind is not None and system not in (None, LOINC_SYSTEM):
            kind = None
        if local and LocalCode(system, code_value) in local:
            kind = LabKind.ANC
        if kind is not None and (found is None or KIND_RANK[kind] < KIND_RANK[found]):
            found = kind
    return found


def lab_reading(
    observation_json: FhirJson, source: str, settings: MappingSettings
) -> LabResult | DataNote | None:
    """The Observation as an ANC or part, a DataNote when it cannot be dated, else None."""
    kind = lab_kind(observation_json.get("code"), settings)
    if kind is None:
        return None
    return reading_of_kind(kind, observation_json, source, settings)


def reading_of_kind(
    kind: LabKind, observation_json: FhirJson, source: str, settings: MappingSettings
) -> LabResult | DataNote | None:
    """`lab_reading` once the code has been read as `kind` (the typed reader shares this)."""
    status = observation_json.get("status")
    status = status.strip().lower() if isinstance(status, str) else None
    pending = status == PENDING_RESULT_STATUS
    if not pending and status not in COUNTING_RESULT_STATUSES:
        return None
    try:
        collected_on, collected_at = _collected(observation_json, settings)
    except UnreadableDate as error:
        return DataNote(source, f"{kind.value} result left out: collection time {error}")
    quantity = observation_json.get("valueQuantity")
    if not isinstance(quantity, dict):
        quantity = {}
    if pending:
        written = _written(quantity, observation_json)
        pending_fields = (kind, source, collected_on, collected_at, True, None, written, None, None)
        return _new(LabResult, pending_fields)
    value, comparator, problem = _value(kind, quantity)
    # What was sent is shown only for a result that cannot be used.
    written = _written(quantity, observation_json) if value is None else ""
    fields = (kind, source, collected_on, collected_at, False, value, written, problem, comparator)
    return _new(LabResult, fields)


def _collected(observation_json: FhirJson, settings: MappingSettings) -> tuple[date, datetime]:
    written = observation_json.get("effectiveDateTime")
    usual = usual_instant(written, settings)
    if usual is not None:
        return usual
    if written is None:
        written = obj(observation_json.get("effectivePeriod")).get("start")
    if written is None:
        raise UnreadableDate("is missing (no effectiveDateTime or effectivePeriod.start)")
    return collection_instant(read_date_time(written), settings.timezone)


def usual_instant(written: object, settings: MappingSettings) -> tuple[date, datetime] | None:
    """The usual full dateTime with an offset, read as `collection_instant` would read it; None
    for any other value (which the general reader then reads)."""
    if isinstance(written, str) and len(written) >= 20 and written[10] == "T":
        try:
            at = datetime.fromisoformat(written)
        except ValueError:
            return None
        if at.tzinfo is not None and 1 < at.year < 9999:
            zone = settings.timezone
            if zone is None:
                return at.date(), at
            in_zone = at.astimezone(zone)
            return in_zone.date(), in_zone
    return None


def _value(
    kind: LabKind, quantity: FhirJson
) -> tuple[Decimal | None, Comparator | None, str | None]:
    """The value in cells/uL (or %) and its comparator, or None and why it cannot be used."""
    written_value = quantity.get("value")
    if type(written_value) is Decimal and written_value.is_finite():
        value: Decimal | None = written_value  # as `read_json` gives it: no conversion
    else:
        value = number(written_value)
    if value is None:
        if written_value is None:
            return None, None, NO_VALUE
        return None, None, _UNREADABLE
    comparator: Comparator | None = None
    if "comparator" in quantity:
        comparator, problem = _comparator(quantity["comparator"])
        if problem is not None:
            return None, None, problem
    if value < 0:
        return None, None, "the value is negative"
    if comparator is Comparator.BELOW and value == 0:
        return None, None, "a value below 0 is no count"
    unit = written_unit(quantity)
    if kind in PERCENT_KINDS:
        if not is_percent(unit):
            return None, None, f"unit {_unit_shown(unit)} is not a percentage (%)"
        return (value, comparator, None) if value <= HUNDRED else (None, None, _ABOVE_100)
    factor = count_factor(unit)
    if factor is None:
        return None, None, f"unit {_unit_shown(unit)} is not a cell-count unit this app converts"
    per_ul = value if factor.per_ul == 1 else EXACT.multiply(value, factor.per_ul)
    if read_value(per_ul, comparator) > MAX_COUNT_PER_UL:
        return None, None, "above 100,000/uL once converted to cells/uL"
    return per_ul, comparator, None


_ABOVE_100 = "a percentage above 100"
_UNREADABLE = "no readable value (not a number, or a number written with over 100 characters)"


def _comparator(written: object) -> tuple[Comparator | None, str | None]:
    """A Quantity's comparator (`<`, `<=`, `>=`, `>`), or why it cannot be read as a bound."""
    if written is None:
        return None, None
    if isinstance(written, str):
        stripped = written.strip()
        if not stripped:
            return None, None
        comparator = _COMPARATORS.get(stripped)
        if comparator is not None:
            return comparator, None
    return None, f"comparator {shown(written, 10)} is not a bound this app reads (<, <=, >=, >)"


def _written(quantity: FhirJson, observation_json: FhirJson) -> str:
    """The value and unit as sent ("3000 10*3/uL"), or "no value (masked)" and the like."""
    written_value = quantity.get("value")
    value = number(written_value)
    if value is None:
        if written_value is not None:
            return _UNREADABLE
        absent = obj(observation_json.get("dataAbsentReason"))
        reason = next((code for _, code in codings(absent)), None) or text(absent.get("text"))
        return f"no value ({shown(reason, 30)})" if reason else NO_VALUE
    comparator = quantity.get("comparator")
    prefix = shown(comparator, 3) if isinstance(comparator, str) else ""
    shown_value = decimal_shown(value)
    unit = written_unit(quantity)
    return f"{prefix.strip()}{shown_value} {shown(unit, 30)}" if unit else prefix + shown_value


def _unit_shown(unit: str | None) -> str:
    return f"'{shown(unit, 30)}'" if unit else "(none)"
