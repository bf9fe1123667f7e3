"""ANC categories, routine schedule, low-result episodes and recommendations, at every edge."""

from __future__ import annotations

import pytest

from tests.unit.cases import Case, anc, check, facts, history, ids, order, weekly

NORMAL_HISTORY = weekly(2000, -63, -14)


def _latest(value: int, *, ben: bool = False, offset: int = -1) -> Case:
    """A week-10 patient whose normal history ends with `value`."""
    return Case(
        f"{'ben' if ben else 'gp'}-{value}",
        facts([*NORMAL_HISTORY, anc(value, offset)], ben=ben),
        {},
    )


CATEGORY_CASES = [
    Case(c.name, c.facts, {"anc.category": category, "anc.value_per_ul": value})
    for value, ben, category in [
        (1500, False, "normal"),
        (1499, False, "mild"),
        (1000, False, "mild"),
        (999, False, "moderate"),
        (500, False, "moderate"),
        (499, False, "severe"),
        (0, False, "severe"),
        (100000, False, "normal"),
        (1000, True, "ben-normal"),
        (999, True, "ben-neutropenia"),
        (500, True, "ben-neutropenia"),
        (499, True, "ben-severe"),
        (0, True, "ben-severe"),
    ]
    for c in [_latest(value, ben=ben)]
]

ROUTINE_CASES = [
    Case(
        f"routine-day-{days}",
        facts([anc(2000, -1)], [order(-1 - days)]),
        {
            "monitoring.frequency": frequency,
            "monitoring.interval_days": interval,
            "treatment.days_on_treatment": days + 1,
        },
    )
    for days, frequency, interval in [
        (181, "weekly", 7),
        (182, "every-2-weeks", 14),
        (364, "every-2-weeks", 14),
        (365, "monthly", 30),
    ]
] + [
    Case(
        "routine-no-anc-uses-as-of-day",
        facts([], [order(-182)]),
        {
            "monitoring.frequency": "every-2-weeks",
            "monitoring.status": "no-anc-on-file",
            "monitoring.next_due": None,
            "monitoring.days_overdue": None,
            "anc": None,
            "overall": "action-required",
        },
        include=("no-anc-on-file",),
    ),
    Case(
        "routine-anc-before-episode-start-is-weekly",
        facts([anc(2000, -20)], [order(-10)]),
        {
            "monitoring.frequency": "weekly",
            "monitoring.next_due": "2026-11-12",
            "monitoring.status": "overdue",
            "monitoring.days_overdue": 13,
        },
        include=("monitoring-overdue",),
    ),
]

DUE_CASES = [
    Case(
        "due-current",
        facts([anc(2000, -6)]),
        {
            "monitoring.status": "current",
            "monitoring.days_overdue": 0,
            "overall": "ok",
            "monitoring.next_due": "2026-11-26",
        },
        exclude=("monitoring-due", "monitoring-overdue"),
    ),
    Case(
        "due-today",
        facts([anc(2000, -7)]),
        {"monitoring.status": "due", "monitoring.days_overdue": 0, "overall": "attention"},
        include=("monitoring-due",),
        exclude=("monitoring-overdue",),
    ),
    Case(
        "due-overdue-1",
        facts([anc(2000, -8)]),
        {
            "monitoring.status": "overdue",
            "monitoring.days_overdue": 1,
            "overall": "action-required",
        },
        include=("monitoring-overdue",),
        exclude=("monitoring-due",),
    ),
    Case(
        "due-future-results-ignored",
        facts([anc(2000, -8), anc(400, 1)]),
        {"anc.value_per_ul": 2000, "monitoring.status": "overdue"},
    ),
]

