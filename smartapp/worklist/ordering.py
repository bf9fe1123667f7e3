"""The urgency order (population.md): status, then no ANC on file, most days overdue, due date.

`action-required`, `attention`, `ok`, `not-applicable`; within each, patients with no ANC on file
first, then the most days overdue, then the earliest `next_due` (none last), then the patient
reference by code point.
"""

from __future__ import annotations

from typing import Any, NamedTuple

OVERALL_ORDER = ("action-required", "attention", "ok", "not-applicable")
_RANK = {status: rank for rank, status in enumerate(OVERALL_ORDER)}


class SortKey(NamedTuple):
    """The sort columns of one evaluation, as the spill store orders them."""

    rank: int
    no_anc: int
    overdue: int
    next_due: str | None
    patient: str


def sort_key(evaluation: dict[str, Any]) -> SortKey:
    """Where an evaluation (the contract's JSON) stands in the worklist."""
    monitoring = evaluation.get("monitoring") or {}
    overdue = monitoring.get("days_overdue")
    return SortKey(
        _RANK.get(evaluation.get("overall", ""), len(OVERALL_ORDER)),
        1 if evaluation.get("anc") is None else 0,
        overdue if isinstance(overdue, int) else 0,
        monitoring.get("next_due"),
        evaluation.get("patient", ""),
    )


def sorted_keys(keys: list[SortKey]) -> list[SortKey]:
    """The same order in memory (for a few rows, and to check the store's order)."""
    return sorted(
        keys,
        key=lambda k: (
            k.rank,
            -k.no_anc,
            -k.overdue,
            k.next_due is None,
            k.next_due or "",
            k.patient,
        ),
    )
