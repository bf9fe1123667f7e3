"""Treatment episodes (the 30-day gap rule), planned starts, baselines and unusable results."""

from __future__ import annotations

import pytest

from clozapine import ResultProblem
from tests.unit.cases import Case, anc, check, facts, ids, order, problem, weekly

PENDING, UNIT = ResultProblem.PENDING, ResultProblem.UNIT_ERROR

GAP_CASES = [
    Case(
        "gap-29-days-continues",
        facts([anc(2000, -3)], [order(-300, -100), order(-71)]),
        {"treatment.episode_start": "2026-01-29", "monitoring.frequency": "every-2-weeks"},
    ),
    Case(
        "gap-30-days-new-patient",
        facts([anc(2000, -3)], [order(-300, -100), order(-70)]),
        {"treatment.episode_start": "2026-09-16", "monitoring.frequency": "weekly"},
        include=(),
    ),
    Case(
        "ended-29-days-ago-still-current",
        facts([anc(2000, -35)], [order(-100, -29)]),
        {"on_clozapine": True, "monitoring.status": "overdue"},
    ),
    Case(
        "ended-30-days-ago-not-on-clozapine",
        facts([anc(2000, -35)], [order(-100, -30)]),
        {"on_clozapine": False, "overall": "not-applicable", "findings": []},
    ),
    Case(
        "overlapping-orders-merge",
        facts([anc(2000, -3)], [order(-200, -50), order(-60, -40), order(-45)]),
        {"treatment.episode_start": "2026-05-09"},
    ),
]

PLANNED_CASES = [
    Case(
        "planned-start-with-baseline",
        facts([anc(2000, -2)], [order(5)]),
        {
            "on_clozapine": True,
            "treatment.days_on_treatment": -5,
            "monitoring.next_due": "2026-11-30",
            "monitoring.status": "current",
            "monitoring.days_overdue": 0,
            "monitoring.frequency": "weekly",
            "recommendation": "continue",
            "overall": "ok",
        },
        exclude=("monitoring-due", "monitoring-overdue", "no-anc-on-file"),
    ),
    Case(
        "planned-start-without-anc-baseline-missing",
        facts([], [order(3)]),
        {
            "monitoring.status": "current",
            "monitoring.next_due": "2026-11-28",
            "recommendation": "do-not-start",
            "overall": "action-required",
        },
        include=("baseline-missing",),
        exclude=("no-anc-on-file",),
    ),
    Case(
        "start-today-baseline-below",
        facts([anc(1450, 0)], [order(0)]),
        {"recommendation": "do-not-start", "overall": "action-required"},
        include=("baseline-below-threshold", "low-anc-unconfirmed"),
        exclude=("interrupt-recommended",),
    ),
    Case(
        "start-today-baseline-31-days-old-missing",
        facts([anc(2000, -31)], [order(0)]),
        {"recommendation": "do-not-start"},
        include=("baseline-missing",),
    ),
    Case(
        "start-today-baseline-30-days-old-counts",
        facts([anc(2000, -30)], [order(0)]),
        {"recommendation": "continue"},
        exclude=("baseline-missing",),
    ),
    Case(
        "started-yesterday-no-baseline-rules",
        facts([anc(1450, -1)], [order(-1)]),
        {"recommendation": "continue"},
        exclude=("baseline-below-threshold", "baseline-missing"),
    ),
    Case(
        "ben-one-baseline-incomplete",
        facts([anc(1200, -3)], [order(2)], ben=True),
        {"recommendation": "do-not-start", "population": "ben"},
        include=("ben-baseline-incomplete",),
        exclude=("baseline-below-threshold",),
    ),
    Case(
        "ben-two-baselines-ok",
        facts([anc(1200, -10), anc(1100, -3)], [order(2)], ben=True),
        {"recommendation": "continue", "overall": "ok"},
        exclude=("ben-baseline-incomplete", "baseline-below-threshold"),
    ),
    Case(
        "ben-two-baselines-latest-below",
        facts([anc(1200, -10), anc(900, -3)], [order(2)], ben=True),
        {"recommendation": "do-not-start"},
        include=("baseline-below-threshold",),
    ),
    Case(
        "ben-no-baseline-missing-only",
        facts([], [order(2)], ben=True),
        {"recommendation": "do-not-start"},
        include=("baseline-missing",),
        exclude=("ben-baseline-incomplete",),
    ),
    Case(
        "restart-after-45-day-gap-needs-baseline",
        facts(weekly(2000, -200, -60), [order(-300, -50), order(0)]),
        {"treatment.episode_start": "2026-11-25", "recommendation": "do-not-start"},
        include=("baseline-missing",),
    ),
]

RESULT_CASES = [
    Case(
        "pending-after-latest",
        facts([anc(1700, -2)], unusable=[problem(PENDING, -1)]),
        {"anc.value_per_ul": 1700, "overall": "attention"},
        include=("result-pending",),
    ),
    Case(
        "pending-before-latest-ignored",
        facts([anc(1700, -1)], unusable=[problem(PENDING, -2)]),
        {"overall": "ok"},
        exclude=("result-pending",),
    ),
    Case(
        "unit-error-after-latest",
        facts([anc(1800, -5)], unusable=[problem(UNIT, -1)]),
        {"anc.value_per_ul": 1800, "overall": "attention"},
        include=("unit-error",),
    ),
    Case(
        "unit-error-after-as-of-ignored",
        facts([anc(1800, -5)], unusable=[problem(UNIT, 1)]),
        {"overall": "ok"},
        exclude=("unit-error",),
    ),
    Case(
        "only-unusable-results-no-anc",
        facts([], unusable=[problem(UNIT, -1), problem(PENDING, -2)]),
        {"anc": None, "monitoring.status": "no-anc-on-file", "overall": "action-required"},
        include=("no-anc-on-file", "unit-error", "result-pending"),
    ),
    Case(
        "same-instant-unusable-counts",
        facts([anc(1800, -1, hour=10)], unusable=[problem(UNIT, -1, hour=10)]),
        {"overall": "attention"},
        include=("unit-error",),
    ),
]

CASES = GAP_CASES + PLANNED_CASES + RESULT_CASES


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_engine_treatment_case_matches_expectations(case: Case) -> None:
    check(case)


def test_engine_pending_message_counts_and_names_latest() -> None:
    evaluation = check(
        Case(
            "msg",
            facts(
                [anc(1700, -3)],
                unusable=[
                    problem(PENDING, -2, "value masked"),
                    problem(PENDING, -1, "preliminary 800 /uL"),
                ],
            ),
            {},
        )
    )
    message = next(f.message for f in evaluation.findings if f.code == "result-pending")
    assert message.startswith("2 result(s)") and "preliminary 800 /uL" in message
