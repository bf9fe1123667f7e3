"""Program registry records (certification, enrollment, status forms) as the engine reads them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any


class RegistryFormatError(ValueError):
    """The registry document does not have the contract's shape."""


@dataclass(frozen=True, slots=True)
class Certification:
    """A prescriber's or pharmacy's certification in the program, dated, with any expiry."""

    reference: str
    certified_on: date
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A patient's enrollment in the program, dated, with the enrolling prescriber if known.

    `status` is active, interrupted or discontinued; the REMS rules ignore it, and under an
    organisation program a latest enrollment that is discontinued means not enrolled.
    """

    patient: str
    enrolled_on: date
    prescriber: str | None = None
    status: str = "active"
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class StatusForm:
    """A Patient Status Form submitted for a patient."""

    patient: str
    submitted_on: date


@dataclass(frozen=True, slots=True)
class Registry:
    """All registry records; the engine picks those that count for the policy and date."""

    prescribers: tuple[Certification, ...] = ()
    pharmacies: tuple[Certification, ...] = ()
    patients: tuple[Enrollment, ...] = ()
    status_forms: tuple[StatusForm, ...] = ()

    @classmethod
    def from_json(cls, document: Any, *, program_fields: bool = True) -> Registry:
        """Read the contract's registry JSON (parsed); RegistryFormatError when it is malformed.

        Optional fields: `expires` (YYYY-MM-DD) on any certification or enrollment and `status`
        (active, interrupted, discontinued) on an enrollment, read only with `program_fields`
        (an organisation program reads them; the REMS rules ignore them, whatever they hold:
        contract ruling "Registry files"). Other extra fields are ignored.
        """
        if not isinstance(document, dict):
            raise RegistryFormatError("the registry file must hold a JSON object")
        if not program_fields:
            return cls(
                prescribers=tuple(
                    Certification(ref, on)
                    for ref, on, _, _ in _records(
                        document, "prescribers", "practitioner", "certified"
                    )
                ),
                pharmacies=tuple(
                    Certification(ref, on)
                    for ref, on, _, _ in _records(
                        document, "pharmacies", "organization", "certified"
                    )
                ),
                patients=tuple(
                    Enrollment(ref, on, _optional_reference(record, "prescriber"))
                    for ref, on, record, _ in _records(document, "patients", "patient", "enrolled")
                ),
                status_forms=tuple(
                    StatusForm(ref, on)
                    for ref, on, _, _ in _records(document, "status_forms", "patient", "submitted")
                ),
            )
        return cls(
            prescribers=tuple(
                Certification(ref, on, _expires(record, where))
                for ref, on, record, where in _records(
                    document, "prescribers", "practitioner", "certified"
                )
            ),
            pharmacies=tuple(
                Certification(ref, on, _expires(record, where))
                for ref, on, record, where in _records(
                    document, "pharmacies", "organization", "certified"
                )
            ),
            patients=tuple(
                Enrollment(
                    ref,
                    on,
                    _optional_reference(record, "prescriber"),
                    _status(record, where),
                    _expires(record, where),
                )
                for ref, on, record, where in _records(document, "patients", "patient", "enrolled")
            ),
            status_forms=tuple(
                StatusForm(ref, on)
                for ref, on, _, _ in _records(document, "status_forms", "patient", "submitted")
            ),
        )


def normalise_reference(reference: str) -> str:
    """'https://ehr/fhir/Practitioner/a' and 'Practitioner/a/_history/2' -> 'Practitioner/a'."""
    parts = reference.strip().split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference.strip()


_STATUSES = ("active", "interrupted", "discontinued")
# Of two enrollments on one date the later in this order is the latest (ruling "The latest
# enrollment decides").
_STATUS_RANK = {status: rank for rank, status in enumerate(_STATUSES)}


def latest_enrollment(enrollments: Iterable[Enrollment]) -> Enrollment | None:
    """The latest enrollment by date; on one date discontinued, then interrupted, then active."""
    return max(
        enrollments, key=lambda e: (e.enrolled_on, _STATUS_RANK.get(e.status, 0)), default=None
    )


def _records(
    document: dict[str, Any], key: str, ref_key: str, date_key: str
) -> list[tuple[str, date, dict[str, Any], str]]:
    """(reference, date, the record, where it is) for each record of a list; checks the shape."""
    records = document.get(key, [])
    if not isinstance(records, list):  # null included (contract ruling "Registry files")
        raise RegistryFormatError(f"'{key}' must be a list")
    parsed = []
    for index, record in enumerate(records):
        where = f"{key}[{index}]"
        if not isinstance(record, dict):
            raise RegistryFormatError(f"{where} must be an object")
        reference = record.get(ref_key)
        if not isinstance(reference, str) or not reference.strip():
            raise RegistryFormatError(f"{where} has no '{ref_key}' reference")
        on = _date(record.get(date_key), where, date_key)
        parsed.append((normalise_reference(reference), on, record, where))
    return parsed


def _expires(record: dict[str, Any], where: str) -> date | None:
    value = record.get("expires")
    return None if value is None else _date(value, where, "expires")


def _status(record: dict[str, Any], where: str) -> str:
    value = record.get("status", "active")
    status = value.strip().lower() if isinstance(value, str) else None
    if status not in _STATUSES:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise RegistryFormatError(f"{where} has status {shown} (use {', '.join(_STATUSES)})")
    return status


def _date(value: Any, where: str, date_key: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise RegistryFormatError(f"{where} needs '{date_key}' written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RegistryFormatError(f"{where} needs '{date_key}' written YYYY-MM-DD") from None


def _optional_reference(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return normalise_reference(value) if isinstance(value, str) and value.strip() else None
