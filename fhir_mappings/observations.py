"""One laboratory Observation read as an ANC or ANC part: kind, status, instant and value.

Contract ("ANC", "Units"): the code says what is measured (LOINC, with system http://loinc.org or
none, or a configured local ANC code); `final`, `amended`, `corrected` count, `preliminary` is
pending, other statuses are ignored; the collection instant is `effectiveDateTime`, else
`effectivePeriod.start`. A counting result whose unit is not accepted, whose value is missing or
negative, or whose count is above 100,000/uL is kept with the problem, for `unit-error`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from clozapine.facts import DataNote
from fhir_mappings.codes import (
    COUNTING_RESULT_STATUSES,
    LOINC_LAB_KINDS,
    LOINC_SYSTEM,
    PENDING_RESULT_STATUS,
    LabKind,
)
from fhir_mappings.dates import UnreadableDate, collection_instant, read_date_time
from fhir_mappings.fhir_json import FhirJson, code_text, codings, number, obj, objs, shown, text
from fhir_mappings.settings import LocalCode, MappingSettings
from fhir_mappings.units import count_factor, is_percent, written_unit

_HUNDRED = Decimal(100)
_RANK = {kind: rank for rank, kind in enumerate(LabKind)}
NO_VALUE = "no value"


class LabReading(NamedTuple):
    """A counting or pending ANC (or ANC part) result (a NamedTuple: one is built per result).

    `value` is in cells/uL (a percentage for the % kinds); it is None when the result is pending
    or when `problem` says why it cannot be used; then `written` is the value and unit as sent.
    """

    kind: LabKind
    source: str
    collected_on: date
    collected_at: datetime
    pending: bool
    value: Decimal | None
    written: str
    problem: str | None = None

    def described(self) -> str:
        """What was sent and why it cannot be used ("3000 10*3/uL: above 100,000/uL ...")."""
        if self.problem is None or self.problem == NO_VALUE:
            return self.written
        return f"{self.written}: {self.problem}"


def lab_kind(code: object, settings: MappingSettings) -> LabKind | None:
    """What an Observation code measures: a LOINC ANC code or part, or a local ANC code.

    A result coded as more than one kind is read as the first in LabKind's order (ANC first).
    """
    found: LabKind | None = None
    for coding in objs(obj(code).get("coding")):
        code_value = text(coding.get("code"))
        kind = LOINC_LAB_KINDS.get(code_value) if code_value else None
        # The system is read only for a code worth it: one Bundle holds hundreds of codings.
        if kind is not None and text(coding.get("system")) not in (None, LOINC_SYSTEM):
            kind = None
        if code_value and settings.local_anc_codes:
            if LocalCode(text(coding.get("system")), code_value) in settings.local_anc_codes:
                kind = LabKind.ANC
        if kind is not None and (found is None or _RANK[kind] < _RANK[found]):
            found = kind
    return found


def lab_reading(
    observation_json: FhirJson, source: str, settings: MappingSettings
) -> LabReading | DataNote | None:
    """The Observation as an ANC or part, a DataNote when it cannot be dated, else None."""
    kind = lab_kind(observation_json.get("code"), settings)
    status = code_text(observation_json.get("status"))
    pending = status == PENDING_RESULT_STATUS
    if kind is None or not (pending or status in COUNTING_RESULT_STATUSES):
        return None
    try:
        collected_on, collected_at = _collected(observation_json, settings)
    except UnreadableDate as error:
        return DataNote(source, f"{kind.value} result left out: collection time {error}")
    quantity = obj(observation_json.get("valueQuantity"))
    value, problem = (None, None) if pending else _value(kind, quantity)
    # What was sent is shown only for a result that cannot be used.
    written = _written(quantity, observation_json) if value is None else ""
    return LabReading(kind, source, collected_on, collected_at, pending, value, written, problem)


def _collected(observation_json: FhirJson, settings: MappingSettings) -> tuple[date, datetime]:
    written = observation_json.get("effectiveDateTime")
    if written is None:
        written = obj(observation_json.get("effectivePeriod")).get("start")
    if written is None:
        raise UnreadableDate("is missing (no effectiveDateTime or effectivePeriod.start)")
    return collection_instant(read_date_time(written), settings.timezone)


def _value(kind: LabKind, quantity: FhirJson) -> tuple[Decimal | None, str | None]:
    """The value in cells/uL (or %), or None and the reason it cannot be used."""
    value = number(quantity.get("value"))
    unit = written_unit(quantity)
    if value is None:
        return None, NO_VALUE
    if text(quantity.get("comparator")) is not None:
        return None, "the value is a bound (with a comparator), not a count"
    if value < 0:
        return None, "the value is negative"
    if kind.is_percent:
        if not is_percent(unit):
            return None, f"unit {_unit_shown(unit)} is not a percentage (%)"
        return (value, None) if value <= _HUNDRED else (None, "a percentage above 100")
    factor = count_factor(unit)
    if factor is None:
        return None, f"unit {_unit_shown(unit)} is not a cell-count unit this app converts"
    if value > factor.most_written:
        return None, "above 100,000/uL once converted to cells/uL"
    return value * factor.per_ul, None


def _written(quantity: FhirJson, observation_json: FhirJson) -> str:
    """The value and unit as sent ("3000 10*3/uL"), or "no value (masked)" and the like."""
    value = number(quantity.get("value"))
    if value is None:
        absent = obj(observation_json.get("dataAbsentReason"))
        reason = next((code for _, code in codings(absent)), None) or text(absent.get("text"))
        return f"no value ({shown(reason, 30)})" if reason else "no value"
    comparator = text(quantity.get("comparator")) or ""
    shown_value = _number_shown(value)
    unit = written_unit(quantity)
    return f"{shown(comparator, 3)}{shown_value} {shown(unit, 30)}" if unit else shown_value


def _number_shown(value: Decimal) -> str:
    if value == 0 or Decimal("1E-6") <= abs(value) < Decimal("1E12"):
        return f"{value.normalize():f}"
    return f"{value:.3E}"


def _unit_shown(unit: str | None) -> str:
    return f"'{shown(unit, 30)}'" if unit else "(none)"
