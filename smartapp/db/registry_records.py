"""Registry records as stored: the contract's JSON shape with its extra fields, and their rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from clozapine.registry import (
    Certification,
    Enrollment,
    Registry,
    RegistryFormatError,
    StatusForm,
)
from smartapp.db.base import Base
from smartapp.db.registry_models import (
    PatientEnrollmentRow,
    PharmacyRow,
    PrescriberRow,
    StatusFormRow,
)

Json = dict[str, Any]


def _dated(json: Json, key: str, on: date | None) -> Json:
    return json if on is None else {**json, key: on.isoformat()}


def _given(json: Json, key: str, value: object, default: object = None) -> Json:
    return json if value == default else {**json, key: value}


@dataclass(frozen=True, slots=True)
class PrescriberRecord:
    """A prescriber's certification; `display_name` is the export's optional `name`."""

    TABLE: ClassVar[type[Base]] = PrescriberRow
    LIST: ClassVar[str] = "prescribers"  # its list in the registry document
    practitioner: str
    certified_on: date
    expires_on: date | None = None
    display_name: str | None = None

    def key(self) -> Json:
        return {"practitioner_reference": self.practitioner}

    def columns(self) -> Json:
        return {
            **self.key(),
            "certified_on": self.certified_on,
            "expires_on": self.expires_on,
            "display_name": self.display_name,
        }

    def target(self) -> str:
        return f"prescribers:{self.practitioner}"

    def to_json(self) -> Json:
        json = {"practitioner": self.practitioner, "certified": self.certified_on.isoformat()}
        return _given(_dated(json, "expires", self.expires_on), "name", self.display_name)

    @classmethod
    def from_row(cls, row: Any) -> PrescriberRecord:
        return cls(row.practitioner_reference, row.certified_on, row.expires_on, row.display_name)

    def for_engine(self) -> Certification:
        return Certification(self.practitioner, self.certified_on, self.expires_on)


@dataclass(frozen=True, slots=True)
class PharmacyRecord:
    """A pharmacy's certification, with its optional `name`."""

    TABLE: ClassVar[type[Base]] = PharmacyRow
    LIST: ClassVar[str] = "pharmacies"  # its list in the registry document
    organization: str
    certified_on: date
    expires_on: date | None = None
    name: str | None = None

    def key(self) -> Json:
        return {"organization_reference": self.organization}

    def columns(self) -> Json:
        return {
            **self.key(),
            "certified_on": self.certified_on,
            "expires_on": self.expires_on,
            "name": self.name,
        }

    def target(self) -> str:
        return f"pharmacies:{self.organization}"

    def to_json(self) -> Json:
        json = {"organization": self.organization, "certified": self.certified_on.isoformat()}
        return _given(_dated(json, "expires", self.expires_on), "name", self.name)

    @classmethod
    def from_row(cls, row: Any) -> PharmacyRecord:
        return cls(row.organization_reference, row.certified_on, row.expires_on, row.name)

    def for_engine(self) -> Certification:
        return Certification(self.organization, self.certified_on, self.expires_on)


@dataclass(frozen=True, slots=True)
class EnrollmentRecord:
    """A patient's enrollment on one date; `status` is left out of the JSON when `active`."""

    TABLE: ClassVar[type[Base]] = PatientEnrollmentRow
    LIST: ClassVar[str] = "patients"  # its list in the registry document
    patient: str
    enrolled_on: date
    prescriber: str | None = None
    status: str = "active"
    expires_on: date | None = None

    def key(self) -> Json:
        return {"patient_reference": self.patient, "enrolled_on": self.enrolled_on}

    def columns(self) -> Json:
        return {
            **self.key(),
            "prescriber_reference": self.prescriber,
            "status": self.status,
            "expires_on": self.expires_on,
        }

    def target(self) -> str:
        return f"patient_enrollments:{self.patient}@{self.enrolled_on.isoformat()}"

    def to_json(self) -> Json:
        json = _given(
            {"patient": self.patient, "enrolled": self.enrolled_on.isoformat()},
            "prescriber",
            self.prescriber,
        )
        return _dated(_given(json, "status", self.status, "active"), "expires", self.expires_on)

    @classmethod
    def from_row(cls, row: Any) -> EnrollmentRecord:
        return cls(
            row.patient_reference,
            row.enrolled_on,
            row.prescriber_reference,
            row.status,
            row.expires_on,
        )

    def for_engine(self) -> Enrollment:
        return Enrollment(
            self.patient, self.enrolled_on, self.prescriber, self.status, self.expires_on
        )


