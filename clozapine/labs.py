"""Laboratory results: as the mappings read them, and the ANCs and unusable results they give.

The engine derives the ANC from these itself (`clozapine.anc_derivation`), because results
collected after the as-of date are left out, each by its own date, before the results at one
collection instant are merged (contract, "ANC"): only the engine knows the as-of date.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from typing import NamedTuple

# Exact arithmetic on values written with up to 100 characters: a product of two such values
# has at most 200 digits, so nothing is ever rounded, whatever the exponents.
EXACT = Context(prec=1000, Emax=MAX_EMAX, Emin=MIN_EMIN)

MAX_COUNT_PER_UL = Decimal(100_000)
HUNDRED = Decimal(100)
ONE_CELL = Decimal(1)
_ZERO = Decimal(0)


class LabKind(enum.Enum):
    """What a laboratory Observation measures, as far as the ANC is concerned."""

    ANC = "absolute neutrophil count"
    WBC = "WBC"
    NEUTROPHIL_PERCENT = "neutrophil %"
    BAND_PERCENT = "band %"
    SEGMENTED_COUNT = "segmented neutrophil count"
    BAND_COUNT = "band count"

    @property
    def is_percent(self) -> bool:
        """Whether results of this kind are percentages of leukocytes (unit `%`)."""
        return self in (LabKind.NEUTROPHIL_PERCENT, LabKind.BAND_PERCENT)


class Comparator(enum.Enum):
    """A `valueQuantity.comparator`: the value is a bound (contract ruling "Comparators")."""

    BELOW = "<"
    AT_MOST = "<="
    AT_LEAST = ">="
    ABOVE = ">"

    @property
    def is_upper_bound(self) -> bool:
        """`<` and `<=`: the true value is at most the bound."""
        return self in (Comparator.BELOW, Comparator.AT_MOST)


class LabResult(NamedTuple):
    """One counting or pending ANC (or ANC part) result (a NamedTuple: one is built per result).

    `value` is in cells/uL (a percentage for the % kinds), exact, and is the bound itself when
    `comparator` is set. It is None when the result is pending or when `problem` says why it
    cannot be used; `written` is then the value and unit as sent.
    """

    kind: LabKind
    source: str
    collected_on: date
    collected_at: datetime
    pending: bool
    value: Decimal | None
    written: str
    problem: str | None = None
    comparator: Comparator | None = None

    def described(self) -> str:
        """What was sent and why it cannot be used ("3000 10*3/uL: above 100,000/uL ...")."""
        if self.problem is None or self.problem in self.written:
            return self.written
        return f"{self.written}: {self.problem}" if self.written else self.problem


def read_value(value: Decimal, comparator: Comparator | None) -> Decimal:
    """The value a bound reads as: `<` one cell below it (never below 0), others the bound."""
    if comparator is Comparator.BELOW:
        return max(EXACT.subtract(value, ONE_CELL), _ZERO)
    return value


def decimal_shown(value: Decimal) -> str:
    """A Decimal as a reader expects it: 500, 499.5, 0.000001 (never 5E+2)."""
    magnitude = value.copy_abs()  # exact, whatever the exponent (abs() uses the context)
    if magnitude >= Decimal("1E12") or (magnitude and magnitude < Decimal("1E-6")):
        return f"{value:.3E}"
    if value == value.to_integral_value():
        return f"{value.quantize(ONE_CELL, context=EXACT):f}"
    return f"{value.normalize(EXACT):f}"


class ResultProblem(enum.Enum):
    """Why a laboratory result that names an ANC (or a part of one) could not be used."""

    PENDING = "result-pending"
    UNIT_ERROR = "unit-error"


class AncResult(NamedTuple):
    """One usable absolute neutrophil count, already normalised to cells/uL and rounded.

    A NamedTuple rather than a frozen dataclass: one is built per result, and it is faster.

    `collected_at` is the collection instant (aware; a value written without a time is the start
    of its date in the organisation's zone) and orders results; `collected_on` is the collection
    date the schedule counts from. A result reported as a bound (`<0.5 10*3/uL`) keeps its
    `comparator` and the bound in cells/uL (`bound_per_ul`, 500); `value_per_ul` is what it reads
    as (499).
    """

    value_per_ul: int
    collected_on: date
    collected_at: datetime
    derived: bool = False
    source: str | None = None
    comparator: Comparator | None = None
    bound_per_ul: Decimal | None = None

    @property
    def shown(self) -> str:
        """The value as messages show it: "1800", or the bound as reported, "<500"."""
        if self.comparator is None or self.bound_per_ul is None:
            return str(self.value_per_ul)
        return f"{self.comparator.value}{decimal_shown(self.bound_per_ul)}"


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