EPISODE_CASES = [
    Case(
        "mild-first-unconfirmed",
        facts([*NORMAL_HISTORY, anc(1200, 0)]),
        {
            "monitoring.frequency": "three-times-weekly",
            "monitoring.interval_days": 3,
            "recommendation": "continue",
            "overall": "attention",
        },
        include=("low-anc-unconfirmed",),
        exclude=("hematology-consult-recommended", "interrupt-recommended"),
    ),
    Case(
        "mild-confirmed",
        facts([*NORMAL_HISTORY, anc(1200, -2), anc(1300, -1)]),
        {"monitoring.frequency": "three-times-weekly", "monitoring.next_due": "2026-11-27"},
        exclude=("low-anc-unconfirmed",),
    ),
    Case(
        "mild-first-low-is-first-result",
        facts([anc(1400, 0)]),
        {"anc.category": "mild"},
        include=("low-anc-unconfirmed",),
    ),
    Case(
        "mild-recovered-routine",
        facts([*NORMAL_HISTORY, anc(1200, -5), anc(1600, -3)]),
        {
            "monitoring.frequency": "weekly",
            "monitoring.interval_days": 7,
            "recommendation": "continue",
            "overall": "ok",
        },
    ),
    Case(
        "moderate-daily-interrupt",
        facts([*NORMAL_HISTORY, anc(1200, -2), anc(800, -1)]),
        {
            "monitoring.frequency": "daily",
            "monitoring.next_due": "2026-11-25",
            "monitoring.status": "due",
            "recommendation": "interrupt",
            "overall": "action-required",
        },
        include=("interrupt-recommended", "hematology-consult-recommended", "monitoring-due"),
        exclude=("low-anc-unconfirmed", "rechallenge-requires-prescriber-judgement"),
    ),
    Case(
        "moderate-then-mild-resume-allowed",
        facts([*NORMAL_HISTORY, anc(800, -3), anc(1200, -1)]),
        {
            "anc.category": "mild",
            "monitoring.frequency": "three-times-weekly",
            "recommendation": "resume-allowed",
            "overall": "attention",
        },
        include=("hematology-consult-recommended",),
        exclude=("interrupt-recommended",),
    ),
    Case(
        "moderate-recovery-tail-weekly",
        facts([*NORMAL_HISTORY, anc(800, -5), anc(1600, -1)]),
        {
            "monitoring.frequency": "weekly",
            "monitoring.interval_days": 7,
            "recommendation": "continue",
            "overall": "ok",
        },
        exclude=("hematology-consult-recommended",),
    ),
    Case(
        "moderate-tail-day-27-weekly",
        facts([anc(800, -45), anc(1600, -40), anc(1700, -13)], [order(-300)]),
        {
            "monitoring.frequency": "weekly",
            "monitoring.next_due": "2026-11-19",
            "monitoring.status": "overdue",
        },
    ),
    Case(
        "moderate-tail-day-28-routine",
        facts([anc(800, -45), anc(1600, -40), anc(1700, -12)], [order(-300)]),
        {"monitoring.frequency": "every-2-weeks", "monitoring.next_due": "2026-11-27"},
    ),
    Case(
        "moderate-low-inside-tail-restarts",
        facts([anc(800, -45), anc(1600, -40), anc(1400, -2)], [order(-300)]),
        {"monitoring.frequency": "three-times-weekly", "recommendation": "continue"},
        include=("low-anc-unconfirmed",),
        exclude=("hematology-consult-recommended",),
    ),
    Case(
        "severe-daily-interrupt",
        facts([*NORMAL_HISTORY, anc(400, -1)]),
        {"anc.category": "severe", "monitoring.frequency": "daily", "recommendation": "interrupt"},
        include=(
            "interrupt-recommended",
            "hematology-consult-recommended",
            "rechallenge-requires-prescriber-judgement",
            "low-anc-unconfirmed",
        ),
    ),
    Case(
        "severe-then-1200-still-interrupt",
        facts([*NORMAL_HISTORY, anc(400, -4), anc(1200, 0)]),
        {"monitoring.frequency": "three-times-weekly", "recommendation": "interrupt"},
        include=("interrupt-recommended", "rechallenge-requires-prescriber-judgement"),
    ),
    Case(
        "severe-recovery-resume-allowed-new-patient",
        facts([*NORMAL_HISTORY, anc(400, -4), anc(1600, 0)]),
        {
            "recommendation": "resume-allowed",
            "treatment.episode_start": "2026-11-25",
            "treatment.days_on_treatment": 0,
            "monitoring.frequency": "weekly",
            "monitoring.next_due": "2026-12-02",
        },
        include=("rechallenge-requires-prescriber-judgement",),
        exclude=(
            "hematology-consult-recommended",
            "interrupt-recommended",
            "baseline-missing",
            "baseline-below-threshold",
        ),
    ),
    Case(
        "severe-after-recovery-continue-as-new",
        facts([anc(2000, -200), anc(400, -30), anc(1600, -20), anc(1800, -10)], [order(-400)]),
        {
            "recommendation": "continue",
            "treatment.episode_start": "2026-11-05",
            "monitoring.frequency": "weekly",
            "monitoring.next_due": "2026-11-22",
        },
        exclude=("rechallenge-requires-prescriber-judgement",),
    ),
    Case(
        "severe-recovery-in-uncovered-gap-restarts-at-next-order",
        facts([anc(2000, -100), anc(400, -30), anc(1600, -20)], [order(-200, -25), order(-10)]),
        {"treatment.episode_start": "2026-11-15", "treatment.days_on_treatment": 10},
    ),
    Case(
        "ben-neutropenia-continue-3w",
        facts([*NORMAL_HISTORY, anc(800, -1)], ben=True),
        {
            "population": "ben",
            "anc.category": "ben-neutropenia",
            "monitoring.frequency": "three-times-weekly",
            "recommendation": "continue",
            "overall": "attention",
        },
        include=("hematology-consult-recommended", "low-anc-unconfirmed"),
        exclude=("interrupt-recommended",),
    ),
    Case(
        "ben-neutropenia-recovery-tail",
        facts([*NORMAL_HISTORY, anc(800, -8), anc(1000, -2)], ben=True),
        {"monitoring.frequency": "weekly", "monitoring.next_due": "2026-11-30"},
        exclude=("hematology-consult-recommended",),
    ),
    Case(
        "ben-1200-is-normal-not-mild",
        facts([*NORMAL_HISTORY, anc(1200, -1)], ben=True),
        {"anc.category": "ben-normal", "monitoring.frequency": "weekly", "overall": "ok"},
        exclude=("low-anc-unconfirmed",),
    ),
    Case(
        "ben-severe-daily",
        facts([*NORMAL_HISTORY, anc(450, -1)], ben=True),
        {"monitoring.frequency": "daily", "recommendation": "interrupt"},
        include=("interrupt-recommended", "rechallenge-requires-prescriber-judgement"),
    ),
    Case(
        "ben-severe-then-700-3w-interrupt",
        facts([*NORMAL_HISTORY, anc(450, -3), anc(700, -1)], ben=True),
        {"monitoring.frequency": "three-times-weekly", "recommendation": "interrupt"},
    ),
    Case(
        "ben-severe-recovery-resume-allowed",
        facts([*NORMAL_HISTORY, anc(450, -3), anc(1100, 0)], ben=True),
        {"recommendation": "resume-allowed", "treatment.episode_start": "2026-11-25"},
    ),
    Case(
        "unresolved-low-before-restart-governs",
        facts([anc(1200, -60)], [order(-200, -50), order(-5)]),
        {
            "treatment.episode_start": "2026-11-20",
            "monitoring.frequency": "three-times-weekly",
            "monitoring.status": "overdue",
        },
    ),
]

