"""The registry forms' fields, checked: dates, references, statuses, names and ANC values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta

from smartapp.db.registry_models import ENROLLMENT_STATUSES

# FHIR ids: letters, digits, '-' and '.', at most 64 (FHIR R4 datatypes, "id").
_ID = r"[A-Za-z0-9\-.]{1,64}"
OLDEST_ON = date(2000, 1, 1)
FURTHEST_EXPIRY = timedelta(days=20 * 366)
MAX_ANC_PER_UL = 100_000
MAX_NAME = 200


class FormError(ValueError):
    """A field that cannot be used; the message says what to write instead."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def text(form: Mapping[str, str], field: str) -> str:
    """The field's value with surrounding spaces removed ('' when absent)."""
    return (form.get(field) or "").strip()


def reference(
    form: Mapping[str, str], field: str, kind: str, *, required: bool = True
) -> str | None:
    """A `Kind/id` reference (e.g. Practitioner/dr-a); None when optional and empty."""
    value = text(form, field)
    if not value and not required:
        return None
    if not re.fullmatch(rf"{kind}/{_ID}", value):
        raise FormError(
            field,
            f"Write the {_words(field)} as {kind}/id, e.g. {kind}/abc-123"
            " (letters, digits, '-' and '.').",
        )
    return value


def record_date(form: Mapping[str, str], field: str, today: date) -> date:
    """A required YYYY-MM-DD date on or before today (a record of something that happened)."""
    value = _date(form, field)
    if value is None:
        raise FormError(field, f"Give the {_words(field)} as YYYY-MM-DD.")
    if value > today:
        raise FormError(field, f"The {_words(field)} {value} is in the future (today is {today}).")
    if value < OLDEST_ON:
        raise FormError(field, f"The {_words(field)} {value} is before {OLDEST_ON}.")
    return value


def expiry_date(form: Mapping[str, str], field: str, start_on: date, today: date) -> date | None:
    """An optional YYYY-MM-DD expiry, on or after the record's date and within 20 years."""
    value = _date(form, field)
    if value is None:
        return None
    if value < start_on:
        raise FormError(field, f"The expiry date {value} is before the record's date, {start_on}.")
    if value > today + FURTHEST_EXPIRY:
        raise FormError(field, f"The expiry date {value} is more than 20 years away.")
    return value


def status(form: Mapping[str, str], field: str) -> str:
    """An enrollment status: active, interrupted or discontinued."""
    value = text(form, field) or "active"
    if value not in ENROLLMENT_STATUSES:
        raise FormError(field, f"The status must be one of {', '.join(ENROLLMENT_STATUSES)}.")
    return value


def anc_per_ul(form: Mapping[str, str], field: str) -> int | None:
    """An optional ANC in cells/uL, a whole number."""
    value = text(form, field)
    if not value:
        return None
    if not value.isdigit() or not value.isascii() or int(value) > MAX_ANC_PER_UL:
        raise FormError(
            field, f"The ANC reported must be a whole number of cells/µL up to {MAX_ANC_PER_UL}."
        )
    return int(value)


def name(form: Mapping[str, str], field: str) -> str | None:
    """An optional display name: printable text, at most 200 characters."""
    value = text(form, field)
    if not value:
        return None
    if len(value) > MAX_NAME or not value.isprintable():
        raise FormError(field, f"The name must be printable text of at most {MAX_NAME} characters.")
    return value


def _date(form: Mapping[str, str], field: str) -> date | None:
    value = text(form, field)
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise FormError(field, f"Write the {_words(field)} as YYYY-MM-DD (not {value[:20]!r}).")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError(field, f"The {_words(field)} {value} is not a calendar date.") from None


_WORDS = {
    "enrolled_on": "enrollment date",
    "submitted_on": "submission date",
    "certified_on": "certification date",
    "expires_on": "expiry date",
}


def _words(field: str) -> str:
    return _WORDS.get(field, field.replace("_", " "))
