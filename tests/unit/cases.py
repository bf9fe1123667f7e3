"""Table-driven engine cases: facts built in a line or two, expectations as dotted keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from clozapine import (
    AncResult,
    ClozapineOrder,
    PatientFacts,
    Registry,
    ResultProblem,
    UnusableResult,
    evaluate,
    evaluation_to_json,
    policy_by_id,
    policy_in_force,
)
from clozapine.evaluation import Evaluation

AS_OF = date(2026, 11, 25)
UTC = UTC


def day(offset: int, as_of: date = AS_OF) -> date:
    """The date `offset` days from the as-of date (negative: before)."""
    return as_of + timedelta(days=offset)


def anc(
    value: int, offset: int, *, derived: bool = False, hour: int = 9, as_of: date = AS_OF
) -> AncResult:
    """A usable ANC collected `offset` days from `as_of` at `hour` UTC."""
    on = day(offset, as_of)
    return AncResult(value, on, datetime.combine(on, time(hour), UTC), derived)


def history(*points: tuple[int, int]) -> list[AncResult]:
    """ANCs from (value, offset) pairs."""
    return [anc(value, offset) for value, offset in points]


def weekly(value: int, first: int, last: int, step: int = 7) -> list[AncResult]:
    """The same value every `step` days from offset `first` through `last`."""
    return [anc(value, offset) for offset in range(first, last + 1, step)]


def order(
    start: int, end: int | None = None, *, as_of: date = AS_OF, **kwargs: Any
) -> ClozapineOrder:
    """An order covering offsets start..end from `as_of` (end None: ongoing)."""
    return ClozapineOrder(day(start, as_of), None if end is None else day(end, as_of), **kwargs)


def problem(
    kind: ResultProblem, offset: int, detail: str = "detail", hour: int = 10
) -> UnusableResult:
    """A pending or unusable result collected `offset` days from AS_OF."""
    on = day(offset)
    return UnusableResult(kind, on, datetime.combine(on, time(hour), UTC), detail)


def facts(
    ancs: list[AncResult] | None = None,
    orders: list[ClozapineOrder] | None = None,
    *,
    ben: bool = False,
    unusable: list[UnusableResult] | None = None,
    patient: str = "Patient/p1",
) -> PatientFacts:
    """Patient facts; by default one ongoing order started 70 days before AS_OF."""
    return PatientFacts.create(
        patient,
        ben_documented=ben,
        orders=orders if orders is not None else [order(-70)],
        ancs=ancs or [],
        unusable=unusable or [],
    )


@dataclass(frozen=True)
class Case:
    """One engine case: facts, date and policy in; expected fields and finding codes out."""

    name: str
    facts: PatientFacts
    expected: dict[str, Any]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    as_of: date = AS_OF
    policy: str | None = None
    registry: Registry | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def run(self) -> Evaluation:
        """Evaluate the case with the real engine."""
        policy = policy_by_id(self.policy) if self.policy else policy_in_force(self.as_of)
        return evaluate(self.facts, self.as_of, policy, self.registry)


def dig(document: Any, dotted: str) -> Any:
    """The value at a dotted key path of the JSON output."""
    for key in dotted.split("."):
        document = document[key]
    return document


def check(case: Case) -> Evaluation:
    """Evaluate the case and assert every expectation; returns the evaluation for more checks."""
    evaluation = case.run()
    output = evaluation_to_json(evaluation)
    for key, want in case.expected.items():
        assert dig(output, key) == want, f"{case.name}: {key} = {dig(output, key)!r}, want {want!r}"
    codes = [f["code"] for f in output["findings"]]
    for code in case.include:
        assert code in codes, f"{case.name}: finding {code} missing from {codes}"
    for code in case.exclude:
        assert code not in codes, f"{case.name}: finding {code} present"
    return evaluation


def ids(cases: list[Case]) -> list[str]:
    """Test ids for parametrize."""
    return [case.name for case in cases]
