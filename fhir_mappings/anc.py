"""ANC results from laboratory readings: measured, or derived from parts at one collection instant.

Contract ("ANC"): at one instant, a usable measured ANC wins over a derived one (two measured
results count as one, the lower); otherwise the ANC is derived as WBC x (neutrophil % + band %)
/ 100, or as segmented + band counts, WBC x % first. A preliminary part at an instant where a
derivation is otherwise possible means no ANC is derived there, and the result is pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from clozapine.facts import AncResult, ResultProblem, UnusableResult
from fhir_mappings.codes import LabKind
from fhir_mappings.observations import LabReading
from fhir_mappings.units import MAX_COUNT_PER_UL

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class _Recipe:
    """One way to derive an ANC: the parts it needs and the parts it adds when present."""

    required: tuple[LabKind, ...]
    optional: tuple[LabKind, ...]

    @property
    def kinds(self) -> tuple[LabKind, ...]:
        return self.required + self.optional


_FROM_PERCENT = _Recipe((LabKind.WBC, LabKind.NEUTROPHIL_PERCENT), (LabKind.BAND_PERCENT,))
_FROM_COUNTS = _Recipe((LabKind.SEGMENTED_COUNT,), (LabKind.BAND_COUNT,))
_RECIPES = (_FROM_PERCENT, _FROM_COUNTS)  # with both possible, WBC x % is used


def anc_results(readings: Sequence[LabReading]) -> tuple[list[AncResult], list[UnusableResult]]:
    """Usable ANCs and unusable (unit-error, pending) results, one collection instant at a time."""
    by_instant: dict[datetime, list[LabReading]] = {}
    for reading in readings:
        by_instant.setdefault(reading.collected_at.astimezone(UTC), []).append(reading)
    ancs: list[AncResult] = []
    unusable: list[UnusableResult] = []
    for group in by_instant.values():
        for outcome in _results_at(group):
            if isinstance(outcome, AncResult):
                ancs.append(outcome)
            else:
                unusable.append(outcome)
    return ancs, unusable


def _results_at(group: list[LabReading]) -> list[AncResult | UnusableResult]:
    """What the results collected at one instant give: a usable ANC and any unusable results."""
    measured = [reading for reading in group if reading.kind is LabKind.ANC]
    outcomes: list[AncResult | UnusableResult] = [
        outcome for outcome in map(_unusable_measured, measured) if outcome is not None
    ]
    lowest = _lowest(measured)
    if lowest is not None:
        outcomes.append(_anc(_value_of(lowest), (lowest,), derived=False))
        return outcomes
    derived = _derived([reading for reading in group if reading.kind is not LabKind.ANC])
    return outcomes if derived is None else [*outcomes, derived]


def _lowest(readings: Iterable[LabReading]) -> LabReading | None:
    return min((r for r in readings if r.value is not None), key=_value_of, default=None)


def _value_of(reading: LabReading) -> Decimal:
    return reading.value if reading.value is not None else Decimal(0)


def _unusable_measured(reading: LabReading) -> UnusableResult | None:
    if reading.pending:
        return _unusable(ResultProblem.PENDING, f"preliminary, {reading.written}", (reading,))
    if reading.problem is not None:
        return _unusable(ResultProblem.UNIT_ERROR, reading.described(), (reading,))
    return None


def _derived(parts: list[LabReading]) -> AncResult | UnusableResult | None:
    """The ANC derived from one instant's parts, why it cannot be, or None if no recipe fits."""
    kinds = {part.kind for part in parts}
    possible = [recipe for recipe in _RECIPES if set(recipe.required) <= kinds]
    if not possible:
        return None
    pending = [part for part in parts if part.pending]
    if pending:
        named = ", ".join(f"{part.kind.value} ({part.written})" for part in pending)
        return _unusable(ResultProblem.PENDING, f"preliminary {named}; no ANC derived", pending)
    problems: list[str] = []
    for recipe in possible:
        used = _usable_parts(parts, recipe)
        if isinstance(used, str):
            problems.append(used)
            continue
        value, problem = _combine(recipe, used)
        if value is not None:
            return _anc(value, used, derived=True)
        problems.append(problem)
    involved = [part for part in parts if part.kind in possible[0].kinds]
    return _unusable(ResultProblem.UNIT_ERROR, f"{problems[0]}; no ANC derived", involved)


def _usable_parts(parts: list[LabReading], recipe: _Recipe) -> list[LabReading] | str:
    """The lowest usable result of each kind the recipe uses, or what is wrong with a kind."""
    used = []
    for kind in recipe.kinds:
        of_kind = [part for part in parts if part.kind is kind]
        lowest = _lowest(of_kind)
        if lowest is not None:
            used.append(lowest)
        elif of_kind:
            return f"{kind.value} {of_kind[0].described()}"
    return used


def _combine(recipe: _Recipe, used: list[LabReading]) -> tuple[Decimal | None, str]:
    values = {part.kind: _value_of(part) for part in used}
    if recipe is _FROM_PERCENT:
        percent = values[LabKind.NEUTROPHIL_PERCENT] + values.get(LabKind.BAND_PERCENT, Decimal(0))
        if percent > _HUNDRED:
            return None, f"neutrophil % + band % is {percent:f}, above 100"
        value = values[LabKind.WBC] * percent / _HUNDRED
    else:
        value = values[LabKind.SEGMENTED_COUNT] + values.get(LabKind.BAND_COUNT, Decimal(0))
    if value > MAX_COUNT_PER_UL:
        return None, f"derived ANC {value:f}/uL is above 100,000/uL"
    return value, ""


def _anc(value: Decimal, used: Sequence[LabReading], *, derived: bool) -> AncResult:
    first = used[0]
    return AncResult(
        value_per_ul=int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        collected_on=first.collected_on,
        collected_at=first.collected_at,
        derived=derived,
        source="+".join(part.source for part in used),
    )


def _unusable(
    problem: ResultProblem, detail: str, involved: Sequence[LabReading]
) -> UnusableResult:
    first = involved[0]
    return UnusableResult(
        problem=problem,
        collected_on=first.collected_on,
        collected_at=first.collected_at,
        detail=detail,
        source="+".join(part.source for part in involved),
    )
