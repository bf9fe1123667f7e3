"""Patients with low results (each category, and a recovery) and with hard-to-read lab data."""

from __future__ import annotations

from sandbox.patients import codes
from sandbox.patients.chart import Chart, routine_days
from sandbox.patients.situation import BLACK_OR_AFRICAN_AMERICAN, Situation

BEN_LOW, BEN_HIGH = 1050, 1450  # a documented-BEN patient's usual counts, cells/uL


def _mild(chart: Chart) -> None:
    chart.order(start=-140)
    chart.routine_history(-140, -8)
    chart.anc(-1, 1200)


def _moderate(chart: Chart) -> None:
    chart.order(start=-90)
    chart.routine_history(-90, -8)
    chart.anc(-1, 1350)
    chart.anc(0, 820)


def _severe(chart: Chart) -> None:
    chart.order(start=-60)
    chart.routine_history(-60, -7)
    chart.anc(-2, 900)
    chart.anc(-1, 420)


def _ben_neutropenia(chart: Chart) -> None:
    nomenclature = {
        "system": codes.VENDOR_NOMENCLATURE,
        "code": "4174912",
        "display": codes.BEN_TEXT,
    }
    chart.problem(codes.BEN_TEXT, onset=-900, coding=nomenclature)
    chart.order(start=-200)
    chart.routine_history(-200, -8, low=BEN_LOW, high=BEN_HIGH)
    chart.anc(-1, 850)


def _ben_severe(chart: Chart) -> None:
    chart.problem(codes.DANC_TEXT, onset=-700)
    chart.order(start=-120)
    chart.routine_history(-120, -9, low=BEN_LOW, high=BEN_HIGH)
    chart.anc(-2, 700)
    chart.anc(0, 380)


def _moderate_recovered(chart: Chart) -> None:
    chart.order(start=-150)
    chart.routine_history(-150, -24)
    # Moderate 20 days ago, daily then three times weekly to >= 1500 (13 days ago), then weekly.
    for day, cells in ((-20, 880), (-19, 920), (-18, 1050), (-16, 1250), (-13, 1550), (-6, 1800)):
        chart.anc(day, cells)


def _race_without_ben(chart: Chart) -> None:
    chart.order(start=-160)
    chart.routine_history(-160, -9)
    chart.anc(-2, 1200)


def _derived_anc(chart: Chart) -> None:
    chart.order(start=-50)
    chart.routine_history(-50, -8)
    chart.differential(-1, 4600, 55.0, 3.0)  # 4600 x (55 + 3) / 100 = 2668 cells/uL


def _preliminary_masked(chart: Chart) -> None:
    chart.order(start=-60)
    chart.routine_history(-60, -6)
    chart.masked_anc(0)


def _unit_error(chart: Chart) -> None:
    chart.order(start=-75)
    chart.routine_history(-75, -7)
    chart.anc(-1, 3_000_000, value=3000)  # "3000 x10(3)/mcL": 3,000,000/uL, not plausible


def _units_mixed(chart: Chart) -> None:
    chart.order(start=-56)
    for index, day in enumerate([-58, *routine_days(-56, -1)]):
        chart.anc(day, chart.rng.randrange(2000, 5200, 10), unit=codes.COUNT_UNITS[index % 5])


# fmt: off
RESULTS = (
    Situation(
        "mild", "Synthson", "Lane", "female", 39,
        "Week 20; latest ANC 1200 yesterday after normal results (first mild result).",
        ("weekly", "low-result", "mild"), _mild,
    ),
    Situation(
        "moderate", "Samplewood", "Morgan", "male", 47,
        "Week 13; ANC 1350 yesterday, then 820 today (moderate).",
        ("weekly", "low-result", "moderate"), _moderate,
    ),
    Situation(
        "severe", "Fixture", "Noor", "female", 26,
        "Week 9; ANC 900 two days ago, then 420 yesterday (severe).",
        ("weekly", "low-result", "severe"), _severe,
    ),
    Situation(
        "ben-neutropenia", "Sandbox", "Oakley", "male", 35,
        "Documented benign ethnic neutropenia; usual ANCs 1050-1450; 850 yesterday.",
        ("every-2-weeks", "low-result", "documented-ben", "ben-neutropenia"), _ben_neutropenia, race=BLACK_OR_AFRICAN_AMERICAN,
    ),
    Situation(
        "ben-severe", "Testwell", "Parker", "female", 42,
        "Documented Duffy-null associated neutrophil count; 700 two days ago, 380 today.",
        ("weekly", "low-result", "documented-ben", "ben-severe"), _ben_severe,
    ),
    Situation(
        "moderate-recovered", "Mockridge", "Quinn", "male", 30,
        "Moderate (880) 20 days ago, back to 1550 13 days ago; now in the 4 weekly checks.",
        ("weekly", "low-result", "moderate", "recovery"), _moderate_recovered,
    ),
    Situation(
        "race-without-ben", "Demofield", "Reese", "female", 44,
        "Race recorded as Black or African American, no documented BEN; ANC 1200 two days ago.",
        ("weekly", "low-result", "mild", "race-recorded"), _race_without_ben, race=BLACK_OR_AFRICAN_AMERICAN,
    ),
    Situation(
        "derived-anc", "Synthson", "Sage", "male", 37,
        "Latest draw reports WBC 4.6, neutrophils 55% and bands 3% but no ANC (derived 2668).",
        ("weekly", "derived-anc"), _derived_anc,
    ),
    Situation(
        "preliminary-masked", "Samplewood", "Tatum", "female", 50,
        "Today's ANC is preliminary with its value masked; last final ANC 6 days ago.",
        ("weekly", "preliminary-masked"), _preliminary_masked,
    ),
    Situation(
        "unit-error", "Fixture", "Umber", "male", 58,
        "Yesterday's ANC reads 3000 x10(3)/mcL (implausible); the result before it is normal.",
        ("weekly", "unit-error"), _unit_error,
    ),
    Situation(
        "units-mixed", "Sandbox-Müller", "Vale", "female", 33,
        "Weekly ANCs from labs writing x10(3)/mcL, /uL, 10*9/L, 'K/uL' alone and cells/uL.",
        ("weekly", "current", "units-mixed"), _units_mixed,
    ),
)
# fmt: on
