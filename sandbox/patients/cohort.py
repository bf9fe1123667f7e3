"""The cohort: every synthetic patient's situation, in the order the chart lists them."""

from __future__ import annotations

from sandbox.patients.results import RESULTS
from sandbox.patients.schedules import SCHEDULES
from sandbox.patients.situation import Situation
from sandbox.patients.therapy import THERAPY

SITUATIONS: tuple[Situation, ...] = SCHEDULES + RESULTS + THERAPY
