"""FHIR date and dateTime values: the date as written, the collection instant, calendar arithmetic.

FHIR R4 dateTime (https://hl7.org/fhir/R4/datatypes.html#dateTime) allows YYYY, YYYY-MM,
YYYY-MM-DD, or a full time with an offset ("Z" or +hh:mm). Reading is lenient where EHRs stray
(no seconds, an offset without its colon, a space for the "T", "16: 09: 08" as in Oracle's
documentation); anything else raises UnreadableDate, never another exception.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

from fhir_mappings.fhir_json import shown

_DATE_TIME = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):\s?(?P<minute>\d{2})"
    r"(?::\s?(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"\s?(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?"
)


def _is_full_date_time(value: str) -> bool:
    return len(value) >= 19 and value[4] == "-" and value[10] == "T" and value[16] == ":"


class UnreadableDate(ValueError):
    """A date or dateTime that cannot be placed on a calendar date; the message says why."""


class WrittenTime(NamedTuple):
    """A FHIR date or dateTime as written: its date, its time and offset when written.

    A NamedTuple rather than a frozen dataclass: one is built per result, and this is faster.
    """

    on: date
    clock: time | None = None
    offset: tzinfo | None = None


def read_date_time(value: object) -> WrittenTime:
    """Read a FHIR date or dateTime with a day; raise UnreadableDate for anything else."""
    if isinstance(value, str) and _is_full_date_time(value):
        # The usual full dateTime: the C parser is thirty times faster than the regular expression.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return WrittenTime(parsed.date(), parsed.time(), parsed.tzinfo)
    match = _DATE_TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise UnreadableDate(f"{shown(value)} is not a FHIR date or dateTime")
    if match["day"] is None:
        raise UnreadableDate(f"{shown(value)} has no day, so it cannot be placed on a date")
    try:
        return WrittenTime(
            on=date(int(match["year"]), int(match["month"]), int(match["day"])),
            clock=_clock(match),
            offset=_offset(match["zone"]),
        )
    except ValueError:
        raise UnreadableDate(f"{shown(value)} is not a valid date or time") from None


def written_date(value: object) -> date:
    """The date part of a FHIR date or dateTime as written, with no time-zone conversion."""
    return read_date_time(value).on


def collection_instant(written: WrittenTime, zone: ZoneInfo | None) -> tuple[date, datetime]:
    """The collection date and aware instant of a written dateTime (contract, "ANC").

    With a zone: an instant with an offset is dated in that zone; a time with no offset is a
    local time there; a date with no time is collected on that date, at the start of it there.
    With no zone: the date part as written; a time (or a date) with no offset is read as UTC.
    """
    local = zone or UTC
    at = datetime.combine(written.on, written.clock or time(), written.offset or local)
    try:
        at.astimezone(UTC)  # results are grouped and ordered by their UTC instant
        in_zone = at.astimezone(local)
    except OverflowError:
        raise UnreadableDate(f"{at.isoformat()} is outside the calendar") from None
    if zone is None:
        return written.on, at
    if written.offset is None:
        return written.on, in_zone
    return in_zone.date(), in_zone


def add_months(start: date, months: int) -> date:
    """Calendar months later; a day past the month's end is clamped to its last day."""
    year, month_index = divmod(start.month - 1 + months, 12)
    year += start.year
    if not date.min.year <= year <= date.max.year:
        raise OverflowError("date out of range")
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(start.day, last_day))


def add_days(start: date, days: int) -> date:
    """Days later (or earlier); OverflowError past the calendar's ends."""
    return start + timedelta(days=days)


def _clock(match: re.Match[str]) -> time | None:
    if match["hour"] is None:
        return None
    micro = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    return time(int(match["hour"]), int(match["minute"]), int(match["second"] or 0), micro)


def _offset(zone: str | None) -> tzinfo | None:
    if zone is None:
        return None
    if zone in ("Z", "z"):
        return UTC
    digits = zone[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(-delta if zone.startswith("-") else delta)
