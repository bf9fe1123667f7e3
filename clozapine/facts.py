"""Typed clinical facts about one patient: what the engine reads, built by the FHIR mappings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter

from clozapine.anc_derivation import anc_results
from clozapine.labs import AncResult, LabResult, ResultProblem, UnusableResult

_COLLECTED_AT = attrgetter("collected_at")
# Read by `map` in C: a generator costs a Python frame step per result.
_COLLECTED_ON = attrgetter("collected_on")
_VALUE_PER_UL = attrgetter("value_per_ul")

__all__ = [
    "AncResult",
    "ClozapineOrder",
    "DataNote",
    "PatientFacts",
    "ResultProblem",
    "UnusableResult",
]


@dataclass(frozen=True, slots=True)
class ClozapineOrder:
    """The period one clozapine MedicationRequest covers (dates as written on the order).

    `end_on` is None for an ongoing order. `prescriber` and `pharmacy` are normalised
    references ("Practitioner/dr-a", "Organization/ph-1") or None when the order names none;
    `prescriber_unidentified` is True when it names a requester that does not resolve to a
    Practitioner. `authored_at` (the authoredOn instant) and `order_id` break ties between
    orders (contract ruling "Order ties").
    """

    start_on: date
    end_on: date | None
    authored_on: date | None = None
    prescriber: str | None = None
    pharmacy: str | None = None
    source: str | None = None
    authored_at: datetime | None = None
    order_id: str | None = None
    prescriber_unidentified: bool = False


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
    `lab_results`, when the facts come from laboratory results, are those results: `ancs` and
    `unusable` are then what all of them give, and the engine derives them again from the
    results collected by the as-of date when some are later (`lab_results_through`).
    """

    patient: str
    ben_documented: bool
    orders: tuple[ClozapineOrder, ...]
    ancs: tuple[AncResult, ...]
    unusable: tuple[UnusableResult, ...] = ()
    notes: tuple[DataNote, ...] = field(default=())
    ancs_through: date | None = None
    anc_values: tuple[int, ...] | None = None
    lab_results: tuple[LabResult, ...] = ()
    lab_results_through: date | None = None

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
        lab_results: tuple[LabResult, ...] | list[LabResult] = (),
    ) -> PatientFacts:
        """Build facts, ordering results by collection instant; ANCs from `lab_results` too."""
        if lab_results:
            derived, problems = anc_results(lab_results)
            ancs, unusable = [*ancs, *derived], [*unusable, *problems]
        ordered = tuple(sorted(ancs, key=_COLLECTED_AT))
        return cls(
            patient=patient,
            ben_documented=ben_documented,
            orders=tuple(orders),
            ancs=ordered,
            unusable=tuple(sorted(unusable, key=_COLLECTED_AT)),
            notes=tuple(notes),
            ancs_through=max(map(_COLLECTED_ON, ordered), default=None),
            anc_values=tuple(map(_VALUE_PER_UL, ordered)),
            lab_results=tuple(lab_results),
            lab_results_through=max(map(_COLLECTED_ON, lab_results), default=None),
        )
