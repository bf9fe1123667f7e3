"""A clozapine MedicationRequest as a ClozapineOrder: the period it covers, prescriber, pharmacy.

Contract ("Clozapine therapy"): the start is `dispenseRequest.validityPeriod.start`, else the
earliest `dosageInstruction.timing.repeat.boundsPeriod.start`, else `authoredOn`; the end is the
latest of `validityPeriod.end`, any `boundsPeriod.end`, start + `boundsDuration` and start +
`expectedSupplyDuration` x (1 + `numberOfRepeatsAllowed`). Order dates are the date part as
written. Registry section: the prescriber is the `requester` (a PractitionerRole in the Bundle
counts as its `practitioner`), the pharmacy the `dispenseRequest.performer`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from clozapine.facts import ClozapineOrder, DataNote
from clozapine.labs import EXACT
from fhir_mappings.codes import COUNTING_ORDER_STATUSES, ONGOING_ORDER_STATUSES
from fhir_mappings.dates import (
    UnreadableDate,
    add_days,
    add_months,
    collection_instant,
    read_date_time,
    written_date,
)
from fhir_mappings.fhir_json import (
    FhirJson,
    code_text,
    identifier,
    number,
    obj,
    objs,
    reference,
    text,
)
from fhir_mappings.medications import orders_clozapine
from fhir_mappings.references import BundleIndex, contained

# UCUM duration units the contract accepts: (how many of the step, whether the step is a
# calendar month rather than a day). Case matters: in UCUM "a" is a year, "A" an ampere.
_DURATION_STEPS: dict[str, tuple[int, bool]] = {
    "d": (1, False),
    "wk": (7, False),
    "mo": (1, True),
    "a": (12, True),
}
# No order runs past the year 9999; larger durations or repeat counts are junk and give no end.
_MAX_AMOUNT = Decimal(4_000_000)


@dataclass(slots=True)
class _DateReader:
    """Reads an order's date fields, noting each one that is written but cannot be read."""

    source: str
    notes: list[DataNote] = field(default_factory=list)

    def read(self, value: object, element: str) -> date | None:
        if value is None:
            return None
        try:
            return written_date(value)
        except UnreadableDate as error:
            self.notes.append(DataNote(self.source, f"{element}: {error}; left out"))
            return None


def clozapine_order(
    request_json: FhirJson, source: str, index: BundleIndex, zone: ZoneInfo | None = None
) -> tuple[ClozapineOrder | None, list[DataNote]]:
    """The order a MedicationRequest makes, or None when it is no counting clozapine order.

    `zone` is the organisation's time zone: it places an authoredOn written without an offset.
    """
    status = code_text(request_json.get("status"))
    if status not in COUNTING_ORDER_STATUSES or not orders_clozapine(request_json, index):
        return None, []
    dates = _DateReader(source)
    authored_on = dates.read(request_json.get("authoredOn"), "authoredOn")
    period = _period(request_json, status, authored_on, dates)
    if period is None:
        reason = "clozapine order with no readable start (validityPeriod, boundsPeriod, authoredOn)"
        return None, [*dates.notes, DataNote(source, reason)]
    prescriber, unidentified = _prescriber(request_json, index)
    order = ClozapineOrder(
        start_on=period[0],
        end_on=period[1],
        authored_on=authored_on,
        prescriber=prescriber,
        pharmacy=_named(obj(request_json.get("dispenseRequest")).get("performer"), index),
        source=source,
        authored_at=_authored_at(request_json.get("authoredOn"), authored_on, zone),
        order_id=identifier(request_json.get("id")),
        prescriber_unidentified=unidentified,
    )
    return order, dates.notes


def _authored_at(
    written: object, authored_on: date | None, zone: ZoneInfo | None
) -> datetime | None:
    """authoredOn as an instant (ruling "Order ties"): a date alone is the start of that date
    in the organisation's zone (00:00 UTC with none); a time without offset is local there."""
    if authored_on is None:
        return None
    try:
        return collection_instant(read_date_time(written), zone)[1]
    except UnreadableDate:
        return None


