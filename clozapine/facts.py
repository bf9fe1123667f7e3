"""Typed clinical facts about one patient: what the engine reads, built by the FHIR mappings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class ResultProblem(enum.Enum):
    """Why a laboratory result that names an ANC (or a part of one) could not be used."""

    PENDING = "result-pending"
    UNIT_ERROR = "unit-error"


@dataclass(frozen=True, slots=True)
class AncResult:
    """One usable absolute neutrophil count, already normalised to cells/uL and rounded.

    `collected_at` is the collection instant (aware; a value written without a time is the start
    of its date in the organisation's zone) and orders results; `collected_on` is the collection
    date the schedule counts from.
    """

    value_per_ul: int
    collected_on: date
    collected_at: datetime
    derived: bool = False
    source: str | None = None


@dataclass(frozen=True, slots=True)
class UnusableResult:
    """An ANC (or ANC part) whose status counts but whose value cannot be used, or a pending one.

    `detail` says what was wrong in words a prescriber can check against the lab report
    ("3000 10*3/uL is above 100,000/uL", "preliminary, value 800 /uL").
    """

    problem: ResultProblem
    collected_on: date
    collected_at: datetime
    detail: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ClozapineOrder:
    """The period one clozapine MedicationRequest covers (dates as written on the order).

    `end_on` is None for an ongoing order. `prescriber` and `pharmacy` are normalised
    references ("Practitioner/dr-a", "Organization/ph-1") or None when the order names none.
    """

    start_on: date
    end_on: date | None
    authored_on: date | None = None
    prescriber: str | None = None
    pharmacy: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class DataNote:
    """A record the mappings could not use, kept so the page can say what was left out and why."""

    resource: str
    reason: str


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """Everything the engine needs about one patient.

    `ancs` and `unusable` are ordered by collection instant (earliest first); use
    `PatientFacts.create` to build one from unordered parts. `ancs_through`, when set, is the
    latest ANC collection date (it lets the engine skip filtering by the as-of date), and
    `anc_values`, when set, the ANCs' values in the same order (read once, not per evaluation).
    """

    patient: str
    ben_documented: bool
    orders: tuple[ClozapineOrder, ...]
    ancs: tuple[AncResult, ...]
    unusable: tuple[UnusableResult, ...] = ()
    notes: tuple[DataNote, ...] = field(default=())
    ancs_through: date | None = None
    anc_values: tuple[int, ...] | None = None

    @classmethod
    def create(
        cls,
        patient: str,
        *,
        ben_documented: bool = False,
        orders: tuple[ClozapineOrder, ...] | list[ClozapineOrder] = (),
        ancs: tuple[AncResult, ...] | list[AncResult] = (),
        unusable: tuple[UnusableResult, ...] | list[UnusableResult] = (),
        notes: tuple[DataNote, ...] | list[DataNote] = (),
    ) -> PatientFacts:
        """Build facts, ordering results by collection instant."""
        ordered = tuple(sorted(ancs, key=lambda r: r.collected_at))
        return cls(
            patient=patient,
            ben_documented=ben_documented,
            orders=tuple(orders),
            ancs=ordered,
            unusable=tuple(sorted(unusable, key=lambda r: r.collected_at)),
            notes=tuple(notes),
            ancs_through=max((r.collected_on for r in ordered), default=None),
            anc_values=tuple(r.value_per_ul for r in ordered),
        )
