"""Cell-count and percentage units: which are accepted and their factor to cells/uL.

The accepted spellings are the contract's list ("Units", evaluation-contract.md; the table in
clozapine-monitoring.md 4.3). Matching is case-insensitive and ignores whitespace: no two entries
differ only by case, and case-insensitive UCUM itself reads "10*3/UL" as per microlitre (its
milli prefix is "M", mega "MA"), so folding case cannot turn one listed unit into another
quantity. The micro sign (U+00B5), Greek mu (U+03BC) and "mcL" are written as "uL" first. Any
other spelling, "G/L" (giga or gram?) and "10*6/uL" included, is not converted.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from clozapine.labs import MAX_COUNT_PER_UL
from fhir_mappings.fhir_json import FhirJson, text

_THOUSANDS = ("10*3/uL", "10*9/L", "K/uL", "x10E3/uL", "10^3/uL", "x10(3)/uL", "thou/uL")
_CELLS = ("/uL", "{cells}/uL", "cells/uL", "/mm3", "/cmm", "10*6/L")
PERCENT = "%"


@lru_cache(maxsize=256)
def unit_key(unit: str) -> str:
    """The comparable form of a written unit: micro written as u, no whitespace, case folded."""
    joined = "".join(unit.replace("\u00b5", "u").replace("\u03bc", "u").split())
    return joined.casefold().replace("mcl", "ul")


class CountFactor(NamedTuple):
    """How a cell-count unit converts: cells/uL per unit, and the largest plausible value."""

    per_ul: Decimal
    most_written: Decimal  # 100,000/uL in this unit: a larger value is a unit error


_COUNT_FACTORS: dict[str, CountFactor] = {
    **{unit_key(unit): CountFactor(Decimal(1000), Decimal(100)) for unit in _THOUSANDS},
    **{unit_key(unit): CountFactor(Decimal(1), MAX_COUNT_PER_UL) for unit in _CELLS},
}


def written_unit(quantity_json: FhirJson) -> str | None:
    """The unit a Quantity is read in: its `code` when present, else its `unit`."""
    code = quantity_json.get("code")
    if isinstance(code, str) and (code := code.strip()):
        return code
    return text(quantity_json.get("unit"))


@lru_cache(maxsize=256)
def count_factor(unit: str | None) -> CountFactor | None:
    """Factor from a cell-count unit to cells/uL, or None when the unit is not accepted."""
    return _COUNT_FACTORS.get(unit_key(unit)) if unit else None


def is_percent(unit: str | None) -> bool:
    """Whether a unit is a percentage."""
    return unit is not None and unit.strip() == PERCENT
