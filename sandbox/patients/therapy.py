"""Patients whose therapy is the point: interruptions, stopped clozapine, other drugs, no ANC."""

from __future__ import annotations

from sandbox.patients import codes
from sandbox.patients.chart import Chart, routine_days
from sandbox.patients.situation import Situation


def _interruption_short(chart: Chart) -> None:
    chart.order(codes.CLOZAPINE_100, start=-400, end=-45, status="completed")
    chart.routine_history(-400, -47)
    chart.order(codes.CLOZAPINE_100, start=-25)  # 20 days without clozapine
    chart.normal_ancs([-26, -5])


def _interruption_long(chart: Chart) -> None:
    chart.order(codes.CLOZAPINE_100, start=-500, end=-90, status="stopped")
    chart.routine_history(-500, -92)
    chart.order(start=-40)  # 50 days without clozapine
    chart.normal_ancs([-42, *routine_days(-40, -5)])


def _stopped(chart: Chart) -> None:
    chart.order(codes.CLOZAPINE_100, start=-600, end=-75, status="stopped")
    chart.routine_history(-600, -80)


def _olanzapine(chart: Chart) -> None:
    chart.order(codes.OLANZAPINE_10, start=-200)
    chart.anc(-30, 1400)


def _no_anc(chart: Chart) -> None:
    chart.order(start=-20)


# fmt: off
THERAPY = (
    Situation(
        "interruption-short", "Sandbox", "Wren", "female", 48,
        "Clozapine stopped 45 days ago and restarted 25 days ago (a 20-day interruption).",
        ("interruption-short",), _interruption_short,
    ),
    Situation(
        "interruption-long", "Testwell", "Xan", "male", 55,
        "Clozapine stopped 90 days ago, restarted 40 days ago (50-day gap); weekly ANCs since.",
        ("interruption-long", "weekly"), _interruption_long,
    ),
    Situation(
        "stopped", "Mockridge", "Yael", "female", 40,
        "Clozapine stopped 75 days ago; monthly ANCs until then.",
        ("stopped",), _stopped,
    ),
    Situation(
        "olanzapine", "Demofield", "Zion", "male", 28,
        "On olanzapine, never clozapine; one ANC of 1400 a month ago.",
        ("not-on-clozapine",), _olanzapine,
    ),
    Situation(
        "no-anc", "Synthson", "Arden", "female", 32,
        "Active clozapine order started 20 days ago; no ANC on file at all.",
        ("no-anc",), _no_anc,
    ),
)
# fmt: on