@dataclass(frozen=True, slots=True)
class StatusFormRecord:
    """A Patient Status Form; `anc_reported_per_ul` is the export's optional `anc_reported`."""

    TABLE: ClassVar[type[Base]] = StatusFormRow
    LIST: ClassVar[str] = "status_forms"  # its list in the registry document
    patient: str
    submitted_on: date
    anc_reported_per_ul: int | None = None

    def key(self) -> Json:
        return {"patient_reference": self.patient, "submitted_on": self.submitted_on}

    def columns(self) -> Json:
        return {**self.key(), "anc_reported_per_ul": self.anc_reported_per_ul}

    def target(self) -> str:
        return f"status_forms:{self.patient}@{self.submitted_on.isoformat()}"

    def to_json(self) -> Json:
        json = {"patient": self.patient, "submitted": self.submitted_on.isoformat()}
        return _given(json, "anc_reported", self.anc_reported_per_ul)

    @classmethod
    def from_row(cls, row: Any) -> StatusFormRecord:
        return cls(row.patient_reference, row.submitted_on, row.anc_reported_per_ul)

    def for_engine(self) -> StatusForm:
        return StatusForm(self.patient, self.submitted_on)


RegistryRecord = PrescriberRecord | PharmacyRecord | EnrollmentRecord | StatusFormRecord


@dataclass(frozen=True, slots=True)
class RegistryRecords:
    """Every record of a registry document, in the document's order."""

    prescribers: tuple[PrescriberRecord, ...] = ()
    pharmacies: tuple[PharmacyRecord, ...] = ()
    patients: tuple[EnrollmentRecord, ...] = ()
    status_forms: tuple[StatusFormRecord, ...] = ()

    def all(self) -> tuple[RegistryRecord, ...]:
        return (*self.prescribers, *self.pharmacies, *self.patients, *self.status_forms)

    def to_json(self) -> dict[str, list[Json]]:
        """The contract's registry shape, with the extra fields that are set."""
        return {
            "prescribers": [r.to_json() for r in self.prescribers],
            "pharmacies": [r.to_json() for r in self.pharmacies],
            "patients": [r.to_json() for r in self.patients],
            "status_forms": [r.to_json() for r in self.status_forms],
        }


def records_from_json(document: Any) -> RegistryRecords:
    """Read a registry document; RegistryFormatError when it is malformed.

    `Registry.from_json` checks the contract's fields (and `expires`, `status`); here the
    store's own extras (`name`, `anc_reported`) are checked, and a record repeated within a
    list (same practitioner, organization, or patient and date) is refused.
    """
    registry = Registry.from_json(document)
    records = RegistryRecords(
        prescribers=tuple(
            PrescriberRecord(c.reference, c.certified_on, c.expires_on, _name(raw, where))
            for c, raw, where in _with_raw(document, "prescribers", registry.prescribers)
        ),
        pharmacies=tuple(
            PharmacyRecord(c.reference, c.certified_on, c.expires_on, _name(raw, where))
            for c, raw, where in _with_raw(document, "pharmacies", registry.pharmacies)
        ),
        patients=tuple(
            EnrollmentRecord(e.patient, e.enrolled_on, e.prescriber, e.status, e.expires_on)
            for e in registry.patients
        ),
        status_forms=tuple(
            StatusFormRecord(f.patient, f.submitted_on, _anc(raw, where))
            for f, raw, where in _with_raw(document, "status_forms", registry.status_forms)
        ),
    )
    for name, group in (
        ("prescribers", records.prescribers),
        ("pharmacies", records.pharmacies),
        ("patients", records.patients),
        ("status_forms", records.status_forms),
    ):
        _refuse_repeats(name, group)
    return records


def _with_raw(document: Json, key: str, parsed: Sequence[Any]) -> list[tuple[Any, Json, str]]:
    raw = document.get(key) or []
    return [(p, r, f"{key}[{i}]") for i, (p, r) in enumerate(zip(parsed, raw, strict=True))]


def _name(record: Json, where: str) -> str | None:
    value = record.get("name")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise RegistryFormatError(f"{where} has a 'name' that is not text")
    return value


def _anc(record: Json, where: str) -> int | None:
    value = record.get("anc_reported")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RegistryFormatError(
            f"{where} needs 'anc_reported' as a whole number of cells/uL (e.g. 1800)"
        )
    return value


def _refuse_repeats(name: str, records: Sequence[RegistryRecord]) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for index, record in enumerate(records):
        first = seen.setdefault(tuple(record.key().values()), index)
        if first != index:
            raise RegistryFormatError(
                f"{name}[{index}] repeats {name}[{first}] ({record.target()}); the registry keeps "
                "one record per key, so merge them (keep the latest) before importing"
            )
