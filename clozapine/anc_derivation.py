"""ANC results from laboratory results: measured, or derived from parts at one collection instant.

Contract ("ANC" and its rulings): at one instant a usable measured ANC wins (two count as one,
the lower; with equal values the one without a comparator); otherwise the ANC is derived as
WBC x (neutrophil % + band %) / 100, or as segmented + band counts, WBC x % first when both have
usable parts. A preliminary part blocks only its own recipe, and only when no counting result of
its kind is at that instant; every pending part and every unusable counting part of a recipe
whose required kinds are all there is reported, whatever decides the instant. Parts with `<` or
`<=` make the derived value an upper bound (read as `<`); a part with `>` or `>=` gives no
derivation by its recipe and is a unit error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from clozapine.labs import (
    EXACT,
    HUNDRED,
    MAX_COUNT_PER_UL,
    ONE_CELL,
    AncResult,
    Comparator,
    LabKind,
    LabResult,
    ResultProblem,
    UnusableResult,
    decimal_shown,
    read_value,
)

# Builds a NamedTuple without its Python-level __new__ (all fields given): one per result.
_new = tuple.__new__

_ZERO = Decimal(0)
# Read once: an Enum member looked up on its class costs about 70 ns each time (one per result).
_ANC = LabKind.ANC


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
_RECIPES = (_FROM_PERCENT, _FROM_COUNTS)  # with both usable, WBC x % is used


def anc_results(results: Iterable[LabResult]) -> tuple[list[AncResult], list[UnusableResult]]:
    """Usable ANCs and unusable (unit-error, pending) results, one collection instant at a time."""
    # An instant's lone result is kept as it is (most instants have one), several in a list.
    by_instant: dict[datetime, LabResult | list[LabResult]] = {}
    for result in results:
        at = result.collected_at
        key = at if at.tzinfo is UTC else at.astimezone(UTC)
        found = by_instant.get(key)
        if found is None:
            by_instant[key] = result
        elif isinstance(found, list):
            found.append(result)
        else:
            by_instant[key] = [found, result]
    ancs: list[AncResult] = []
    unusable: list[UnusableResult] = []
    for group in by_instant.values():
        if isinstance(group, list):
            found_at = _at_instant(group, unusable)
            if found_at is not None:
                ancs.append(found_at)
            continue
        first = group
        if first.kind is _ANC:  # the usual case: one measured ANC
            # Unpacked at once: a NamedTuple's fields read one by one cost a lookup each.
            _, source, collected_on, collected_at, pending, value, _, why, comparator = first
            if why is None and not pending and value is not None and comparator is None:
                # As `_measured` reads it, built in one step (positional: keywords cost too).
                per_ul = int(value.quantize(ONE_CELL, ROUND_HALF_UP, EXACT))
                fields = (per_ul, collected_on, collected_at, False, source, None, None)
                ancs.append(_new(AncResult, fields))
                continue
            problem = _measured_problem(first)
            if problem is None:
                ancs.append(_measured(first))
            else:
                unusable.append(problem)
            continue
        found_at = _at_instant([first], unusable)
        if found_at is not None:
            ancs.append(found_at)
    return ancs, unusable


def _at_instant(group: list[LabResult], unusable: list[UnusableResult]) -> AncResult | None:
    """The ANC one instant's results give, if any; their problems go to `unusable`."""
    usable: list[LabResult] = []
    parts: list[LabResult] = []
    for result in group:
        if result.kind is not LabKind.ANC:
            parts.append(result)
            continue
        problem = _measured_problem(result)
        if problem is None:
            usable.append(result)
        else:
            unusable.append(problem)
    candidates = [_parts_for(recipe, parts, unusable) for recipe in _RECIPES] if parts else []
    if usable:
        return min(map(_measured, usable), key=lambda a: (a.value_per_ul, a.comparator is not None))
    failures: list[str] = []
    involved: list[LabResult] = []
    for recipe, chosen in zip(_RECIPES, candidates, strict=False):
        if chosen is None:
            continue
        derived = _combine(recipe, chosen)
        if isinstance(derived, AncResult):
            return derived
        failures.append(derived)
        involved = chosen
    if failures:
        unusable.append(
            _unusable(ResultProblem.UNIT_ERROR, f"{failures[0]}; no ANC derived", involved)
        )
    return None


def _measured_problem(result: LabResult) -> UnusableResult | None:
    if result.pending:
        return _unusable(ResultProblem.PENDING, f"preliminary, {result.written}", (result,))
    if result.problem is not None or result.value is None:
        return _unusable(ResultProblem.UNIT_ERROR, result.described(), (result,))
    return None


