"""Patients on routine monitoring (weekly, every 2 weeks, monthly) and new starts with baselines."""

from __future__ import annotations

from sandbox.patients import codes
from sandbox.patients.chart import Chart
from sandbox.patients.situation import ASIAN, WHITE, Situation
from sandbox.patients.staff import SHARED_MEDICATION_ID


def _weekly_current(chart: Chart) -> None:
    chart.order(start=-70)
    chart.routine_history(-70, -3)


def _weekly_due(chart: Chart) -> None:
    chart.order(start=-84)
    chart.routine_history(-84, -7)


def _weekly_overdue(chart: Chart) -> None:
    chart.order(start=-100)
    chart.routine_history(-100, -11)


def _biweekly_current(chart: Chart) -> None:
    chart.unit = codes.PER_UL
    chart.order(
        codes.CLOZAPINE_100, start=-240, form="reference", medication_id=SHARED_MEDICATION_ID
    )
    chart.routine_history(-240, -6)


def _biweekly_overdue(chart: Chart) -> None:
    chart.unit, chart.anc_test = codes.GIGA_PER_L, codes.ANC_UNSPECIFIED
    chart.order(codes.CLOZAPINE_100, start=-300)
    chart.routine_history(-300, -19)


def _monthly_current(chart: Chart) -> None:
    chart.unit = codes.K_PER_UL_TEXT
    chart.order(codes.CLOZAPINE_100, start=-730)
    chart.routine_history(-730, -12)


def _monthly_overdue(chart: Chart) -> None:
    chart.unit, chart.anc_test = codes.CELLS_PER_UL, codes.ANC_MANUAL
    chart.order(codes.CLOZAPINE_ODT_100, start=-1100, form="contained")
    chart.routine_history(-1100, -41)


def _long_weekly_history(chart: Chart) -> None:
    chart.order(codes.CLOZAPINE_100, start=-740)
    chart.normal_ancs(list(range(-744, 0, 7)))  # baseline, then weekly to 2 days ago


def _start_tomorrow(chart: Chart) -> None:
    chart.order(start=1, authored=0)
    chart.anc(-2, 2400)


def _start_low_baseline(chart: Chart) -> None:
    chart.order(start=2, authored=0)
    chart.anc(-1, 1350)


def _start_ben_baseline(chart: Chart) -> None:
    chart.problem(f"{codes.DANC_TEXT} (documented by hematology)", onset=-400)
    chart.order(start=3, authored=0)
    chart.anc(-9, 1100)
    chart.anc(-2, 1250)


def _xss_name(chart: Chart) -> None:
    chart.order(start=-49)
    chart.routine_history(-49, -4)


# fmt: off
SCHEDULES = (
    Situation(
        "weekly-current", "Sandbox", "Avery", "female", 34,
        "Week 10 of clozapine, weekly ANCs; last drawn 3 days ago.",
        ("weekly", "current"), _weekly_current, race=WHITE,
    ),
    Situation(
        "weekly-due", "Testwell", "Blake", "male", 29,
        "Week 12, weekly ANCs; last drawn exactly 7 days ago (due today).",
        ("weekly", "due"), _weekly_due,
    ),
    Situation(
        "weekly-overdue", "Mockridge", "Casey", "male", 41,
        "Week 14, weekly ANCs; last drawn 11 days ago (4 days overdue).",
        ("weekly", "overdue"), _weekly_overdue,
    ),
    Situation(
        "biweekly-current", "Demofield", "Dana", "female", 38,
        "Month 8, ANCs every 2 weeks in /uL; order references a Medication; last 6 days ago.",
        ("every-2-weeks", "current", "medication-reference"), _biweekly_current,
    ),
    Situation(
        "biweekly-overdue", "Synthson", "Emery", "male", 52,
        "Month 10, ANCs every 2 weeks in 10*9/L (LOINC 26499-4); last 19 days ago (overdue).",
        ("every-2-weeks", "overdue"), _biweekly_overdue, race=ASIAN,
    ),
    Situation(
        "monthly-current", "Samplewood", "Finley", "female", 45,
        "Two years on clozapine, monthly ANCs with unit 'K/uL' only; last 12 days ago.",
        ("monthly", "current"), _monthly_current,
    ),
    Situation(
        "monthly-overdue", "Fixture", "Gray", "male", 60,
        "Three years, monthly manual ANCs in cells/uL; contained ODT Medication; last 41 days ago.",
        ("monthly", "overdue", "medication-contained"), _monthly_overdue,
    ),
    Situation(
        "long-weekly-history", "Sandbox", "Harper", "female", 31,
        "Two years of weekly ANCs (107 results, several search pages); last drawn 2 days ago.",
        ("monthly", "current", "long-history"), _long_weekly_history,
    ),
    Situation(
        "start-tomorrow", "Testwell", "Indigo", "male", 24,
        "New start planned for tomorrow; baseline ANC 2400 two days ago.",
        ("new-start", "planned-start", "baseline"), _start_tomorrow,
    ),
    Situation(
        "start-low-baseline", "Mockridge", "Jules", "female", 27,
        "New start planned in 2 days; the only baseline ANC is 1350 (below 1500).",
        ("new-start", "planned-start", "baseline", "baseline-below-threshold"), _start_low_baseline,
    ),
    Situation(
        "start-ben-baseline", "Demofield", "Kai", "male", 33,
        "Documented Duffy-null associated neutrophil count; start in 3 days; baselines 1100, 1250.",
        ("new-start", "planned-start", "baseline", "documented-ben"), _start_ben_baseline,
    ),
    Situation(
        "xss-name", "Sandbox-Escape", "<script>alert(1)</script>", "other", 36,
        "Given name is <script>alert(1)</script>: every page must show it as text (escaping test).",
        ("xss-name", "weekly", "current"), _xss_name,
    ),
)
# fmt: on