CASES = CATEGORY_CASES + ROUTINE_CASES + DUE_CASES + EPISODE_CASES


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_engine_anc_case_matches_expectations(case: Case) -> None:
    check(case)


def test_engine_low_anc_unconfirmed_names_repeat_by_time() -> None:
    evaluation = check(Case("msg", facts([*NORMAL_HISTORY, anc(1200, 0, hour=14)]), {}))
    message = next(f.message for f in evaluation.findings if f.code == "low-anc-unconfirmed")
    assert "2026-11-26 14:00 UTC+00:00" in message


def test_engine_overdue_message_names_dates() -> None:
    evaluation = check(Case("msg", facts([anc(1800, -8)]), {}))
    message = next(f.message for f in evaluation.findings if f.code == "monitoring-overdue")
    assert "2026-11-24" in message and "1 day(s) overdue" in message and "2026-11-17" in message


def test_engine_not_on_clozapine_has_no_findings_but_keeps_anc() -> None:
    evaluation = check(
        Case(
            "not-on",
            facts(history((400, -3)), orders=[]),
            {
                "on_clozapine": False,
                "treatment": None,
                "anc.category": "severe",
                "monitoring": {
                    "frequency": None,
                    "interval_days": None,
                    "next_due": None,
                    "status": "not-applicable",
                    "days_overdue": None,
                },
                "recommendation": "not-applicable",
                "overall": "not-applicable",
                "findings": [],
            },
        )
    )
    assert evaluation.findings == ()


def test_low_result_confirmation_window_comes_from_the_policy_table() -> None:
    """The repeat-by time of a first low ANC is the table's window, not a number in the engine."""
    from dataclasses import replace

    from clozapine import evaluate, policy_in_force
    from clozapine.tables.anc_rules import CONFIRM_LOW_WITHIN_HOURS
    from tests.unit.cases import AS_OF

    case = facts([*NORMAL_HISTORY, anc(1200, 0)])
    policy = policy_in_force(AS_OF)
    assert policy.general.confirm_low_within_hours == CONFIRM_LOW_WITHIN_HOURS == 24
    for hours in (24, 48):
        wider = replace(policy, general=replace(policy.general, confirm_low_within_hours=hours))
        [finding] = [
            f for f in evaluate(case, AS_OF, wider).findings if f.code == "low-anc-unconfirmed"
        ]
        assert f"(within {hours} hours)" in finding.message
