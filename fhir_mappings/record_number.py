"""The patient's record number to show: the MR identifier in force today, else one under its label.

A Patient often carries several identifiers: the current medical record number, numbers retired
by a merge or a re-registration (`use` old, or a `period` that has ended), numbers of other
facilities, insurance and licence numbers. The banner must show the one the EHR uses today:
an identifier typed MR (HL7 v2 table 0203, https://hl7.org/fhir/R4/v2/0203/index.html) whose
`period` covers today in the organisation's zone, preferring `use` official, then usual
(https://hl7.org/fhir/R4/datatypes.html#Identifier). With none, another identifier in force is
shown under its own label, never as "MRN". Social Security numbers are never shown.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from fhir_mappings.dates import collection_instant, read_date_time
from fhir_mappings.fhir_json import FhirJson, code_text, codings, obj, objs, text

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
US_SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
MRN_LABEL = "MRN"
# `use` official first, then usual; an identifier with no use, then secondary and temp.
_USE_RANK = {"official": 0, "usual": 1, None: 2, "secondary": 3, "temp": 4}
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?")


@dataclass(frozen=True, slots=True)
class RecordNumber:
    """An identifier for the banner: its label ("MRN" only for a current MRN) and its value."""

    label: str
    value: str
    is_mrn: bool


@dataclass(frozen=True, slots=True)
class _Candidate:
    rank: tuple[int, int, int]
    identifier_json: FhirJson
    value: str
    is_mrn: bool


def current_record_number(
    patient_json: FhirJson, today: date, zone: ZoneInfo | None
) -> RecordNumber | None:
    """The current MRN, else the best other identifier in force under its label; None if none.

    Never a retired identifier (`use` old, a period ended before today or starting after it,
    or a period that cannot be read). Among several, official before usual before the rest,
    then the latest period start, then the order the EHR wrote them in.
    """
    candidates = [
        found
        for index, identifier_json in enumerate(objs(patient_json.get("identifier")))
        if (found := _candidate(identifier_json, index, today, zone)) is not None
    ]
    mrns = [c for c in candidates if c.is_mrn]
    if mrns:
        return RecordNumber(MRN_LABEL, min(mrns, key=_by_rank).value, True)
    others = [c for c in candidates if not _is_ssn(c.identifier_json)]
    if not others:
        return None
    chosen = min(others, key=_by_rank)
    return RecordNumber(_label(chosen.identifier_json), chosen.value, False)


def _by_rank(candidate: _Candidate) -> tuple[int, int, int]:
    return candidate.rank


def _candidate(
    identifier_json: FhirJson, index: int, today: date, zone: ZoneInfo | None
) -> _Candidate | None:
    value = text(identifier_json.get("value"))
    use = code_text(identifier_json.get("use"))
    if value is None or use == "old" or use not in _USE_RANK:
        return None
    start = _in_force_from(identifier_json.get("period"), today, zone)
    if start is None:
        return None
    is_mrn = any(
        code == "MR" and system in (None, V2_0203)
        for system, code in codings(identifier_json.get("type"))
    )
    return _Candidate((_USE_RANK[use], -start.toordinal(), index), identifier_json, value, is_mrn)


def _in_force_from(period: object, today: date, zone: ZoneInfo | None) -> date | None:
    """The period's first day if it covers today (date.min with no start); None if it does not,
    or if it cannot be read (an unreadable period may be a retired number)."""
    if period is None:
        return date.min
    if not isinstance(period, dict):
        return None
    try:
        start = _bound(period.get("start"), zone, first=True)
        end = _bound(period.get("end"), zone, first=False)
    except ValueError:  # UnreadableDate, or a year or month off the calendar
        return None
    if (start is not None and start > today) or (end is not None and end < today):
        return None
    return start or date.min


def _bound(value: object, zone: ZoneInfo | None, *, first: bool) -> date | None:
    """A period bound as a date in the organisation's zone; a year or month is its first or
    last day (the end includes the whole of what it names, FHIR R4 Period)."""
    if value is None:
        return None
    partial = _PARTIAL_DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if partial is not None:
        year, month = int(partial[1]), partial[2]
        first_month, last_month = (int(month), int(month)) if month else (1, 12)
        if first:
            return date(year, first_month, 1)
        return date(year, last_month, calendar.monthrange(year, last_month)[1])
    return collection_instant(read_date_time(value), zone)[0]


def _label(identifier_json: FhirJson) -> str:
    """The identifier's own name: its type's text, a coding's display, else its system."""
    kind = obj(identifier_json.get("type"))
    for label in (
        text(kind.get("text")),
        *(text(coding.get("display")) for coding in objs(kind.get("coding"))),
        text(identifier_json.get("system")),
    ):
        if label:
            return label
    return "Identifier"


def _is_ssn(identifier_json: FhirJson) -> bool:
    if text(identifier_json.get("system")) == US_SSN_SYSTEM:
        return True
    return any(
        code == "SS" and system in (None, V2_0203)
        for system, code in codings(identifier_json.get("type"))
    )