def _measured(result: LabResult) -> AncResult:
    value = result.value if result.value is not None else _ZERO
    return _anc(value, result.comparator, (result,), derived=False)


def _parts_for(
    recipe: _Recipe, parts: list[LabResult], unusable: list[UnusableResult]
) -> list[LabResult] | None:
    """The part of each kind a recipe would use, or None when it cannot derive here.

    A recipe whose required kinds are not all at this instant says nothing. Otherwise each
    pending part is reported, and each counting part that cannot be used (a `>`/`>=` bound
    included) is a unit error, even when another recipe or a measured ANC decides.
    """
    kinds = {part.kind for part in parts}
    if not all(kind in kinds for kind in recipe.required):
        return None
    chosen: list[LabResult] = []
    derivable = True
    for kind in recipe.kinds:
        of_kind = [part for part in parts if part.kind is kind]
        if not of_kind:
            continue
        counting = [part for part in of_kind if not part.pending]
        for part in of_kind:
            problem = _part_problem(part)
            if problem is not None:
                unusable.append(problem)
        usable = [part for part in counting if _part_usable(part)]
        if any(_is_lower_bound(part) for part in counting):
            derivable = False  # a `>` or `>=` part: no derivation by this recipe here
        elif not usable:
            derivable = False  # only pending (it blocks), or only unusable results of this kind
        else:
            chosen.append(min(usable, key=lambda p: (p.value, p.comparator is not None)))
    return chosen if derivable else None


def _is_lower_bound(part: LabResult) -> bool:
    return part.comparator is not None and not part.comparator.is_upper_bound


def _part_usable(part: LabResult) -> bool:
    return part.problem is None and part.value is not None and not _is_lower_bound(part)


def _part_problem(part: LabResult) -> UnusableResult | None:
    if part.pending:
        detail = f"preliminary {part.kind.value} ({part.written})"
        return _unusable(ResultProblem.PENDING, detail, (part,))
    if part.problem is not None or part.value is None:
        detail = f"{part.kind.value} {part.described()}"
        return _unusable(ResultProblem.UNIT_ERROR, detail, (part,))
    if _is_lower_bound(part):
        comparator = part.comparator.value if part.comparator else ""
        detail = (
            f"{part.kind.value} {comparator}{decimal_shown(part.value)} is a lower bound,"
            " which gives no derived ANC"
        )
        return _unusable(ResultProblem.UNIT_ERROR, detail, (part,))
    return None


def _combine(recipe: _Recipe, chosen: list[LabResult]) -> AncResult | str:
    """The derived ANC from the chosen parts, or what makes it unusable."""
    values = {part.kind: part.value if part.value is not None else _ZERO for part in chosen}
    bounded = any(part.comparator is not None for part in chosen)
    if recipe is _FROM_PERCENT:
        percent = EXACT.add(
            values[LabKind.NEUTROPHIL_PERCENT], values.get(LabKind.BAND_PERCENT, _ZERO)
        )
        if percent > HUNDRED:
            return f"neutrophil % + band % is {decimal_shown(percent)}, above 100"
        value = EXACT.divide(EXACT.multiply(values[LabKind.WBC], percent), HUNDRED)
    else:
        value = EXACT.add(values[LabKind.SEGMENTED_COUNT], values.get(LabKind.BAND_COUNT, _ZERO))
    # Parts with `<` or `<=` bound the derived value from above: it is read as `<`.
    comparator = Comparator.BELOW if bounded else None
    if read_value(value, comparator) > MAX_COUNT_PER_UL:
        return f"derived ANC {decimal_shown(value)}/uL is above 100,000/uL"
    return _anc(value, comparator, chosen, derived=True)


def _anc(
    value: Decimal, comparator: Comparator | None, used: Sequence[LabResult], *, derived: bool
) -> AncResult:
    first = used[0]
    read = read_value(value, comparator)
    return AncResult(
        value_per_ul=int(read.quantize(ONE_CELL, rounding=ROUND_HALF_UP, context=EXACT)),
        collected_on=first.collected_on,
        collected_at=first.collected_at,
        derived=derived,
        source=first.source if len(used) == 1 else "+".join(part.source for part in used),
        comparator=comparator,
        bound_per_ul=value if comparator is not None else None,
    )


def _unusable(problem: ResultProblem, detail: str, involved: Sequence[LabResult]) -> UnusableResult:
    first = involved[0]
    return UnusableResult(
        problem=problem,
        collected_on=first.collected_on,
        collected_at=first.collected_at,
        detail=detail,
        source="+".join(part.source for part in involved),
    )