def _period(
    request_json: FhirJson, status: str, authored_on: date | None, dates: _DateReader
) -> tuple[date, date | None] | None:
    dispense = obj(request_json.get("dispenseRequest"))
    validity = obj(dispense.get("validityPeriod"))
    repeats = [
        obj(obj(dosage.get("timing")).get("repeat"))
        for dosage in objs(request_json.get("dosageInstruction"))
    ]
    bounds = [obj(repeat.get("boundsPeriod")) for repeat in repeats if "boundsPeriod" in repeat]
    bound_starts = [dates.read(b.get("start"), "boundsPeriod.start") for b in bounds]
    bound_ends = [dates.read(b.get("end"), "boundsPeriod.end") for b in bounds]
    start = (
        dates.read(validity.get("start"), "validityPeriod.start")
        or min((on for on in bound_starts if on is not None), default=None)
        or authored_on
    )
    if start is None:
        return None
    ends = [
        dates.read(validity.get("end"), "validityPeriod.end"),
        *bound_ends,
        *(_duration_end(start, repeat.get("boundsDuration")) for repeat in repeats),
        _duration_end(start, dispense.get("expectedSupplyDuration"), _fills(dispense)),
    ]
    latest = max((on for on in ends if on is not None), default=None)
    open_bounds = any(
        s is not None and e is None for s, e in zip(bound_starts, bound_ends, strict=True)
    )
    if status in ONGOING_ORDER_STATUSES and (latest is None or open_bounds):
        return start, None
    return start, latest if latest is not None and latest >= start else start


def _fills(dispense: FhirJson) -> Decimal:
    """1 + numberOfRepeatsAllowed (a missing, negative or fractional count reads as none)."""
    repeats = number(dispense.get("numberOfRepeatsAllowed"))
    if repeats is None or repeats < 0 or repeats > _MAX_AMOUNT or repeats != int(repeats):
        return Decimal(1)
    return EXACT.add(repeats, Decimal(1))


def _duration_end(start: date, duration: object, times: Decimal = Decimal(1)) -> date | None:
    """start + a FHIR Duration x times; None for a unit other than d, wk, mo, a."""
    duration_json = obj(duration)
    value = number(duration_json.get("value"))
    unit = text(duration_json.get("code")) or text(duration_json.get("unit"))
    if value is None or unit not in _DURATION_STEPS or value.copy_abs() > _MAX_AMOUNT:
        return None
    size, in_months = _DURATION_STEPS[unit]
    # A part-day (or part-month) supply still covers that day (or month): round up.
    steps = math.ceil(EXACT.multiply(EXACT.multiply(value, times), Decimal(size)))
    try:
        return add_months(start, steps) if in_months else add_days(start, steps)
    except (OverflowError, ValueError):
        return None


def _prescriber(request_json: FhirJson, index: BundleIndex) -> tuple[str | None, bool]:
    """The requester as a Practitioner, and whether a requester is named but is none.

    A PractitionerRole (contained or in the Bundle) counts as its practitioner. A requester that
    does not resolve to a Practitioner (a role not in the Bundle or naming no practitioner, a
    requester with only a display or an identifier, another resource type) is unidentified
    (ruling "Unidentifiable prescriber"); with no requester at all, neither.
    """
    requester_json = request_json.get("requester")
    if requester_json is None:
        return None, False
    requester = reference(requester_json)
    if requester is None:
        return None, True
    role = contained(request_json, requester)
    if role is None:
        found = index.resolve(requester)
        # A typed Observation (no dict) is no PractitionerRole: read it as any other non-role.
        role = found.resource if found is not None and isinstance(found.resource, dict) else None
    named = requester_json
    if role is not None and role.get("resourceType") == "PractitionerRole":
        named = role.get("practitioner")
    elif requester.startswith("#"):
        return None, True  # a contained Practitioner has no name the registry knows
    name = _named(named, index)
    if name is None:
        return None, True
    found = index.resolve(name)
    if name.startswith("Practitioner/") or (found and found.resource_type == "Practitioner"):
        return name, False
    return None, True


def _named(reference_json: object, index: BundleIndex) -> str | None:
    """A Reference as "Type/id"; a contained resource ("#x") has no name outside its order."""
    reference_text = reference(reference_json)
    if reference_text is None or reference_text.startswith("#"):
        return None
    return index.name_of(reference_text)
